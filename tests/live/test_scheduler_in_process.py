"""The embedded default runs the session scheduler inside Daphne (config.daphne):
a room opens on time in front of a connected member with no other process, on
whichever channel layer the pass runs (in-memory in pass 1, Redis in pass 2)."""

import asyncio

from community.models import Circle, Membership
from schedules.models import Occurrence
from tests.conftest import session_cookie_for
from tests.live.wsclient import LiveSocket
from tests.schedules.helpers import one_session


def _session_in_five_minutes(guide) -> None:
    """A session in 5 minutes: its window (10 minutes before) has begun."""
    one_session(guide, minutes_from_now=5)


def test_a_room_opens_on_time_with_the_scheduler_inside_the_server(daphne_factory, make_user, circle, join):
    Circle.objects.filter(pk=circle.pk).update(open_between_sessions=False, room_closed=True)
    guide = join(make_user("inproc-guide"), circle, Membership.Role.FACILITATOR)
    member = join(make_user("inproc-member"), circle)
    server = daphne_factory(SCHEDULER_IN_PROCESS="true", SCHEDULER_INTERVAL_SECONDS="0.5")
    cookie = session_cookie_for(member.user)

    async def scenario():
        room = await LiveSocket.open(server, circle.slug, cookie)
        assert room.hello["room"]["closed"] is True
        await asyncio.to_thread(_session_in_five_minutes, guide)
        frame = await room.recv_type("room_state", timeout=10)
        assert frame["state"]["closed"] is False
        await room.close()

    asyncio.run(scenario())
    occurrence = Occurrence.objects.get(circle=circle)
    assert occurrence.opened_at is not None


def test_the_test_servers_run_no_scheduler_unless_asked(daphne_factory, make_user, circle, join):
    """The same session with a server that was not asked: nothing opens it (so the
    test above proves the in-process scheduler, not some other process)."""
    Circle.objects.filter(pk=circle.pk).update(open_between_sessions=False, room_closed=True)
    guide = join(make_user("noproc-guide"), circle, Membership.Role.FACILITATOR)
    member = join(make_user("noproc-member"), circle)
    server = daphne_factory(SCHEDULER_INTERVAL_SECONDS="0.5")
    cookie = session_cookie_for(member.user)

    async def scenario():
        room = await LiveSocket.open(server, circle.slug, cookie)
        await asyncio.to_thread(_session_in_five_minutes, guide)
        await asyncio.sleep(2)
        await room.close()

    asyncio.run(scenario())
    assert Occurrence.objects.get(circle=circle).opened_at is None
    assert Circle.objects.get(pk=circle.pk).room_closed is True
