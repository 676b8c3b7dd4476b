"""realtime.direct: the server's send kept in the scope for the hub's deliveries."""

import asyncio

from realtime.direct import DIRECT_SEND, KeepDirectSend, sender


def test_the_outermost_send_is_kept_in_a_copy_of_the_scope():
    seen = {}

    async def inner(scope, receive, send):
        seen["scope"] = scope
        await sender(scope, None)({"type": "websocket.send", "text": "hi"})

    sent = []

    async def server_send(message):
        sent.append(message)

    original = {"type": "websocket", "path": "/ws/circles/x/"}
    asyncio.run(KeepDirectSend(inner)(original, None, server_send))
    assert seen["scope"][DIRECT_SEND] is server_send
    assert DIRECT_SEND not in original  # the server's own scope is not changed
    assert sent == [{"type": "websocket.send", "text": "hi"}]


def test_without_the_middleware_a_consumer_uses_its_own_send():
    async def own(message):
        return None

    assert sender({"type": "websocket"}, own) is own
