"""Several schedulers at once: each transition happens once (conditional UPDATEs),
and two members racing for the last seat do not both get it (row lock).  Real
concurrency needs PostgreSQL: pass 2."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection

from community.models import Circle, Notification
from moderation.models import AuditEntry
from schedules import scheduler, services
from schedules.models import Rsvp

from .helpers import one_session

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _in_thread(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    finally:
        connection.close()


def test_four_schedulers_at_once_open_remind_and_close_once(facilitator, member):
    Circle.objects.filter(pk=facilitator.circle_id).update(open_between_sessions=False, room_closed=True)
    occ = one_session(facilitator, minutes_from_now=30, length=30)
    services.rsvp(user=member.user, occurrence_id=occ.pk)
    for at in (occ.start - timedelta(minutes=5), occ.end + timedelta(minutes=1)):
        with ThreadPoolExecutor(4) as pool:
            passes = list(pool.map(_in_thread, [scheduler.run_once] * 4, [at] * 4))
        if at < occ.start:
            assert sum(len(p.opened) for p in passes) == 1
            assert sum(len(p.reminded) for p in passes) == 1
        else:
            assert sum(len(p.closed) for p in passes) == 1
            assert sum(len(p.checkins) for p in passes) == 1
    assert AuditEntry.objects.filter(circle_id=facilitator.circle_id, reason="scheduled session").count() == 2
    assert Notification.objects.filter(user=member.user, kind=Notification.Kind.REMINDER).count() == 1


def test_members_racing_for_the_last_seat_get_one_seat_between_them(facilitator, make_user, join, circle):
    occ = one_session(facilitator, seats=1)
    people = [join(make_user(f"racer-{n}"), circle) for n in range(6)]
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda m: _in_thread(services.rsvp, user=m.user, occurrence_id=occ.pk), people))
    assert Rsvp.objects.filter(status=Rsvp.Status.GOING).count() == 1
    assert Rsvp.objects.filter(status=Rsvp.Status.WAITLISTED).count() == 5
