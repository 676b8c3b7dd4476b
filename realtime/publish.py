"""How an event leaves a service: once its transaction commits, in order, and
always the same way whoever called the service.

Services run in worker threads (a consumer's ``database_sync_to_async`` hop, a
Django view under Daphne) or in a process with no event loop at all (a
management command, a plain test).  ``to_circle`` and friends register the
event with ``transaction.on_commit``; on commit it is handed to the *outbox* of
the event loop that started the worker thread, which sends the events put into
it one after the other with ``group_send`` — the only ``group_send`` in the
code base.  The worker thread never waits for the channel layer.  With no
event loop (a command), the event is sent at once with ``async_to_sync``.

A run of ``MessagePosted`` events to one group that wait in the outbox
together crosses the channel layer as one ``MessagesPosted``.

The channel layer is best effort: an event it refuses is logged and the next
one still goes (a crisis card after a batch of messages).  Members repair a
lost message from the next one's ``prev``; an unacknowledged crisis alert is
raised again by the escalation job.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import deque
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer
from django.db import transaction

from core import health
from core.cache import UNREACHABLE

from . import groups
from .events import Event, MessagePosted, MessagesPosted

log = logging.getLogger(__name__)
LAYER_TROUBLE = (*UNREACHABLE, ChannelFull, asyncio.TimeoutError)
SEND_TIMEOUT = 1.0  # seconds one group_send may take before it counts as failed
FLUSH_WAIT = 2.0  # the longest a reply waits for the broadcasts before it


def publish(group: str, event: Event) -> None:
    """Send ``event`` to ``group`` once the current transaction commits (at once
    outside a transaction)."""
    transaction.on_commit(lambda: _hand_over(group, event))


def to_circle(circle_id: int, event: Event) -> None:
    """To everyone in the circle's live room."""
    publish(groups.circle_group(circle_id), event)


def _not_a_room_message(event: Event) -> None:
    # Room messages are for everyone in the room: they are ordered and chained
    # (``prev``) for all alike, so they never carry an audience.
    if isinstance(event, (MessagePosted, MessagesPosted)):
        raise TypeError(f"{event.NAME} goes to the whole room, not to an audience")


def to_member(circle_id: int, membership_id: int, event: Event) -> None:
    """To one member's sockets in the circle's live room."""
    _not_a_room_message(event)
    publish(groups.circle_group(circle_id), dataclasses.replace(event, to=int(membership_id)))


def to_roles(circle_id: int, roles: tuple[str, ...], event: Event) -> None:
    """To the sockets in the circle's live room whose member holds one of ``roles``."""
    _not_a_room_message(event)
    publish(groups.circle_group(circle_id), dataclasses.replace(event, roles=tuple(roles)))


def to_staff(event: Event) -> None:
    """To every site moderator's staff socket."""
    publish(groups.staff_group(), event)


# --- the outbox ----------------------------------------------------------------------


def _loop_of_this_thread() -> asyncio.AbstractEventLoop | None:
    """The running event loop that started this worker thread, if any.

    asgiref records it for every ``sync_to_async`` call (its ``async_to_sync``
    uses the same record to hop back); a record left from an earlier call whose
    loop has stopped since is ignored."""
    try:
        return asyncio.get_running_loop()  # called on the loop itself
    except RuntimeError:
        pass
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if loop is not None and loop.is_running() and not loop.is_closed():
        return loop
    return None


def _hand_over(group: str, event: Event) -> None:
    loop = _loop_of_this_thread()
    if loop is None:
        async_to_sync(_send_all)([(group, event)])
        return
    loop.call_soon_threadsafe(_put, loop, group, event)


_outboxes: dict[asyncio.AbstractEventLoop, Outbox] = {}


def _put(loop: asyncio.AbstractEventLoop, group: str, event: Event) -> None:
    outbox_for(loop).put(group, event)


def outbox_for(loop: asyncio.AbstractEventLoop) -> Outbox:
    """The outbox of ``loop`` (call on that loop)."""
    outbox = _outboxes.get(loop)
    if outbox is None:
        for old in [lp for lp in _outboxes if lp.is_closed()]:
            del _outboxes[old]
        outbox = _outboxes[loop] = Outbox()
    return outbox


async def flushed() -> None:
    """Wait until every event handed to this loop's outbox so far has been sent
    (at most FLUSH_WAIT seconds: a slow channel layer delays a reply, never
    blocks it).

    A consumer calls this after a service call and before its reply, so a
    member's screen gets the broadcast of what they did before the ``ack`` or
    ``done`` (the outbox got those events before the service call returned)."""
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(outbox_for(asyncio.get_running_loop()).flushed(), FLUSH_WAIT)


class Outbox:
    """Events of one event loop, sent in the order they were put, by one task."""

    def __init__(self) -> None:
        self.queue: deque[tuple[str, Event]] = deque()
        self.put_count = 0
        self.sent_count = 0
        self.waiters: list[tuple[int, asyncio.Future[None]]] = []
        self.task: asyncio.Task[None] | None = None

    def put(self, group: str, event: Event) -> None:
        self.queue.append((group, event))
        self.put_count += 1
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run())

    async def flushed(self) -> None:
        target = self.put_count
        if self.sent_count >= target:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append((target, future))
        await asyncio.shield(future)

    async def _run(self) -> None:
        try:
            while self.queue:
                batch = list(self.queue)
                self.queue.clear()
                await _send_all(batch)
                self.sent_count += len(batch)
                self._wake()
        finally:
            self.task = None
            self.sent_count = self.put_count - len(self.queue)
            self._wake()
            if self.queue:  # cancelled mid-way: what is left goes with the next put
                self.task = asyncio.get_running_loop().create_task(self._run())

    def _wake(self) -> None:
        still = []
        for target, future in self.waiters:
            if self.sent_count >= target:
                if not future.done():
                    future.set_result(None)
            else:
                still.append((target, future))
        self.waiters = still


def _for_all(event: Event) -> bool:
    return event.to is None and event.roles is None


def coalesce(batch: list[tuple[str, Event]]) -> list[tuple[str, Event]]:
    """Runs of ``MessagePosted`` to one group become one ``MessagesPosted``."""
    out: list[tuple[str, Event]] = []
    for group, event in batch:
        if isinstance(event, MessagePosted) and _for_all(event) and out and out[-1][0] == group:
            last = out[-1][1]
            if isinstance(last, MessagePosted) and _for_all(last):
                out[-1] = (group, MessagesPosted(items=(last, event)))
                continue
            if isinstance(last, MessagesPosted) and _for_all(last):
                out[-1] = (group, MessagesPosted(items=(*last.items, event)))
                continue
        out.append((group, event))
    return out


async def _send_all(batch: list[tuple[str, Event]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group, event in coalesce(batch):
        data: dict[str, Any] = event.to_layer()
        if health.is_down("channel_layer"):
            # It failed a moment ago: drop rather than queue behind a dead Redis.
            # Members repair lost messages from ``prev``; crisis alerts are raised
            # again by the escalation job.
            continue
        try:
            await asyncio.wait_for(layer.group_send(group, data), SEND_TIMEOUT)
        except LAYER_TROUBLE as exc:  # Redis away, or a full channel: counted, logged once
            health.failed("channel_layer", exc)
        except Exception:
            log.warning("could not send %s to %s", event.NAME, group, exc_info=True)
        else:
            health.succeeded("channel_layer")


def layer_answers() -> str | None:
    """A round trip through the channel layer (for /readyz): None when it
    answers, else the failure's type name."""
    layer = get_channel_layer()
    if layer is None:
        return "no channel layer"

    async def round_trip() -> None:
        # One event loop for the three steps: the pub/sub layer's subscription
        # belongs to the loop that made it.  Bounded: a probe never hangs.
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "readyz.ping"})
        await asyncio.wait_for(layer.receive(channel), READYZ_TIMEOUT)

    try:
        async_to_sync(round_trip)()
    except Exception as exc:
        return type(exc).__name__
    return None


READYZ_TIMEOUT = 2.0  # seconds for the channel layer's round trip
