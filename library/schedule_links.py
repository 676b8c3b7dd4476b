"""Loose links to the schedule: sessions (``schedules.Occurrence``) and a
member's private treatment dates (``schedules.TreatmentDate``).

The schedules app sits above the library (it shows a session's playlists), so
the library never imports it: it stores plain ids (``occurrence_id``,
``treatment_date_id``) and resolves them here, through the app registry.  A
stored id whose session or date was deleted resolves to nothing.  This module
is the one place that knows the schedule's field names (docs/library.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.utils import timezone


def _model(name: str) -> Any:
    """A schedules model, through the app registry (the library never imports the app above it)."""
    return apps.get_model("schedules", name)


@dataclass(frozen=True)
class SessionLink:
    id: int
    circle_id: int
    starts_at: datetime
    label: str


@dataclass(frozen=True)
class DateLink:
    id: int
    label: str


def _session(row) -> SessionLink:
    title = row.series.title or "Group session"
    when = timezone.localtime(row.start).strftime("%a %d %b, %H:%M")
    return SessionLink(row.pk, row.circle_id, row.start, f"{title} · {when}")


def upcoming_sessions(circle_ids: list[int], *, limit: int = 20) -> list[SessionLink]:
    """Scheduled sessions of these circles from a day ago on, soonest first."""
    model = _model("Occurrence")
    if not circle_ids:
        return []
    since = timezone.now() - timedelta(days=1)
    rows = model._default_manager.filter(circle_id__in=circle_ids, start__gte=since, cancelled=False)
    return [_session(row) for row in rows.select_related("series").order_by("start")[:limit]]


def session(occurrence_id: int | None) -> SessionLink | None:
    """The session ``occurrence_id`` names, or None (no such session, or no schedule)."""
    model = _model("Occurrence")
    if occurrence_id is None:
        return None
    row = model._default_manager.select_related("series").filter(pk=occurrence_id).first()
    return _session(row) if row is not None else None


def treatment_dates(user) -> list[DateLink]:
    """The member's own treatment dates, newest first (theirs alone)."""
    model = _model("TreatmentDate")
    rows = model._default_manager.filter(user=user).order_by("-at")[:50]
    return [DateLink(row.pk, _day(row.at)) for row in rows]


def treatment_date(user, date_id: int | None) -> DateLink | None:
    """The member's own treatment date ``date_id``, or None (not theirs, none, or no schedule)."""
    model = _model("TreatmentDate")
    if date_id is None:
        return None
    row = model._default_manager.filter(pk=date_id, user=user).first()
    return DateLink(row.pk, _day(row.at)) if row is not None else None


def _day(at: datetime) -> str:
    return timezone.localtime(at).strftime("%a %d %b %Y")
