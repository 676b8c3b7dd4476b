"""Resume without loss: increasing ids, ?since=, holes, history pages, ``resume``, ``prev``."""

import asyncio

import pytest
from channels.db import database_sync_to_async as dsa
from django.test import override_settings

from chat import services as chat_services
from community.models import Membership
from realtime import protocol

pytestmark = pytest.mark.django_db(transaction=True)

GENEROUS = {
    "send": (10_000, 10),
    "react": (1000, 10),
    "report": (1000, 60),
    "frame": (10_000, 10),
    "connect": (1000, 60),
}


def _remove(user, circle, seq: int) -> None:
    ctx = chat_services.open_room(user=user, slug=circle.slug)
    chat_services.remove_message(ctx, message_id=seq, reason="test")


async def _ids_until(room, last_id: int) -> list[int]:
    """Message ids as a client sees them (resume batches, then live messages) up to ``last_id``."""
    ids = [m["id"] for m in room.hello["messages"]]
    while not ids or ids[-1] < last_id:
        frame = await room.recv()
        if frame["type"] == "batch":
            ids += [m["id"] for m in frame["messages"]]
        elif frame["type"] == "message":
            ids.append(frame["message"]["id"])
    return ids


async def test_ids_increase_per_circle(connect, circle, make_circle, people, post):
    """Each circle numbers its messages 1, 2, 3 … whoever sends them."""
    (a_user, _a), (b_user, _b) = await dsa(people)(circle, 2)
    other = await dsa(make_circle)()
    [(c_user, _c)] = await dsa(people)(other)
    ids = [await dsa(post)(user, circle, f"m{n}") for n, user in enumerate([a_user, b_user, a_user, b_user])]
    assert ids == [1, 2, 3, 4]
    assert await dsa(post)(c_user, other, "elsewhere") == 1
    room = await connect(a_user, circle)
    await room.send(type="send", client_id="live", body="live one")
    assert (await room.recv_types("ack", "message"))["ack"]["id"] == 5
    await room.close()


async def test_since_delivers_every_later_message_in_order(connect, circle, people, post):
    """Connecting with ?since=N delivers the published messages after N, oldest first, then live ones."""
    (a_user, _a), (b_user, _b) = await dsa(people)(circle, 2)
    for n in range(6):
        await dsa(post)(a_user, circle, f"m{n}")
    room = await connect(b_user, circle, since=2)
    assert [m["id"] for m in room.hello["messages"]] == [3, 4, 5, 6]
    assert room.hello["more_after"] is False
    await dsa(post)(a_user, circle, "live")
    assert (await room.recv_type("message"))["message"]["id"] == 7
    await room.close()


async def test_since_at_the_latest_id_delivers_nothing_old(connect, circle, people, post):
    """A client that is up to date gets an empty backlog and then only new messages."""
    (a_user, _a), (b_user, _b) = await dsa(people)(circle, 2)
    for n in range(3):
        await dsa(post)(a_user, circle, f"m{n}")
    room = await connect(b_user, circle, since=3)
    assert room.hello["messages"] == []
    await dsa(post)(a_user, circle, "new")
    frame = await room.recv_type("message")
    assert (frame["message"]["id"], frame["prev"]) == (4, 3)
    await room.close()


async def test_resume_backlog_larger_than_a_batch_arrives_whole(connect, circle, people, post):
    """A backlog longer than RESUME_BATCH arrives in hello plus ``batch`` frames, every id once, in order."""
    (a_user, _a), (b_user, _b) = await dsa(people)(circle, 2)
    total = protocol.RESUME_BATCH + 7
    with override_settings(CHAT_RATE_LIMITS=GENEROUS):
        await dsa(lambda: [post(a_user, circle, f"m{n}") for n in range(total)])()
        room = await connect(b_user, circle, since=0)
    assert len(room.hello["messages"]) == protocol.RESUME_BATCH
    assert room.hello["more_after"] is True
    batch = await room.recv_type("batch")
    assert batch["kind"] == "resume"
    ids = [m["id"] for m in room.hello["messages"] + batch["messages"]]
    assert ids == list(range(1, total + 1))
    assert await room.nothing(0.3)
    await room.close()


async def test_messages_sent_while_resuming_are_neither_lost_nor_doubled(connect, circle, people, post):
    """Messages committed while a client resumes reach it exactly once, in order, after its backlog."""
    (a_user, _a), (b_user, _b) = await dsa(people)(circle, 2)
    with override_settings(CHAT_RATE_LIMITS=GENEROUS):
        for n in range(5):
            await dsa(post)(a_user, circle, f"before {n}")

        async def keep_posting():
            for n in range(40):
                await dsa(post)(a_user, circle, f"during {n}")
                await asyncio.sleep(0)

        poster = asyncio.ensure_future(keep_posting())
        rooms = []
        for since in (0, 3, 5):  # several clients resuming while messages land
            rooms.append((since, await connect(b_user, circle, since=since)))
        await poster
    for since, room in rooms:
        ids = await _ids_until(room, 45)
        seen = [(f["type"], f.get("message", {}).get("id"), f.get("prev")) for f in room.seen[1:]]
        assert ids == list(range(since + 1, 46)), (since, [m["id"] for m in room.hello["messages"]], seen)
        assert await room.nothing(0.2)
        await room.close()


async def test_removed_messages_leave_holes(connect, circle, people, post):
    """Removed messages are skipped by resume and hello; the other ids keep their numbers."""
    [(f_user, _f)] = await dsa(people)(circle, role=Membership.Role.FACILITATOR)
    [(a_user, _a)] = await dsa(people)(circle)
    for n in range(5):
        await dsa(post)(a_user, circle, f"m{n}")
    await dsa(_remove)(f_user, circle, 3)
    resumed = await connect(a_user, circle, since=1)
    assert [m["id"] for m in resumed.hello["messages"]] == [2, 4, 5]
    fresh = await connect(a_user, circle)
    assert [m["id"] for m in fresh.hello["messages"]] == [1, 2, 4, 5]
    await resumed.close()
    await fresh.close()


async def test_history_pages_backwards_before_an_id(connect, circle, people, post):
    """``history`` returns the page of published messages before an id, oldest first, and says whether more exist."""
    (a_user, _a), (b_user, _b) = await dsa(people)(circle, 2)
    total = protocol.HISTORY_PAGE + 10
    with override_settings(CHAT_RATE_LIMITS=GENEROUS):
        await dsa(lambda: [post(a_user, circle, f"m{n}") for n in range(total)])()
    room = await connect(b_user, circle)
    oldest_shown = room.hello["messages"][0]["id"]
    await room.send(type="history", before=total)
    page = await room.recv_type("batch")
    assert (page["kind"], page["before"], page["more"]) == ("history", total, True)
    assert [m["id"] for m in page["messages"]] == list(range(total - protocol.HISTORY_PAGE, total))
    await room.send(type="history", before=oldest_shown)
    page = await room.recv_type("batch")
    assert [m["id"] for m in page["messages"]] == list(range(1, oldest_shown))
    assert page["more"] is False
    await room.send(type="history", before=1)
    assert (await room.recv_type("batch"))["messages"] == []
    await room.close()


async def test_history_skips_removed_messages(connect, circle, people, post):
    """A removed message is not in any history page."""
    [(f_user, _f)] = await dsa(people)(circle, role=Membership.Role.FACILITATOR)
    [(a_user, _a)] = await dsa(people)(circle)
    for n in range(4):
        await dsa(post)(a_user, circle, f"m{n}")
    await dsa(_remove)(f_user, circle, 2)
    room = await connect(a_user, circle)
    await room.send(type="history", before=4)
    assert [m["id"] for m in (await room.recv_type("batch"))["messages"]] == [1, 3]
    await room.close()


async def test_resume_frame_returns_what_came_after(connect, circle, people, post):
    """A ``resume`` frame on an open socket returns the messages after ``since`` and the latest id."""
    (a_user, _a), (b_user, _b) = await dsa(people)(circle, 2)
    room = await connect(b_user, circle)
    for n in range(4):
        await dsa(post)(a_user, circle, f"m{n}")
    for _ in range(4):
        await room.recv_type("message")
    await room.send(type="resume", since=2, ref="r1")
    batch = await room.recv_type("batch")
    assert batch["kind"] == "resume" and batch["since"] == 2 and batch["ref"] == "r1"
    assert [m["id"] for m in batch["messages"]] == [3, 4]
    assert (batch["latest"], batch["more"]) == (4, False)
    await room.close()


async def test_every_broadcast_names_the_previous_published_id(connect, circle, people, post):
    """Each ``message`` frame's ``prev`` is the id of the message published before it, across senders and removals."""
    [(f_user, _f)] = await dsa(people)(circle, role=Membership.Role.FACILITATOR)
    (a_user, _a), (b_user, _b), (c_user, _c) = await dsa(people)(circle, 3)
    await dsa(post)(a_user, circle, "before anyone listened")
    listener = await connect(c_user, circle)
    last = max([m["id"] for m in listener.hello["messages"]] + [listener.hello["room"]["last_id"]])
    assert last == 1
    for n, user in enumerate([a_user, b_user, f_user, a_user, b_user]):
        await dsa(post)(user, circle, f"m{n}")
        frame = await listener.recv_type("message")
        assert frame["prev"] == last
        last = frame["message"]["id"]
    # A removed last message is still the ``prev`` of the next one; a client that
    # connects after the removal learns that id from hello's room.last_id.
    await dsa(_remove)(f_user, circle, last)
    await listener.recv_type("removed")
    late = await connect(a_user, circle)
    assert late.hello["messages"][-1]["id"] == last - 1
    assert late.hello["room"]["last_id"] == last
    await dsa(post)(b_user, circle, "after the removal")
    for room in (listener, late):
        frame = await room.recv_type("message")
        assert (frame["prev"], frame["message"]["id"]) == (last, last + 1)
    await listener.close()
    await late.close()


@pytest.mark.parametrize("since", ["abc", "-1", "1e3", ""])
async def test_malformed_since_is_a_fresh_hello(connect, circle, people, post, since):
    """A ``since`` that is not a whole number is ignored: the client gets the recent history."""
    [(a_user, _a)] = await dsa(people)(circle)
    await dsa(post)(a_user, circle, "one")
    room = await connect(a_user, circle, since=since)
    assert [m["id"] for m in room.hello["messages"]] == [1]
    assert room.hello["more_after"] is False
    await room.close()


async def test_a_member_too_far_behind_starts_over_from_the_newest(connect, circle, people, post, monkeypatch):
    """Replaying a whole circle on every connect is bounded: more than RESUME_MAX
    behind, hello carries the newest messages with ``reset`` (the client starts
    over and pages back); within it, the replay is exact."""
    monkeypatch.setattr(protocol, "RESUME_MAX", 10)
    (a_user, _a), (b_user, _b) = await dsa(people)(circle, 2)
    with override_settings(CHAT_RATE_LIMITS=GENEROUS, CHAT_HELLO_HISTORY=5):
        for n in range(30):
            await dsa(post)(a_user, circle, f"m{n}")
        far = await connect(b_user, circle, since=3)
        assert far.hello["reset"] is True and far.hello["more_after"] is False
        assert [m["id"] for m in far.hello["messages"]] == [26, 27, 28, 29, 30]
        near = await connect(b_user, circle, since=22)
        assert "reset" not in near.hello
        assert [m["id"] for m in near.hello["messages"]] == list(range(23, 31))
    await far.close()
    await near.close()


async def test_connects_beyond_the_budget_are_told_when_to_come_back(circle, people, monkeypatch):
    """A member opening sockets in a loop gets, past the connect budget, an
    ``error`` rate_limited with retry_after, then close 4429; nothing else."""
    from tests.room_fixtures import communicator_for

    [(user, _m)] = await dsa(people)(circle)
    limits = {**GENEROUS, "connect": (3, 60)}
    with override_settings(CHAT_RATE_LIMITS=limits):
        opened = []
        for _ in range(3):
            ws = await dsa(communicator_for)(user, circle.slug)
            connected, _code = await ws.connect()
            assert connected
            assert (await ws.receive_json_from(timeout=3))["type"] == "hello"
            opened.append(ws)
        ws = await dsa(communicator_for)(user, circle.slug)
        connected, _code = await ws.connect()
        assert connected
        err = await ws.receive_json_from(timeout=3)
        assert err["type"] == "error" and err["code"] == "rate_limited" and err["retry_after"] > 0
        closed = await ws.receive_output(timeout=3)
        assert closed == {"type": "websocket.close", "code": protocol.CLOSE_TOO_MANY}
        for ws in opened:
            await ws.disconnect(timeout=10)
