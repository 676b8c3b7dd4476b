"""The moderators' socket: crisis alerts and queue changes, live."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from community import notify
from community.permissions import is_site_moderator

from . import escalation


class StaffConsumer(AsyncJsonWebsocketConsumer):
    """Site moderators only; server → client frames ``alert`` and ``queue``."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        if not await database_sync_to_async(is_site_moderator)(user):
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(notify.staff_group(), self.channel_name)
        await self.accept()
        escalation.ensure_running()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(notify.staff_group(), self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        await self.send_json({"type": "error", "code": "bad_frame", "message": "This socket only listens."})

    async def staff_alert(self, event):
        await self.send_json({"type": "alert", "alert": event["alert"]})

    async def staff_queue(self, event):
        await self.send_json({"type": "queue", "change": event["change"], "flag": event["flag"], "urgent": event["urgent"]})
