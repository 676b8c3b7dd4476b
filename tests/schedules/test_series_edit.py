"""A whole series changed or ended by its facilitator: sessions still to come
follow, one that began keeps what it had, those who signed up are told, and
the calendar feed stops where the series ended."""

from datetime import UTC, datetime, timedelta

import pytest
from dateutil.rrule import rrulestr
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from community.models import Membership, Notification
from core.errors import ErrorCode
from schedules import feed, recurrence, services
from schedules.models import Occurrence, Rsvp, SessionSeries
from tests.community.helpers import refuse

pytestmark = pytest.mark.django_db
BERLIN = recurrence.zone("Europe/Berlin")
NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
# Tuesdays 18:00 Berlin from 16 March 2027, six times (across the clock change of 28 March).
FIRST = datetime(2027, 3, 16, 18, 0, tzinfo=BERLIN)  # create_series keeps the wall clock


def _series(facilitator, **kw) -> SessionSeries:
    kw.setdefault("count", 6)
    return services.create_series(
        user=facilitator.user,
        circle=facilitator.circle,
        title="Ketamine integration group",
        start_local=FIRST,
        time_zone="Europe/Berlin",
        duration_minutes=90,
        weekdays=("TU",),
        capacity=1,
        now=NOW,
        **kw,
    )


def _edit(facilitator, series, **change):
    kw = {
        "user": facilitator.user,
        "series_id": series.pk,
        "title": series.title,
        "duration_minutes": series.duration_minutes,
        "capacity": series.capacity,
        "open_minutes_before": series.open_minutes_before,
        **change,
    }
    return services.edit_series(**kw)


def _snapshot(series):
    return (
        SessionSeries.objects.filter(pk=series.pk).values().get(),
        list(Occurrence.objects.filter(series=series).order_by("pk").values()),
        list(Rsvp.objects.order_by("pk").values()),
    )


def test_an_edit_reaches_the_sessions_still_to_come_and_fills_new_seats_from_the_wait_list(
    facilitator, make_user, join, circle
):
    series = _series(facilitator)
    first, second, *_ = series.occurrences.order_by("start")
    a, b, c = (join(make_user(f"series-{n}"), circle) for n in "abc")
    for m in (a, b, c):
        services.rsvp(user=m.user, occurrence_id=second.pk, now=NOW)
        services.rsvp(user=m.user, occurrence_id=first.pk, now=NOW)
    after_first = first.start + timedelta(minutes=30)  # the first session is live
    _edit(facilitator, series, title="Tuesday integration", duration_minutes=60, capacity=2, now=after_first)
    series.refresh_from_db()
    assert (series.title, series.duration_minutes, series.capacity) == ("Tuesday integration", 60, 2)
    first.refresh_from_db()
    assert first.end - first.start == timedelta(minutes=90)  # it began: its times stay
    later = list(series.occurrences.exclude(pk=first.pk))
    assert later and all(o.end - o.start == timedelta(minutes=60) for o in later)
    # One more seat: the first on the wait-list of the session to come moves up and is told.
    assert list(
        Rsvp.objects.filter(occurrence=second).order_by("created_at", "id").values_list("status", flat=True)
    ) == [
        Rsvp.Status.GOING,
        Rsvp.Status.GOING,
        Rsvp.Status.WAITLISTED,
    ]
    assert Notification.objects.filter(user=b.user, kind=Notification.Kind.WAITLIST).count() == 1
    assert not Notification.objects.filter(user=c.user, kind=Notification.Kind.WAITLIST).exists()
    # The live session was not re-seated.
    assert Rsvp.objects.filter(occurrence=first, status=Rsvp.Status.GOING).count() == 1


def test_fewer_seats_take_nobodys_seat(facilitator, make_user, join, circle):
    series = _series(facilitator, count=2)
    _edit(facilitator, series, capacity=3, now=NOW)
    occ = series.occurrences.order_by("start").first()
    members = [join(make_user(f"seat-{n}"), circle) for n in range(3)]
    for m in members:
        assert services.rsvp(user=m.user, occurrence_id=occ.pk, now=NOW).status == Rsvp.Status.GOING
    _edit(facilitator, series, capacity=1, now=NOW)
    assert Rsvp.objects.filter(occurrence=occ, status=Rsvp.Status.GOING).count() == 3
    late = join(make_user("seat-late"), circle)
    assert services.rsvp(user=late.user, occurrence_id=occ.pk, now=NOW).status == Rsvp.Status.WAITLISTED


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "   "}, "title"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 9 * 60}, "duration_minutes"),
        ({"capacity": 0}, "capacity"),
        ({"open_minutes_before": 500}, "open_minutes_before"),
    ],
)
def test_bad_edits_are_refused_and_change_nothing(facilitator, change, field):
    series = _series(facilitator)
    before = _snapshot(series)
    err = refuse(ErrorCode.BAD_SCHEDULE, _edit, facilitator=facilitator, series=series, now=NOW, **change)
    assert err.extra["field"] == field
    assert _snapshot(series) == before


def test_only_the_circles_facilitators_edit_or_end_a_series(facilitator, member, make_user, make_circle, join):
    series = _series(facilitator)
    other = join(make_user("other-lead"), make_circle(name="Other", slug="other"), Membership.Role.FACILITATOR)
    before = _snapshot(series)
    refuse(ErrorCode.FORBIDDEN, _edit, facilitator=member, series=series, title="Mine", now=NOW)
    refuse(ErrorCode.FORBIDDEN, services.end_series, user=member.user, series_id=series.pk, now=NOW)
    refuse(ErrorCode.NOT_MEMBER, _edit, facilitator=other, series=series, title="Mine", now=NOW)
    refuse(ErrorCode.NOT_MEMBER, services.end_series, user=other.user, series_id=series.pk, now=NOW)
    refuse(ErrorCode.NOT_FOUND, services.end_series, user=facilitator.user, series_id=series.pk + 999, now=NOW)
    assert _snapshot(series) == before


def _master(user, now):
    cal = Calendar.from_ical(feed.build(user, now=now))
    (master,) = [e for e in cal.walk("VEVENT") if "RECURRENCE-ID" not in e]
    return master


def test_ending_a_series_cancels_what_is_to_come_tells_each_once_and_the_feed_stops_there(facilitator, member):
    series = _series(facilitator)
    occurrences = list(series.occurrences.order_by("start"))
    assert len(occurrences) == 6
    first, second, third = occurrences[:3]
    for occ in (second, third):
        services.rsvp(user=member.user, occurrence_id=occ.pk, now=NOW)
    during_second = second.start + timedelta(minutes=10)  # the second session is live
    assert services.end_series(user=facilitator.user, series_id=series.pk, now=during_second) == 4
    assert services.end_series(user=facilitator.user, series_id=series.pk, now=during_second) == 0  # idempotent
    states = list(series.occurrences.order_by("start").values_list("cancelled", flat=True))
    assert states == [False, False, True, True, True, True]  # the live one runs to its end
    told = Notification.objects.filter(user=member.user, text__contains="series has ended")
    assert told.count() == 1  # the third session, once; not the live second
    series.refresh_from_db()
    assert "COUNT" not in series.rrule and "UNTIL=" in series.rrule
    assert services.materialise(series, now=during_second + timedelta(days=2)) == 0
    # The calendar: the rule's instances stop at the live session.
    master = _master(member.user, during_second)
    start = master.decoded("DTSTART")
    instances = list(rrulestr(master["RRULE"].to_ical().decode(), dtstart=start))
    assert [i.astimezone(UTC) for i in instances] == [first.original_start, second.original_start]


def test_a_series_ended_before_it_began_is_cancelled_whole(facilitator, member):
    series = _series(facilitator)
    assert services.end_series(user=facilitator.user, series_id=series.pk, now=NOW) == 6
    assert not series.occurrences.filter(cancelled=False).exists()
    master = _master(member.user, NOW)
    assert master["STATUS"] == "CANCELLED"
    start = master.decoded("DTSTART")
    assert list(rrulestr(master["RRULE"].to_ical().decode(), dtstart=start)) in ([], [start])


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_series_page_edits_and_ends_and_a_member_is_refused(facilitator, member):
    first = (datetime.now(UTC) + timedelta(days=2)).replace(tzinfo=None, second=0, microsecond=0)
    series = services.create_series(
        user=facilitator.user,
        circle=facilitator.circle,
        title="Evening circle",
        start_local=first,
        time_zone="UTC",
        duration_minutes=90,
        weekdays=(("MO", "TU", "WE", "TH", "FR", "SA", "SU")[first.weekday()],),
        count=3,
    )
    url = reverse("schedules:series_edit", args=[series.pk])
    lead = _client(facilitator.user)
    page = lead.get(url)
    assert page.status_code == 200 and "Evening circle" in page.content.decode()
    assert _client(member.user).get(url).status_code == 403
    form = {
        "action": "save",
        "title": "Evening circle",
        "duration_minutes": 75,
        "capacity": "",
        "open_minutes_before": 5,
    }
    assert _client(member.user).post(url, form).status_code == 403
    bad = lead.post(url, {**form, "duration_minutes": 0})
    assert bad.status_code == 400
    assert SessionSeries.objects.get(pk=series.pk).duration_minutes == 90
    done = lead.post(url, form)
    assert done.status_code == 302
    assert SessionSeries.objects.get(pk=series.pk).duration_minutes == 75
    unconfirmed = lead.post(url, {"action": "end"})
    assert unconfirmed.status_code == 400
    assert 'id="end-error"' in unconfirmed.content.decode() and "Tick the box" in unconfirmed.content.decode()
    for odd in ({}, {"action": ""}, {"action": "delete"}):
        unknown = lead.post(url, odd)
        assert unknown.status_code == 400 and "Unknown action" in unknown.content.decode()
    too_many = lead.post(url, {**form, "capacity": 10**12})
    assert too_many.status_code == 400 and "id_capacity_error" in too_many.content.decode()
    assert not series.occurrences.filter(cancelled=True).exists()
    assert SessionSeries.objects.get(pk=series.pk).capacity is None
    assert lead.post(url, {"action": "end", "confirm": "yes"}).status_code == 302
    assert not series.occurrences.filter(cancelled=False).exists()
    assert 'data-testid="series-over"' in lead.get(url).content.decode()
    manage = lead.get(reverse("schedules:occurrence", args=[series.occurrences.first().pk])).content.decode()
    assert url in manage


def test_a_session_lengthened_on_its_own_keeps_its_length_through_edits(facilitator):
    series = _series(facilitator)
    _, second, third, *_ = series.occurrences.order_by("start")
    services.extend(user=facilitator.user, occurrence_id=second.pk, minutes=30, now=NOW)
    _edit(facilitator, series, title="Renamed", now=NOW)
    second.refresh_from_db()
    assert second.end - second.start == timedelta(minutes=120)  # a title change touches no length
    _edit(facilitator, series, duration_minutes=60, now=NOW)
    second.refresh_from_db()
    third.refresh_from_db()
    assert second.end - second.start == timedelta(minutes=120)
    assert third.end - third.start == timedelta(minutes=60)


def test_the_scheduler_never_opens_or_reminds_a_session_cancelled_after_it_looked(facilitator):
    from schedules import scheduler

    series = _series(facilitator)
    first = series.occurrences.order_by("start").first()
    at = first.start - timedelta(minutes=5)
    services.end_series(user=facilitator.user, series_id=series.pk, now=NOW)  # after the pass read it
    for column in ("opened_at", "reminded_at", "started_notice_at", "checkins_sent_at"):
        assert not scheduler._claim(first.pk, column, at)
    first.refresh_from_db()
    assert first.opened_at is None and first.reminded_at is None


def test_materialise_reads_the_series_as_it_is_now(facilitator):
    series = services.create_series(
        user=facilitator.user,
        circle=facilitator.circle,
        title="Open-ended",
        start_local=FIRST,
        time_zone="Europe/Berlin",
        duration_minutes=90,
        weekdays=("TU",),
        now=NOW,
    )
    stale = SessionSeries.objects.get(pk=series.pk)  # as a scheduler pass read it
    made = series.occurrences.count()
    services.end_series(user=facilitator.user, series_id=series.pk, now=NOW)
    stale.materialised_until = None
    assert services.materialise(stale, now=NOW + timedelta(days=30)) == 0
    assert series.occurrences.count() == made
    assert not series.occurrences.filter(cancelled=False).exists()


def test_a_cancellation_notice_gives_the_day_and_time_in_the_members_zone(facilitator, member):
    from schedules.models import Preferences

    Preferences.objects.create(user=member.user, time_zone="America/Los_Angeles")
    series = services.create_series(
        user=facilitator.user,
        circle=facilitator.circle,
        title="Early circle",
        start_local=datetime(2027, 3, 16, 1, 30, tzinfo=BERLIN),  # Tuesday 01:30 in Berlin
        time_zone="Europe/Berlin",
        duration_minutes=60,
        now=NOW,
    )
    occ = series.occurrences.get()
    services.rsvp(user=member.user, occurrence_id=occ.pk, now=NOW)
    services.cancel_occurrence(user=facilitator.user, occurrence_id=occ.pk)
    note = Notification.objects.get(user=member.user, text__contains="was cancelled")
    assert "Mon 15 Mar, 17:30 (America/Los_Angeles)" in note.text, note.text  # the evening before, there
