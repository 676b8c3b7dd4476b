"""Series, occurrences and RSVPs through the services: rules and refusals."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from community.models import Membership, Notification
from core.errors import ErrorCode
from schedules import services
from schedules.models import Occurrence, Rsvp, SessionSeries
from tests.community.helpers import refuse

from .helpers import one_session, soon_local, weekly

pytestmark = pytest.mark.django_db


def test_a_weekly_series_is_materialised_in_utc_up_to_the_horizon(facilitator):
    start = soon_local(60 * 24, "Europe/Berlin")
    series = weekly(
        facilitator, start_local=start, weekdays=(("MO", "TU", "WE", "TH", "FR", "SA", "SU")[start.weekday()],)
    )
    occurrences = list(series.occurrences.all())
    assert 12 <= len(occurrences) <= 13  # 12 weeks ahead
    assert all(o.end - o.start == timedelta(minutes=90) for o in occurrences)
    assert series.rrule.startswith("FREQ=WEEKLY;INTERVAL=1;BYDAY=")
    assert services.materialise(series) == 0  # idempotent


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"duration_minutes": 0}, "duration_minutes"),  # ends before (or as) it starts
        ({"time_zone": "Nowhere/Special"}, "time_zone"),
        ({"weekdays": ("MO", "TU", "WE", "TH", "FR", "SA", "SU"), "count": 10_000}, "recurrence"),
        ({"weekdays": ("MO", "TU", "WE", "TH", "FR", "SA", "SU"), "until": date(2099, 1, 1)}, "recurrence"),
        ({"title": "  "}, "title"),
        ({"start_local": soon_local(-600)}, "start"),
    ],
)
def test_bad_series_input_is_refused_and_nothing_is_made(facilitator, change, field):
    kw = {"start_local": soon_local(120), "time_zone": "UTC", **change}
    err = refuse(ErrorCode.BAD_SCHEDULE, weekly, facilitator=facilitator, **kw)
    assert err.extra["field"] == field
    assert not SessionSeries.objects.exists() and not Occurrence.objects.exists()


def test_a_member_cannot_schedule_sessions(member):
    refuse(ErrorCode.FORBIDDEN, weekly, facilitator=member, start_local=soon_local(120), time_zone="UTC")
    assert not SessionSeries.objects.exists()


def test_a_facilitator_cannot_schedule_or_cancel_in_another_circle(facilitator, make_circle, make_user, join):
    other = join(make_user("other-fac"), make_circle(name="Other", slug="other"), Membership.Role.FACILITATOR)
    occ = one_session(facilitator)
    refuse(
        ErrorCode.NOT_MEMBER,
        services.create_series,
        user=other.user,
        circle=facilitator.circle,
        title="Mine now",
        start_local=soon_local(120),
        time_zone="UTC",
        duration_minutes=60,
    )
    refuse(ErrorCode.NOT_MEMBER, services.cancel_occurrence, user=other.user, occurrence_id=occ.pk)
    occ.refresh_from_db()
    assert not occ.cancelled and SessionSeries.objects.count() == 1


def test_rsvp_past_capacity_joins_the_wait_list_and_a_freed_seat_promotes_in_order(
    facilitator, make_user, join, circle
):
    occ = one_session(facilitator, seats=1)
    a, b, c = (join(make_user(f"rsvp-{n}"), circle) for n in "abc")
    assert services.rsvp(user=a.user, occurrence_id=occ.pk).status == Rsvp.Status.GOING
    assert services.rsvp(user=b.user, occurrence_id=occ.pk).status == Rsvp.Status.WAITLISTED
    assert services.rsvp(user=c.user, occurrence_id=occ.pk).status == Rsvp.Status.WAITLISTED
    assert services.rsvp(user=b.user, occurrence_id=occ.pk).status == Rsvp.Status.WAITLISTED  # idempotent
    promoted = services.cancel_rsvp(user=a.user, occurrence_id=occ.pk)
    assert promoted is not None and promoted.membership == b
    assert Rsvp.objects.get(membership=b).status == Rsvp.Status.GOING
    assert Rsvp.objects.get(membership=c).status == Rsvp.Status.WAITLISTED
    note = Notification.objects.get(user=b.user, kind=Notification.Kind.WAITLIST)
    assert "seat freed up" in note.text
    assert not Notification.objects.filter(user=c.user, kind=Notification.Kind.WAITLIST).exists()


def test_leaving_the_wait_list_promotes_nobody(facilitator, make_user, join, circle):
    occ = one_session(facilitator, seats=1)
    a, b = (join(make_user(f"wl-{n}"), circle) for n in "ab")
    services.rsvp(user=a.user, occurrence_id=occ.pk)
    services.rsvp(user=b.user, occurrence_id=occ.pk)
    assert services.cancel_rsvp(user=b.user, occurrence_id=occ.pk) is None
    assert list(Rsvp.objects.values_list("membership", "status")) == [(a.pk, Rsvp.Status.GOING)]


def test_rsvp_to_a_cancelled_or_past_session_is_refused(facilitator, member):
    occ = one_session(facilitator)
    services.cancel_occurrence(user=facilitator.user, occurrence_id=occ.pk)
    refuse(ErrorCode.SESSION_UNAVAILABLE, services.rsvp, user=member.user, occurrence_id=occ.pk)
    live = one_session(facilitator, minutes_from_now=5, length=10)
    refuse(
        ErrorCode.SESSION_UNAVAILABLE,
        services.rsvp,
        user=member.user,
        occurrence_id=live.pk,
        now=timezone.now() + timedelta(minutes=30),
    )
    assert not Rsvp.objects.exists()


def test_non_members_cannot_rsvp(facilitator, make_user):
    occ = one_session(facilitator)
    refuse(ErrorCode.NOT_MEMBER, services.rsvp, user=make_user("stranger"), occurrence_id=occ.pk)


def test_a_moved_session_keeps_its_place_rsvps_and_tells_those_going(facilitator, member):
    series = weekly(
        facilitator,
        start_local=soon_local(60 * 24, "UTC"),
        time_zone="UTC",
        weekdays=(("MO", "TU", "WE", "TH", "FR", "SA", "SU")[soon_local(60 * 24).weekday()],),
        count=3,
    )
    first, second, _ = series.occurrences.all()
    services.rsvp(user=member.user, occurrence_id=second.pk)
    new_start = second.start.replace(tzinfo=None) + timedelta(hours=2)
    moved = services.move_occurrence(user=facilitator.user, occurrence_id=second.pk, start_local=new_start)
    assert moved.moved and moved.original_start == second.original_start
    assert moved.end - moved.start == timedelta(minutes=90)
    assert Rsvp.objects.get(occurrence=second).membership == member
    assert Notification.objects.filter(user=member.user, text__contains="moved").exists()
    first.refresh_from_db()
    assert not first.moved


def test_a_member_cannot_move_or_cancel_a_session(facilitator, member):
    occ = one_session(facilitator)
    refuse(ErrorCode.FORBIDDEN, services.cancel_occurrence, user=member.user, occurrence_id=occ.pk)
    refuse(
        ErrorCode.FORBIDDEN,
        services.move_occurrence,
        user=member.user,
        occurrence_id=occ.pk,
        start_local=soon_local(300),
    )
    refuse(ErrorCode.FORBIDDEN, services.open_early, user=member.user, occurrence_id=occ.pk)
    occ.refresh_from_db()
    assert not occ.cancelled and not occ.moved and occ.opened_at is None
