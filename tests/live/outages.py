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

import websockets

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
        """Close every relayed connection (so no database session outlives the
        test and keeps its database from being dropped), then the relay."""

        def close_all() -> None:
            for w in list(self.writers):
                w.transport.abort()
            self.writers.clear()
            self.loop.stop()

        self.loop.call_soon_threadsafe(close_all)
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


class Page:
    """A member's page under faults, as docs/protocol.md asks a client to behave:
    it sends with a ``client_id`` and keeps every send until it is acked; when its
    socket drops it reconnects at once to a process that answers, with
    ``?since=`` the newest id up to which it has every message, and sends again
    what was not acked (same ``client_id``); it follows the gap rule; an
    ``unavailable`` refusal is sent again after ``retry_after``.

    What it saw is kept for the test to judge: every ack, every id, and for each
    connection the ids in the order that connection delivered them (``hello``
    and its replay, then live frames; gap-repair batches are kept apart, since
    the protocol lets them repeat ids)."""

    def __init__(self, name: str, cookie: str, slug: str, servers: list) -> None:
        self.name, self.cookie, self.slug = name, cookie, slug
        self.servers = servers  # the processes to try, first the page's own
        self.sock: LiveSocket | None = None
        self.ids: set[int] = set()
        self.newest = 0
        self.pending: dict[str, str] = {}  # client_id -> body, until acked
        self.order: list[str] = []  # client_ids in the order they were made
        self.acks: dict[str, list[int]] = {}  # client_id -> every id it was acked with
        self.ack_times: list[float] = []  # time.monotonic() of each ack
        self.streams: list[list[int]] = []  # per connection: ids as delivered
        self.repairs = 0
        self.resent = 0  # sends made again after a reconnect
        self.errors: list[dict] = []
        self.drops: list[tuple[int | None, float]] = []  # (close code, seconds until back)
        self.connected = asyncio.Event()
        self._asked = False
        self._count = 0

    def open_count(self) -> int:
        return len(self.streams)

    async def connect(self, *, since: int | None = None) -> None:
        """Connect to the first process that answers (each tried for a few seconds)."""
        deadline = time.monotonic() + 15
        while True:
            for server in self.servers:
                if getattr(server, "dead", False):
                    continue
                try:
                    sock = await LiveSocket.open(server, self.slug, self.cookie, since=since)
                except (OSError, TimeoutError, ConnectionError, websockets.InvalidStatus, websockets.ConnectionClosed):
                    continue
                self._take_hello(sock, since)
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: no process took the connection")
            await asyncio.sleep(0.1)

    def _take_hello(self, sock: LiveSocket, since: int | None) -> None:
        hello = sock.hello
        got = [m["id"] for m in hello["messages"]]
        self.streams.append(list(got))
        self.ids.update(got)
        if since is not None and not hello.get("reset"):  # every message after since, in order
            self.newest = max([self.newest, *got[-1:]])
        else:  # the newest messages, as on a first visit
            self.newest = max([self.newest, *got, hello["room"]["last_id"]])
        self._asked = False
        self.sock = sock
        self.connected.set()

    def make(self, body: str) -> str:
        client_id = f"{self.name}-{self._count}"
        self._count += 1
        self.pending[client_id] = body
        self.order.append(client_id)
        return client_id

    async def send(self, client_id: str) -> None:
        """Send now if connected; otherwise the reconnect sends it."""
        if self.sock is None or client_id not in self.pending:
            return
        with contextlib.suppress(websockets.ConnectionClosed):
            await self.sock.send(type="send", client_id=client_id, body=self.pending[client_id], ref=client_id)

    async def _resend_pending(self) -> None:
        for client_id in [c for c in self.order if c in self.pending]:
            self.resent += 1
            await self.send(client_id)

    async def ask_resume(self) -> None:
        if self.sock is None:
            return
        self.repairs += 1
        self._asked = True
        with contextlib.suppress(websockets.ConnectionClosed):
            await self.sock.send(type="resume", since=self.newest)

    def _take(self, frame: dict) -> bool:
        """Record a frame; True when it shows a gap to repair."""
        kind = frame["type"]
        if kind == "message":
            message_id, prev = frame["message"]["id"], frame["prev"]
            self.streams[-1].append(message_id)
            self.ids.add(message_id)
            if prev is None or prev <= self.newest:
                self.newest = max(self.newest, message_id)
                return False
            return prev not in self.ids
        if kind == "batch" and frame["kind"] == "resume":
            got = [m["id"] for m in frame["messages"]]
            if self._asked:
                self.ids.update(got)
            else:  # the replay after ?since, before live traffic
                self.streams[-1].extend(got)
                self.ids.update(got)
            if got:
                self.newest = max(self.newest, got[-1])
            return bool(self._asked and frame.get("more"))
        if kind == "ack":
            self.acks.setdefault(frame["client_id"], []).append(frame["id"])
            self.ack_times.append(time.monotonic())
            self.pending.pop(frame["client_id"], None)
        elif kind == "error":
            self.errors.append(frame)
            ref = frame.get("ref")
            if frame.get("code") == "unavailable" and ref in self.pending:
                asyncio.get_running_loop().call_later(
                    float(frame.get("retry_after", 1)), lambda: asyncio.ensure_future(self.send(ref))
                )
        return False

    async def run(self, stop: asyncio.Event) -> None:
        """Read until ``stop``; reconnect whenever the socket drops."""
        while not stop.is_set():
            sock = self.sock
            assert sock is not None
            try:
                frame = await sock.recv(timeout=0.5)
            except TimeoutError:
                continue
            except websockets.ConnectionClosed:
                dropped = time.monotonic()
                self.sock = None
                self.connected.clear()
                await self.connect(since=self.newest)
                self.drops.append((sock.ws.close_code, time.monotonic() - dropped))
                await self._resend_pending()
                continue
            if self._take(frame):
                await self.ask_resume()

    async def settle(self, wanted: set[int], timeout: float) -> None:
        """Until every pending send is acked and every id in ``wanted`` is had
        (asking ``resume`` when nothing comes for a second)."""
        deadline = time.monotonic() + timeout
        while self.pending or not wanted <= self.ids:
            if time.monotonic() > deadline:
                missing = sorted(wanted - self.ids)
                raise TimeoutError(
                    f"{self.name}: {len(self.pending)} unacked, missing {missing[:10]} ({len(missing)}); "
                    f"errors {self.errors[:3]}"
                )
            assert self.sock is not None
            try:
                frame = await self.sock.recv(timeout=1.0)
            except TimeoutError:
                if not wanted <= self.ids:
                    await self.ask_resume()
                if self.pending:
                    await self._resend_pending()
                continue
            if self._take(frame):
                await self.ask_resume()
