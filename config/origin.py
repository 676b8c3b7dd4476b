"""The WebSocket Origin check: the page that opens a socket must be this site.

Channels' ``AllowedHostsOriginValidator`` compares only the host name with
ALLOWED_HOSTS, so ``http://evil.localhost:8000`` or another port on an allowed
host would pass.  Here the Origin must be the socket's own origin, scheme and
port included, as Django's CSRF check does for forms:

* its host and port equal the request's ``Host`` header, whose host is in
  ALLOWED_HOSTS; and its scheme is ``https`` when HTTPS=true (behind TLS), else
  ``http``; or
* it is listed exactly in CSRF_TRUSTED_ORIGINS (a proxy on another origin).

Anything else, a missing Origin included, is refused at the handshake (HTTP 403)
before any data is sent.  Both sockets (the live room and the staff socket) are
behind it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            try:
                return value.decode("latin-1")
            except UnicodeDecodeError:
                return None
    return None


def origin_allowed(origin: str | None, host: str | None) -> bool:
    if not origin:
        return False
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    if not host:
        return False
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    scheme = "https" if settings.HTTPS else "http"
    if parts.scheme != scheme or parts.path not in ("", "/") or parts.query or parts.username:
        return False
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    return parts.netloc.lower() == host.lower()


class SameOriginValidator:
    """ASGI middleware for WebSocket routes: refuse any Origin but the site's own."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not origin_allowed(_header(scope, b"origin"), _header(scope, b"host")):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
