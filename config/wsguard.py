"""A socket opened while the database is unreachable is told to come back later.

The session and the user are read from the database by the auth middleware,
before any consumer runs: during an outage that read raises, and Daphne answers
the handshake with HTTP 500 (and a traceback in the log for every attempt).
Here that error becomes what the consumer itself answers in an outage: the
handshake completes and the socket is closed with **1013** ("try again later",
docs/protocol.md), logged once per outage through core.health.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from core.unavailable import DATABASE_DOWN, unavailable_from
from realtime.protocol import CLOSE_TRY_AGAIN

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]


class TryAgainWhileDatabaseDown:
    """ASGI middleware for WebSocket scopes (put it outside the auth middleware)."""

    def __init__(self, inner: App) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        received = answered = False

        async def receive_seen() -> Message:
            nonlocal received
            message = await receive()
            received = True
            return message

        async def send_seen(message: Message) -> None:
            nonlocal answered
            if message["type"] in ("websocket.accept", "websocket.close", "websocket.http.response.start"):
                answered = True
            await send(message)

        try:
            await self.inner(scope, receive_seen, send_seen)
        except DATABASE_DOWN as exc:
            if answered:  # the consumer had its say; nothing more to tell the page
                raise
            unavailable_from(exc)
            if not received:
                await receive()  # the websocket.connect the inner app never read
            await send({"type": "websocket.accept"})  # a close code reaches a page only after the handshake
            await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN})
