"""The one command for a several-process deployment (issue 15): the real
``scripts/serve --processes 2`` on the test's own database and Redis prefix
starts two Daphne processes that are ready, share a room, and all stop on
SIGTERM (sockets closed with 1012)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import websockets
from django.conf import settings

from realtime import protocol
from tests.conftest import ROOT, _database_url, session_cookie_for
from tests.live.wsclient import LiveSocket

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _two_free_ports() -> int:
    """A port P with P+1 free too (scripts/serve takes PORT, PORT+1, ...)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise RuntimeError("no two free ports in a row")


class Server:
    """What LiveSocket needs of a server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"


def _ready(server: Server) -> bool:
    try:
        with urllib.request.urlopen(f"{server.url}/readyz", timeout=5) as response:
            return response.status == 200 and json.loads(response.read())["ready"]
    except (OSError, urllib.error.URLError, ValueError):
        return False


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


async def _close_code(sock: LiveSocket) -> int | None:
    """Read until the server closes the socket; its close code."""
    try:
        while True:
            await sock.recv(timeout=20)
    except websockets.ConnectionClosed:
        return sock.ws.close_code
    except TimeoutError:
        return None


def test_scripts_serve_two_processes_share_a_room_and_stop_on_sigterm(make_user, circle, join, tmp_path):
    if not os.environ.get("REDIS_URL"):
        pytest.fail("REDIS_URL is required (scripts/test pass 2 sets it)")
    port = _two_free_ports()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",  # what an operator runs
        "DATABASE_URL": _database_url(),  # the test's own database
        "REDIS_PREFIX": f"{settings.REDIS_PREFIX}:serve-{uuid.uuid4().hex[:8]}",
        "SECRET_KEY": settings.SECRET_KEY,  # the sessions the test made must be valid
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }
    members = [join(make_user(f"serve-{n}"), circle) for n in range(2)]
    cookies = [session_cookie_for(m.user) for m in members]
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        script = subprocess.Popen(
            [str(ROOT / "scripts" / "serve"), "--processes", "2", "--no-bootstrap"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the teardown can end all of it
        )
    servers = [Server(port), Server(port + 1)]
    children: list[int] = []
    try:
        deadline = time.monotonic() + 120  # migrate, the rule pack, two processes starting
        while not all(_ready(s) for s in servers):
            assert script.poll() is None, f"scripts/serve exited {script.returncode}:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, f"not ready in 120 s:\n{log_path.read_text()}"
            time.sleep(0.5)
        children = _children(script.pid)
        assert len(children) >= 3, children  # two Daphne processes and crisis re-escalation

        async def scenario():
            one = await LiveSocket.open(servers[0], circle.slug, cookies[0])
            two = await LiveSocket.open(servers[1], circle.slug, cookies[1])
            await one.send(type="send", client_id="serve-1", body="hello from the first process")
            ack = await one.recv_type("ack", timeout=10)
            got = await two.recv_type("message", timeout=10)
            assert got["message"]["id"] == ack["id"]
            script.send_signal(signal.SIGTERM)  # as a supervisor stops it
            return [await _close_code(one), await _close_code(two)]

        codes = asyncio.run(scenario())
        assert script.wait(timeout=30) == 0, log_path.read_text()
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in children if _alive(pid)], log_path.read_text()
        assert codes == [protocol.CLOSE_RESTARTING, protocol.CLOSE_RESTARTING], codes
        assert "stopping" in log_path.read_text()
    finally:
        if script.poll() is None or any(_alive(pid) for pid in children):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(script.pid, signal.SIGKILL)  # only this test's own process group
            script.wait(timeout=10)
