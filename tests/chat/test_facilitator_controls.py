"""Facilitator controls, live: pin, slow mode, mute, close/reopen, remove; and the audit trail."""

import asyncio

import pytest
from channels.db import database_sync_to_async as dsa

from chat.models import Message
from community.models import Circle, Membership
from moderation.models import AuditEntry

from .helpers import audit_actions, message_count, stored

pytestmark = pytest.mark.django_db(transaction=True)


def _audit(circle) -> list[tuple]:
    return list(
        AuditEntry.objects.filter(circle=circle)
        .order_by("created_at", "id")
        .values_list("action", "actor__username", "actor_role", "target_membership_id", "target_message__seq")
    )


def _circle_state(circle) -> tuple:
    c = Circle.objects.get(pk=circle.pk)
    return c.room_closed, c.slow_mode_seconds


async def _staffed_room(connect, people, post, circle, *, members=2, role=Membership.Role.FACILITATOR):
    """A facilitator and ``members`` members, all connected; one message (id 1) by the first member."""
    [(f_user, facilitator)] = await dsa(people)(circle, role=role)
    made = await dsa(people)(circle, members)
    await dsa(post)(made[0][0], circle, "Does anyone else wake at 4am?")
    f_room = await connect(f_user, circle)
    rooms = [await connect(user, circle) for user, _m in made]
    return facilitator, f_room, [m for _u, m in made], rooms, [u for u, _m in made]


async def _command(f_room, rooms, frame: dict, broadcast: str) -> dict:
    """A facilitator command whose effect is broadcast: the ``done`` reply, with
    the broadcast checked identical on every other open socket."""
    await f_room.send(**frame)
    got = await f_room.recv_types("done", broadcast)
    for room in rooms:
        assert await room.recv_type(broadcast) == got[broadcast]
    return got


async def _close_all(*rooms):
    for room in rooms:
        await room.close()


@pytest.mark.parametrize("role", [Membership.Role.FACILITATOR, Membership.Role.MODERATOR])
async def test_pin_and_unpin_reach_every_member(connect, circle, people, post, role):
    """Pinning shows the message to everyone at once; unpinning takes it away; hello reflects both."""
    _f, f_room, _ms, [room_a, room_b], users = await _staffed_room(connect, people, post, circle, role=role)
    await f_room.send(type="pin", message=1)
    got = await f_room.recv_types("done", "pinned")
    assert got["done"] == {"type": "done", "of": "pin", "id": 1}
    for room in (room_a, room_b):
        frame = await room.recv_type("pinned")
        assert frame == got["pinned"]
        assert frame["message"]["id"] == 1 and frame["message"]["html"] == "<p>Does anyone else wake at 4am?</p>"
    late = await connect(users[1], circle)
    assert late.hello["room"]["pinned"]["id"] == 1
    await f_room.send(type="unpin")
    got = await f_room.recv_types("done", "pinned")
    assert got["done"] == {"type": "done", "of": "unpin", "id": None}
    for room in (room_a, room_b, late):
        assert await room.recv_type("pinned") == {"type": "pinned", "message": None}
    later = await connect(users[1], circle)
    assert later.hello["room"]["pinned"] is None
    await _close_all(f_room, room_a, room_b, late, later)


async def test_pin_of_a_missing_message_is_not_found(connect, circle, people, post):
    """Pinning an id that is not a published message is NOT_FOUND and changes nothing."""
    _f, f_room, _ms, [room_a, room_b], _users = await _staffed_room(connect, people, post, circle)
    await f_room.send(type="pin", message=42)
    await f_room.error("not_found")
    assert await room_a.nothing(0.2)
    assert await dsa(audit_actions)(circle) == []
    await _close_all(f_room, room_a, room_b)


async def test_slow_mode_refuses_a_second_message_within_the_interval(connect, circle, people, post):
    """With slow mode on, a member's second message within N s gets SLOW_MODE and is not stored."""
    _f, f_room, _ms, [room_a, room_b], _users = await _staffed_room(connect, people, post, circle)
    got = await _command(f_room, [room_a, room_b], {"type": "slow_mode", "seconds": 30}, "room_state")
    assert got["done"] == {"type": "done", "of": "slow_mode", "closed": False, "slow_mode": 30}
    assert got["room_state"] == {"type": "room_state", "state": {"closed": False, "slow_mode": 30}}
    await room_a.send(type="send", client_id="s1", body="first")
    await room_a.sent()
    await room_a.send(type="send", client_id="s2", body="second")
    error = await room_a.error("slow_mode")
    assert 1 <= error["retry_after"] <= 30
    assert await dsa(message_count)(circle) == 2
    await room_b.send(type="send", client_id="b1", body="another member is not slowed by A")
    assert (await room_b.sent())["id"] == 3
    await _close_all(f_room, room_a, room_b)


async def test_facilitators_are_exempt_from_slow_mode(connect, circle, people, post):
    """A facilitator can post several messages in a row while slow mode is on."""
    _f, f_room, _ms, [room_a, room_b], _users = await _staffed_room(connect, people, post, circle)
    await _command(f_room, [room_a, room_b], {"type": "slow_mode", "seconds": 60}, "room_state")
    for n in range(3):
        await f_room.send(type="send", client_id=f"f{n}", body=f"grounding step {n}")
        await f_room.sent()
    assert await dsa(message_count)(circle) == 4
    await _close_all(f_room, room_a, room_b)


async def test_shortening_slow_mode_takes_effect_at_once(connect, circle, people, post):
    """After slow mode is shortened, a member waits the new interval, not the old one."""
    _f, f_room, _ms, [room_a, room_b], _users = await _staffed_room(connect, people, post, circle)
    await _command(f_room, [room_a, room_b], {"type": "slow_mode", "seconds": 600}, "room_state")
    await room_a.send(type="send", client_id="s1", body="first")
    await room_a.sent()
    for room in (f_room, room_b):
        await room.recv_type("message")
    await _command(f_room, [room_a, room_b], {"type": "slow_mode", "seconds": 1}, "room_state")
    await asyncio.sleep(1.1)
    await room_a.send(type="send", client_id="s2", body="second, after the new interval")
    assert (await room_a.sent())["id"] == 3
    await _close_all(f_room, room_a, room_b)


async def test_slow_mode_off_lets_members_post_again(connect, circle, people, post):
    """Turning slow mode off (0 s) lifts the wait at once."""
    _f, f_room, _ms, [room_a, room_b], _users = await _staffed_room(connect, people, post, circle)
    await _command(f_room, [room_a, room_b], {"type": "slow_mode", "seconds": 60}, "room_state")
    await room_a.send(type="send", client_id="s1", body="first")
    await room_a.sent()
    for room in (f_room, room_b):
        await room.recv_type("message")
    await _command(f_room, [room_a, room_b], {"type": "slow_mode", "seconds": 0}, "room_state")
    await room_a.send(type="send", client_id="s2", body="second")
    assert (await room_a.sent())["id"] == 3
    await _close_all(f_room, room_a, room_b)


async def test_muted_member_is_told_privately_and_refused_at_once(connect, circle, people, post):
    """A mute reaches only the muted member (a private notice, on every tab) and their next send gets MUTED."""
    _f, f_room, [a, _b], [room_a, room_b], users = await _staffed_room(connect, people, post, circle)
    tab2 = await connect(users[0], circle)
    await room_b.nothing(0.4)
    await f_room.send(type="mute", alias=a.alias, minutes=10, reason="cooling off")
    done = await f_room.recv_type("done")
    assert (done["of"], done["alias"]) == ("mute", a.alias) and done["until"]
    for room in (room_a, tab2):
        notice = await room.recv_type("notice")
        assert notice["code"] == "muted" and "10 minutes" in notice["message"]
    assert await room_b.nothing(0.3)
    assert await f_room.nothing(0.1)
    await room_a.send(type="send", client_id="m1", body="can I still talk?")
    error = await room_a.error("muted")
    assert error["until"]
    await room_a.send(type="react", message=1, reaction="heart", on=True)
    await room_a.error("muted")
    assert await dsa(message_count)(circle) == 1
    await room_b.send(type="send", client_id="b1", body="others are not muted")
    await room_b.recv_types("ack", "message")
    await _close_all(f_room, room_a, room_b, tab2)


@pytest.mark.parametrize("target", ["nobody", "self", "facilitator"])
async def test_mute_needs_a_member_alias(connect, circle, people, post, target):
    """Muting an unknown alias is NOT_FOUND; muting oneself or another facilitator is FORBIDDEN."""
    facilitator, f_room, _ms, [room_a, room_b], _users = await _staffed_room(connect, people, post, circle)
    [(_u, other_facilitator)] = await dsa(people)(circle, role=Membership.Role.FACILITATOR)
    alias = {"nobody": "Nobody Here", "self": facilitator.alias, "facilitator": other_facilitator.alias}[target]
    await f_room.send(type="mute", alias=alias, minutes=5, reason="a pause")
    await f_room.error("not_found" if target == "nobody" else "forbidden")
    assert await dsa(audit_actions)(circle) == []
    await _close_all(f_room, room_a, room_b)


async def test_closed_room_is_read_only_for_members_until_reopened(connect, circle, people, post):
    """While closed, members' sends and edits get ROOM_CLOSED (nothing stored) and
    facilitators may still post; reopening restores sending."""
    _f, f_room, _ms, [room_a, room_b], _users = await _staffed_room(connect, people, post, circle)
    got = await _command(f_room, [room_a, room_b], {"type": "close_room"}, "room_state")
    assert got["done"] == {"type": "done", "of": "close_room", "closed": True, "slow_mode": 0}
    assert got["room_state"] == {"type": "room_state", "state": {"closed": True, "slow_mode": 0}}
    await room_a.send(type="send", client_id="c1", body="hello?")
    await room_a.error("room_closed")
    await room_a.send(type="edit", message=1, body="changed while closed")
    await room_a.error("room_closed")
    assert (await dsa(stored)(circle, 1)).body == "Does anyone else wake at 4am?"
    assert await room_b.nothing(0.2)
    await room_a.send(type="history", before=5)
    assert [m["id"] for m in (await room_a.recv_type("batch"))["messages"]] == [1]
    await f_room.send(type="send", client_id="f1", body="The room is closed for today.")
    assert (await f_room.sent())["id"] == 2
    for room in (room_a, room_b):
        await room.recv_type("message")
    got = await _command(f_room, [room_a, room_b], {"type": "open_room"}, "room_state")
    assert got["room_state"]["state"] == {"closed": False, "slow_mode": 0}
    await room_a.send(type="send", client_id="c2", body="thanks for today")
    assert (await room_a.sent())["id"] == 3
    assert await dsa(_circle_state)(circle) == (False, 0)
    await _close_all(f_room, room_a, room_b)


async def test_closed_room_shows_in_hello(connect, circle, people, post):
    """A member who connects while the room is closed learns it from hello."""
    _f, f_room, _ms, [room_a, room_b], users = await _staffed_room(connect, people, post, circle)
    await f_room.send(type="close_room")
    await f_room.recv_types("done", "room_state")
    late = await connect(users[1], circle)
    assert late.hello["room"]["closed"] is True
    await _close_all(f_room, room_a, room_b, late)


async def test_removed_message_disappears_from_every_open_screen(connect, circle, people, post):
    """A removal reaches every open socket (the author's too) and the message is gone from hello and history."""
    _f, f_room, _ms, [room_a, room_b], users = await _staffed_room(connect, people, post, circle)
    author_tab2 = await connect(users[0], circle)
    await f_room.send(type="remove", message=1, reason="shares a phone number")
    got = await f_room.recv_types("done", "removed")
    assert got["done"] == {"type": "done", "of": "remove", "id": 1}
    for room in (room_a, room_b, author_tab2):
        assert await room.recv_type("removed") == {"type": "removed", "id": 1, "reason": "removed"}
    message = await dsa(stored)(circle, 1)
    assert (message.status, message.removed_reason) == (Message.Status.REMOVED, "shares a phone number")
    late = await connect(users[1], circle)
    assert late.hello["messages"] == []
    await late.send(type="history", before=2)
    assert (await late.recv_type("batch"))["messages"] == []
    await f_room.send(type="remove", message=1, reason="again")
    await f_room.error("not_found")
    await _close_all(f_room, room_a, room_b, author_tab2, late)


async def test_removing_the_pinned_message_unpins_it(connect, circle, people, post):
    """A removed message does not stay pinned: open screens are told at once."""
    _f, f_room, _ms, [room_a, room_b], users = await _staffed_room(connect, people, post, circle)
    await f_room.send(type="pin", message=1)
    await f_room.recv_types("done", "pinned")
    await room_a.recv_type("pinned")
    await f_room.send(type="remove", message=1, reason="off topic")
    await f_room.recv_types("done", "removed", "pinned")
    got = await room_a.recv_types("removed", "pinned")
    assert got["pinned"]["message"] is None
    late = await connect(users[1], circle)
    assert late.hello["room"]["pinned"] is None
    await _close_all(f_room, room_a, room_b, late)


FACILITATOR_FRAMES = [
    {"type": "pin", "message": 1},
    {"type": "unpin"},
    {"type": "slow_mode", "seconds": 30},
    {"type": "mute", "alias": "PLACEHOLDER", "minutes": 10, "reason": "a pause"},
    {"type": "close_room"},
    {"type": "open_room"},
    {"type": "remove", "message": 1, "reason": "off topic"},
]


@pytest.mark.parametrize("frame", FACILITATOR_FRAMES, ids=[f["type"] for f in FACILITATOR_FRAMES])
async def test_plain_member_cannot_use_facilitator_controls(connect, circle, people, post, frame):
    """Every facilitator command from a plain member is FORBIDDEN, changes nothing and is not audited."""
    _f, f_room, [_a, b], [room_a, room_b], _users = await _staffed_room(connect, people, post, circle)
    frame = {**frame, "alias": b.alias} if frame["type"] == "mute" else frame
    await room_a.send(**frame)
    await room_a.error("forbidden")
    assert await room_b.nothing(0.2)
    assert await f_room.nothing(0.1)
    assert await dsa(audit_actions)(circle) == []
    assert await dsa(_circle_state)(circle) == (False, 0)
    message = await dsa(stored)(circle, 1)
    assert message.status == Message.Status.PUBLISHED
    assert (await dsa(Membership.objects.get)(pk=b.pk)).muted_until is None
    await _close_all(f_room, room_a, room_b)


async def test_every_facilitator_action_is_audited(connect, circle, people, post):
    """Pin, unpin, slow mode, mute, close, reopen and remove each write one AuditEntry naming the actor and target."""
    facilitator, f_room, [a, _b], [room_a, room_b], _users = await _staffed_room(connect, people, post, circle)
    frames = [
        ({"type": "pin", "message": 1}, "pinned"),
        ({"type": "unpin"}, "pinned"),
        ({"type": "slow_mode", "seconds": 10}, "room_state"),
        ({"type": "mute", "alias": a.alias, "minutes": 5, "reason": "pause"}, None),
        ({"type": "close_room"}, "room_state"),
        ({"type": "open_room"}, "room_state"),
        ({"type": "remove", "message": 1, "reason": "off topic"}, "removed"),
    ]
    for frame, broadcast in frames:
        await f_room.send(**frame)
        if broadcast:
            await f_room.recv_types("done", broadcast)
        else:
            await f_room.recv_type("done")
    handle = await dsa(lambda: facilitator.user.username)()
    assert await dsa(_audit)(circle) == [
        ("pin", handle, "facilitator", None, 1),
        ("unpin", handle, "facilitator", None, None),
        ("slow_mode", handle, "facilitator", None, None),
        ("mute", handle, "facilitator", a.pk, None),
        ("close_room", handle, "facilitator", None, None),
        ("open_room", handle, "facilitator", None, None),
        ("remove", handle, "facilitator", None, 1),
    ]
    await _close_all(f_room, room_a, room_b)


async def test_members_may_delete_their_own_message_while_the_room_is_closed(connect, circle, people, post):
    """A closed room is read-only for new words, but a member may still take back their own message."""
    _f, f_room, _ms, [room_a, room_b], _users = await _staffed_room(connect, people, post, circle)
    await _command(f_room, [room_a, room_b], {"type": "close_room"}, "room_state")
    await room_a.send(type="delete", message=1)
    got = await room_a.recv_types("done", "removed")
    assert got["removed"] == {"type": "removed", "id": 1, "reason": "deleted"}
    assert (await room_b.recv_type("removed"))["id"] == 1
    await _close_all(f_room, room_a, room_b)


async def test_members_cannot_react_while_the_room_is_closed_and_can_after_it_reopens(connect, circle, people, post):
    """Closed is read-only: a member's reaction is refused with room_closed and
    changes nothing; a facilitator may still react; after reopening, members can."""
    _f, f_room, _ms, [room_a, room_b], _users = await _staffed_room(connect, people, post, circle)
    await _command(f_room, [room_a, room_b], {"type": "close_room"}, "room_state")
    await room_b.send(type="react", message=1, reaction="heart", on=True)
    await room_b.error("room_closed")
    assert await room_a.nothing()
    await f_room.send(type="react", message=1, reaction="hug", on=True)
    assert (await f_room.recv_types("done", "reactions"))["reactions"]["counts"] == {"hug": 1}
    for room in (room_a, room_b):
        assert (await room.recv_type("reactions"))["counts"] == {"hug": 1}
    await _command(f_room, [room_a, room_b], {"type": "open_room"}, "room_state")
    await room_b.send(type="react", message=1, reaction="heart", on=True)
    assert (await room_b.recv_types("done", "reactions"))["done"]["counts"] == {"hug": 1, "heart": 1}
    await _close_all(f_room, room_a, room_b)
