"""The scheduler's pass: rooms open and close on time, once however many run;
reminders, "starting now" and check-ins go out once."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async as dsa
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from chat import services as chat_services
from chat.models import Seat
from community.models import Circle, Notification
from moderation.models import AuditEntry
from schedules import scheduler, selectors, services
from schedules.models import Occurrence, Rsvp

from .helpers import one_session


def _closed_circle(circle: Circle) -> Circle:
    Circle.objects.filter(pk=circle.pk).update(open_between_sessions=False, room_closed=True)
    circle.refresh_from_db()
    return circle


@pytest.mark.django_db
def test_a_pass_opens_the_room_in_the_window_and_a_second_pass_does_nothing(facilitator):
    _closed_circle(facilitator.circle)
    occ = one_session(facilitator, minutes_from_now=30, open_minutes_before=10)
    assert scheduler.run_once().opened == []  # not yet: the window opens 10 minutes before
    at = occ.start - timedelta(minutes=9)
    assert scheduler.run_once(at).opened == [occ.pk]
    assert scheduler.run_once(at).opened == []
    assert not Circle.objects.get(pk=facilitator.circle_id).room_closed
    assert AuditEntry.objects.filter(action=AuditEntry.Action.OPEN_ROOM, actor_label="System").count() == 1


@pytest.mark.django_db
def test_the_room_closes_after_the_end_unless_open_between_sessions(facilitator, make_circle, make_user, join):
    _closed_circle(facilitator.circle)
    occ = one_session(facilitator, minutes_from_now=5, length=30)
    scheduler.run_once(occ.start)
    done = scheduler.run_once(occ.end + timedelta(seconds=1))
    assert done.closed == [occ.pk]
    assert Circle.objects.get(pk=facilitator.circle_id).room_closed
    # A circle open between sessions stays open.
    from community.models import Membership

    other = join(make_user("fac-open"), make_circle(name="Open", slug="open-circle"), Membership.Role.FACILITATOR)
    occ2 = one_session(other, minutes_from_now=5, length=30)
    scheduler.run_once(occ2.start)
    scheduler.run_once(occ2.end + timedelta(seconds=1))
    assert not Circle.objects.get(pk=other.circle_id).room_closed


@pytest.mark.django_db
def test_a_restarted_scheduler_catches_up_without_opening_a_finished_session(facilitator):
    _closed_circle(facilitator.circle)
    occ = one_session(facilitator, minutes_from_now=5, length=30)
    done = scheduler.run_once(occ.end + timedelta(minutes=5))  # it was down for the whole session
    assert done.opened == [] and done.closed == [occ.pk]
    assert Circle.objects.get(pk=facilitator.circle_id).room_closed


@pytest.mark.django_db
def test_reminders_starting_now_and_check_ins_go_to_those_going_once(facilitator, member, make_user, join, circle):
    occ = one_session(facilitator, minutes_from_now=30, seats=1)
    waiting = join(make_user("waiting-one"), circle)
    services.rsvp(user=member.user, occurrence_id=occ.pk)
    services.rsvp(user=waiting.user, occurrence_id=occ.pk)
    for _ in range(2):
        scheduler.run_once(occ.start - timedelta(minutes=20))
        scheduler.run_once(occ.start + timedelta(minutes=1))
        scheduler.run_once(occ.end + timedelta(minutes=1))
    kinds = sorted(Notification.objects.filter(user=member.user).values_list("kind", flat=True))
    assert kinds == sorted([Notification.Kind.REMINDER, Notification.Kind.STARTING, Notification.Kind.CHECK_IN])
    reminder = Notification.objects.get(user=member.user, kind=Notification.Kind.REMINDER)
    assert reminder.text == "Wellness circle starts in 20 minutes."  # neutral by default
    assert not Notification.objects.filter(user=waiting.user).exists()


@pytest.mark.django_db
def test_attendance_is_recorded_from_who_took_part(facilitator, member, make_user, join, circle, post):
    occ = one_session(facilitator, minutes_from_now=0, length=30, open_minutes_before=10)
    quiet = join(make_user("quiet-one"), circle)
    services.rsvp(user=member.user, occurrence_id=occ.pk)
    services.rsvp(user=quiet.user, occurrence_id=occ.pk)
    scheduler.run_once()
    post(member.user, circle, "I am here, a bit shaky.")
    scheduler.run_once(occ.end + timedelta(minutes=1))
    assert dict(Rsvp.objects.values_list("membership_id", "attended")) == {member.pk: True, quiet.pk: False}


@pytest.mark.django_db
def test_a_member_who_only_listened_is_counted_and_one_who_was_not_there_is_not(
    facilitator, member, make_user, join, circle, post
):
    """The page marks what it has shown while open (``read`` frames): a member
    who read the session without a word attended; one who read only before the
    window opened, or after it closed, did not."""
    occ = one_session(facilitator, minutes_from_now=0, length=30, open_minutes_before=10)
    listener = join(make_user("listener-one"), circle)
    early = join(make_user("early-one"), circle)
    for m in (member, listener, early):
        services.rsvp(user=m.user, occurrence_id=occ.pk)
    first = post(member.user, circle, "Before anything: hello.")
    chat_services.mark_read(chat_services.open_room(user=early.user, slug=circle.slug), upto=first)
    Seat.objects.filter(membership=early).update(updated_at=occ.opens_at - timedelta(minutes=30))  # read long before
    scheduler.run_once()
    said = post(member.user, circle, "I am here, a bit shaky.")
    chat_services.mark_read(chat_services.open_room(user=listener.user, slug=circle.slug), upto=said)
    scheduler.run_once(occ.end + timedelta(minutes=1))
    assert dict(Rsvp.objects.values_list("membership_id", "attended")) == {
        member.pk: True,
        listener.pk: True,
        early.pk: False,
    }
    past = selectors.past_sessions(circle, now=occ.end + timedelta(minutes=1))
    assert [(p.going, p.attended) for p in past] == [(3, 2)]


@pytest.mark.django_db
def test_a_listener_who_also_read_the_goodbyes_after_the_end_is_still_counted(
    facilitator, member, make_user, join, circle, post
):
    """The seat keeps only its newest read: a read of a goodbye posted after the
    end, before the scheduler's close pass, must not hide the session's reads."""
    occ = one_session(facilitator, minutes_from_now=0, length=30, open_minutes_before=10)
    listener = join(make_user("stays-to-the-end"), circle)
    services.rsvp(user=listener.user, occurrence_id=occ.pk)
    scheduler.run_once()
    said = post(member.user, circle, "Thank you all, see you next week.")
    chat_services.mark_read(chat_services.open_room(user=listener.user, slug=circle.slug), upto=said)
    Seat.objects.filter(membership=listener).update(updated_at=occ.end + timedelta(minutes=2))  # the goodbye's read
    scheduler.run_once(occ.end + timedelta(minutes=3))
    assert Rsvp.objects.get(membership=listener).attended


@pytest.mark.django_db
def test_run_scheduler_once_writes_the_heartbeat(facilitator):
    cache.delete(scheduler.HEARTBEAT_KEY)
    call_command("run_scheduler", "--once")
    assert cache.get(scheduler.HEARTBEAT_KEY) is not None


@pytest.mark.django_db(transaction=True)
async def test_a_connected_member_sees_the_room_open_and_close_on_schedule(facilitator, member, connect):
    """The scheduler's open and close reach an open socket as ``room_state`` frames."""
    await dsa(_closed_circle)(member.circle)
    occ = await dsa(one_session)(facilitator, minutes_from_now=5, length=20)
    room = await connect(member.user, member.circle)
    assert room.hello["room"]["closed"] is True
    await dsa(scheduler.run_once)(occ.start)
    assert (await room.recv_type("room_state"))["state"]["closed"] is False
    await dsa(scheduler.run_once)(occ.start)
    assert await room.nothing()
    await dsa(scheduler.run_once)(occ.end + timedelta(seconds=1))
    assert (await room.recv_type("room_state"))["state"]["closed"] is True
    await room.close()


@pytest.mark.django_db
def test_facilitator_opens_early_extends_and_ends(facilitator):
    _closed_circle(facilitator.circle)
    occ = one_session(facilitator, minutes_from_now=60, length=30)
    services.open_early(user=facilitator.user, occurrence_id=occ.pk)
    assert not Circle.objects.get(pk=facilitator.circle_id).room_closed
    assert scheduler.run_once().opened == []  # already open: the scheduler leaves it
    extended = services.extend(user=facilitator.user, occurrence_id=occ.pk, minutes=15)
    assert extended.end - extended.start == timedelta(minutes=45)
    ended = services.end_now(user=facilitator.user, occurrence_id=occ.pk, now=occ.start + timedelta(minutes=5))
    assert ended.closed_at is not None
    assert Circle.objects.get(pk=facilitator.circle_id).room_closed
    assert Occurrence.objects.get(pk=occ.pk).end == occ.start + timedelta(minutes=5)
    assert timezone.now() < occ.start  # (ended at the "now" given)


@pytest.mark.django_db
def test_an_open_ended_series_is_extended_as_the_horizon_moves(facilitator):
    from schedules import recurrence
    from tests.schedules.helpers import soon_local

    start = soon_local(60)
    series = services.create_series(
        user=facilitator.user,
        circle=facilitator.circle,
        title="Every week, no end",
        start_local=start,
        time_zone="UTC",
        duration_minutes=60,
        weekdays=(recurrence.WEEKDAYS[start.weekday()],),
    )
    before = series.occurrences.count()
    assert scheduler.run_once().made == 0  # done for today
    assert scheduler.run_once(timezone.now() + timedelta(days=14)).made == 2
    assert series.occurrences.count() == before + 2
