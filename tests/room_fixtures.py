"""Fixtures for the live-room tests: real sockets through config.asgi.application,
people and messages built through the services."""

import contextlib
import itertools
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.cache import cache, caches
from django.test import override_settings

from chat import services as chat_services
from community.models import Membership
from config.asgi import application
from tests.conftest import session_cookie_for


class Room:
    """A connected member: the real ASGI stack (Origin check, session auth, router)."""

    def __init__(self, communicator: WebsocketCommunicator, hello: dict):
        self.ws = communicator
        self.hello = hello
        self.seen: list[dict] = [hello]  # every frame received, for "never named" checks
        self.split: list[dict] = []  # the rest of a received "messages" frame
        self.closed = False

    async def send(self, **frame):
        await self.ws.send_json_to(frame)

    async def send_raw(self, text: str | None = None, data: bytes | None = None):
        """Any WebSocket frame, including empty ones (send_to refuses those)."""
        if data is not None:
            await self.ws.send_input({"type": "websocket.receive", "bytes": data})
        else:
            await self.ws.send_input({"type": "websocket.receive", "text": text})

    async def recv(self, timeout: float = 3):
        """The next frame; a ``messages`` frame (several messages published together)
        is seen as its ``message`` frames, one by one, in order."""
        if self.split:
            frame = self.split.pop(0)
        else:
            frame = await self.ws.receive_json_from(timeout=timeout)
            if frame["type"] == "messages":
                self.split = [{"type": "message", **item} for item in frame["items"]]
                frame = self.split.pop(0)
        self.seen.append(frame)
        return frame

    async def recv_type(self, kind: str, timeout: float = 3):
        """Next frame of ``kind``, skipping presence updates."""
        while True:
            frame = await self.recv(timeout)
            if frame["type"] == kind:
                return frame
            if frame["type"] != "presence":
                raise AssertionError(f"expected {kind}, got {frame}")

    async def recv_types(self, *kinds: str, timeout: float = 3) -> dict[str, dict]:
        """One frame of each of ``kinds``, in whatever order they come (presence skipped)."""
        got: dict[str, dict] = {}
        while len(got) < len(kinds):
            frame = await self.recv(timeout)
            if frame["type"] in kinds and frame["type"] not in got:
                got[frame["type"]] = frame
            elif frame["type"] != "presence":
                raise AssertionError(f"expected {kinds}, got {frame}")
        return got

    async def frames(self, n: int, timeout: float = 3) -> list[dict]:
        """The next ``n`` frames, presence updates skipped."""
        got = []
        while len(got) < n:
            frame = await self.recv(timeout)
            if frame["type"] != "presence":
                got.append(frame)
        return got

    async def sent(self, timeout: float = 3) -> dict:
        """After a ``send``: its ack and the broadcast of the acked message, skipping
        other members' messages that arrive in between; returns the ack."""
        ack, echoed, others = None, False, []
        while ack is None or not echoed:
            frame = await self.recv(timeout)
            if frame["type"] == "ack":
                assert ack is None, frame
                ack = frame
            elif frame["type"] == "message":
                others.append(frame["message"]["id"])
            elif frame["type"] != "presence":
                raise AssertionError(f"expected ack and message, got {frame}")
            echoed = ack is not None and ack["id"] in others
        return ack

    async def error(self, code: str, timeout: float = 3) -> dict:
        """The next non-presence frame must be an ``error`` with ``code``."""
        frame = await self.recv_type("error", timeout)
        assert frame["code"] == code, frame
        assert frame["message"], frame
        return frame

    async def nothing(self, timeout: float = 0.3, ignore=("presence",)):
        """True when no frame except ``ignore`` types arrives within ``timeout``."""
        while True:
            if await self.ws.receive_nothing(timeout=timeout):
                return True
            frame = await self.recv()
            if frame["type"] not in ignore:
                raise AssertionError(f"unexpected frame {frame}")

    async def ping(self):
        """The socket is open and answering: ping → pong."""
        await self.send(type="ping")
        assert (await self.recv_type("pong"))["type"] == "pong"

    async def close(self):
        if not self.closed:
            self.closed = True
            # Generous: the consumer's disconnect leaves the hub (a channel-layer
            # round trip on Redis).  Cut short, it would leave the hub's reader
            # running past the test's event loop.
            await self.ws.disconnect(timeout=10)


def communicator_for(user, slug: str, *, since=None, origin=b"http://localhost", cookie=True, host=b"localhost"):
    path = f"/ws/circles/{slug}/" + (f"?since={since}" if since is not None else "")
    headers = [(b"host", host)] if host is not None else []
    if origin is not None:
        headers.append((b"origin", origin))
    if cookie and user is not None:
        headers.append((b"cookie", f"sessionid={session_cookie_for(user)}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


@pytest.fixture
async def connect():
    """``await connect(user, circle, since=None)`` → a live ``Room`` past its hello.

    Sockets a failing test left open are closed at teardown, so the hub's tasks
    never outlive the test's event loop.
    """
    opened: list[Room] = []

    async def open_(user, circle, *, since=None):
        communicator = await database_sync_to_async(communicator_for)(user, circle.slug, since=since)
        connected, code = await communicator.connect()
        assert connected, f"refused with {code}"
        hello = await communicator.receive_json_from(timeout=3)
        assert hello["type"] == "hello", hello
        room = Room(communicator, hello)
        opened.append(room)
        return room

    yield open_
    for room in opened:
        if not room.closed:
            with contextlib.suppress(Exception):  # already failed; the test reports why
                await room.close()


@pytest.fixture
def attempt():
    """``await attempt(user, slug, origin=…)`` → (connected, close code) of one
    connection attempt, and whether any data frame was sent before the refusal."""

    async def try_(user, slug: str, *, origin=b"http://localhost", cookie=True, host=b"localhost"):
        communicator = await database_sync_to_async(communicator_for)(
            user, slug, origin=origin, cookie=cookie, host=host
        )
        connected, code = await communicator.connect()
        # As a server does after a refusal: the application is told the socket is gone.
        await communicator.disconnect()
        sent_data = not communicator.output_queue.empty()
        return connected, code, sent_data

    return try_


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit and slow-mode counters live in the cache, keyed by membership id.

    LocMemCache is this process's own and is cleared.  A shared Redis is never
    flushed (other runs and processes use it); membership ids are unique within a
    run, but a new test database numbers them from 1 again, so each test also gets
    its own key prefixes (the cache's, and REDIS_PREFIX, under which
    chat.ratelimit counts on Redis directly): counters from an earlier run with
    the same REDIS_PREFIX cannot leak in.  Counters expire on their own; the
    rule-set version key (no timeout) goes with scripts/test's per-run cleanup.
    """
    default = settings.CACHES["default"]
    if default["BACKEND"].endswith("LocMemCache"):
        cache.clear()
        caches["throttle"].clear()
        yield
        return
    unique = f"test-{uuid.uuid4().hex[:12]}"
    per_test = {
        alias: {**conf, "KEY_PREFIX": f"{conf.get('KEY_PREFIX', '')}:{unique}"}
        for alias, conf in settings.CACHES.items()
    }
    # A Daphne started by the test gets the same suffix (config/settings/test.py).
    with override_settings(
        CACHES=per_test, REDIS_PREFIX=f"{settings.REDIS_PREFIX}:{unique}", IC_TEST_CACHE_SUFFIX=unique
    ):
        yield


@pytest.fixture
def people(make_user, join):
    """``people(circle, n, role=…)`` → ``n`` new (user, membership) pairs in ``circle``."""
    counter = itertools.count(1)

    def make(circle, n: int = 1, role=Membership.Role.MEMBER):
        made = []
        for _ in range(n):
            user = make_user(f"{role}-{circle.slug}-{next(counter)}")
            made.append((user, join(user, circle, role)))
        return made

    return make


@pytest.fixture
def post():
    """``post(user, circle, body, client_id=None)`` → the stored id, through the
    same service a ``send`` frame calls."""
    counter = itertools.count(1)

    def do(user, circle, body: str, client_id: str | None = None) -> int:
        ctx = chat_services.open_room(user=user, slug=circle.slug)
        result = chat_services.post_message(ctx, client_id=client_id or f"setup-{next(counter)}", body=body)
        return result.id

    return do


def staff_communicator(user) -> WebsocketCommunicator:
    """The moderators' socket (/ws/moderation/) as ``user``'s browser would open it
    (``None``: signed out).  Call in a thread (it makes a session)."""
    headers = [(b"host", b"localhost"), (b"origin", b"http://localhost")]
    if user is not None:
        headers.append((b"cookie", f"sessionid={session_cookie_for(user)}".encode()))
    return WebsocketCommunicator(application, "/ws/moderation/", headers=headers)


async def staff_socket(user) -> WebsocketCommunicator:
    """A connected moderators' socket for ``user``."""
    ws = await database_sync_to_async(staff_communicator)(user)
    connected, code = await ws.connect()
    assert connected, code
    return ws
