"""The live room's frames, each to one service call: the consumer's dispatch table.

Every client frame type maps to one async handler ``(room, ctx, frame) ->
reply frame``.  Most run one sync service call in one worker-thread hop
(``_in_worker``): the frame counts against its member's frame budget, the
service checks, writes and publishes, and the reply is built by
``realtime.protocol``.  ``send`` goes through the circle's send queue instead
(``chat.sending``: group commit).

Every handler waits for the events its service published before it returns
the reply, so a member sees the broadcast of what they did before the ``ack``
or ``done``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async

from core import health, metrics
from core.errors import DomainError, ErrorCode
from core.unavailable import unavailable_from
from realtime import protocol, publish
from realtime.hub import Room
from realtime.protocol import Frame, Frame_

from . import ratelimit, sending, services
from .services import RoomContext

Handler = Callable[[Room, RoomContext, Frame], Awaitable[Frame_ | None]]
SyncHandler = Callable[[RoomContext, Frame], Frame_ | None]


def _in_worker(handler: SyncHandler) -> Handler:
    """One worker-thread hop: the frame budget, then the service call.

    Frames run on the worker-thread pool, not Channels' single database thread:
    one socket's frames stay in order (the consumer awaits each), while frames
    of different sockets do not queue behind each other's database round trips.
    Each worker thread keeps its own database connection (CONN_MAX_AGE)."""

    def run(ctx: RoomContext, frame: Frame) -> Frame_ | None:
        ratelimit.hit("frame", ctx.membership_id)
        return handler(ctx, frame)

    in_thread = database_sync_to_async(run, thread_sensitive=False)

    async def handle(room: Room, ctx: RoomContext, frame: Frame) -> Frame_ | None:
        try:
            reply = await in_thread(ctx, frame)
        except Exception as exc:
            refusal = unavailable_from(exc)
            if refusal is None:
                raise
            raise refusal from None
        finally:
            await publish.flushed()  # what it committed goes out before the reply
        health.succeeded("database")
        return reply

    return handle


async def _send(room: Room, ctx: RoomContext, frame: Frame) -> Frame_:
    result = await sending.submit(room, services.SendRequest(ctx, frame["client_id"], frame["body"]))
    metrics.SENDS.labels(result.verdict).inc()
    return protocol.ack_frame(frame["client_id"], result.id, result.verdict, result.duplicate, result.reason)


def _done(of: str, result: dict[str, Any]) -> Frame_:
    return protocol.done_frame(of, result)


def _acked(client_id: str, result: services.PostResult) -> Frame_:
    return protocol.ack_frame(client_id, result.id, result.verdict, result.duplicate, result.reason)


FRAMES: dict[str, Handler] = {
    "send": _send,
    "edit": _in_worker(
        lambda ctx, f: _done("edit", services.edit_message(ctx, message_id=f["message"], body=f["body"]))
    ),
    "delete": _in_worker(lambda ctx, f: _done("delete", services.delete_own_message(ctx, message_id=f["message"]))),
    "react": _in_worker(
        lambda ctx, f: _done("react", services.react(ctx, message_id=f["message"], reaction=f["reaction"], on=f["on"]))
    ),
    "report": _in_worker(
        lambda ctx, f: protocol.report_done_frame(
            services.report_message(ctx, message_id=f["message"], reason=f["reason"])["id"]
        )
    ),
    "history": _in_worker(
        lambda ctx, f: protocol.history_frame(
            f["before"], services.history(ctx, before=f["before"], limit=protocol.HISTORY_PAGE)
        )
    ),
    "resume": _in_worker(
        lambda ctx, f: protocol.resume_frame(
            f["since"], *services.resume(ctx, since=f["since"], limit=protocol.RESUME_BATCH)
        )
    ),
    "ping": _in_worker(lambda ctx, f: protocol.pong_frame()),
    # the member's own place in the room
    "read": _in_worker(lambda ctx, f: _done("read", services.mark_read(ctx, upto=f["upto"]))),
    "source": _in_worker(lambda ctx, f: protocol.source_frame(*services.message_source(ctx, message_id=f["message"]))),
    "hide": _in_worker(lambda ctx, f: _done("hide", services.hide_member(ctx, alias=f["alias"], on=f["on"]))),
    # facilitator controls
    "pin": _in_worker(lambda ctx, f: _done("pin", services.pin_message(ctx, message_id=f["message"]))),
    "unpin": _in_worker(lambda ctx, f: _done("unpin", services.pin_message(ctx, message_id=None))),
    "slow_mode": _in_worker(lambda ctx, f: _done("slow_mode", services.set_slow_mode(ctx, seconds=f["seconds"]))),
    "close_room": _in_worker(lambda ctx, f: _done("close_room", services.set_room_closed(ctx, closed=True))),
    "open_room": _in_worker(lambda ctx, f: _done("open_room", services.set_room_closed(ctx, closed=False))),
    "mute": _in_worker(
        lambda ctx, f: _done(
            "mute",
            services.mute_member(ctx, alias=f["alias"], minutes=f["minutes"], reason=f["reason"]),
        )
    ),
    "remove": _in_worker(
        lambda ctx, f: _done("remove", services.remove_message(ctx, message_id=f["message"], reason=f["reason"]))
    ),
    "ack_alert": _in_worker(lambda ctx, f: _done("ack_alert", services.acknowledge_alert(ctx, flag_id=f["flag"]))),
    # a library resource as a card in the room; the reply is an ``ack``, as for a send
    "share": _in_worker(
        lambda ctx, f: _acked(
            f["client_id"],
            services.share_resource(ctx, client_id=f["client_id"], resource_id=f["resource"], pin=bool(f["pin"])),
        )
    ),
}


async def dispatch(room: Room, ctx: RoomContext, frame: Frame) -> Frame_ | None:
    """The reply to one parsed frame (a refusal raises ``DomainError``)."""
    handler = FRAMES.get(frame.type)
    metrics.FRAMES.labels(frame.type if handler is not None else "unknown").inc()
    if handler is None:  # the protocol knows a frame the room does not handle
        raise DomainError(ErrorCode.UNKNOWN_TYPE, "Unknown frame type.")
    return await handler(room, ctx, frame)
