"""The Channels tutorial's chat consumer (docs/tutorial/part_3), async flavour.

Every socket has its own channel and joins the room's group; a received frame is
``group_send``-ed as-is; every member's consumer gets the event from the layer and
JSON-encodes it for its own socket.  Nothing is stored, checked or screened.
Channels' default ``dispatch`` (with its per-event ``aclose_old_connections``
thread hop) is kept on purpose: this is what the framework does out of the box.
"""

import json

from channels.generic.websocket import AsyncWebsocketConsumer


class BareChatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.group = f"chat_{self.scope['url_route']['kwargs']['room']}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, close_code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        text = json.loads(text_data)["text"]
        await self.channel_layer.group_send(self.group, {"type": "chat.message", "text": text})

    async def chat_message(self, event):
        await self.send(text_data=json.dumps({"type": "message", "text": event["text"]}))


class BareNoHopConsumer(BareChatConsumer):
    """Diagnostic variant (target ``nohop``, not part of the matrix): the same
    consumer without the per-event ``aclose_old_connections`` thread hop, to show
    how much of the bare room's cost that hop is."""

    async def dispatch(self, message):
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
