"""The calendar feed, parsed back: recurrence, time zone, cancellations, moves, across DST."""

from datetime import UTC, datetime, timedelta

import pytest
from dateutil.rrule import rrulestr
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from schedules import feed, recurrence, services
from schedules.models import Occurrence

pytestmark = pytest.mark.django_db
BERLIN = recurrence.zone("Europe/Berlin")
# Clocks go forward in Berlin on 28 March 2027: 18:00 is 17:00 UTC before, 16:00 UTC after.
NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)


def _series(facilitator, **kw):
    return services.create_series(
        user=facilitator.user,
        circle=facilitator.circle,
        title="Ketamine integration group",
        start_local=datetime(2027, 3, 16, 18, 0, tzinfo=BERLIN),
        time_zone="Europe/Berlin",
        duration_minutes=90,
        weekdays=("TU",),
        count=4,
        now=NOW,
        **kw,
    )


def _events(user) -> list:
    cal = Calendar.from_ical(feed.build(user, now=NOW))
    return list(cal.walk("VEVENT"))


def test_the_feed_parses_back_with_rrule_tzid_and_keeps_local_time_across_dst(facilitator, member):
    _series(facilitator)
    (master,) = _events(member.user)
    start = master.decoded("DTSTART")
    assert start.tzinfo is not None and str(start.tzinfo) == "Europe/Berlin"
    assert (start.hour, start.minute) == (18, 0)
    rule = rrulestr(master["RRULE"].to_ical().decode(), dtstart=start)
    instances = list(rule)
    assert [i.astimezone(BERLIN).hour for i in instances] == [18, 18, 18, 18]
    assert [i.astimezone(UTC).hour for i in instances] == [17, 17, 16, 16]
    stored = list(Occurrence.objects.order_by("start").values_list("start", flat=True))
    assert [i.astimezone(UTC) for i in instances] == stored
    assert b"BEGIN:VTIMEZONE" in feed.build(member.user, now=NOW)


def test_a_cancelled_session_is_an_exdate_and_a_moved_one_an_override(facilitator, member):
    series = _series(facilitator)
    first, second, third, _ = series.occurrences.order_by("start")
    services.cancel_occurrence(user=facilitator.user, occurrence_id=second.pk)
    services.move_occurrence(
        user=facilitator.user, occurrence_id=third.pk, start_local=datetime(2027, 3, 31, 19, 30, tzinfo=BERLIN), now=NOW
    )
    master, override = _events(member.user)
    exdates = (
        [d.dt for d in master["EXDATE"].dts]
        if not isinstance(master["EXDATE"], list)
        else [d.dt for e in master["EXDATE"] for d in e.dts]
    )
    assert [d.astimezone(UTC) for d in exdates] == [second.original_start]
    assert override.decoded("RECURRENCE-ID").astimezone(UTC) == third.original_start
    moved = override.decoded("DTSTART")
    assert (moved.astimezone(BERLIN).hour, moved.astimezone(BERLIN).minute) == (19, 30)
    assert first.pk  # untouched


def test_titles_are_neutral_unless_the_member_chooses_real_ones(facilitator, member):
    _series(facilitator)
    assert str(_events(member.user)[0]["SUMMARY"]) == "Wellness circle"
    services.set_preferences(user=member.user, real_titles=True)
    assert str(_events(member.user)[0]["SUMMARY"]) == "Ketamine integration group"


def test_an_rsvp_shows_as_going_in_the_members_feed_only(facilitator, member, make_user, join, circle):
    series = _series(facilitator)
    other = join(make_user("someone-else"), circle)
    occ = series.occurrences.order_by("start").first()
    services.rsvp(user=member.user, occurrence_id=occ.pk, now=NOW)
    mine = _events(member.user)
    assert [str(e["SUMMARY"]) for e in mine] == ["Wellness circle", "Wellness circle (going)"]
    assert len(_events(other.user)) == 1


def test_the_secret_url_serves_the_feed_and_stops_when_revoked(facilitator, member):
    services.create_series(
        user=facilitator.user,
        circle=facilitator.circle,
        title="Soon",
        start_local=datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1),
        time_zone="UTC",
        duration_minutes=60,
    )
    token = services.calendar_token(user=member.user).token
    url = reverse("schedules:feed", kwargs={"token": token})
    response = Client().get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert member.user.username not in response.content.decode() and member.alias not in response.content.decode()
    services.revoke_calendar_token(user=member.user)
    assert Client().get(url).status_code == 404
