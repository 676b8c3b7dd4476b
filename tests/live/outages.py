"""Tools for fault tests: a Redis of the test's own, a TCP cut in front of
PostgreSQL, and a client that follows the gap rule.  Loopback only; every
process and thread here stops by itself at the end of its test."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import threading
import time
from urllib.parse import urlsplit, urlunsplit

from tests.live.wsclient import LiveSocket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A redis-server of this test's own on a free port, keeping nothing on disk."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.port = free_port()
        self.binary = binary
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        raise RuntimeError("own redis-server did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


class DatabaseCut:
    """A TCP relay in front of PostgreSQL that a test can cut: while cut, every
    open connection through it is dropped and new ones are refused, as when the
    database host goes away.  Runs in a thread of its own."""

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self.port = free_port()
        netloc = parts.netloc.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{self.port}")
        if netloc == parts.netloc:
            netloc = parts.netloc.replace(parts.hostname or "", f"127.0.0.1:{self.port}", 1)
        self.url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
        self.cut_until = 0.0
        self.loop = asyncio.new_event_loop()
        self.writers: set[asyncio.StreamWriter] = set()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.port))
        self.ready.set()
        with contextlib.suppress(Exception):
            self.loop.run_forever()
        server.close()

    def cutting(self) -> bool:
        return time.monotonic() < self.cut_until

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cutting():
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.writers.update((writer, up_writer))

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while not self.cutting():
                    data = await src.read(65536)
                    if not data:
                        break
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        self.writers.difference_update((writer, up_writer))

    def cut(self, seconds: float) -> None:
        """Drop every connection now and refuse new ones for ``seconds``."""
        self.cut_until = time.monotonic() + seconds

        def drop() -> None:
            for w in list(self.writers):
                w.transport.abort()
            self.writers.clear()

        self.loop.call_soon_threadsafe(drop)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Follower:
    """A member's page as far as ids go (the gap rule in docs/protocol.md): it
    holds every id it was sent and the newest id up to which it has them all;
    a message whose ``prev`` is past that point means broadcasts were missed, so
    it asks for ``resume`` from there, and a resume batch fills the hole."""

    def __init__(self, sock: LiveSocket) -> None:
        self.sock = sock
        self.ids: set[int] = {m["id"] for m in sock.hello["messages"]}
        self.newest = max([*self.ids, sock.hello["room"]["last_id"]])
        self.resumes = 0
        self.errors: list[dict] = []

    async def follow_until(self, wanted: set[int], timeout: float) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not wanted <= self.ids:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                missing = sorted(wanted - self.ids)
                raise TimeoutError(f"missing {missing[:10]} ({len(missing)}); errors {self.errors[:3]}")
            try:
                frame = await self.sock.recv(timeout=min(left, 1.5))
            except TimeoutError:
                await self._resume()  # nothing new for a while: check anyway
                continue
            if frame["type"] == "message":
                message_id, prev = frame["message"]["id"], frame["prev"]
                self.ids.add(message_id)
                if prev is None or prev <= self.newest:
                    self.newest = max(self.newest, message_id)
                else:
                    await self._resume()
            elif frame["type"] == "error":
                self.errors.append(frame)
            elif frame["type"] == "batch" and frame["kind"] == "resume":
                got = [m["id"] for m in frame["messages"]]
                self.ids.update(got)
                if got:
                    self.newest = max(self.newest, got[-1])
                if frame.get("more"):
                    await self._resume()

    async def _resume(self) -> None:
        self.resumes += 1
        await self.sock.send(type="resume", since=self.newest)
