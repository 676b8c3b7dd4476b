"""Per-process fan-out: one channel-layer subscription per group per process.

Channels' default gives every socket its own channel, so a broadcast to a
500-member room is 500 channel-layer messages, 500 dispatches and 500 JSON
encodings.  Here each process subscribes once per circle it serves; an event is
turned into a frame and JSON-encoded once, then written to every local socket of
that circle.  Events addressed to one member (``to``) reach only that member's
sockets.

Presence (who is here, aliases only) is kept the same way: each process knows
its own sockets and tells the others its set on change and every
``PRESENCE_HEARTBEAT`` seconds; a process that stops announcing drops out after
``PRESENCE_TTL``.  Several tabs of one member count once.

A socket that joins is *buffered* until its ``hello`` and backlog are sent, then
released with every buffered message newer than what it was sent: nothing
published between the database read and the subscription is lost.

The staff sockets (site moderators) use the same machinery on the staff group,
without presence and without message ordering.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from channels.layers import get_channel_layer
from django.conf import settings

from core import health

from . import groups, protocol
from .batching import Batcher
from .events import (
    Event,
    Kicked,
    MessagePosted,
    MessagesPosted,
    PresenceQuery,
    PresenceSync,
    UnknownEventError,
    from_layer,
)
from .publish import outbox_for

log = logging.getLogger(__name__)

# A message whose predecessor (``prev``) has not arrived yet waits this long for
# it (two processes may commit neighbours and broadcast them in either order);
# after that it goes out anyway and clients repair the gap (docs/protocol.md).
REORDER_WAIT = 0.15
# A busy room's messages are sent at most this often (a quiet room's at once).
FLUSH_GAP = 0.02
PRESENCE_HEARTBEAT = 15.0
PRESENCE_TTL = 45.0
_random = secrets.SystemRandom()


def presence_delay() -> float:
    """How long a room waits before it tells who came and went: a base plus a
    random jitter drawn per room and per change (CHAT_PRESENCE_DELAY,
    CHAT_PRESENCE_JITTER seconds).  One person opening two circles shows up in
    each at unrelated moments, so join times do not link their aliases across
    circles (docs/protocol.md, "Presence")."""
    return float(settings.CHAT_PRESENCE_DELAY) + _random.uniform(0.0, float(settings.CHAT_PRESENCE_JITTER))


class Socket(Protocol):
    membership_id: int
    user_id: int
    role: str

    async def send_text(self, text: str) -> None: ...

    async def close_socket(self, code: int) -> None: ...


@dataclass
class Listener:
    socket: Socket
    live: bool = False
    buffer: list[tuple[protocol.Frame_, str]] = field(default_factory=list)
    # The newest id its hello or replay sent: a message already on its way
    # through the hub at that moment must not reach it a second time.
    floor: int = 0


class Room:
    """One group this process subscribes to: a circle's live room (presence,
    messages in id order) or the staff group (``presence=False``)."""

    def __init__(self, hub: Hub, group: str, *, presence: bool = True) -> None:
        self.hub = hub
        self.group = group
        self.presence = presence
        self.listeners: dict[Socket, Listener] = {}
        self.aliases: dict[int, str] = {}  # membership id -> alias, for local sockets
        self.remote: dict[str, tuple[float, dict[int, str]]] = {}  # process -> (seen, members)
        self.channel: str | None = None
        self.reader: asyncio.Task | None = None
        self.heartbeat: asyncio.Task | None = None
        self.presence_shown: dict[int, str] = {}
        self.flush_pending = False
        self.announce_pending = False
        # Messages waiting for this loop turn's flush or for a predecessor.
        self.outbox: list[MessagePosted] = []
        self.outbox_scheduled = False
        self.last_flush = float("-inf")  # loop time of the last message frame sent
        self.reorder_timer: asyncio.TimerHandle | None = None
        self.last_id: int | None = None  # newest message id this process has sent out
        self.tasks: set[asyncio.Future[None]] = set()  # background flushes in flight
        # This circle's send queue in this process (made by its first send).
        self.sends: Batcher[Any, Any] | None = None

    # --- presence -----------------------------------------------------------

    def local_members(self) -> dict[int, str]:
        return {lst.socket.membership_id: self.aliases[lst.socket.membership_id] for lst in self.listeners.values()}

    def present(self) -> dict[int, str]:
        now = time.monotonic()
        members = dict(self.local_members())
        for seen, remote in self.remote.values():
            if now - seen <= PRESENCE_TTL:
                members.update(remote)
        return members

    def present_aliases(self) -> list[str]:
        return sorted(set(self.present().values()))

    def presence_changed(self, *, announce: bool) -> None:
        """Schedule one presence frame (debounced) and, for local changes, one
        announcement to the other processes."""
        if not self.presence:
            return
        if announce:
            self.announce_pending = True
        if not self.flush_pending:
            self.flush_pending = True
            asyncio.get_running_loop().call_later(presence_delay(), lambda: self._spawn(self.flush_presence()))

    async def flush_presence(self) -> None:
        self.flush_pending = False
        if self.announce_pending:
            self.announce_pending = False
            await self.announce()
        now = self.present()
        before = self.presence_shown
        if now == before:
            return
        joined = sorted({a for m, a in now.items() if m not in before})
        left = sorted({a for m, a in before.items() if m not in now})
        self.presence_shown = now
        await self.deliver(protocol.presence_frame(joined=joined, left=left, count=len(now)))

    async def announce(self, *, query: bool = False) -> None:
        if not self.presence:
            return
        layer = get_channel_layer()
        kind = PresenceQuery if query else PresenceSync
        members = {str(k): v for k, v in self.local_members().items()}
        event = kind(process=self.hub.process_id, members=members)
        try:
            await layer.group_send(self.group, event.to_layer())
        except Exception as exc:  # a full channel or Redis away must not break the room; heartbeats retry
            health.failed("channel_layer", exc)

    async def heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(PRESENCE_HEARTBEAT)
            await self.announce()
            self.presence_changed(announce=False)  # expire silent processes

    # --- delivery -----------------------------------------------------------

    async def read_loop(self) -> None:
        layer = get_channel_layer()
        while True:
            try:
                event = await layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                health.failed("channel_layer", exc)
                await asyncio.sleep(0.5)
                continue
            health.succeeded("channel_layer")
            try:
                await self.handle_event(from_layer(event))
            except UnknownEventError:
                log.warning("ignored an unknown event %r on %s", event.get("type"), self.group)
            except Exception:
                log.exception("could not deliver %s", event.get("type"))

    async def handle_event(self, event: Event) -> None:
        if isinstance(event, (PresenceSync, PresenceQuery)):
            if event.process != self.hub.process_id:
                self.remote[event.process] = (time.monotonic(), {int(k): v for k, v in event.members.items()})
                if isinstance(event, PresenceQuery):
                    await self.announce()
                self.presence_changed(announce=False)
            return
        if isinstance(event, Kicked):
            frame = protocol.event_frame(event)
            for lst in list(self.listeners.values()):
                mine = (
                    lst.socket.user_id == event.user if event.user is not None else lst.socket.membership_id == event.to
                )
                if mine:
                    if frame is not None:
                        await self._send(lst, protocol.encode(frame))
                    await lst.socket.close_socket(event.close_code)
            return
        if isinstance(event, (MessagePosted, MessagesPosted)) and (event.to is not None or event.roles is not None):
            # Not a room message for everyone (publish refuses those): no place in the
            # chain, delivered as it is to its audience only.
            frame = protocol.event_frame(event)
            if frame is not None:
                await self.deliver(frame, event.to, event.roles)
            return
        if isinstance(event, (MessagePosted, MessagesPosted)):
            self.outbox.extend(event.items if isinstance(event, MessagesPosted) else [event])
            if not self.outbox_scheduled:
                self.outbox_scheduled = True
                loop = asyncio.get_running_loop()
                # At most one message frame per FLUSH_GAP per socket: in a busy room
                # the messages of the next few milliseconds share one write each.
                wait = max(0.0, self.last_flush + FLUSH_GAP - loop.time())
                loop.call_later(wait, lambda: self._spawn(self.flush_messages()))
            return
        # Anything else may refer to a waiting message (a removal, an edit): the
        # messages go first, in id order.
        await self.flush_messages(force=True)
        frame = protocol.event_frame(event)
        if frame is not None:
            await self.deliver(frame, event.to, event.roles)

    async def flush_messages(self, *, force: bool = False) -> None:
        """Send the waiting messages in id order, as one frame per flush: several
        messages that arrive in one loop turn cost each socket one write.  A
        message whose predecessor is missing waits up to ``REORDER_WAIT``."""
        self.outbox_scheduled = False
        if not self.outbox:
            return
        self.last_flush = asyncio.get_running_loop().time()
        self.outbox.sort(key=lambda ev: ev.message["id"])
        ready: list[MessagePosted] = []
        waiting: list[MessagePosted] = []
        for event in self.outbox:
            prev, msg_id = event.prev, event.message["id"]
            in_order = prev is None or self.last_id is None or prev <= self.last_id
            if waiting or not (force or in_order):
                waiting.append(event)
                continue
            ready.append(event)
            if prev is not None:  # a late approval (prev None) does not move the chain
                self.last_id = msg_id if self.last_id is None else max(self.last_id, msg_id)
        self.outbox = waiting
        if not waiting:
            if self.reorder_timer is not None:
                self.reorder_timer.cancel()
                self.reorder_timer = None
        elif self.reorder_timer is None:
            # Armed when messages start waiting and not re-armed by later flushes:
            # in a busy room a predecessor that was lost for good would otherwise
            # hold every later message back for as long as messages keep coming.
            self.reorder_timer = asyncio.get_running_loop().call_later(REORDER_WAIT, self._reorder_expired)
        for frame in protocol.messages_frames(ready):
            await self.deliver(frame)

    def _reorder_expired(self) -> None:
        self.reorder_timer = None
        self._spawn(self.flush_messages(force=True))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in the background, keeping a reference until it ends (a
        task nobody holds may be collected mid-way)."""
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def deliver(
        self, frame: protocol.Frame_, to: int | None = None, roles: tuple[str, ...] | None = None
    ) -> None:
        text = protocol.encode(frame)  # once for every local socket
        lowest = protocol.lowest_chained_id(frame)
        for lst in list(self.listeners.values()):
            if to is not None and lst.socket.membership_id != to:
                continue
            if roles is not None and lst.socket.role not in roles:
                continue
            if not lst.live:
                lst.buffer.append((frame, text))
                continue
            if lowest is not None and lowest <= lst.floor:  # rare: just after its replay
                newer = protocol.messages_after(frame, lst.floor)
                if newer is not None:
                    await self._send(lst, protocol.encode(newer))
                continue
            await self._send(lst, text)

    @staticmethod
    async def _send(lst: Listener, text: str) -> None:
        try:
            await lst.socket.send_text(text)
        except Exception:  # the socket is closing; its disconnect handler cleans up
            log.debug("send to a closing socket dropped", exc_info=True)


class Hub:
    """All rooms this process serves, for one event loop."""

    def __init__(self) -> None:
        self.process_id = uuid.uuid4().hex
        self.rooms: dict[str, Room] = {}  # by group name
        # One lock per group: a room's first join and its last leave wait for
        # the channel layer (subscribe, announce), and at a session's start
        # forty circles' first members must not queue behind each other.
        self.locks: dict[str, asyncio.Lock] = {}

    def lock(self, group: str) -> asyncio.Lock:
        found = self.locks.get(group)
        if found is None:
            found = self.locks[group] = asyncio.Lock()
        return found

    async def join(self, circle_id: int, socket: Socket, alias: str) -> Room:
        """Subscribe ``socket`` to a circle's live room (buffered until ``go_live``)."""
        return await self._join(groups.circle_group(circle_id), socket, alias, presence=True)

    async def join_staff(self, socket: Socket) -> Room:
        """Subscribe a site moderator's staff socket (live at once)."""
        room = await self._join(groups.staff_group(), socket, None, presence=False)
        await self.go_live(room, socket, last_id=0)
        return room

    async def shut_down(self, close_code: int) -> None:
        """This loop's part of ``shut_down_all``."""
        rooms = list(self.rooms.values())
        await asyncio.gather(*(_drained(room) for room in rooms))
        await outbox_for(asyncio.get_running_loop()).flushed()
        await asyncio.sleep(0.05)  # the acks of the last batches go out
        for room in rooms:
            for lst in list(room.listeners.values()):
                try:
                    await lst.socket.close_socket(close_code)
                except Exception:  # already closing
                    log.debug("socket closed before the goodbye", exc_info=True)
        await asyncio.sleep(0.1)  # the close frames go out before the server stops

    def room(self, circle_id: int) -> Room | None:
        return self.rooms.get(groups.circle_group(circle_id))

    async def _join(self, group: str, socket: Socket, alias: str | None, *, presence: bool) -> Room:
        async with self.lock(group):
            room = self.rooms.get(group)
            if room is None:
                room = Room(self, group, presence=presence)
                layer = get_channel_layer()
                # The default prefix: channels-redis reads every process-local
                # channel through one Redis key per process, and a second prefix
                # would queue behind the first one's blocking read (up to 5 s).
                room.channel = await layer.new_channel()
                await layer.group_add(room.group, room.channel)
                room.reader = asyncio.ensure_future(room.read_loop())
                if presence:
                    room.heartbeat = asyncio.ensure_future(room.heartbeat_loop())
                self.rooms[group] = room
                # Ask the other processes who is there without holding this
                # room's first members: their answers come as events anyway,
                # most often after the hello (a presence frame follows), and at
                # a session's start the broadcast waited for every one queued
                # before it (bench/README.md, the session-start storm).
                room._spawn(room.announce(query=True))
            room.listeners[socket] = Listener(socket)
            if alias is not None:
                room.aliases[socket.membership_id] = alias
        room.presence_changed(announce=True)
        return room

    async def go_live(self, room: Room, socket: Socket, *, last_id: int) -> None:
        """Release the buffered events: messages newer than ``last_id`` and every
        other event, in arrival order."""
        lst = room.listeners.get(socket)
        if lst is None:
            return
        lst.floor = last_id
        while lst.buffer:
            pending, lst.buffer = lst.buffer, []
            for frame, text in pending:
                newer = protocol.messages_after(frame, last_id)
                if newer is None:
                    continue
                await room._send(lst, text if newer is frame else protocol.encode(newer))
        lst.live = True

    async def leave(self, room: Room, socket: Socket) -> None:
        async with self.lock(room.group):
            if self.rooms.get(room.group) is not room or room.listeners.pop(socket, None) is None:
                return
            if not any(lst.socket.membership_id == socket.membership_id for lst in room.listeners.values()):
                room.aliases.pop(socket.membership_id, None)
            if not room.listeners:
                del self.rooms[room.group]
                for task in (room.reader, room.heartbeat):
                    if task is not None:
                        task.cancel()
                if room.reorder_timer is not None:
                    room.reorder_timer.cancel()
                layer = get_channel_layer()
                await room.announce()  # tell the others this process left (empty set)
                await layer.group_discard(room.group, room.channel)
                return
        room.presence_changed(announce=True)


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def get_hub() -> Hub:
    """The hub of the running event loop (one per Daphne process in production;
    one per test event loop in tests)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        for old in [lp for lp in _hubs if lp.is_closed()]:
            del _hubs[old]
        hub = _hubs[loop] = Hub()
    return hub


# --- a clean restart (config.daphne) ---------------------------------------------------

_shutting_down = False


def shutting_down() -> bool:
    """True once this process has begun its goodbye: new sockets and new frames
    are turned away (the page reconnects elsewhere)."""
    return _shutting_down


async def shut_down_all(*, close_code: int) -> None:
    """Stop taking work, store what is queued (its senders get their acks),
    send what was published, then close every socket with ``close_code``."""
    global _shutting_down
    _shutting_down = True
    for hub in list(_hubs.values()):
        await hub.shut_down(close_code)


async def _drained(room: Room) -> None:
    if room.sends is not None:
        await room.sends.drained()
