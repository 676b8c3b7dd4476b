import pytest
from channels.testing import WebsocketCommunicator

from config.asgi import application
from tests.conftest import session_cookie_for


class Room:
    """A connected member: the real ASGI stack (Origin check, session auth, router)."""

    def __init__(self, communicator: WebsocketCommunicator, hello: dict):
        self.ws = communicator
        self.hello = hello

    async def send(self, **frame):
        await self.ws.send_json_to(frame)

    async def recv(self, timeout: float = 3):
        return await self.ws.receive_json_from(timeout=timeout)

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

    async def nothing(self, timeout: float = 0.3, ignore=("presence",)):
        """True when no frame except ``ignore`` types arrives within ``timeout``."""
        while True:
            if await self.ws.receive_nothing(timeout=timeout):
                return True
            frame = await self.ws.receive_json_from()
            if frame["type"] not in ignore:
                raise AssertionError(f"unexpected frame {frame}")

    async def close(self):
        await self.ws.disconnect()


def communicator_for(user, slug: str, *, since=None, origin=b"http://localhost", cookie=True):
    path = f"/ws/circles/{slug}/" + (f"?since={since}" if since is not None else "")
    headers = []
    if origin is not None:
        headers.append((b"origin", origin))
    if cookie and user is not None:
        headers.append((b"cookie", f"sessionid={session_cookie_for(user)}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


@pytest.fixture
def connect():
    opened: list[Room] = []

    async def open_(user, circle, *, since=None):
        from channels.db import database_sync_to_async

        communicator = await database_sync_to_async(communicator_for)(user, circle.slug, since=since)
        connected, code = await communicator.connect()
        assert connected, f"refused with {code}"
        hello = await communicator.receive_json_from(timeout=3)
        assert hello["type"] == "hello", hello
        room = Room(communicator, hello)
        opened.append(room)
        return room

    yield open_
