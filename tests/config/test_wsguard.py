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


async def test_a_socket_opened_while_the_database_is_down_is_told_to_come_back(monkeypatch):
    def unreachable(scope):
        raise OperationalError("connection refused")

    monkeypatch.setattr("config.asgi._user_of", unreachable)  # the session read, before any consumer
    ws = WebsocketCommunicator(application, "/ws/circles/morning/", headers=HEADERS)
    connected, _ = await ws.connect()
    assert connected  # a close code reaches a page only after the handshake
    closed = await ws.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": protocol.CLOSE_TRY_AGAIN}
    assert health.snapshot()["database"]["up"] is False
    health.succeeded("database")  # the next test starts with the database up
    await ws.wait()


async def test_any_other_error_is_not_hidden(monkeypatch):
    def broken(scope):
        raise ValueError("a bug, not an outage")

    monkeypatch.setattr("config.asgi._user_of", broken)
    ws = WebsocketCommunicator(application, "/ws/circles/morning/", headers=HEADERS)
    with pytest.raises(ValueError, match="a bug"):
        await ws.connect()
