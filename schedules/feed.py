"""A member's calendar feed (iCalendar, RFC 5545, built with ``icalendar``).

One recurring VEVENT per series of the member's circles, with its RRULE, its
TZID and a VTIMEZONE, EXDATEs for cancelled sessions, and an override VEVENT
(RECURRENCE-ID) for each session moved or RSVP'd.  It reveals no identity: no
handle, alias, circle name or link; titles are neutral ("Wellness circle")
unless the member chose real titles.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.utils import timezone
from icalendar import Calendar, Event, vRecur

from community.models import Membership

from . import recurrence
from .models import CalendarToken, Preferences, Rsvp, SessionSeries
from .services import NEUTRAL_TITLE

PRODID = "-//Integration Circles//Sessions//EN"
PAST_DAYS = 30  # series whose last session ended before this are left out


def user_for_token(token: str) -> User | None:
    row = CalendarToken.objects.select_related("user").filter(token=token).first() if token else None
    return row.user if row is not None and row.user.is_active else None


def _uid(series: SessionSeries) -> str:
    return f"series-{series.pk}@integration-circles"


def build(user: User, *, now: datetime | None = None) -> bytes:
    now = now or timezone.now()
    prefs = Preferences.objects.filter(user=user).first()
    real = bool(prefs and prefs.real_titles)
    circles = Membership.objects.filter(user=user, left_at__isnull=True, banned=False).values("circle_id")
    series_list = (
        SessionSeries.objects.filter(circle_id__in=circles, occurrences__end__gt=now - timedelta(days=PAST_DAYS))
        .distinct()
        .order_by("pk")
    )
    going = set(
        Rsvp.objects.filter(membership__user=user, status=Rsvp.Status.GOING).values_list("occurrence_id", flat=True)
    )
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Sessions")
    for series in series_list:
        tz = recurrence.zone(series.time_zone)
        title = series.title if real else NEUTRAL_TITLE
        first = series.start_local.replace(tzinfo=None).replace(tzinfo=tz)
        length = timedelta(minutes=series.duration_minutes)
        master = Event()
        master.add("uid", _uid(series))
        master.add("dtstamp", now)
        master.add("summary", title)
        master.add("dtstart", first)
        master.add("dtend", first + length)
        occurrences = list(series.occurrences.all())
        if series.rrule:
            master.add("rrule", vRecur.from_ical(series.rrule))
            cancelled = [o.original_start.astimezone(tz) for o in occurrences if o.cancelled]
            if cancelled:
                master.add("exdate", cancelled)
        if occurrences and all(o.cancelled for o in occurrences):  # a one-off, or a series ended before it began
            master.add("status", "CANCELLED")
        cal.add_component(master)
        for occ in occurrences:
            own_length = occ.end - occ.start != length  # extended, or kept its length when the series changed
            if (
                occ.cancelled
                or not (occ.moved or own_length or occ.pk in going)
                or occ.end <= now - timedelta(days=PAST_DAYS)
            ):
                continue
            override = Event()
            override.add("uid", _uid(series))
            override.add("dtstamp", now)
            override.add("recurrence-id", occ.original_start.astimezone(tz))
            override.add("summary", f"{title} (going)" if occ.pk in going else title)
            override.add("dtstart", occ.start.astimezone(tz))
            override.add("dtend", occ.end.astimezone(tz))
            cal.add_component(override)
    cal.add_missing_timezones()
    return cal.to_ical()
