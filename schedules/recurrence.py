"""Recurrence, pure: RFC 5545 weekly rules through python-dateutil, expanded in
the series' local time zone and converted to UTC, so a weekly session keeps its
local wall-clock time across daylight-saving changes.  No Django, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule as du

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_COUNT = 200  # occurrences one series may hold at most
MAX_SPAN_DAYS = 2 * 366  # an "until" at most this far after the first session
HORIZON_DAYS = 12 * 7  # an open-ended series is materialised this far ahead


class RecurrenceError(ValueError):
    """Bad recurrence input; the message is a sentence for the person."""


@dataclass(frozen=True)
class Rule:
    weekdays: tuple[str, ...] = ()  # empty: a one-off session
    interval: int = 1  # every N weeks
    until: date | None = None  # last day (local), inclusive
    count: int | None = None

    @property
    def repeats(self) -> bool:
        return bool(self.weekdays)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RecurrenceError(f"“{name}” is not a time zone we know (use a name like Europe/Berlin).") from None


def validate(rule: Rule, start_local: datetime) -> None:
    if not rule.repeats:
        return
    bad = [d for d in rule.weekdays if d not in WEEKDAYS]
    if bad:
        raise RecurrenceError(f"Unknown weekday {bad[0]!r}.")
    if WEEKDAYS[start_local.weekday()] not in rule.weekdays:
        raise RecurrenceError("The first session must fall on one of the chosen days.")
    if not 1 <= rule.interval <= 52:
        raise RecurrenceError("Repeat every 1 to 52 weeks.")
    if rule.until is not None and rule.count is not None:
        raise RecurrenceError("Choose an end date or a number of sessions, not both.")
    if rule.count is not None and not 1 <= rule.count <= MAX_COUNT:
        raise RecurrenceError(f"A series has 1 to {MAX_COUNT} sessions.")
    if rule.until is not None:
        if rule.until < start_local.date():
            raise RecurrenceError("The series ends before it starts.")
        if (rule.until - start_local.date()).days > MAX_SPAN_DAYS:
            raise RecurrenceError("A series may run for two years at most; make a new one after that.")


def rrule_text(rule: Rule, tz: ZoneInfo, start_local: datetime) -> str:
    """The RRULE value (without "RRULE:"), UNTIL in UTC as RFC 5545 asks with a DTSTART in a zone."""
    if not rule.repeats:
        return ""
    parts = _weekly_parts(rule)
    if rule.count is not None:
        parts.append(f"COUNT={rule.count}")
    if rule.until is not None:
        last = datetime.combine(rule.until, datetime.max.time().replace(microsecond=0), tzinfo=tz)
        parts.append("UNTIL=" + last.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"))
    return ";".join(parts)


def rrule_text_until(rule: Rule, last: datetime) -> str:
    """``rule``'s RRULE value ending at the UTC instant ``last`` (inclusive), in
    place of its end date or count (RFC 5545 allows one of them): a series
    ended early."""
    return ";".join([*_weekly_parts(rule), "UNTIL=" + last.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")])


def _weekly_parts(rule: Rule) -> list[str]:
    """The frequency, interval and days of a weekly rule, as RRULE parts."""
    return ["FREQ=WEEKLY", f"INTERVAL={rule.interval}", "BYDAY=" + ",".join(sorted(rule.weekdays, key=WEEKDAYS.index))]


def parse(text: str) -> Rule:
    """The ``Rule`` an RRULE value built by ``rrule_text`` holds."""
    if not text:
        return Rule()
    fields = dict(part.split("=", 1) for part in text.split(";"))
    until = None
    if "UNTIL" in fields:
        until = datetime.strptime(fields["UNTIL"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return Rule(
        weekdays=tuple(fields.get("BYDAY", "").split(",")),
        interval=int(fields.get("INTERVAL", "1")),
        until=until.date() if until else None,  # a UTC date; expand() uses the UTC instant
        count=int(fields["COUNT"]) if "COUNT" in fields else None,
    )


def expand(
    text: str, start_local: datetime, tz: ZoneInfo, *, before: datetime, after: datetime | None = None
) -> list[datetime]:
    """The UTC starts of the series from ``after`` up to (not including)
    ``before`` (UTC), at most ``MAX_COUNT``.  Expanded on naive local times, then each placed in the
    zone: 18:00 stays 18:00 local on both sides of a clock change."""
    start_local = start_local.replace(tzinfo=None)
    if not text:
        first = start_local.replace(tzinfo=tz).astimezone(UTC)
        return [first] if first < before and (after is None or first >= after) else []
    fields = dict(part.split("=", 1) for part in text.split(";"))
    kwargs: dict = {
        "dtstart": start_local,
        "interval": int(fields.get("INTERVAL", "1")),
        "byweekday": [getattr(du, day) for day in fields["BYDAY"].split(",")],
    }
    if "COUNT" in fields:
        kwargs["count"] = int(fields["COUNT"])
    if "UNTIL" in fields:
        until_utc = datetime.strptime(fields["UNTIL"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        kwargs["until"] = until_utc.astimezone(tz).replace(tzinfo=None)
    starts: list[datetime] = []
    for local in du.rrule(du.WEEKLY, **kwargs):
        at = local.replace(tzinfo=tz).astimezone(UTC)
        if at >= before or len(starts) >= MAX_COUNT:
            break
        if after is None or at >= after:
            starts.append(at)
    return starts


def horizon(now: datetime) -> datetime:
    return now + timedelta(days=HORIZON_DAYS)
