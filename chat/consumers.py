"""The live room's WebSocket consumer.  Thin: parse, authorize, one service call, send."""

import logging
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings
from channels.generic.websocket import AsyncWebsocketConsumer

from community import notify
from community.errors import DomainError, ErrorCode

from . import protocol, ratelimit, services
from .batching import Batcher
from .hub import get_hub

log = logging.getLogger(__name__)

# Frames run on the worker-thread pool, not Channels' single database thread:
# one socket's frames stay in order (the consumer awaits each), while frames of
# different sockets no longer queue behind each other's database round trips.
# Each worker thread keeps its own connection (CONN_MAX_AGE).
def _run_frame(handler, frame):
    """The frame's reply (or its refusal) and the events its service committed,
    which the caller broadcasts from the event loop."""
    with notify.collecting() as events:
        try:
            return handler(frame), None, events
        except DomainError as err:
            return None, err, events


run_frame = database_sync_to_async(_run_frame, thread_sensitive=False)

# Sends take another road: every send frame of a circle that arrives while the
# previous ones are being stored waits for the next run, and a run stores them
# all in one transaction (chat.batching, services.post_messages).
SEND_BATCH = 64


def _send_batch(requests: list[services.SendRequest]) -> tuple[list, list]:
    """One run, in a worker thread: each frame counts against its member's frame
    budget, then the sends are stored together.  The answers (a ``PostResult``
    or a ``DomainError`` each) and the committed events."""
    answers: list = [None] * len(requests)
    allowed: list[int] = []
    with notify.collecting() as events:
        limited = ratelimit.hit_many([("frame", request.ctx.membership_id) for request in requests])
        for i, refusal in enumerate(limited):
            if refusal is not None:
                answers[i] = refusal
            else:
                allowed.append(i)
        for i, answer in zip(allowed, services.post_messages([requests[i] for i in allowed])):
            answers[i] = answer
    return answers, events


_send_batch_in_thread = database_sync_to_async(_send_batch, thread_sensitive=False)


async def run_send_batch(requests: list[services.SendRequest]) -> list:
    answers, events = await _send_batch_in_thread(requests)
    # Committed: broadcast before the acks.  A broadcast the channel layer
    # refuses is logged (send_collected); the messages are stored, members repair
    # the gap from the next message's ``prev``, and the senders get their acks.
    await notify.send_collected(events)
    return answers


class RoomConsumer(AsyncWebsocketConsumer):
    # No channel of its own: the process's hub (chat.hub) holds one subscription
    # per circle and writes frames to this socket directly.
    channel_layer_alias = "room-sockets-have-no-channel"

    ctx: services.RoomContext | None = None
    room = None

    @property
    def membership_id(self) -> int:
        return self.ctx.membership_id

    @property
    def role(self) -> str:
        return self.ctx.role

    async def dispatch(self, message):
        # Channels closes old database connections before every event, a thread
        # hop per frame; each service call below runs in database_sync_to_async,
        # which does that already.
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        user = self.scope.get("user")
        slug = self.scope["url_route"]["kwargs"]["slug"]
        since = self._since()
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        try:
            self.ctx = await database_sync_to_async(services.open_room)(user=user, slug=slug)
        except DomainError:
            await self.close(code=4403)
            return
        await self.accept()
        hub = get_hub()
        self.room = await hub.join(self.ctx.circle_id, self, self.ctx.alias)
        try:
            state = await database_sync_to_async(services.hello)(self.ctx, since=since, limit=protocol.RESUME_BATCH)
        except DomainError as err:
            await self.send_frame(protocol.error_frame(err))
            await self.close(code=protocol.CLOSE_NOT_ALLOWED)
            return
        messages = state["messages"]
        await self.send_frame(
            {
                "type": "hello",
                "you": {"alias": self.ctx.alias, "role": self.ctx.role, "held": state["held"]},
                "room": state["state"],
                "present": self.room.present_aliases(),
                "messages": messages,
                "more_after": since is not None and len(messages) == protocol.RESUME_BATCH,
                "limits": {"body_chars": protocol.MAX_BODY_CHARS, "frame_bytes": protocol.MAX_FRAME_BYTES},
            }
        )
        last = messages[-1]["id"] if messages else (since or 0)
        if since is not None:
            # Resume: every published message after ``since``, before live traffic.
            while len(messages) == protocol.RESUME_BATCH:
                messages, _latest = await database_sync_to_async(services.resume)(
                    self.ctx, since=last, limit=protocol.RESUME_BATCH
                )
                if messages:
                    last = messages[-1]["id"]
                    await self.send_frame({"type": "batch", "kind": "resume", "messages": messages})
        else:
            last = max(last, state["state"]["last_id"])
        await hub.go_live(self.room, self, last_id=last)

    def _since(self) -> int | None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        raw = (query.get("since") or [None])[0]
        if raw is None or not raw.isdigit() or len(raw) > 16:
            return None
        return int(raw)

    async def disconnect(self, code):
        if self.room is not None:
            await get_hub().leave(self.ctx.circle_id, self)
            self.room = None

    # --- hub callbacks ------------------------------------------------------

    async def send_text(self, text: str) -> None:
        # Straight to the ASGI send: the hub calls this once per socket per event.
        await self.base_send({"type": "websocket.send", "text": text})

    async def close_socket(self, code: int) -> None:
        await self.close(code=code)

    async def send_frame(self, frame: dict) -> None:
        await self.send(text_data=protocol.encode(frame))

    # --- frames from the client ---------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        ref = None
        try:
            frame = protocol.parse_client_frame(text_data, bytes_data)
            ref = frame.get("ref")
            if frame.type == "send":
                request = services.SendRequest(self.ctx, frame["client_id"], frame["body"])
                result = await self.sends().submit(request)
                reply = protocol.ack_frame(frame["client_id"], result.id, result.verdict, result.duplicate, result.reason)
            else:
                reply, refusal, events = await run_frame(self.handle_frame, frame)
                await notify.send_collected(events)  # committed: broadcast before the reply
                if refusal is not None:
                    raise refusal
        except DomainError as err:
            reply = protocol.error_frame(err, ref)
        except Exception:  # never close with 1011: tell the client, keep the socket
            log.exception("frame handling failed")
            reply = protocol.error_frame(
                DomainError(ErrorCode.BAD_FRAME, "Something went wrong with that request; nothing was changed."),
                ref,
                code="server_error",
            )
        if reply is not None:
            if ref is not None:
                reply.setdefault("ref", ref)
            await self.send_frame(reply)

    def sends(self) -> Batcher:
        """This circle's send queue in this process (created with the first send)."""
        if self.room.sends is None:
            self.room.sends = Batcher(
                run_send_batch, max_batch=SEND_BATCH, linger=settings.CHAT_SEND_LINGER_MS / 1000
            )
        return self.room.sends

    def handle_frame(self, frame: protocol.Frame) -> dict | None:
        """Runs in a worker thread: one frame, one service call, one reply frame."""
        ctx = self.ctx
        ratelimit.hit("frame", ctx.membership_id)
        kind = frame.type
        if kind == "edit":
            return {"type": "done", "of": kind, **services.edit_message(ctx, message_id=frame["message"], body=frame["body"])}
        if kind == "delete":
            return {"type": "done", "of": kind, **services.delete_own_message(ctx, message_id=frame["message"])}
        if kind == "react":
            return {"type": "done", "of": kind, **services.react(
                ctx, message_id=frame["message"], reaction=frame["reaction"], on=frame["on"])}
        if kind == "report":
            services.report_message(ctx, message_id=frame["message"], reason=frame["reason"])
            return {"type": "done", "of": kind, "id": frame["message"],
                    "message": "Thank you. A moderator will look at it."}
        if kind == "history":
            messages = services.history(ctx, before=frame["before"], limit=protocol.HISTORY_PAGE)
            return {"type": "batch", "kind": "history", "before": frame["before"], "messages": messages,
                    "more": len(messages) == protocol.HISTORY_PAGE}
        if kind == "resume":
            messages, latest = services.resume(ctx, since=frame["since"], limit=protocol.RESUME_BATCH)
            return {"type": "batch", "kind": "resume", "since": frame["since"], "messages": messages,
                    "latest": latest, "more": len(messages) == protocol.RESUME_BATCH}
        if kind == "ping":
            return {"type": "pong"}
        if kind == "pin":
            return {"type": "done", "of": kind, **services.pin_message(ctx, message_id=frame["message"])}
        if kind == "unpin":
            return {"type": "done", "of": kind, **services.pin_message(ctx, message_id=None)}
        if kind == "slow_mode":
            return {"type": "done", "of": kind, **services.set_slow_mode(ctx, seconds=frame["seconds"])}
        if kind in ("close_room", "open_room"):
            return {"type": "done", "of": kind, **services.set_room_closed(ctx, closed=kind == "close_room")}
        if kind == "mute":
            return {"type": "done", "of": kind, **services.mute_member(
                ctx, alias=frame["alias"], minutes=frame["minutes"], reason=frame.get("reason") or "")}
        if kind == "remove":
            return {"type": "done", "of": kind, **services.remove_message(
                ctx, message_id=frame["message"], reason=frame.get("reason") or "")}
        raise DomainError(ErrorCode.UNKNOWN_TYPE, "Unknown frame type.")
