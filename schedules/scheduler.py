"""The scheduler's one pass: make occurrences up to the horizon, open rooms
before sessions, send reminders and "starting now", close rooms after sessions
and send the check-ins.  ``manage.py run_scheduler`` runs a pass every few
seconds, as a process of its own (docs/schedules.md).

Every transition is a conditional UPDATE on the occurrence (``opened_at IS
NULL`` → now, ...): whichever scheduler wins does the work, so several
schedulers, a restart or a pass run twice act once.  A pass after downtime
catches up: a window still running opens, one that ended closes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from chat import services as chat_services
from community.models import Notification

from . import recurrence, services
from .models import Occurrence, SessionSeries

log = logging.getLogger(__name__)
HEARTBEAT_KEY = "scheduler:heartbeat"  # read by config.ops (/readyz)


@dataclass
class Pass:
    """What one pass did (for logs and tests)."""

    made: int = 0
    opened: list[int] = field(default_factory=list)
    reminded: list[int] = field(default_factory=list)
    started: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    checkins: list[int] = field(default_factory=list)


def _claim(occurrence_id: int, column: str, now: datetime) -> bool:
    """Set ``column`` to now if nobody did and the session is not cancelled: True
    for the one caller that did.  The cancellation is checked in the same UPDATE:
    a session cancelled (or its series ended) after this pass read it is not
    opened, reminded or checked in on."""
    claimed = Occurrence.objects.filter(pk=occurrence_id, cancelled=False, **{f"{column}__isnull": True})
    return bool(claimed.update(**{column: now}))


def run_once(now: datetime | None = None) -> Pass:
    """One pass at ``now``; safe to run in several processes at once."""
    now = now or timezone.now()
    done = Pass()
    horizon = recurrence.horizon(now)
    due = horizon - services.MATERIALISE_STEP
    for series in SessionSeries.objects.filter(Q(materialised_until__isnull=True) | Q(materialised_until__lt=due)):
        done.made += services.materialise(series, now=now)

    live = Occurrence.objects.select_related("series", "circle")
    # Open: the window has begun and the session is not over.
    for occ in live.filter(cancelled=False, opened_at__isnull=True, end__gt=now, start__lte=now + timedelta(hours=3)):
        if occ.opens_at <= now and _claim(occ.pk, "opened_at", now):
            chat_services.set_room_closed_on_schedule(occ.circle_id, closed=False)
            done.opened.append(occ.pk)
    # Remind those going, a set time before the start.
    soon = now + timedelta(minutes=settings.SCHEDULE_REMINDER_MINUTES)
    for occ in live.filter(cancelled=False, reminded_at__isnull=True, start__lte=soon, start__gt=now):
        if _claim(occ.pk, "reminded_at", now):
            minutes = max(1, round((occ.start - now).total_seconds() / 60))
            services.tell_rsvps(
                occ,
                kind=Notification.Kind.REMINDER,
                text=f"{{title}} starts in {minutes} minutes.",
                key=f"reminder:{occ.pk}",
            )
            done.reminded.append(occ.pk)
    # "Starting now", to those going (live on their open room page).
    for occ in live.filter(cancelled=False, started_notice_at__isnull=True, start__lte=now, end__gt=now):
        if _claim(occ.pk, "started_notice_at", now):
            services.tell_rsvps(
                occ,
                kind=Notification.Kind.STARTING,
                text="{title} is starting now.",
                key=f"start:{occ.pk}",
            )
            done.started.append(occ.pk)
    # Close: the session is over (or was cancelled after its room opened).
    for occ in live.filter(closed_at__isnull=True).filter(Q(end__lte=now) | Q(cancelled=True, opened_at__isnull=False)):
        if services.close_window(occ.pk, now=now):
            done.closed.append(occ.pk)
            still_running = Occurrence.objects.filter(
                circle_id=occ.circle_id, opened_at__isnull=False, closed_at__isnull=True, cancelled=False
            ).exists()
            if not occ.circle.open_between_sessions and not still_running:
                chat_services.set_room_closed_on_schedule(occ.circle_id, closed=True)
    # Check-ins, once a session has closed.
    for occ in live.filter(cancelled=False, closed_at__isnull=False, checkins_sent_at__isnull=True).filter(
        closed_at__gte=F("start")
    ):
        if _claim(occ.pk, "checkins_sent_at", now):
            link = reverse("schedules:check_in", kwargs={"occurrence_id": occ.pk})
            services.tell_rsvps(
                occ,
                kind=Notification.Kind.CHECK_IN,
                text="How are you after the session?",
                link=link,
                key=f"checkin:{occ.pk}",
            )
            done.checkins.append(occ.pk)
    beat()
    return done


def beat() -> None:
    """The heartbeat /readyz reads (with SCHEDULER_REQUIRED)."""
    try:
        caches["default"].set(HEARTBEAT_KEY, time.time(), timeout=None)
    except Exception:  # a cache outage must not stop rooms opening
        log.warning("scheduler heartbeat not written", exc_info=True)
