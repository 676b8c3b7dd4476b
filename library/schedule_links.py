"""Loose links to the schedule: sessions (``community`` occurrences) and a
member's private treatment dates.

The schedule lives in ``community`` and is being built beside the library, so
the library stores plain ids (``occurrence_id``, ``treatment_date_id``) and
resolves them here, through the app registry, tolerating a deployment whose
schedule is not there yet: then there is nothing to link to, and a stored id
resolves to nothing.  When the schedule lands, these ids can become foreign keys
in a migration and this module the one place that changes (docs/library.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.utils import timezone


def _model(name: str) -> Any:
    try:
        return apps.get_model("community", name)
    except LookupError:
        return None


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
    title = getattr(getattr(row, "series", None), "title", "") or "Group session"
    when = timezone.localtime(row.starts_at).strftime("%a %d %b, %H:%M")
    return SessionLink(row.pk, row.circle_id, row.starts_at, f"{title} · {when}")


def upcoming_sessions(circle_ids: list[int], *, limit: int = 20) -> list[SessionLink]:
    """Scheduled sessions of these circles from a day ago on, soonest first."""
    model = _model("Occurrence")
    if model is None or not circle_ids:
        return []
    since = timezone.now() - timedelta(days=1)
    rows = model._default_manager.filter(circle_id__in=circle_ids, starts_at__gte=since)
    if any(f.name == "status" for f in model._meta.get_fields()):
        rows = rows.exclude(status="cancelled")
    if any(f.name == "series" for f in model._meta.get_fields()):
        rows = rows.select_related("series")
    return [_session(row) for row in rows.order_by("starts_at")[:limit]]


def session(occurrence_id: int | None) -> SessionLink | None:
    """The session ``occurrence_id`` names, or None (no such session, or no schedule)."""
    model = _model("Occurrence")
    if model is None or occurrence_id is None:
        return None
    row = model._default_manager.filter(pk=occurrence_id).first()
    return _session(row) if row is not None else None


def treatment_dates(user) -> list[DateLink]:
    """The member's own treatment dates, newest first (theirs alone)."""
    model = _model("TreatmentDate")
    if model is None:
        return []
    rows = model._default_manager.filter(user=user).order_by("-day")[:50]
    return [DateLink(row.pk, row.day.strftime("%a %d %b %Y")) for row in rows]


def treatment_date(user, date_id: int | None) -> DateLink | None:
    """The member's own treatment date ``date_id``, or None (not theirs, none, or no schedule)."""
    model = _model("TreatmentDate")
    if model is None or date_id is None:
        return None
    row = model._default_manager.filter(pk=date_id, user=user).first()
    return DateLink(row.pk, row.day.strftime("%a %d %b %Y")) if row is not None else None
