"""A socket opened while the database is unreachable is closed with 1013 (try
again later), not refused with HTTP 500 (config.wsguard)."""

import pytest
from channels.testing import WebsocketCommunicator
from django.db import OperationalError

from config.asgi import application
from core import health
from realtime import protocol

pytestmark = pytest.mark.django_db(transaction=True)

HEADERS = [(b"host", b"localhost"), (b"origin", b"http://localhost"), (b"cookie", b"sessionid=abc")]


# The staff socket's user is read before its consumer runs (config.asgi); a
# room socket reads its own in its first hop (chat.consumers): both say 1013.
ROUTES = ["/ws/circles/morning/", "/ws/moderation/"]


@pytest.mark.parametrize("route", ROUTES)
async def test_a_socket_opened_while_the_database_is_down_is_told_to_come_back(monkeypatch, route):
    def unreachable(session):
        raise OperationalError("connection refused")

    monkeypatch.setattr("community.auth.signed_in_user", unreachable)  # the session read
    ws = WebsocketCommunicator(application, route, headers=HEADERS)
    connected, _ = await ws.connect()
    assert connected  # a close code reaches a page only after the handshake
    closed = await ws.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": protocol.CLOSE_TRY_AGAIN}
    assert health.snapshot()["database"]["up"] is False
    health.succeeded("database")  # the next test starts with the database up
    await ws.wait()


@pytest.mark.parametrize("route", ROUTES)
async def test_any_other_error_is_not_hidden(monkeypatch, route):
    def broken(session):
        raise ValueError("a bug, not an outage")

    monkeypatch.setattr("community.auth.signed_in_user", broken)
    ws = WebsocketCommunicator(application, route, headers=HEADERS)
    with pytest.raises(ValueError, match="a bug"):
        await ws.connect()
