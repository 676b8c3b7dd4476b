"""Small helpers for the schedule tests: sessions made through the services."""

from datetime import datetime, timedelta

from django.utils import timezone

from schedules import services
from schedules.models import Occurrence, SessionSeries


def soon_local(minutes: int, tz: str = "UTC") -> datetime:
    """The naive local wall-clock time ``minutes`` from now in ``tz`` (whole minutes)."""
    from zoneinfo import ZoneInfo

    at = (timezone.now() + timedelta(minutes=minutes)).astimezone(ZoneInfo(tz))
    return at.replace(tzinfo=None, second=0, microsecond=0)


def one_session(facilitator, *, minutes_from_now: int = 60, length: int = 60, seats=None, **kw) -> Occurrence:
    """A one-off session of the facilitator's circle, starting in ``minutes_from_now``."""
    series = services.create_series(
        user=facilitator.user,
        circle=facilitator.circle,
        title=kw.pop("title", "Integration after a session"),
        start_local=soon_local(minutes_from_now),
        time_zone="UTC",
        duration_minutes=length,
        capacity=seats,
        **kw,
    )
    return series.occurrences.get()


def weekly(facilitator, **kw) -> SessionSeries:
    kw.setdefault("title", "Weekly integration")
    kw.setdefault("time_zone", "Europe/Berlin")
    kw.setdefault("duration_minutes", 90)
    return services.create_series(user=facilitator.user, circle=facilitator.circle, **kw)
