"""The server's own ``send`` for a socket, for the hub's deliveries.

Every frame a consumer sends passes back through the middleware stack's send
wrappers: Channels' session middleware (which checks whether the session
changed, to save it with an HTTP response) and the outage guard (which watches
for the handshake's answer).  Neither acts on a text frame after the handshake,
yet a busy room's deliveries -- one per socket per event, thousands a second --
paid for both (bench/README.md, "Against the tree before the restructuring").

``KeepDirectSend``, outermost in ``config.asgi``, puts the server's ``send`` in
the scope; ``sender`` gives a consumer that ``send`` for its text frames (or its
own ``base_send`` where nothing kept one, e.g. a consumer mounted without it).
Accept and close still go the long way, through every wrapper.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Send = Callable[[dict[str, Any]], Awaitable[None]]

DIRECT_SEND = "realtime.direct_send"


class KeepDirectSend:
    """ASGI middleware: remember the server's ``send`` in the scope."""

    def __init__(self, inner: Callable[..., Awaitable[None]]) -> None:
        self.inner = inner

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Send) -> None:
        await self.inner({**scope, DIRECT_SEND: send}, receive, send)


def sender(scope: MutableMapping[str, Any], fallback: Send) -> Send:
    """The send a consumer's text frames take."""
    direct: Send | None = scope.get(DIRECT_SEND)
    return direct if direct is not None else fallback
