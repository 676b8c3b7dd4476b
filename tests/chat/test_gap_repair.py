"""Gap repair at the protocol level: with a channel layer that drops broadcasts, a
client that follows the gap rule (docs/protocol.md) still ends up with every
stored message, once each, in order."""

import asyncio
import bisect
import threading
import time

import pytest
from channels.db import database_sync_to_async as dsa
from channels.layers import channel_layers
from django.db import connection
from django.test import override_settings

from chat import services as chat_services
from chat.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

SOCKET_SENDERS = 2
THREAD_SENDERS = 3
PER_SENDER = 15
GENEROUS = {
    "send": (10_000, 10),
    "react": (1000, 10),
    "report": (1000, 60),
    "frame": (10_000, 10),
    "connect": (1000, 60),
}


@pytest.fixture
def lossy_layer():
    """An in-memory channel layer holding one event per channel: under a burst the
    hub's channel is full and ``group_send`` drops broadcasts, as a busy Redis
    layer may.  Channels caches layer instances, hence the clearing around it."""
    channel_layers.backends.clear()
    tiny = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1}}}
    with override_settings(CHANNEL_LAYERS=tiny, CHAT_RATE_LIMITS=GENEROUS):
        yield
    channel_layers.backends.clear()


class GapRepairingClient:
    """The client side of the gap rule, as a browser would run it.

    Track the newest id held.  A ``message`` whose ``prev`` is not that id means
    broadcasts were missed: send ``{"type": "resume", "since": newest}`` and merge
    the ``batch`` (ids not yet held, in order), repeating while ``more``.  Live
    messages that arrive while a resume is in flight are handled after the batch;
    those the batch already brought are skipped.  A message with ``prev: null``
    (a held message approved later) is inserted in order.
    """

    def __init__(self, room):
        self.room = room
        hello = room.hello
        self.ids: list[int] = [m["id"] for m in hello["messages"]]
        self.newest = max([*self.ids, hello["room"]["last_id"]])
        self.live = 0  # messages taken from live frames
        self.repaired = 0  # messages taken from resume batches
        self.resumes = 0

    def _take(self, message_id: int) -> None:
        assert message_id > self.newest
        self.ids.append(message_id)
        self.newest = message_id

    async def _resume(self) -> list[dict]:
        """Fetch everything after ``newest``; return live frames that came meanwhile."""
        self.resumes += 1
        held_back: list[dict] = []
        more = True
        while more:
            await self.room.send(type="resume", since=self.newest)
            while True:
                frame = await self.room.recv()
                if frame["type"] == "batch" and frame["kind"] == "resume":
                    break
                held_back.append(frame)
            for message in frame["messages"]:
                if message["id"] > self.newest:
                    self._take(message["id"])
                    self.repaired += 1
            more = frame["more"]
        return held_back

    async def handle(self, frame: dict) -> None:
        if frame["type"] != "message":
            return
        message_id = frame["message"]["id"]
        if frame["prev"] is None:
            # A held message approved late keeps its old id and is outside the chain.
            if message_id not in self.ids:
                bisect.insort(self.ids, message_id)
            return
        if message_id <= self.newest:
            return  # already brought by a resume batch
        if frame["prev"] != self.newest:
            for later in await self._resume():
                await self.handle(later)
            if message_id <= self.newest:
                return
        self._take(message_id)
        self.live += 1

    async def follow_until(self, wanted: set[int], timeout: float = 10) -> None:
        async with asyncio.timeout(timeout):
            while not wanted <= set(self.ids):
                await self.handle(await self.room.recv())


async def _send_burst(room, prefix: str, count: int) -> list[int]:
    """Send ``count`` messages on a socket without waiting between them; return the acked ids."""
    for n in range(count):
        await room.send(type="send", client_id=f"{prefix}-{n}", body=f"{prefix} says {n}")
    acked = []
    while len(acked) < count:
        frame = await room.recv(timeout=10)
        assert frame["type"] in ("ack", "message", "presence"), frame
        if frame["type"] == "ack":
            assert not frame["duplicate"]
            acked.append(frame["id"])
    return acked


def _post_many(user, circle, prefix: str, count: int) -> list[int]:
    """What ``count`` send frames on another process's socket do: the same service call."""
    try:
        ctx = chat_services.open_room(user=user, slug=circle.slug)
        return [
            chat_services.post_message(ctx, client_id=f"{prefix}-{n}", body=f"{prefix} says {n}").id
            for n in range(count)
        ]
    finally:
        connection.close()


def _as_another_process(fn, *args) -> asyncio.Future:
    """Run ``fn`` in a thread of its own that no event loop started, as another
    process would: its broadcasts reach the channel layer on their own, not
    through this process's outbox."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def run():
        try:
            result = fn(*args)
        except BaseException as exc:  # handed to the test
            loop.call_soon_threadsafe(future.set_exception, exc)
        else:
            loop.call_soon_threadsafe(future.set_result, result)

    threading.Thread(target=run, daemon=True).start()
    return future


def _busy_for(seconds: float) -> None:
    """Hold the thread (and so its event loop) for ``seconds`` of work."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def _busy_loop_until(tasks) -> None:
    """Keep this process's event loop busy (20 ms of work at a time) while ``tasks`` run.

    Inside one process every socket's frames run on one database thread, so two
    broadcasts are never pending together and even a one-event channel keeps up.
    Senders elsewhere (other processes, here threads) and a loop busy with other
    work is what makes a real layer overflow: broadcasts pile up while the hub
    cannot read, and the channel keeps only the first.
    """
    while not all(task.done() for task in tasks):
        _busy_for(0.02)  # deliberately blocking: the loop is "busy"
        await asyncio.sleep(0.005)


def _stored_ids(circle) -> list[int]:
    return list(Message.objects.filter(circle=circle).order_by("seq").values_list("seq", flat=True))


async def test_client_following_the_gap_rule_gets_every_message_in_order(lossy_layer, connect, circle, people, post):
    """Dropped broadcasts are detected through ``prev`` and fetched with ``resume``: nothing lost, nothing doubled."""
    made = await dsa(people)(circle, 1 + SOCKET_SENDERS + THREAD_SENDERS)
    watcher_user = made[0][0]
    socket_users = [user for user, _m in made[1 : 1 + SOCKET_SENDERS]]
    thread_users = [user for user, _m in made[1 + SOCKET_SENDERS :]]
    acked = [await dsa(post)(watcher_user, circle, "the room exists")]
    watcher = GapRepairingClient(await connect(watcher_user, circle))
    sender_rooms = [await connect(user, circle) for user in socket_users]
    total = 1 + (SOCKET_SENDERS + THREAD_SENDERS) * PER_SENDER + 1  # setup, bursts, the last one
    following = asyncio.ensure_future(watcher.follow_until(set(range(1, total + 1)), timeout=30))
    tasks = [asyncio.ensure_future(_send_burst(room, f"ws{n}", PER_SENDER)) for n, room in enumerate(sender_rooms)] + [
        _as_another_process(_post_many, user, circle, f"th{n}", PER_SENDER) for n, user in enumerate(thread_users)
    ]
    await _busy_loop_until(tasks)
    for task in tasks:
        acked += task.result()
    acked.sort()
    assert acked == list(range(1, total))
    # A broadcast dropped at the very end is noticed at the next message (or at a
    # reconnect): one more message, sent once the burst is over, closes the test.
    await asyncio.sleep(0.2)
    acked += await _send_burst(sender_rooms[0], "last", 1)
    await following
    assert watcher.ids == acked == await dsa(_stored_ids)(circle)
    # The layer really dropped broadcasts, and the client really repaired gaps.
    assert watcher.resumes >= 1 and watcher.repaired >= 1 and watcher.live >= 1, vars(watcher)
    for room in [watcher.room, *sender_rooms]:
        await room.close()


async def test_a_lost_predecessor_holds_a_busy_room_back_no_longer_than_the_reorder_wait(connect, circle, people):
    """A broadcast lost for good (id 2 below) must not hold back the messages
    after it for as long as new ones keep coming: they go out once REORDER_WAIT
    has passed (and clients repair the gap), while the stream is still running."""
    from channels.layers import get_channel_layer

    from realtime.events import MessagePosted
    from realtime.groups import circle_group
    from realtime.hub import REORDER_WAIT

    [(user, _m)] = await dsa(people)(circle)
    room = await connect(user, circle)
    layer = get_channel_layer()

    def event(msg_id: int, prev: int) -> dict:
        message = {
            "id": msg_id,
            "alias": "Someone",
            "html": f"<p>{msg_id}</p>",
            "at": "2026-11-28T00:00:00+00:00",
            "reactions": {},
        }
        return MessagePosted(message=message, prev=prev).to_layer()

    await layer.group_send(circle_group(circle.pk), event(1, 0))
    assert (await room.recv_type("message"))["message"]["id"] == 1
    stream_seconds = max(1.5, 10 * REORDER_WAIT)

    async def stream():  # id 2 is never sent; 3, 4, 5, ... every 50 ms
        n = 3
        loop = asyncio.get_running_loop()
        end = loop.time() + stream_seconds
        while loop.time() < end:
            await layer.group_send(circle_group(circle.pk), event(n, n - 1))
            n += 1
            await asyncio.sleep(0.05)

    sender = asyncio.ensure_future(stream())
    try:
        frame = await room.recv_type("message", timeout=stream_seconds * 0.8)
        assert frame["message"]["id"] == 3 and frame["prev"] == 2
        assert not sender.done()  # released while messages were still coming
    finally:
        sender.cancel()
    await room.close()
