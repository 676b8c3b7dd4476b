"""The live room's WebSocket consumer.  Thin: authorize on connect, then each
frame is parsed (``realtime.protocol``), dispatched to one service call
(``chat.frames``) and answered."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.utils import timezone

from community import auth as community_auth
from community import services as community_services
from core import metrics
from core.errors import DomainError, ErrorCode
from core.unavailable import DATABASE_DOWN, unavailable_from
from realtime import direct, protocol
from realtime.hub import Room, get_hub, shutting_down
from realtime.limits import FrameBudget, Take

from . import frames, services

log = logging.getLogger(__name__)


def _admit(session: SessionBase | None, slug: str) -> tuple[services.RoomContext, datetime | None] | None:
    """Connect's database work before the handshake, in one hop: who is signed
    in (None: nobody), their place in the circle, and when their session ends
    (read with the session, community.sessions)."""
    if session is None:
        return None
    user = community_auth.signed_in_user(session)
    if not user.is_authenticated:
        return None
    return services.connect_room(user=user, slug=slug), community_services.session_expiry(session)


class RoomConsumer(AsyncWebsocketConsumer):
    # No channel of its own: the process's hub (realtime.hub) holds one
    # subscription per circle and writes frames to this socket directly.
    channel_layer_alias = "room-sockets-have-no-channel"

    ctx: services.RoomContext | None = None
    room: Room | None = None
    session_ends: datetime | None = None
    counted = False  # in the open-sockets gauge

    @property
    def membership_id(self) -> int:
        return self.ctx.membership_id if self.ctx is not None else 0

    @property
    def role(self) -> str:
        return self.ctx.role if self.ctx is not None else ""

    @property
    def user_id(self) -> int:
        return self.ctx.user_id if self.ctx is not None else 0

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes old database connections before every event, a thread
        # hop per frame; each service call runs in database_sync_to_async, which
        # does that already.
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        slug = self.scope["url_route"]["kwargs"]["slug"]
        since = self._since()
        if shutting_down():  # this process is restarting: the page goes to another
            await self.accept()
            await self.close(code=protocol.CLOSE_RESTARTING)
            return
        try:
            # One hop on the worker-thread pool (not Channels' single database
            # thread), the session and user read in it (config.asgi does not
            # read them for this route): at a session's start every member
            # connects at once.
            admitted = await database_sync_to_async(_admit, thread_sensitive=False)(self.scope.get("session"), slug)
        except DATABASE_DOWN as exc:
            unavailable_from(exc)  # logged once per outage
            await self.accept()  # a close code only reaches the page after the handshake
            await self.close(code=protocol.CLOSE_TRY_AGAIN)
            return
        except DomainError as err:
            if err.code != ErrorCode.RATE_LIMITED:
                await self.close(code=protocol.CLOSE_NOT_ALLOWED)
                return
            # Told why and when to come back, then closed.
            await self.accept()
            await self.send_frame(protocol.error_frame(err))
            await self.close(code=protocol.CLOSE_TOO_MANY)
            return
        if admitted is None:
            await self.close(code=protocol.CLOSE_NOT_SIGNED_IN)
            return
        ctx, self.session_ends = admitted
        self.ctx = ctx
        await self.accept()
        metrics.SOCKETS.labels("room").inc()
        self.counted = True
        hub = get_hub()
        self.room = room = await hub.join(ctx.circle_id, self, ctx.alias)
        try:
            state = await database_sync_to_async(services.hello, thread_sensitive=False)(
                ctx, since=since, limit=protocol.RESUME_BATCH, replay_max=protocol.RESUME_MAX
            )
        except DomainError as err:
            await self.send_frame(protocol.error_frame(err))
            await self.close(code=protocol.CLOSE_NOT_ALLOWED)
            return
        hello = protocol.hello_frame(
            alias=ctx.alias,
            role=ctx.role,
            held=state["held"],
            room=state["state"],
            present=room.present_aliases(),
            messages=state["messages"],
            resuming=state["resuming"],
            more=len(state["messages"]) == protocol.RESUME_BATCH,
            reset=state["reset"],
            last_read=state["last_read"],
            muted_until=state["muted_until"],
            hidden=state["hidden"],
            alerts=state["alerts"],
        )
        await self.send_frame(hello)
        sent = hello["messages"]
        if state["resuming"]:
            # Every published message after ``since``, before live traffic, in
            # frames bounded by size.
            last = sent[-1]["id"] if sent else (since or 0)
            more = hello["more_after"]
            while more:
                messages, _latest = await database_sync_to_async(services.resume)(
                    ctx, since=last, limit=protocol.RESUME_BATCH
                )
                batch = protocol.resume_frame(last, messages)
                if not batch["messages"]:
                    break
                await self.send_frame(batch)
                last, more = batch["messages"][-1]["id"], batch["more"]
        else:
            last = max(sent[-1]["id"] if sent else 0, state["state"]["last_id"])
        await hub.go_live(room, self, last_id=last)

    def _since(self) -> int | None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        raw = (query.get("since") or [None])[0]
        if raw is None or not raw.isdigit() or len(raw) > 16:
            return None
        return int(raw)

    @cached_property
    def budget(self) -> FrameBudget:
        # Twice the member's shared frame budget: a member merely over that one is
        # answered frame by frame (rate_limited); only a flood meets this one.
        limit, window = settings.CHAT_RATE_LIMITS["frame"]
        return FrameBudget(2 * limit, window)

    async def _over_budget(self, taken: Take) -> None:
        """Counted before parsing: the first frame over the budget is answered,
        the rest of the window's are dropped unread, a flood closes the socket."""
        if taken is Take.REFUSE:
            err = DomainError(
                ErrorCode.RATE_LIMITED,
                "You are sending faster than this room allows; wait a moment.",
                retry_after=self.budget.retry_after(),
            )
            await self.send_frame(protocol.error_frame(err))
        elif taken is Take.CLOSE:
            await self.close(code=protocol.CLOSE_TOO_MANY)

    async def disconnect(self, code: int) -> None:
        if self.counted:
            metrics.SOCKETS.labels("room").dec()
            self.counted = False
        if self.room is not None:
            await get_hub().leave(self.room, self)
            self.room = None

    # --- hub callbacks ------------------------------------------------------

    async def send_text(self, text: str) -> None:
        # Straight to the server's send (realtime.direct): the hub calls this once
        # per socket per event.
        await direct.sender(self.scope, self.base_send)({"type": "websocket.send", "text": text})

    async def close_socket(self, code: int) -> None:
        await self.close(code=code)

    async def send_frame(self, frame: protocol.Frame_) -> None:
        await self.send(text_data=protocol.encode(frame))

    # --- frames from the client ---------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.session_ends is not None and timezone.now() >= self.session_ends:
            # An expired session cannot keep acting through a socket it opened.
            notice = DomainError(ErrorCode.NOT_MEMBER, "Your session has ended. Please sign in again.")
            await self.send_frame(protocol.error_frame(notice, code="session_ended"))
            await self.close(code=protocol.CLOSE_SESSION_ENDED)
            return
        if shutting_down():
            err = DomainError(
                ErrorCode.UNAVAILABLE, "The room is restarting; this is sent again in a moment.", retry_after=1
            )
            await self.send_frame(protocol.error_frame(err))
            return
        taken = self.budget.take()
        if taken is not Take.OK:
            await self._over_budget(taken)
            return
        ref = None
        reply: protocol.Frame_ | None
        try:
            frame = protocol.parse_client_frame(text_data, bytes_data)
            ref = frame.get("ref")
            if self.room is None or self.ctx is None:  # the connect was refused or not finished
                raise DomainError(ErrorCode.NOT_MEMBER, "This socket is not in a room.")
            reply = await frames.dispatch(self.room, self.ctx, frame)
        except DomainError as err:
            reply = protocol.error_frame(err, ref)
            metrics.ERRORS.labels(err.code.value).inc()
        except Exception:  # never close with 1011: tell the client, keep the socket
            log.exception("frame handling failed")
            reply = protocol.server_error_frame(ref)
            metrics.ERRORS.labels("server_error").inc()
        if reply is not None:
            if ref is not None:
                reply.setdefault("ref", ref)
            await self.send_frame(reply)
