"""The per-process hub (realtime.hub), driven with real events, a real in-memory
channel layer and recording sockets: message order, the reorder wait, buffered
sockets and replays, audiences, kicks, presence and tearing a room down."""

import asyncio
import json

import pytest
from channels.layers import get_channel_layer
from django.conf import settings

from realtime import groups
from realtime.events import (
    Kicked,
    MessagePosted,
    MessageRemoved,
    Notice,
    PresenceQuery,
    PresenceSync,
    RoomStateChanged,
    StaffAlert,
)
from realtime.hub import FLUSH_GAP, REORDER_WAIT, Hub
from realtime.protocol import CLOSE_NOT_ALLOWED

# The longest a presence change waits (CHAT_PRESENCE_DELAY plus the full jitter).
PRESENCE_DEBOUNCE = settings.CHAT_PRESENCE_DELAY + settings.CHAT_PRESENCE_JITTER

CIRCLE = 7
GROUP = groups.circle_group(CIRCLE)


class RecordingSocket:
    """A socket as the hub sees one: its member and role, and a record of every
    text written to it and of its closing, in order."""

    def __init__(self, membership_id: int, role: str = "member") -> None:
        self.membership_id = membership_id
        self.role = role
        self.texts: list[str] = []
        self.happened: list[tuple[str, object]] = []
        self.closed_with: int | None = None

    async def send_text(self, text: str) -> None:
        self.texts.append(text)
        self.happened.append(("frame", json.loads(text)["type"]))

    async def close_socket(self, code: int) -> None:
        self.closed_with = code
        self.happened.append(("close", code))

    def frames(self, *kinds: str) -> list[dict]:
        """The frames received, presence left out unless asked for."""
        got = [json.loads(text) for text in self.texts]
        if kinds:
            return [f for f in got if f["type"] in kinds]
        return [f for f in got if f["type"] != "presence"]

    def message_ids(self) -> list[int]:
        ids = []
        for frame in self.frames("message", "messages"):
            items = frame["items"] if frame["type"] == "messages" else [frame]
            ids += [item["message"]["id"] for item in items]
        return ids


def posted(msg_id: int, prev: int | None, **audience) -> MessagePosted:
    message = {"id": msg_id, "alias": "Quiet Heron", "html": f"<p>{msg_id}</p>", "at": "2026-11-28T10:00:00+00:00"}
    return MessagePosted(message={**message, "reactions": {}}, prev=prev, **audience)


async def until(condition, timeout: float = 1.0) -> float:
    """Wait until ``condition()`` holds; return the loop time it was seen to."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError(f"not within {timeout} s")
        await asyncio.sleep(0.002)
    return loop.time()


@pytest.fixture
def layer(settings):
    """The real in-memory channel layer, whatever the run's default (Redis in pass 2)."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    return get_channel_layer()


@pytest.fixture
async def hub(layer):
    hub = Hub()
    yield hub
    for room in list(hub.rooms.values()):
        for socket in list(room.listeners):
            await hub.leave(room, socket)


async def live(hub: Hub, *sockets: RecordingSocket, last_id: int = 0):
    """Join each socket to the circle and release it, as a consumer does after its hello."""
    room = None
    for socket in sockets:
        room = await hub.join(CIRCLE, socket, f"Member {socket.membership_id}")
        await hub.go_live(room, socket, last_id=last_id)
    return room


# --- message order ----------------------------------------------------------------------


async def test_messages_arriving_out_of_order_go_out_in_id_order(hub):
    """3 arrives before its predecessor 2: it waits, and 2's arrival releases both, in order."""
    a = RecordingSocket(1)
    room = await live(hub, a)
    await room.handle_event(posted(1, 0))
    await until(lambda: a.message_ids() == [1])
    start = asyncio.get_running_loop().time()
    await room.handle_event(posted(3, 2))
    await asyncio.sleep(2 * FLUSH_GAP)
    assert a.message_ids() == [1]
    await room.handle_event(posted(2, 1))
    released = await until(lambda: len(a.message_ids()) == 3)
    assert a.message_ids() == [1, 2, 3]
    assert released - start < REORDER_WAIT


async def test_a_missing_predecessor_holds_a_message_back_for_the_reorder_wait_only(hub):
    """A message whose predecessor never comes goes out once REORDER_WAIT has passed,
    not before and not much after."""
    a = RecordingSocket(1)
    room = await live(hub, a)
    await room.handle_event(posted(1, 0))
    await until(lambda: a.message_ids() == [1])
    start = asyncio.get_running_loop().time()
    await room.handle_event(posted(3, 2))  # 2 never comes
    released = await until(lambda: a.message_ids() == [1, 3], timeout=2)
    assert REORDER_WAIT - 0.005 <= released - start <= 2 * REORDER_WAIT


async def test_messages_behind_a_missing_one_do_not_extend_the_reorder_wait(hub):
    """A message arriving while others wait joins them and goes out with them: the
    wait is counted from the first, not restarted by each newcomer."""
    a = RecordingSocket(1)
    room = await live(hub, a)
    await room.handle_event(posted(1, 0))
    await until(lambda: a.message_ids() == [1])
    start = asyncio.get_running_loop().time()
    await room.handle_event(posted(3, 2))
    await asyncio.sleep(0.8 * REORDER_WAIT)
    await room.handle_event(posted(4, 3))
    released = await until(lambda: a.message_ids() == [1, 3, 4], timeout=2)
    assert released - start < 0.8 * REORDER_WAIT + REORDER_WAIT - 0.02


async def test_a_predecessor_arriving_after_the_wait_goes_out_at_once(hub):
    """A predecessor that comes after the wait is sent at once (clients put it in place)."""
    a = RecordingSocket(1)
    room = await live(hub, a)
    await room.handle_event(posted(1, 0))
    await room.handle_event(posted(3, 2))
    await until(lambda: a.message_ids() == [1, 3], timeout=2)
    start = asyncio.get_running_loop().time()
    await room.handle_event(posted(2, 1))
    released = await until(lambda: a.message_ids() == [1, 3, 2])
    assert released - start < REORDER_WAIT / 2


async def test_a_late_approval_goes_out_at_once_and_does_not_move_the_chain(hub):
    """A message outside the chain (prev None) is not held, and it does not count
    as the newest sent: a message after a real gap still waits."""
    a = RecordingSocket(1)
    room = await live(hub, a)
    await room.handle_event(posted(1, 0))
    await until(lambda: a.message_ids() == [1])
    await room.handle_event(posted(9, None))
    await until(lambda: a.message_ids() == [1, 9], timeout=REORDER_WAIT / 2)
    await room.handle_event(posted(3, 2))
    await asyncio.sleep(REORDER_WAIT / 2)
    assert a.message_ids() == [1, 9]  # 3 waits for 2


async def test_an_event_about_a_waiting_message_goes_out_after_it(hub):
    """A removal of a message still waiting for its predecessor first sends the
    message, at once, then the removal: no screen is told of a message it never got."""
    a = RecordingSocket(1)
    room = await live(hub, a)
    await room.handle_event(posted(1, 0))
    await until(lambda: a.message_ids() == [1])
    start = asyncio.get_running_loop().time()
    await room.handle_event(posted(3, 2))
    await room.handle_event(MessageRemoved(id=3, reason="removed"))
    sent = await until(lambda: len(a.frames()) == 3)
    assert [f["type"] for f in a.frames()] == ["message", "message", "removed"]
    assert a.message_ids() == [1, 3]
    assert sent - start < REORDER_WAIT


async def test_a_busy_rooms_messages_of_one_flush_gap_share_one_frame(hub):
    """Messages arriving within FLUSH_GAP of the last message frame go out together in
    one ``messages`` frame, encoded once and written to every socket."""
    a, b = RecordingSocket(1), RecordingSocket(2)
    room = await live(hub, a, b)
    await room.handle_event(posted(1, 0))
    first = await until(lambda: a.message_ids() == [1])
    await room.handle_event(posted(2, 1))
    await asyncio.sleep(FLUSH_GAP / 4)  # a later loop turn, within the gap
    await room.handle_event(posted(3, 2))
    second = await until(lambda: a.message_ids() == [1, 2, 3])
    assert [f["type"] for f in a.frames()] == ["message", "messages"]
    assert second - first >= FLUSH_GAP - 0.005
    await until(lambda: len(b.texts) == len(a.texts))
    assert all(sa is sb for sa, sb in zip(a.texts, b.texts, strict=True))  # encoded once for both


# --- buffered sockets and replays -----------------------------------------------------------


async def test_a_buffered_socket_gets_what_arrived_meanwhile_after_go_live_newer_than_its_replay(hub):
    """Between its database read and go_live a socket is buffered: it is then sent
    every other event, and the messages newer than what its hello had, in arrival order."""
    a = RecordingSocket(1)
    room = await hub.join(CIRCLE, a, "Quiet Heron")
    await room.handle_event(posted(4, 3))
    await room.handle_event(posted(5, 4))
    await asyncio.sleep(2 * FLUSH_GAP)
    await room.handle_event(RoomStateChanged(state={"closed": True, "slow_mode": 0}))
    await room.handle_event(posted(6, 5))
    await asyncio.sleep(2 * FLUSH_GAP)
    assert a.frames() == []
    await hub.go_live(room, a, last_id=4)
    assert [f["type"] for f in a.frames()] == ["message", "room_state", "message"]
    assert a.message_ids() == [5, 6]


async def test_a_socket_is_not_sent_again_what_its_replay_had(hub):
    """After go_live, a message up to the socket's replay (its floor) is not sent
    again, while a socket with a lower floor gets it, and a late approval (prev
    None) reaches both."""
    a, b = RecordingSocket(1), RecordingSocket(2)
    room = await hub.join(CIRCLE, a, "Quiet Heron")
    await hub.join(CIRCLE, b, "Warm Lantern")
    await hub.go_live(room, a, last_id=5)
    await hub.go_live(room, b, last_id=3)
    for event in (posted(4, 3), posted(5, 4), posted(6, 5)):
        await room.handle_event(event)
    await until(lambda: b.message_ids() == [4, 5, 6])
    await room.handle_event(posted(2, None))
    await until(lambda: b.message_ids() == [4, 5, 6, 2])
    assert a.message_ids() == [6, 2]


# --- audiences ----------------------------------------------------------------------------


async def test_an_event_to_one_member_reaches_all_their_tabs_and_no_one_else(hub):
    """An event addressed to one member (``to``) reaches every socket of theirs only."""
    tab1, tab2, other = RecordingSocket(1), RecordingSocket(1), RecordingSocket(2)
    room = await live(hub, tab1, tab2, other)
    await room.handle_event(Notice(code="muted", message="Your posting is paused.", to=1))
    assert [f["code"] for f in tab1.frames()] == [f["code"] for f in tab2.frames()] == ["muted"]
    assert other.frames() == []


async def test_an_event_for_some_roles_reaches_only_sockets_of_those_roles(hub):
    """An event for roles (a crisis alert for the staff) reaches only those roles' sockets."""
    facilitator, moderator, member = (
        RecordingSocket(1, "facilitator"),
        RecordingSocket(2, "moderator"),
        RecordingSocket(3),
    )
    room = await live(hub, facilitator, moderator, member)
    alert = {"flag": 1, "circle": "Morning", "circle_slug": "morning", "message_id": 4}
    await room.handle_event(StaffAlert(alert=alert, roles=("facilitator", "moderator")))
    assert [f["type"] for f in facilitator.frames()] == [f["type"] for f in moderator.frames()] == ["alert"]
    assert member.frames() == []


async def test_an_event_for_everyone_reaches_every_socket_of_the_room(hub):
    """An event without an audience reaches every socket in the room."""
    sockets = [RecordingSocket(1), RecordingSocket(2, "facilitator"), RecordingSocket(3)]
    room = await live(hub, *sockets)
    await room.handle_event(RoomStateChanged(state={"closed": False, "slow_mode": 30}))
    assert all([f["type"] for f in s.frames()] == ["room_state"] for s in sockets)


async def test_a_message_event_to_one_member_reaches_only_them(hub):
    """A message event addressed to one member (``to``) is honoured like any other event's."""
    mine, other = RecordingSocket(1), RecordingSocket(2)
    room = await live(hub, mine, other)
    await room.handle_event(posted(1, 0, to=1))
    await until(lambda: mine.message_ids() == [1])
    await asyncio.sleep(2 * FLUSH_GAP)
    assert other.message_ids() == []


async def test_a_kicked_member_is_told_why_then_every_socket_of_theirs_closes(hub):
    """A kick sends the member a notice, then closes each of their sockets with 4403;
    no one else hears of it."""
    tab1, tab2, other = RecordingSocket(1), RecordingSocket(1), RecordingSocket(2)
    room = await live(hub, tab1, tab2, other)
    await room.handle_event(Kicked(code="banned", message="You can no longer take part.", to=1))
    for tab in (tab1, tab2):
        assert tab.happened == [("frame", "notice"), ("close", CLOSE_NOT_ALLOWED)]
        assert tab.frames() == [{"type": "notice", "code": "banned", "message": "You can no longer take part."}]
    assert (other.frames(), other.closed_with) == ([], None)


# --- presence -------------------------------------------------------------------------------


async def test_presence_is_one_frame_after_the_debounce_counting_a_members_tabs_once(hub):
    """Joins within the debounce make one presence frame; two tabs of one member count once."""
    tab1, tab2, other = RecordingSocket(1), RecordingSocket(1), RecordingSocket(2)
    room = await live(hub, tab1, tab2, other)
    assert all(s.frames("presence") == [] for s in (tab1, tab2, other))  # not before the debounce
    await asyncio.sleep(PRESENCE_DEBOUNCE + 0.1)
    expected = [{"type": "presence", "joined": ["Member 1", "Member 2"], "left": [], "count": 2}]
    assert tab1.frames("presence") == tab2.frames("presence") == other.frames("presence") == expected
    assert room.present_aliases() == ["Member 1", "Member 2"]


async def test_a_member_who_closes_one_of_two_tabs_is_still_present(hub):
    """Closing one of two tabs changes nothing; closing the last shows the member leaving."""
    tab1, tab2, other = RecordingSocket(1), RecordingSocket(1), RecordingSocket(2)
    room = await live(hub, tab1, tab2, other)
    await asyncio.sleep(PRESENCE_DEBOUNCE + 0.1)
    await hub.leave(room, tab1)
    await asyncio.sleep(PRESENCE_DEBOUNCE + 0.1)
    assert len(other.frames("presence")) == 1  # nothing changed for anyone
    await hub.leave(room, tab2)
    await asyncio.sleep(PRESENCE_DEBOUNCE + 0.1)
    assert other.frames("presence")[-1] == {"type": "presence", "joined": [], "left": ["Member 1"], "count": 1}


async def test_members_present_in_another_process_count_once_with_local_ones(hub):
    """Another process's members are added to this one's, a member on both counted once."""
    a = RecordingSocket(1)
    room = await live(hub, a)
    await asyncio.sleep(PRESENCE_DEBOUNCE + 0.1)
    await room.handle_event(PresenceSync(process="another", members={"1": "Member 1", "9": "Far Away"}))
    await asyncio.sleep(PRESENCE_DEBOUNCE + 0.1)
    assert a.frames("presence")[-1] == {"type": "presence", "joined": ["Far Away"], "left": [], "count": 2}


async def test_a_presence_query_from_another_process_is_answered_with_this_ones_members(hub, layer):
    """A process that asks who is here gets this process's members (by membership id)."""
    a = RecordingSocket(1)
    room = await live(hub, a)
    await asyncio.sleep(PRESENCE_DEBOUNCE + 0.1)  # its own announcement of the join is out
    listener = await layer.new_channel()
    await layer.group_add(GROUP, listener)
    await room.handle_event(PresenceQuery(process="another", members={}))
    answer = await asyncio.wait_for(layer.receive(listener), timeout=1)
    assert answer == {"type": "room.presence_sync", "process": hub.process_id, "members": {"1": "Member 1"}}


# --- through the channel layer, and tearing down ----------------------------------------------


async def test_a_process_subscribes_once_per_circle_and_fans_out_to_its_sockets(hub, layer):
    """One channel-layer subscription serves every socket of the circle in this process."""
    a, b = RecordingSocket(1), RecordingSocket(2)
    room = await live(hub, a, b)
    assert list(layer.groups[GROUP]) == [room.channel]
    await layer.group_send(GROUP, Notice(code="hello", message="Welcome.").to_layer())
    await until(lambda: a.frames() and b.frames())
    assert a.frames() == b.frames() == [{"type": "notice", "code": "hello", "message": "Welcome."}]


async def test_an_unknown_event_on_the_layer_is_skipped_and_the_next_delivered(hub, layer):
    """An event no code declares (a newer release's) is skipped; the reader carries on."""
    a = RecordingSocket(1)
    await live(hub, a)
    await layer.group_send(GROUP, {"type": "room.bogus", "text": "from a newer release"})
    await layer.group_send(GROUP, RoomStateChanged(state={"closed": True, "slow_mode": 0}).to_layer())
    await until(lambda: a.frames())
    assert [f["type"] for f in a.frames()] == ["room_state"]


async def test_a_room_keeps_its_subscription_while_a_socket_remains(hub, layer):
    """A room with a socket left keeps its reader and its subscription."""
    a, b = RecordingSocket(1), RecordingSocket(2)
    room = await live(hub, a, b)
    await hub.leave(room, a)
    assert hub.room(CIRCLE) is room
    assert not room.reader.done()
    assert list(layer.groups[GROUP]) == [room.channel]


async def test_a_room_with_no_listeners_left_is_torn_down(hub, layer):
    """The last socket gone: the room is dropped, its reader and heartbeat stop, its
    group subscription goes, and the other processes are told it has nobody here."""
    a = RecordingSocket(1)
    room = await live(hub, a)
    others = await layer.new_channel()
    await layer.group_add(GROUP, others)
    await hub.leave(room, a)
    assert hub.room(CIRCLE) is None
    await until(lambda: room.reader.done() and room.heartbeat.done())
    assert room.reader.cancelled() and room.heartbeat.cancelled()
    assert room.channel not in layer.groups.get(GROUP, {})
    told = await asyncio.wait_for(layer.receive(others), timeout=1)
    assert told == {"type": "room.presence_sync", "process": hub.process_id, "members": {}}


async def test_a_socket_joining_after_a_teardown_gets_a_new_room(hub, layer):
    """A socket joining a torn-down circle gets a new room with its own subscription."""
    a, b = RecordingSocket(1), RecordingSocket(2)
    first = await live(hub, a)
    await hub.leave(first, a)
    second = await live(hub, b)
    assert second is not first and hub.room(CIRCLE) is second
    await layer.group_send(GROUP, Notice(code="hello", message="Welcome.").to_layer())
    await until(lambda: b.frames())
    assert a.frames() == []


async def test_a_staff_socket_is_live_at_once_without_presence(hub, layer):
    """A site moderator's staff socket receives at once, and no presence frames."""
    moderator = RecordingSocket(5, "site moderator")
    room = await hub.join_staff(moderator)
    assert room.group == groups.staff_group() and not room.presence
    await layer.group_send(groups.staff_group(), StaffAlert(alert={"flag": 1}).to_layer())
    await until(lambda: moderator.frames())
    await asyncio.sleep(PRESENCE_DEBOUNCE + 0.05)
    assert [json.loads(t)["type"] for t in moderator.texts] == ["alert"]


async def test_a_circles_first_join_does_not_wait_for_another_circles(layer, monkeypatch):
    """A room's first join waits for the channel layer (subscribe, announce); at a
    session's start the first members of forty circles arrive together, and one
    circle's subscription must not hold up another's (bench/README.md, the storm).
    Two joins to one circle still wait for each other: one room, one subscription."""
    held = groups.circle_group(1)
    release = asyncio.Event()
    adds: list[str] = []
    group_add = layer.group_add

    async def slow_group_add(group, channel):
        adds.append(group)
        if group == held:
            await release.wait()  # the layer is slow for circle 1 alone
        await group_add(group, channel)

    monkeypatch.setattr(layer, "group_add", slow_group_add)
    hub = Hub()
    first = asyncio.ensure_future(hub.join(1, RecordingSocket(1), "Member 1"))
    second_same = asyncio.ensure_future(hub.join(1, RecordingSocket(2), "Member 2"))
    await until(lambda: adds == [held])
    other = await asyncio.wait_for(hub.join(2, RecordingSocket(3), "Member 3"), timeout=1)
    assert hub.room(2) is other
    assert not first.done() and not second_same.done()
    release.set()
    room = await asyncio.wait_for(first, timeout=1)
    assert await asyncio.wait_for(second_same, timeout=1) is room
    assert adds.count(held) == 1 and len(room.listeners) == 2
    for r in list(hub.rooms.values()):
        for socket in list(r.listeners):
            await hub.leave(r, socket)
