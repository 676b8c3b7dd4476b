"""Recurrence, pure: weekly rules expanded in local time, bounded."""

from datetime import UTC, date, datetime

import pytest

from schedules import recurrence
from schedules.recurrence import RecurrenceError, Rule

BERLIN = recurrence.zone("Europe/Berlin")


def _expand(rule: Rule, start: datetime, tz=BERLIN, before=datetime(2030, 1, 1, tzinfo=UTC)):
    return recurrence.expand(recurrence.rrule_text(rule, tz, start), start, tz, before=before)


def test_weekly_session_keeps_local_wall_clock_across_dst():
    """18:00 Berlin is 16:00 UTC in summer and 17:00 UTC in winter (clocks change 25 Oct 2026)."""
    starts = _expand(Rule(weekdays=("TU",), count=3), datetime(2026, 10, 20, 18, 0, tzinfo=BERLIN))
    assert [s.astimezone(BERLIN).hour for s in starts] == [18, 18, 18]
    assert [s.hour for s in starts] == [16, 17, 17]


def test_every_second_week_on_two_days_until_a_date():
    starts = _expand(
        Rule(weekdays=("MO", "TH"), interval=2, until=date(2026, 12, 31)), datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)
    )
    assert [s.astimezone(BERLIN).date() for s in starts] == [
        date(2026, 12, 7),
        date(2026, 12, 10),
        date(2026, 12, 21),
        date(2026, 12, 24),
    ]


def test_an_open_ended_rule_is_bounded_by_the_horizon_and_the_cap():
    starts = _expand(
        Rule(weekdays=recurrence.WEEKDAYS),
        datetime(2026, 1, 5, 9, 0, tzinfo=BERLIN),
        before=datetime(2099, 1, 1, tzinfo=UTC),
    )
    assert len(starts) == recurrence.MAX_COUNT


@pytest.mark.parametrize(
    ("rule", "start", "words"),
    [
        (Rule(weekdays=("MO",), count=500), datetime(2026, 1, 5, 9, tzinfo=BERLIN), "1 to 200"),
        (
            Rule(weekdays=("MO",), until=date(2026, 1, 1)),
            datetime(2026, 1, 5, 9, tzinfo=BERLIN),
            "ends before it starts",
        ),
        (Rule(weekdays=("MO",), until=date(2030, 1, 1)), datetime(2026, 1, 5, 9, tzinfo=BERLIN), "two years"),
        (Rule(weekdays=("TU",), count=3), datetime(2026, 1, 5, 9, tzinfo=BERLIN), "one of the chosen days"),
        (Rule(weekdays=("MO",), count=3, until=date(2026, 2, 1)), datetime(2026, 1, 5, 9, tzinfo=BERLIN), "not both"),
        (Rule(weekdays=("XX",)), datetime(2026, 1, 5, 9, tzinfo=BERLIN), "Unknown weekday"),
    ],
)
def test_bad_rules_are_refused_with_a_sentence(rule, start, words):
    with pytest.raises(RecurrenceError, match=words):
        recurrence.validate(rule, start)


def test_unknown_time_zone_is_refused():
    with pytest.raises(RecurrenceError, match="not a time zone"):
        recurrence.zone("Mars/Olympus_Mons")
