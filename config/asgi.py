"""ASGI entry point: HTTP to Django, WebSocket through (the server's send kept for deliveries,
realtime.direct) → Origin check → (1013 while the database is down) → session → routes
(the staff socket's user read first; a room socket reads its own, chat.consumers)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddleware  # noqa: E402
from channels.db import database_sync_to_async  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import CookieMiddleware, SessionMiddleware  # noqa: E402
from django.urls import URLPattern  # noqa: E402

from chat.routing import websocket_urlpatterns  # noqa: E402
from community import auth  # noqa: E402
from config.origin import SameOriginValidator  # noqa: E402
from config.wsguard import TryAgainWhileDatabaseDown  # noqa: E402
from moderation.routing import websocket_urlpatterns as moderation_urlpatterns  # noqa: E402
from realtime.direct import KeepDirectSend  # noqa: E402


class PooledAuthMiddleware(AuthMiddleware):
    """Channels' session auth, with the session and the user loaded on the
    worker-thread pool instead of Channels' one database thread: at a session's
    start every member connects at once, and one connect must not wait for every
    other connect's database round trips (bench/README.md, the session-start storm)."""

    async def resolve_scope(self, scope):
        scope["user"]._wrapped = await database_sync_to_async(_user_of, thread_sensitive=False)(scope)


def _user_of(scope):
    """Who the socket's session is signed in as (Django's rule, community.auth)."""
    return auth.signed_in_user(scope["session"])


def _signed_in(patterns: list[URLPattern]) -> list[URLPattern]:
    """Routes whose consumer takes ``scope["user"]``: read before it runs."""
    return [URLPattern(p.pattern, PooledAuthMiddleware(p.callback), p.default_args, p.name) for p in patterns]


# The live rooms read the session and the user themselves, in the same hop as
# the membership (chat.consumers._admit): one thread hop fewer for every member
# arriving at a session's start.  The staff socket is given its user first.
routes = URLRouter(websocket_urlpatterns + _signed_in(moderation_urlpatterns))

# KeepDirectSend is outermost: the hub's text frames go straight to the server's
# send (realtime.direct), so a middleware added inside it never sees them (it
# still sees accept and close).  Put one that must see every frame outside it.
application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": KeepDirectSend(
            SameOriginValidator(TryAgainWhileDatabaseDown(CookieMiddleware(SessionMiddleware(routes))))
        ),
    }
)
