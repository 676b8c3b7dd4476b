"""The moderators' socket: crisis alerts and queue changes, live."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from community.permissions import is_site_moderator, is_site_moderator_now
from core.errors import DomainError, ErrorCode
from realtime import direct, protocol
from realtime.hub import Room, get_hub

from . import escalation


class StaffConsumer(AsyncWebsocketConsumer):
    """Site moderators only; server → client frames ``alert`` and ``queue``
    (written by the process's hub, which holds one subscription to the staff
    group for every staff socket of the process)."""

    channel_layer_alias = "staff-sockets-have-no-channel"
    membership_id = 0  # the hub's Socket shape: no circle membership here
    user_id = 0
    role = "moderator"
    room: Room | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=protocol.CLOSE_NOT_SIGNED_IN)
            return
        if not await database_sync_to_async(is_site_moderator)(user):
            await self.close(code=protocol.CLOSE_NOT_ALLOWED)
            return
        self.user_id = user.pk
        await self.accept()
        self.room = await get_hub().join_staff(self)
        # Asked again now that the socket hears the staff group: a moderator removed
        # from the group while it was subscribing would otherwise keep a socket
        # (the Kicked event went out before the subscription existed).
        if not await database_sync_to_async(is_site_moderator_now)(user):
            await self.close(code=protocol.CLOSE_ACCESS_CHANGED)
            return
        escalation.ensure_running()

    async def disconnect(self, code: int) -> None:
        if self.room is not None:
            await get_hub().leave(self.room, self)
            self.room = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        err = DomainError(ErrorCode.BAD_FRAME, "This socket only listens.")
        await self.send(text_data=protocol.encode(protocol.error_frame(err)))

    # --- hub callbacks ------------------------------------------------------

    async def send_text(self, text: str) -> None:
        await direct.sender(self.scope, self.base_send)({"type": "websocket.send", "text": text})

    async def close_socket(self, code: int) -> None:
        await self.close(code=code)
