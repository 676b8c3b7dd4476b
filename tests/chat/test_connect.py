"""Opening the live room: who is refused, what ``hello`` carries, presence."""

import json

import pytest
from channels.db import database_sync_to_async as dsa
from django.test import override_settings

from community import services as community_services
from community.models import Membership

from .helpers import ban

pytestmark = pytest.mark.django_db(transaction=True)

GENEROUS = {"send": (1000, 10), "react": (1000, 10), "report": (1000, 60), "frame": (1000, 10), "connect": (1000, 60)}


async def test_anonymous_visitor_is_refused_before_any_data(attempt, circle):
    """A visitor without a session is refused (4401) and sent nothing."""
    assert await attempt(None, circle.slug, cookie=False) == (False, 4401, False)


async def test_non_member_is_refused_before_any_data(attempt, circle, make_user):
    """A signed-in person who has not joined the circle is refused (4403) and sent nothing."""
    outsider = await dsa(make_user)("outsider")
    assert await attempt(outsider, circle.slug) == (False, 4403, False)


async def test_member_of_another_circle_is_refused(attempt, circle, make_circle, people):
    """Membership of one circle opens no other circle's room."""
    other = await dsa(make_circle)()
    [(user, _m)] = await dsa(people)(other)
    assert await attempt(user, circle.slug) == (False, 4403, False)


async def test_banned_member_is_refused_before_any_data(attempt, circle, people):
    """A banned member is refused (4403) and sent nothing."""
    [(user, membership)] = await dsa(people)(circle)
    await dsa(ban)(membership)
    assert await attempt(user, circle.slug) == (False, 4403, False)


async def test_member_who_left_is_refused_before_any_data(attempt, circle, people):
    """A member who left the circle is refused (4403) and sent nothing."""
    [(user, _m)] = await dsa(people)(circle)
    await dsa(community_services.leave_circle)(user=user, circle=circle)
    assert await attempt(user, circle.slug) == (False, 4403, False)


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        (b"http://evil.example", b"localhost"),
        (b"null", b"localhost"),
        (None, b"localhost"),
        (b"https://localhost", b"localhost"),  # another scheme
        (b"http://localhost:8001", b"localhost:8000"),  # another port of the same host
        (b"http://localhost", b"localhost:8000"),
        (b"http://evil.localhost", b"localhost"),  # a subdomain
        (b"http://localhost", None),  # no Host header to compare with
        (b"http://evil.example", b"evil.example"),  # a Host outside ALLOWED_HOSTS
    ],
    ids=["foreign", "null", "missing", "scheme", "port", "port-missing", "subdomain", "no-host", "host-not-allowed"],
)
async def test_wrong_origin_is_refused_before_any_data(attempt, circle, people, origin, host):
    """A page on another origin (scheme, host and port) cannot open a member's socket with their cookie."""
    [(user, _m)] = await dsa(people)(circle)
    connected, _code, sent_data = await attempt(user, circle.slug, origin=origin, host=host)
    assert (connected, sent_data) == (False, False)


async def test_the_sites_own_origin_with_its_port_is_accepted(attempt, circle, people):
    [(user, _m)] = await dsa(people)(circle)
    connected, _code, _sent = await attempt(user, circle.slug, origin=b"http://localhost:8000", host=b"localhost:8000")
    assert connected


async def test_unknown_circle_is_refused_before_any_data(attempt, people, circle):
    """A slug that names no circle is refused (4403) and sent nothing."""
    [(user, _m)] = await dsa(people)(circle)
    assert await attempt(user, "no-such-circle") == (False, 4403, False)


async def test_hello_names_alias_role_and_room_state(connect, circle, people):
    """``hello`` carries the member's alias and role and the room's state."""
    [(user, membership)] = await dsa(people)(circle, role=Membership.Role.FACILITATOR)
    room = await connect(user, circle)
    hello = room.hello
    assert hello["you"] == {
        "alias": membership.alias,
        "role": "facilitator",
        "held": [],
        "last_read": 0,
        "muted_until": None,
        "hidden": [],
        "alerts": [],
    }
    assert hello["room"] == {"closed": False, "slow_mode": 0, "pinned": None, "last_id": 0}
    assert hello["messages"] == []
    assert hello["present"] == [membership.alias]
    await room.close()


async def test_hello_presence_lists_aliases_only(connect, circle, people):
    """Presence in ``hello`` is a list of aliases; no handle or id of anyone appears anywhere in it."""
    (a_user, a), (b_user, b) = await dsa(people)(circle, 2)
    room_a = await connect(a_user, circle)
    room_b = await connect(b_user, circle)
    assert room_b.hello["present"] == sorted([a.alias, b.alias])
    text = json.dumps(room_b.hello)
    for secret in (a_user.username, b_user.username):
        assert secret not in text
    assert '"user' not in text and '"author' not in text
    await room_a.close()
    await room_b.close()


async def test_hello_carries_recent_history_oldest_first(connect, circle, people, post):
    """``hello`` carries the most recent published messages, oldest first, with aliases only."""
    (a_user, a), (b_user, _b) = await dsa(people)(circle, 2)
    with override_settings(CHAT_RATE_LIMITS=GENEROUS, CHAT_HELLO_HISTORY=5):
        ids = [await dsa(post)(a_user, circle, f"note {n}") for n in range(8)]
        room = await connect(b_user, circle)
    messages = room.hello["messages"]
    assert [m["id"] for m in messages] == ids[-5:]
    assert messages[-1]["html"] == "<p>note 7</p>"
    assert {m["alias"] for m in messages} == {a.alias}
    assert set(messages[0]) == {"id", "alias", "html", "at", "reactions"}
    assert room.hello["room"]["last_id"] == ids[-1]
    await room.close()


async def test_presence_updates_when_a_member_comes_and_goes(connect, circle, people):
    """Members already in the room see another member's alias arrive and leave."""
    (a_user, _a), (b_user, b) = await dsa(people)(circle, 2)
    room_a = await connect(a_user, circle)
    await room_a.nothing(0.5)  # let A's own arrival settle
    room_b = await connect(b_user, circle)
    joined = await room_a.recv_type("presence")
    assert joined == {"type": "presence", "joined": [b.alias], "left": [], "count": 2}
    await room_b.close()
    left = await room_a.recv_type("presence")
    assert left == {"type": "presence", "joined": [], "left": [b.alias], "count": 1}
    await room_a.close()


async def test_two_tabs_of_one_member_count_once(connect, circle, people):
    """A second tab of a present member changes nobody's presence; closing the last tab does."""
    (a_user, a), (b_user, b) = await dsa(people)(circle, 2)
    tab1 = await connect(a_user, circle)
    room_b = await connect(b_user, circle)
    await room_b.nothing(0.5)
    tab2 = await connect(a_user, circle)
    assert tab2.hello["present"] == sorted([a.alias, b.alias])
    assert await room_b.nothing(0.5, ignore=())
    await tab1.close()
    assert await room_b.nothing(0.5, ignore=())
    await tab2.close()
    left = await room_b.recv_type("presence")
    assert left == {"type": "presence", "joined": [], "left": [a.alias], "count": 1}
    await room_b.close()


def test_presence_is_told_after_a_random_delay_per_circle():
    """Who came and went is shown after CHAT_PRESENCE_DELAY plus a jitter drawn
    each time: one person's joins in two circles land at unrelated moments."""
    from realtime.hub import presence_delay

    with override_settings(CHAT_PRESENCE_DELAY=0.5, CHAT_PRESENCE_JITTER=3.0):
        delays = [presence_delay() for _ in range(400)]
    assert all(0.5 <= d <= 3.5 for d in delays)
    assert max(delays) - min(delays) > 2.5
    pairs = list(zip(delays[::2], delays[1::2], strict=True))
    assert sum(abs(a - b) > 0.5 for a, b in pairs) > len(pairs) / 2
