#!/usr/bin/env python
"""Load live rooms and compare our consumer with the bare Channels broadcast.

Starts its own Daphne processes on free 127.0.0.1 ports, connects N clients to
one room (or to each of K rooms: --circles, spread load), has S of them per room
send for T seconds (a fixed total rate, or as fast as the server confirms),
counts every delivery, checks each one against the body its id was
acknowledged for (blank, wrong, missing, dup), reads ours' stored messages back
and prints a table.  See bench/README.md for the options and the meaning of
every column.

    .venv/bin/python bench/room_bench.py --clients 100 --rate 20 --duration 10
    .venv/bin/python bench/room_bench.py --clients 100 --throughput --redis
    .venv/bin/python bench/room_bench.py --matrix          # what bench/run_all.sh runs
    .venv/bin/python bench/room_bench.py --circles 100 --clients 10 --rate 100 --window 1 --modes rate,throughput
                                                           # spread load (bench/run_spread.sh)

Everything is bounded: connecting, sending, draining, the whole run (an alarm
ends it), and the Daphne children die with this process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import html as html_lib
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "data" / "bench"
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
REDIS_BENCH_URL = "redis://127.0.0.1:6379/8"
PG_BENCH_DB = "ic_bench"
PASSWORD = "quiet harbor lantern at dawn"
HIGH_LIMIT = str(10**9)
CAPACITY = "100000"  # per channel; far above what one cell can queue
STEADY_AFTER = 3.0  # s: the "steady" latencies leave out messages sent earlier in a cell
PUBLISHED_VERDICTS = {"published", "flagged", "redacted", "crisis"}

# Timestamps, sender tags and sequence numbers travel inside the message body as
# letters (no digits, no vowels) so that no screening rule (phone numbers, words)
# can rewrite them.  Sender tag + sequence number make every body unique in a run.
ALPHABET = "bcdfghjklmnpqrstvwxz"
STAMP = re.compile(r"stamp ([bcdfghjklmnpqrstvwxz]+) by ([bcdfghjklmnpqrstvwxz]+) nr ([bcdfghjklmnpqrstvwxz]+) end")


def encode(n: int) -> str:
    out = []
    while True:
        n, r = divmod(n, len(ALPHABET))
        out.append(ALPHABET[r])
        if n == 0:
            return "".join(reversed(out))


def decode(s: str) -> int:
    n = 0
    for ch in s:
        n = n * len(ALPHABET) + ALPHABET.index(ch)
    return n


def make_body(tag: str, seq: int) -> str:
    return f"bench stamp {encode(time.time_ns() // 1000)} by {tag} nr {encode(seq)} end, a calm note for the circle"


def expected_html(body: str) -> str:
    """What ours must store and deliver for a bench body: one paragraph, nothing
    else (the bodies hold no Markdown, no link and nothing screening rewrites)."""
    return f"<p>{html_lib.escape(body, quote=False)}</p>"


_TAG = re.compile(r"<[^>]*>")


def visible_text(html: str) -> str:
    """What a reader sees of ``html`` (as chat.text.visible_text, kept here so the
    check does not use the code it checks)."""
    return html_lib.unescape(_TAG.sub("", html)).strip()


# --- processes ----------------------------------------------------------------------


def _die_with_parent() -> None:
    # Linux: the child gets SIGTERM when this process dies, however it dies.
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CLK_TCK = os.sysconf("SC_CLK_TCK")
# Plain Daphne's options (no access log; 64 KiB frame limit) for the bare room and a
# tree without its own launcher; config.daphne brings its own (frame limits as served).
DAPHNE_FLAGS = [
    "-v",
    "0",
    "--websocket_timeout",
    "86400",
    "--websocket-max-message-size",
    "65536",
    "--websocket-max-frame-size",
    "65536",
]


def proc_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def machine_busy_seconds() -> float:
    """CPU seconds spent by every process on the machine (all cores), from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def self_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


class Daphne:
    """One Daphne process on a free loopback port, its output in a log file."""

    def __init__(self, label: str, app: str, env: dict[str, str], log_dir: Path, cwd: Path = ROOT) -> None:
        self.label, self.app, self.env, self.cwd = label, app, env, cwd
        self.port = 0
        self.log_path = log_dir / f"daphne-{label}.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        for _attempt in range(3):  # a free port can be taken between the probe and the bind
            self.port = free_port()
            self.starts += 1
            log = open(self.log_path, "ab")  # noqa: SIM115
            log.write(f"\n=== bench: start #{self.starts} on port {self.port} at {time.ctime()}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [PYTHON, "-m", *self.entry(), "-b", "127.0.0.1", "-p", str(self.port), self.app],
                cwd=self.cwd,  # the tree whose code it serves (--app-root)
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
            log.close()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                        return
                except OSError:
                    time.sleep(0.1)
            self.stop()
        raise RuntimeError(f"Daphne {self.label} did not start; see {self.log_path}:\n{self.tail(30)}")

    def entry(self) -> list[str]:
        """How the tree serves this app: our app through the tree's own entry point
        (``config/daphne.py``: rules compiled at start, the send-buffer bounds, the
        clean shutdown) when the tree has one, as ``scripts/serve`` runs it; plain
        Daphne otherwise (the bare consumer, or an older tree without it)."""
        if self.app == "config.asgi:application" and (self.cwd / "config" / "daphne.py").exists():
            return ["config.daphne"]  # its own options (frame limits as served)
        return ["daphne", *DAPHNE_FLAGS]

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def cpu(self) -> float:
        return proc_cpu_seconds(self.proc.pid) if self.proc else 0.0

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset: int) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read(2_000_000).decode(errors="replace")
        except OSError:
            return ""

    def tail(self, lines: int) -> str:
        return "\n".join(self.log_since(max(0, self.log_size() - 20000)).splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


def base_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "REDIS_PREFIX", "DATA_DIR", "DEBUG"}
    }
    env.update(
        PYTHONUNBUFFERED="1",
        CHANNEL_CAPACITY=CAPACITY,
        CHAT_RATE_SEND=HIGH_LIMIT,
        CHAT_RATE_FRAMES=HIGH_LIMIT,
        LOG_LEVEL="WARNING",
    )
    return env


# --- our server: a throwaway database with a circle and members --------------------


class OursFixture:
    """Builds the data through the product's own services, in this process."""

    def __init__(
        self,
        layer: str,
        redis_prefix: str,
        run_dir: Path,
        keep_db: bool,
        *,
        pg_db: str = PG_BENCH_DB,
        app_root: Path = ROOT,
    ) -> None:
        self.layer, self.keep_db, self.pg_db, self.app_root = layer, keep_db, pg_db, app_root
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", pg_db):
            raise SystemExit(f"--pg-db {pg_db!r}: lower-case letters, digits and _ only")
        self.secret = "bench-" + secrets.token_urlsafe(32)
        self.pg_admin_url = os.environ.get("DATABASE_URL", "") if layer == "redis" else ""
        if self.pg_admin_url and not self.pg_admin_url.startswith(("postgres://", "postgresql://")):
            raise SystemExit("DATABASE_URL must be a postgres:// URL for the Redis mode")
        if self.pg_admin_url:
            parts = urlsplit(self.pg_admin_url)
            self.db_url = urlunsplit((parts.scheme, parts.netloc, "/" + pg_db, parts.query, ""))
            self.sqlite_path = None
        else:
            self.sqlite_path = BENCH_DIR / f"ours-{layer}-{os.getpid()}.sqlite3"
            self.db_url = f"sqlite:///{self.sqlite_path}"
        self.env = base_env()
        self.env.update(DJANGO_SETTINGS_MODULE="config.settings.base", SECRET_KEY=self.secret, DATABASE_URL=self.db_url)
        if layer == "redis":
            self.env.update(REDIS_URL=REDIS_BENCH_URL, REDIS_PREFIX=redis_prefix)
        self.users: list = []
        self.cookies: list[str] = []
        self.load_rules = True
        self.rules: int | None = None
        self.circles = 0

    def _pg(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.pg_admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql)

    def setup(self, users: int) -> None:
        t0 = time.monotonic()
        if self.pg_admin_url:
            self._pg(f"DROP DATABASE IF EXISTS {self.pg_db}")
            self._pg(f"CREATE DATABASE {self.pg_db}")
        else:
            self._remove_sqlite()
        for key in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "REDIS_PREFIX"):
            if key in self.env:
                os.environ[key] = self.env[key]
            else:
                os.environ.pop(key, None)
        sys.path.insert(0, str(self.app_root))
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client
        from django.test.utils import override_settings

        from community import services

        call_command("migrate", verbosity=0, interactive=False)
        if self.load_rules:
            # As scripts/serve does: the shipped keyword rules, so messages are screened as in production.
            try:
                call_command("load_rule_pack", verbosity=0)
            except Exception as exc:
                print(
                    f"  [ours/{self.layer}] load_rule_pack failed ({type(exc).__name__}: {exc}); "
                    "running with the rules the migrations made",
                    flush=True,
                )
        try:
            from moderation.models import KeywordRule

            if not self.load_rules:
                # No screening at all: the rules the migrations made are switched off
                # too (to measure two trees whose rule sets differ, without them).
                KeywordRule.objects.update(enabled=False)
            self.rules = KeywordRule.objects.filter(enabled=True).count()
        except Exception:
            self.rules = None
        # MD5 only here, so that making 500 accounts takes a second, not minutes;
        # the servers check sessions, never passwords.
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            for i in range(users):
                user = services.register_user(handle=f"bench-{i:04d}", password=PASSWORD)
                client = Client()
                client.force_login(user)
                self.users.append(user)
                self.cookies.append(client.cookies["sessionid"].value)
        print(
            f"  [ours/{self.layer}] database ready ({users} accounts, {self.rules} keyword rules, "
            f"{self.db_url.split('@')[-1]}) "
            f"in {time.monotonic() - t0:.1f} s",
            flush=True,
        )

    def new_circles(self, count: int, members: int) -> list[tuple[str, int]]:
        """``count`` fresh circles (so every cell starts from empty rooms), circle k
        joined by users k·members … (k+1)·members - 1.  Their (slug, id)."""
        from django.db import connections

        from community import services
        from community.models import Circle

        made = []
        for k in range(count):
            self.circles += 1
            slug = f"bench-{self.circles}-{secrets.token_hex(3)}"
            circle = Circle.objects.create(name=f"Bench circle {self.circles}", slug=slug, capacity=members + 10)
            for user in self.users[k * members : (k + 1) * members]:
                services.join_circle(user=user, circle=circle)
            made.append((slug, circle.pk))
        connections.close_all()
        return made

    def check_store(self, circle_ids: list[int], ledger: Ledger) -> dict:
        """Read back what the cell's circles hold: every stored message's body must
        be the one its sender sent under that client_id, every published one's
        html the rendering of that body, every published ack a stored message and
        every stored published message acknowledged with its id."""
        from django.db import connections

        from chat.models import Message

        room_of = {pk: k for k, pk in enumerate(circle_ids)}
        rows = list(
            Message.objects.filter(circle_id__in=circle_ids)
            .order_by()
            .values_list("circle_id", "seq", "client_id", "body", "html", "status")
        )
        connections.close_all()
        out = {
            "stored": len(rows),
            "status": dict(Counter(r[5] for r in rows)),
            "html_blank": 0,
            "html_wrong": 0,
            "body_wrong": 0,
            "not_acked": 0,
            "acked_not_stored": 0,
            "examples": [],
        }
        published = set()
        for circle_id, seq, client_id, body, html, status in rows:
            room, token = room_of[circle_id], ledger.cid_token.get(client_id)
            sent = ledger.bodies.get(token) if token else None
            bad = []
            if sent is None or sent[0] != room or body != sent[1]:
                out["body_wrong"] += 1
                bad.append("body")
            if status == "published":
                published.add((room, seq))
                if html != expected_html(body):
                    bad.append("html")
                    out["html_blank" if not visible_text(html) else "html_wrong"] += 1
                if ledger.acked.get((room, seq)) != token:
                    out["not_acked"] += 1
                    bad.append("ack")
            if bad and len(out["examples"]) < 5:
                out["examples"].append(
                    {
                        "circle": room,
                        "id": seq,
                        "client_id": client_id,
                        "bad": bad,
                        "body": body[:120],
                        "html": html[:200],
                    }
                )
        out["acked_not_stored"] = sum(1 for key in ledger.acked if key not in published)
        out["ok"] = not any(out[k] for k in ("html_blank", "html_wrong", "body_wrong", "not_acked", "acked_not_stored"))
        return out

    def _remove_sqlite(self) -> None:
        if self.sqlite_path:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    Path(str(self.sqlite_path) + suffix).unlink()

    def teardown(self) -> None:
        if self.keep_db:
            print(f"  [ours/{self.layer}] database kept: {self.db_url}")
            return
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if self.pg_admin_url:
            try:
                self._pg(f"DROP DATABASE IF EXISTS {self.pg_db}")
            except Exception as exc:
                print(f"  could not drop {self.pg_db}: {exc}")
        else:
            self._remove_sqlite()


# --- one measured cell ----------------------------------------------------------------


@dataclass
class Stats:
    received: int = 0
    duplicates: int = 0
    unstamped: int = 0
    sent: int = 0
    acked: int = 0
    acked_published: int = 0
    ack_timeouts: int = 0
    stalls: int = 0
    first_rx: float = 0.0
    last_rx: float = 0.0
    latencies: list[float] = field(default_factory=list)
    # Messages sent after the first seconds of the cell: without the warm-up of
    # fresh circles (their room rows, first batches) and of idle worker threads.
    steady_from: float = float("inf")
    steady_latencies: list[float] = field(default_factory=list)
    ack_latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    verdicts: Counter = field(default_factory=Counter)
    other: Counter = field(default_factory=Counter)
    gaps: int = 0
    reordered: int = 0
    closed_early: int = 0
    acked_by_room: Counter = field(default_factory=Counter)  # ours: published acks per circle
    sent_by_room: Counter = field(default_factory=Counter)


class Conn:
    def __init__(self, idx: int, url: str, headers: dict[str, str], origin: str | None, room: int = 0) -> None:
        self.idx, self.url, self.headers, self.origin, self.room = idx, url, headers, origin, room
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.hello = asyncio.Event()
        self.ids: set[int] = set()
        self.tokens: set[tuple[str, str]] = set()  # bare: the messages this socket received
        self.last_id = 0
        self.tag = ""  # set on senders: their mark inside the body
        self.window: asyncio.Semaphore | None = None
        self.pending: dict[str, float] = {}
        self.t_arrive = 0.0  # the session-start storm: when this member arrived (monotonic)
        self.t_in = 0.0  # and when it had its hello (ours) or its open socket (bare)
        self.t_open = 0.0  # when the WebSocket handshake completed (the server accepted)


class Ledger:
    """Every message of a cell, to check what each member received against what
    was sent: the sender registers its body before sending it, ours' acks tie a
    circle's message id to that body, each delivery is noted (ours: the distinct
    html seen per id, with counts; bare: checked at once).  ``evaluate`` then
    counts, per target:

    * blank: a delivered message with no visible text;
    * wrong: a delivered message whose text is not exactly the body acknowledged
      under that id (another message's text, or a mangled one);
    * missing: (message, member) pairs never delivered — a published ack (bare:
      a sent message) times the connected members of its circle who lack it.

    Bodies are unique (sender tag + sequence number), a message's token is the
    pair, read back from the text with ``STAMP``.
    """

    def __init__(self) -> None:
        self.bodies: dict[tuple[str, str], tuple[int, str]] = {}  # token -> (circle, body)
        self.cid_token: dict[str, tuple[str, str]] = {}  # ours: client_id -> token
        self.acked: dict[tuple[int, int], tuple[str, str]] = {}  # ours: (circle, id) -> token
        self.ack_conflicts = 0  # ours: one id acknowledged for two different sends
        self.variants: dict[tuple[int, int], Counter] = {}  # ours: (circle, id) -> html -> deliveries
        self.bare_blank: set[tuple] = set()
        self.bare_wrong: set[tuple] = set()
        self.bare_bad_deliveries = Counter()
        self.examples: list[dict] = []

    def register(self, room: int, tag: str, seq: int, body: str, cid: str | None = None) -> None:
        token = (tag, encode(seq))
        self.bodies[token] = (room, body)
        if cid is not None:
            self.cid_token[cid] = token

    def ack(self, room: int, mid: int, cid: str) -> None:
        token = self.cid_token.get(cid)
        if token is None:
            return
        before = self.acked.setdefault((room, mid), token)
        if before != token:
            self.ack_conflicts += 1

    def ours_delivery(self, room: int, mid: int, html: str) -> None:
        seen = self.variants.get((room, mid))
        if seen is None:
            seen = self.variants[(room, mid)] = Counter()
        seen[html] += 1

    def _example(self, **what) -> None:
        if len(self.examples) < 8:
            self.examples.append(what)

    def bare_delivery(self, conn: Conn, text: str, m) -> bool:
        """Check one bare delivery; False for a duplicate."""
        token = (m.group(2), m.group(3)) if m else None
        if token is not None:
            if token in conn.tokens:
                return False
            conn.tokens.add(token)
            sent = self.bodies.get(token)
            if sent is not None and sent[0] == conn.room and text == sent[1]:
                return True
        key = token or (conn.room, text)
        if not text.strip():
            self.bare_blank.add(key)
            self.bare_bad_deliveries["blank"] += 1
        else:
            self.bare_wrong.add(key)
            self.bare_bad_deliveries["wrong"] += 1
            self._example(circle=conn.room, got=text[:200])
        return True

    def evaluate(self, target: str, live_by_room: dict[int, list[Conn]]) -> dict:
        out = {
            "blank": 0,
            "wrong": 0,
            "blank_deliveries": 0,
            "wrong_deliveries": 0,
            "missing": 0,
            "missing_msgs": 0,
            "unacked_delivered": 0,
            "ack_conflicts": self.ack_conflicts,
        }
        missed: set = set()
        if target == "ours":
            acked_tokens = set(self.acked.values())
            for key, seen in self.variants.items():
                room, mid = key
                token = self.acked.get(key)
                if token is None:
                    out["unacked_delivered"] += 1  # its ack never came (see ack_timeouts) or was not "published"
                kinds = set()  # a message counts once per kind of bad copy it was delivered as
                for html, count in seen.items():
                    if token is not None:
                        good = html == expected_html(self.bodies[token][1])
                    else:  # judge it by the token in its text: a body of this circle no other id was acked for
                        m = STAMP.search(html)
                        t = (m.group(2), m.group(3)) if m else None
                        sent = self.bodies.get(t) if t else None
                        good = (
                            sent is not None
                            and sent[0] == room
                            and t not in acked_tokens
                            and html == expected_html(sent[1])
                        )
                    if good:
                        continue
                    kind = "blank" if not visible_text(html) else "wrong"
                    kinds.add(kind)
                    out[f"{kind}_deliveries"] += count
                    self._example(
                        kind=kind,
                        circle=room,
                        id=mid,
                        got=html[:200],
                        want=self.bodies[token][1][:120] if token else None,
                    )
                for kind in kinds:
                    out[kind] += 1
            for room, mid in self.acked:
                for conn in live_by_room.get(room, []):
                    if mid not in conn.ids:
                        out["missing"] += 1
                        missed.add((room, mid))
        else:
            out["blank"], out["wrong"] = len(self.bare_blank), len(self.bare_wrong)
            out["blank_deliveries"] = self.bare_bad_deliveries["blank"]
            out["wrong_deliveries"] = self.bare_bad_deliveries["wrong"]
            for token, (room, _body) in self.bodies.items():
                for conn in live_by_room.get(room, []):
                    if token not in conn.tokens:
                        out["missing"] += 1
                        missed.add(token)
        out["missing_msgs"] = len(missed)
        out["examples"] = self.examples
        return out


def count_delivery(stats: Stats, now: float, m) -> None:
    stats.received += 1
    if not stats.first_rx:
        stats.first_rx = now
    stats.last_rx = now
    if m:
        sent = decode(m.group(1)) / 1e6
        stats.latencies.append(now - sent)
        if sent >= stats.steady_from:
            stats.steady_latencies.append(now - sent)
    else:
        stats.unstamped += 1


async def read_loop(conn: Conn, target: str, stats: Stats, measuring: list[bool], ledger: Ledger) -> None:
    """Read every frame of one socket until it closes (or the task is cancelled)."""
    loads = json.loads
    try:
        async for raw in conn.ws:
            now = time.time()
            if target == "ours":
                if raw.startswith('{"type":"message'):  # "message", or "messages" (several at once)
                    frame = loads(raw)
                    items = frame["items"] if frame["type"] == "messages" else [frame]
                    for item in items:
                        message = item["message"]
                        mid = message["id"]
                        if mid in conn.ids:
                            stats.duplicates += 1
                            continue
                        # A frame whose "prev" this socket has not seen yet is what a client
                        # takes for a gap (and fetches); one older than the newest seen
                        # arrived out of order.
                        prev = item.get("prev")
                        if measuring[0]:
                            if prev is not None and prev > conn.last_id and prev not in conn.ids:
                                stats.gaps += 1
                            if mid < conn.last_id:
                                stats.reordered += 1
                        conn.ids.add(mid)
                        conn.last_id = max(conn.last_id, mid)
                        html = message.get("html", "")
                        ledger.ours_delivery(conn.room, mid, html)
                        if measuring[0]:
                            count_delivery(stats, now, STAMP.search(html))
                    if frame["type"] == "messages":
                        stats.other["messages-frames"] += 1
                    continue
                frame = loads(raw)
                kind = frame.get("type")
                if kind == "ack":
                    sent_at = conn.pending.pop(frame.get("client_id"), None)
                    if sent_at is not None:
                        stats.ack_latencies.append(now - sent_at)
                    stats.acked += 1
                    stats.verdicts[str(frame.get("verdict"))] += 1
                    if frame.get("id") and frame.get("verdict") in PUBLISHED_VERDICTS and not frame.get("duplicate"):
                        stats.acked_published += 1
                        stats.acked_by_room[conn.room] += 1
                        ledger.ack(conn.room, frame["id"], frame.get("client_id"))
                    if conn.window:
                        conn.window.release()
                elif kind == "error":
                    stats.errors[str(frame.get("code"))] += 1
                    if conn.pending.pop(frame.get("ref"), None) is not None and conn.window:
                        conn.window.release()
                elif kind == "hello":
                    conn.last_id = max([conn.last_id] + [msg["id"] for msg in frame.get("messages", [])])
                    conn.hello.set()
                else:
                    stats.other[str(kind)] += 1
                continue
            else:
                frame = loads(raw)
                if frame.get("type") != "message":
                    stats.other[str(frame.get("type"))] += 1
                    continue
                text = frame.get("text", "")
                m = STAMP.search(text)
                if m and conn.window and m.group(2) == conn.tag:
                    conn.window.release()  # our own message came back: the bare room's "ack"
                if not ledger.bare_delivery(conn, text, m):
                    stats.duplicates += 1
            if not measuring[0]:
                continue
            count_delivery(stats, now, m)
    except asyncio.CancelledError:
        raise
    except Exception:
        stats.closed_early += 1


async def send_loop(
    conn: Conn,
    target: str,
    stats: Stats,
    ledger: Ledger,
    *,
    mode: str,
    rate: float,
    senders: int,
    slot: int,
    start: float,
    end: float,
    run_id: str,
) -> None:
    loop = asyncio.get_running_loop()
    max_count = int(rate * (end - start)) + 2 if mode == "rate" else 10**7
    for seq in range(max_count):
        if mode == "rate":
            at = start + (seq * senders + slot) / rate
            if at >= end:
                return
            await asyncio.sleep(max(0.0, at - loop.time()))
        else:
            remaining = end - loop.time()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(conn.window.acquire(), timeout=min(remaining, 5.0))
            except TimeoutError:
                if loop.time() >= end:
                    return
                stats.stalls += 1  # nothing came back for 5 s: count it and go on
        if loop.time() >= end:
            return
        body = make_body(conn.tag, seq)
        if target == "ours":
            cid = f"{run_id}-{conn.idx}-{seq}"
            conn.pending[cid] = time.time()
            ledger.register(conn.room, conn.tag, seq, body, cid)
            text = json.dumps({"type": "send", "client_id": cid, "body": body, "ref": cid})
        else:
            ledger.register(conn.room, conn.tag, seq, body)
            text = json.dumps({"text": body})
        try:
            await conn.ws.send(text)
        except Exception:
            stats.errors["send_failed"] += 1
            ledger.bodies.pop((conn.tag, encode(seq)), None)  # never sent: nobody can miss it
            return
        stats.sent += 1
        stats.sent_by_room[conn.room] += 1


def start_profilers(
    servers: list[Daphne], out: Path, cell: str, duration: float
) -> list[tuple[Path, subprocess.Popen]]:
    """py-spy (if installed in the venv) samples each server for the sending phase."""
    spy = ROOT / ".venv" / "bin" / "py-spy"
    if not spy.exists():
        print("  (no .venv/bin/py-spy: --profile ignored)")
        return []
    out.mkdir(parents=True, exist_ok=True)
    spies = []
    for s in servers:
        path = out / f"{cell}-{s.label}.txt"
        cmd = [
            str(spy),
            "record",
            "--pid",
            str(s.proc.pid),
            "--format",
            "raw",
            "--rate",
            "250",
            "--threads",
            "--nonblocking",
            "--gil",
            "--duration",
            str(max(1, int(duration))),
            "--output",
            str(path),
        ]
        spies.append(
            (
                path,
                subprocess.Popen(
                    cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent
                ),
            )
        )
    return spies


async def finish_profilers(spies: list[tuple[Path, subprocess.Popen]]) -> list[str]:
    done = []
    for path, proc in spies:
        for _ in range(200):  # at most 20 s more
            if proc.poll() is not None:
                break
            await asyncio.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
        done.append(str(path))
    return done


# Where a sample's time goes: the first area that matches, walking from the leaf frame up.
AREAS = [
    (
        "db connect/close (per frame)",
        re.compile(
            r"get_new_connection|BaseDatabaseWrapper\._close|close_old_connections|init_connection_state|"
            r"BaseDatabaseWrapper\.close |ensure_connection|connect \(psycopg"
        ),
    ),
    ("db queries + commit", re.compile(r"django/db/backends/|sqlite3|psycopg/")),
    ("ORM (Python side)", re.compile(r"django/db/models/|django/db/transaction")),
    ("cache / rate limit", re.compile(r"chat/ratelimit|django/core/cache")),
    ("text normalise/render", re.compile(r"chat/text\.py|bleach/|markdown_it/|html5lib/")),
    ("screening", re.compile(r"moderation/")),
    ("channel layer", re.compile(r"channels/layers\.py|channels_redis/|redis/asyncio")),
    ("json", re.compile(r"json/")),
    (
        "socket write (Daphne/autobahn/Twisted)",
        re.compile(
            r"serverSend|sendMessage|sendFrame|sendData|untilConcludes|doWrite|writeSomeData|\.write \(twisted|"
            r"handle_reply"
        ),
    ),
    (
        "Twisted add/remove writer (epoll modify per write)",
        re.compile(r"add_writer|remove_writer|addWriter|removeWriter|startWriting|stopWriting"),
    ),
    ("socket read + frame parse", re.compile(r"autobahn/|dataReceived|doRead|onMessage|_dataReceived")),
    ("auth/session/routing", re.compile(r"channels/(auth|sessions|routing|security)|django/contrib/")),
    ("wait in select()", re.compile(r"Selector\.select|selectors\.py:4[0-9][0-9]\)$")),
    (
        "asyncio/asgiref/thread plumbing",
        re.compile(
            r"asgiref/|asyncio/|concurrent/futures|threading\.py|"
            r"channels/(db|utils|consumer)\.py|twisted/internet"
        ),
    ),
]
PROJECT_FRAME = re.compile(r"\((chat|community|moderation|config|bench)/")


def summarize_profile(path: Path, top: int = 15) -> str:
    """Share of samples by area, by thread, and per project function (inclusive),
    from py-spy's raw (collapsed) output."""
    areas: Counter = Counter()
    project: Counter = Counter()
    self_n: Counter = Counter()
    threads: Counter = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        n = int(n)
        frames = stack.split(";")
        total += n
        threads[frames[0].split(":", 1)[-1].strip()] += n
        body = frames[1:]
        if body:
            self_n[body[-1]] += n
        area = "other"
        for frame in reversed(body):
            hit = next((name for name, rx in AREAS if rx.search(frame)), None)
            if hit:
                area = hit
                break
        areas[area] += n
        for name in {f for f in body if PROJECT_FRAME.search(f)}:
            project[re.sub(r":\d+\)$", ")", name)] += n
    if not total:
        return f"{path.name}: no samples"

    def share(c: int) -> str:
        return f"{100 * c / total:5.1f}%"

    lines = [
        f"{path.name}: {total} samples of the thread holding the GIL (Python CPU; waits not sampled)",
        "  threads: " + ", ".join(f"{t} {share(c).strip()}" for t, c in threads.most_common(4)),
        "  by area (leaf-most match):",
    ]
    lines += [f"    {share(c)}  {name}" for name, c in areas.most_common()]
    lines.append("  project code, inclusive:")
    lines += [f"    {share(c)}  {name[:140]}" for name, c in project.most_common(top)]
    lines.append("  self time, top frames:")
    lines += [f"    {share(c)}  {name[:140]}" for name, c in self_n.most_common(top)]
    return "\n".join(lines)


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000.0


def redis_cpu() -> float | None:
    try:
        import redis

        info = redis.Redis.from_url(REDIS_BENCH_URL, socket_timeout=2).info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
    except Exception:
        return None


async def run_cell(
    *,
    target: str,
    layer: str,
    servers: list[Daphne],
    paths: list[str],
    cookies: list[str] | None,
    clients: int,
    senders: int,
    mode: str,
    rate: float,
    duration: float,
    window: int,
    drain_idle: float,
    drain_max: float,
    connect_concurrency: int,
    arrive_within: float = 0.0,
    profile_dir: Path | None = None,
    cell_name: str = "",
    bare_rate: float = 0.0,
    ledger: Ledger | None = None,
) -> dict:
    """One cell: ``len(paths)`` rooms (circles) of ``clients`` members each; in
    every room the first ``senders`` members send.  ``rate`` is the total of all
    senders of all rooms.  Client i of room k uses ``cookies[k * clients + i]``."""
    stats = Stats()
    ledger = ledger if ledger is not None else Ledger()
    measuring = [False]
    run_id = secrets.token_hex(3)
    conns: list[Conn] = []
    for room, path in enumerate(paths):
        for j in range(clients):
            i = room * clients + j
            server = servers[i % len(servers)]
            headers = {"Cookie": f"sessionid={cookies[i]}"} if cookies else {}
            origin = f"http://127.0.0.1:{server.port}" if target == "ours" else None
            conns.append(Conn(i, f"ws://127.0.0.1:{server.port}{path}", headers, origin, room))

    from websockets.asyncio.client import connect

    gate = asyncio.Semaphore(connect_concurrency)
    failures: Counter = Counter()

    storm_start = time.monotonic()

    async def open_one(conn: Conn) -> None:
        if arrive_within > 0:
            # The session-start storm: every member arrives at a random moment of
            # the first ``arrive_within`` seconds, none waiting for another.
            await asyncio.sleep(random.uniform(0, arrive_within))
            await arrive(conn)
            return
        async with gate:
            await arrive(conn)

    async def arrive(conn: Conn) -> None:
        conn.t_arrive = time.monotonic()
        try:
            conn.ws = await connect(
                conn.url,
                origin=conn.origin,
                additional_headers=conn.headers,
                compression=None,
                proxy=None,
                open_timeout=30,
                ping_interval=None,
                close_timeout=2,
                max_size=2**22,
            )
        except Exception as exc:
            failures[type(exc).__name__ + ": " + str(exc)[:80]] += 1
            return
        conn.t_open = time.monotonic()
        conn.reader = asyncio.create_task(read_loop(conn, target, stats, measuring, ledger))
        if target == "ours":
            try:
                await asyncio.wait_for(conn.hello.wait(), 30)
            except TimeoutError:
                failures["no hello in 30 s"] += 1
                return
        conn.t_in = time.monotonic()
        if arrive_within > 0:  # the servers' CPU when the latest member so far got in
            storm_cpu_in[0] = sum(s.cpu() for s in servers)

    t_connect = time.monotonic()
    storm_cpu0 = sum(s.cpu() for s in servers)
    storm_cpu_in = [storm_cpu0]
    connect_limit = max(120.0, 0.1 * len(conns))
    try:
        await asyncio.wait_for(asyncio.gather(*(open_one(c) for c in conns)), timeout=connect_limit)
    except TimeoutError:
        failures[f"connect phase over {connect_limit:.0f} s"] += 1
    connect_s = time.monotonic() - t_connect
    live = [c for c in conns if c.ws is not None and (target != "ours" or c.hello.is_set())]
    live_by_room: dict[int, list[Conn]] = {}
    for c in live:
        live_by_room.setdefault(c.room, []).append(c)
    result: dict = {
        "target": target,
        "layer": layer,
        "processes": len(servers),
        "circles": len(paths),
        "clients": clients,
        "connected": len(live),
        "senders": 0,
        "mode": mode,
        "rate": rate if mode == "rate" else None,
        "duration": duration,
        "window": window if mode == "throughput" else None,
        "connect_s": round(connect_s, 2),
        "connect_failures": dict(failures),
    }
    if arrive_within > 0:
        waits = [c.t_in - c.t_arrive for c in live if c.t_in]  # seconds (pct gives ms)
        result.update(
            arrive_within=arrive_within,
            all_in_s=round(max((c.t_in for c in live), default=storm_start) - storm_start, 2),
            hello_p50_ms=pct(waits, 0.50),
            hello_p99_ms=pct(waits, 0.99),
            hello_max_ms=pct(waits, 1.0),
            # of which the handshake (authorization, up to accept) took:
            open_p50_ms=pct([c.t_open - c.t_arrive for c in live if c.t_open], 0.50),
            open_p99_ms=pct([c.t_open - c.t_arrive for c in live if c.t_open], 0.99),
            # the servers' CPU (all processes, every thread) from the first arrival to
            # the last hello, per member who got in: what bounds the arrival rate
            # (unknown if a server exited: its CPU can no longer be read)
            storm_cpu_ms=round(1000 * (storm_cpu_in[0] - storm_cpu0) / max(1, len(live)), 2)
            if all(s.alive for s in servers)
            else None,
        )
    try:
        await asyncio.sleep(1.0)  # presence frames after the joins settle (hub debounce is 0.2 s)
        # The first ``senders`` live members of every room send.  Their slots (the
        # order of the rate schedule) go round the rooms, so consecutive sends hit
        # different circles.
        per_room = [live_by_room.get(k, [])[: max(1, senders)] for k in range(len(paths))]
        sending = [room[j] for j in range(max(map(len, per_room), default=0)) for room in per_room if j < len(room)]
        for slot, conn in enumerate(sending):
            conn.tag = encode(slot + 1)
            if mode == "throughput" and not (target != "ours" and bare_rate > 0):
                conn.window = asyncio.Semaphore(window)
        result["senders"] = len(sending)
        loop = asyncio.get_running_loop()
        cpu0 = [s.cpu() for s in servers]
        me0, redis0 = self_cpu_seconds(), redis_cpu() if layer == "redis" else None
        busy0, load0 = machine_busy_seconds(), os.getloadavg()[0]
        spies = start_profilers(servers, profile_dir, cell_name, duration) if profile_dir else []
        measuring[0] = True
        start = loop.time() + 0.05
        wall_start = time.time() + 0.05
        stats.steady_from = wall_start + min(STEADY_AFTER, duration / 3)
        end = start + duration
        pace, pace_rate = mode, rate
        if mode == "throughput" and target != "ours" and bare_rate > 0:
            pace, pace_rate = "rate", bare_rate  # a fixed high rate instead of the echo
            result["bare_rate"] = bare_rate
        tasks = [
            asyncio.create_task(
                send_loop(
                    c,
                    target,
                    stats,
                    ledger,
                    mode=pace,
                    rate=pace_rate,
                    senders=len(sending),
                    slot=slot,
                    start=start,
                    end=end,
                    run_id=run_id,
                )
            )
            for slot, c in enumerate(sending)
        ]
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=duration + 30)
        send_end = loop.time()
        # Drain: the server may still be delivering what it accepted.
        deadline = send_end + drain_max
        drain_cut = True
        while loop.time() < deadline:
            if target == "ours" and any(c.pending for c in sending):
                pass
            elif stats.received >= expected(target, stats, live_by_room):
                drain_cut = False
                break
            if stats.last_rx and time.time() - max(stats.last_rx, wall_start + duration) > drain_idle:
                drain_cut = False
                break
            if not stats.last_rx and loop.time() - send_end > drain_idle:
                drain_cut = False
                break
            await asyncio.sleep(0.05)
        stats.ack_timeouts = sum(len(c.pending) for c in sending)
        measuring[0] = False
        cpu1 = [s.cpu() for s in servers]
        me1, redis1 = self_cpu_seconds(), redis_cpu() if layer == "redis" else None
        busy1 = machine_busy_seconds()
        elapsed = max(stats.last_rx, wall_start + duration) - wall_start if stats.last_rx else duration
        exp = expected(target, stats, live_by_room)
        integrity = ledger.evaluate(target, live_by_room)
        result.update(
            sent=stats.sent,
            acked=stats.acked if target == "ours" else None,
            acked_published=stats.acked_published if target == "ours" else None,
            expected=exp,
            received=stats.received,
            lost=exp - stats.received,
            duplicates=stats.duplicates,
            gaps=stats.gaps,
            reordered=stats.reordered,
            drain_cut=drain_cut,
            unstamped=stats.unstamped,
            ack_timeouts=stats.ack_timeouts,
            stalls=stats.stalls,
            errors=dict(stats.errors),
            verdicts=dict(stats.verdicts),
            other_frames=dict(stats.other),
            closed_early=stats.closed_early,
            elapsed=round(elapsed, 3),
            drain_s=round(loop.time() - send_end, 2),
            msgs_per_s=round((stats.acked_published if target == "ours" else stats.sent) / duration, 1),
            deliveries_per_s=round(stats.received / elapsed, 1) if elapsed > 0 else 0.0,
            p50_ms=pct(stats.latencies, 0.50),
            p99_ms=pct(stats.latencies, 0.99),
            max_ms=pct(stats.latencies, 1.0),
            steady_p50_ms=pct(stats.steady_latencies, 0.50),
            steady_p99_ms=pct(stats.steady_latencies, 0.99),
            ack_p50_ms=pct(stats.ack_latencies, 0.50),
            ack_p99_ms=pct(stats.ack_latencies, 0.99),
            server_cpu_pct=[round(100 * (b - a) / elapsed, 1) for a, b in zip(cpu0, cpu1, strict=True)],
            client_cpu_pct=round(100 * (me1 - me0) / elapsed, 1),
            redis_cpu_pct=round(100 * (redis1 - redis0) / elapsed, 1) if redis0 is not None and redis1 else None,
            machine_cpu_pct=round(100 * (busy1 - busy0) / elapsed, 1),
            load_before=round(load0, 2),
            integrity=integrity,
        )
        ours_share = sum(b - a for a, b in zip(cpu0, cpu1, strict=True)) + (me1 - me0)
        if redis0 is not None and redis1:
            ours_share += redis1 - redis0
        result["other_cpu_pct"] = round(max(0.0, 100 * (busy1 - busy0 - ours_share) / elapsed), 1)
        if spies:
            result["profiles"] = await finish_profilers(spies)
    finally:
        measuring[0] = False

        async def close(conn: Conn) -> None:
            if conn.ws is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.ws.close(), 5)
            if conn.reader is not None:
                conn.reader.cancel()

        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*(close(c) for c in conns)), timeout=20)
        for conn in conns:
            if conn.reader is not None:
                conn.reader.cancel()
    return result


def expected(target: str, stats: Stats, live_by_room: dict[int, list[Conn]]) -> int:
    per_room = stats.acked_by_room if target == "ours" else stats.sent_by_room
    return sum(n * len(live_by_room.get(room, [])) for room, n in per_room.items())


# --- a suite: one layer, its servers, its cells ----------------------------------------


LOG_PROBLEM = re.compile(r"Traceback|ERROR|CRITICAL|Exception|WARNING|Error", re.IGNORECASE)


def run_suite(args: argparse.Namespace) -> list[dict]:
    layer = "redis" if args.redis else "mem"
    targets = args.target
    prefix = f"icbench-{os.getpid()}-{int(time.time())}"
    run_dir = Path(args.out_dir) if args.out_dir else BENCH_DIR / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{layer}"
    run_dir.mkdir(parents=True, exist_ok=True)
    nproc = 2 if layer == "redis" else 1
    if layer == "mem":  # one in-memory layer: bare-pubsub would be bare again
        targets = [t for t in targets if t != "bare-pubsub"] or ["bare"]
    cells = [(n, mode, target) for n in args.clients for mode in args.modes for target in targets]
    budget = int(400 + len(cells) * (args.duration + args.drain_max + 200))
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGTERM, _on_alarm)
    signal.alarm(budget)
    if layer == "redis" and redis_cpu() is None:
        raise SystemExit(f"Redis is not reachable at {REDIS_BENCH_URL}")
    fixture: OursFixture | None = None
    servers: dict[str, list[Daphne]] = {}
    results: list[dict] = []
    app_root = Path(args.app_root).resolve()
    print(
        f"== layer={layer} processes={nproc} targets={','.join(targets)} circles={args.circles} "
        f"clients={args.clients} modes={args.modes} T={args.duration}s  logs: {run_dir}"
        + (f"  server code: {app_root}" if app_root != ROOT else ""),
        flush=True,
    )
    try:
        if "ours" in targets:
            fixture = OursFixture(layer, prefix, run_dir, args.keep_db, pg_db=args.pg_db, app_root=app_root)
            fixture.load_rules = not args.no_rules
            fixture.setup(args.circles * max(args.clients))
            # No session scheduler inside the server: the cells measure the room.
            ours_env = dict(fixture.env, DJANGO_SETTINGS_MODULE=args.ours_settings, SCHEDULER_IN_PROCESS="false")
            servers["ours"] = [
                Daphne(f"ours-{layer}-{k}", "config.asgi:application", ours_env, run_dir, app_root)
                for k in range(nproc)
            ]
        if {"bare", "nohop"} & set(targets):
            env = base_env()
            env.update(DJANGO_SETTINGS_MODULE="bench.bare.settings", SECRET_KEY="bench-bare-" + secrets.token_hex(8))
            if layer == "redis":
                env.update(REDIS_URL=REDIS_BENCH_URL, REDIS_PREFIX=prefix + "-bare")
            servers["bare"] = [
                Daphne(f"bare-{layer}-{k}", "bench.bare.asgi:application", env, run_dir, app_root) for k in range(nproc)
            ]
            servers["nohop"] = servers["bare"]  # the same processes, another route
        if "bare-pubsub" in targets:  # Redis only: bare on the pub/sub layer ours uses
            env = base_env()
            env.update(
                DJANGO_SETTINGS_MODULE="bench.bare.settings",
                SECRET_KEY="bench-bare-" + secrets.token_hex(8),
                REDIS_URL=REDIS_BENCH_URL,
                REDIS_PREFIX=prefix + "-barep",
                BARE_CHANNEL_LAYER="pubsub",
            )
            servers["bare-pubsub"] = [
                Daphne(f"barep-{layer}-{k}", "bench.bare.asgi:application", env, run_dir, app_root)
                for k in range(nproc)
            ]
        for group in {id(g): g for g in servers.values()}.values():
            for s in group:
                s.start()
        if args.settle > 0:  # a session's start usually finds its servers running, warmed up
            time.sleep(args.settle)  # (a server restarted for a later cell does not wait again)
        for number, (n, mode, target) in enumerate(cells, 1):
            group = servers[target]
            restarted = [s.label for s in group if not s.alive]
            for s in group:
                if not s.alive:
                    print(
                        f"  !! {s.label} had exited (code {s.proc.returncode if s.proc else '?'}); restarting",
                        flush=True,
                    )
                    s.stop()
                    s.start()
            t0 = time.monotonic()
            circle_ids: list[int] = []
            if target == "ours":
                made = fixture.new_circles(args.circles, n)
                paths, cookies = [f"/ws/circles/{slug}/" for slug, _ in made], fixture.cookies
                circle_ids = [pk for _, pk in made]
            else:  # bare: one group per circle
                route = "bare-nohop" if target == "nohop" else "bare"
                paths, cookies = [f"/ws/{route}/room-{number}-{k}/" for k in range(args.circles)], None
            offsets = [s.log_size() for s in group]
            ledger = Ledger()
            try:
                result = asyncio.run(
                    run_cell(
                        target=target,
                        layer=layer,
                        servers=group,
                        paths=paths,
                        cookies=cookies,
                        clients=n,
                        ledger=ledger,
                        senders=args.senders,
                        mode=mode,
                        rate=args.rate,
                        duration=args.duration,
                        window=args.window,
                        drain_idle=args.drain_idle,
                        drain_max=args.drain_max,
                        connect_concurrency=args.connect_concurrency,
                        arrive_within=args.arrive_within,
                        profile_dir=run_dir / "profiles" if args.profile else None,
                        bare_rate=args.bare_rate,
                        cell_name=f"{number:02d}-{target}-{n}-{mode}",
                    )
                )
            except Exception as exc:
                result = {
                    "target": target,
                    "layer": layer,
                    "circles": args.circles,
                    "clients": n,
                    "mode": mode,
                    "rate": args.rate if mode == "rate" else None,
                    "window": args.window if mode == "throughput" else None,
                    "failed": f"{type(exc).__name__}: {exc}",
                }
            result["settle_s"] = wait_quiet([s for g in {id(g): g for g in servers.values()}.values() for s in g])
            if target == "ours" and "integrity" in result:
                try:
                    result["store_check"] = fixture.check_store(circle_ids, ledger)
                except Exception as exc:
                    result["store_check"] = {"ok": False, "failed": f"{type(exc).__name__}: {exc}"}
            problems = []
            for s, off in zip(group, offsets, strict=True):
                for line in s.log_since(off).splitlines():
                    if LOG_PROBLEM.search(line) and not line.startswith("=== bench"):
                        problems.append(f"{s.label}: {line[:300]}")
            if target == "ours":
                result["keyword_rules"] = fixture.rules
                result["ours_settings"] = args.ours_settings
            if layer == "redis":
                result["channel_layer"] = channel_layer_kind(target)
            if app_root != ROOT:
                result["app_root"] = str(app_root)
            result.update(
                server_log_problem_lines=len(problems),
                server_log_excerpt=problems[:25],
                servers_alive=[s.alive for s in group],
                restarted_before=restarted,
                cell_wall_s=round(time.monotonic() - t0, 1),
            )
            results.append(result)
            print("  " + one_line(result), flush=True)
            for prof in result.get("profiles", []):
                summary = summarize_profile(Path(prof))
                Path(prof).with_suffix(".summary.txt").write_text(summary + "\n")
                print("\n".join("      " + line for line in summary.splitlines()[:16]), flush=True)
            if args.jsonl:
                with open(args.jsonl, "a") as f:
                    f.write(json.dumps(result) + "\n")
            with open(run_dir / "results.jsonl", "a") as f:
                f.write(json.dumps(result) + "\n")
    finally:
        signal.alarm(0)
        for group in {id(g): g for g in servers.values()}.values():
            for s in group:
                s.stop()
        if fixture is not None:
            fixture.teardown()
        if layer == "redis":
            cleaned = clean_redis(prefix)
            print(f"  redis: removed {cleaned} keys with prefix {prefix}*", flush=True)
    return results


def channel_layer_kind(target: str) -> str:
    """Which channels-redis layer a target runs on in the Redis mode."""
    if target == "ours":
        backend = os.environ.get("CHANNEL_LAYER_BACKEND", "realtime.layer.PubSubChannelLayer")
        return "pubsub" if "pubsub" in backend.lower() else "core"
    return "pubsub" if target == "bare-pubsub" or os.environ.get("BARE_CHANNEL_LAYER") == "pubsub" else "core"


def wait_quiet(servers: list[Daphne], limit: float = 30.0) -> float:
    """Wait (bounded) until no server of this suite is still busy with the last
    cell's backlog, so that it does not eat into the next cell's CPU."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        before = [s.cpu() for s in servers]
        time.sleep(0.5)
        if all(s.cpu() - b < 0.05 for s, b in zip(servers, before, strict=True)):  # under 10 % of a core each
            break
    return round(time.monotonic() - t0, 1)


def _on_alarm(signum, frame):
    raise SystemExit(f"room_bench: stopped by signal {signum} (time budget or SIGTERM)")


def clean_redis(prefix: str) -> int:
    import redis

    r = redis.Redis.from_url(REDIS_BENCH_URL, socket_timeout=5)
    removed, cursor = 0, 0
    for _ in range(100_000):  # bounded: SCAN visits every key once
        cursor, keys = r.scan(cursor=cursor, match=prefix + "*", count=1000)
        keys = [k for k in keys if k.startswith(prefix.encode())]
        if keys:
            removed += r.delete(*keys)
        if cursor == 0:
            break
    return removed


# --- output ---------------------------------------------------------------------------------


def _ms(v) -> str:
    return "-" if v is None else (f"{v:.0f}" if v >= 10 else f"{v:.1f}")


def one_line(r: dict) -> str:
    mode = f"rate {r['rate']:g}/s" if r["mode"] == "rate" else f"thru w{r['window']}"
    cpu = "+".join(f"{c:.0f}" for c in r.get("server_cpu_pct", []))
    extra = ""
    if r.get("errors"):
        extra += f" errors={r['errors']}"
    if r.get("connect_failures"):
        extra += f" connect_failures={r['connect_failures']}"
    if r.get("server_log_problem_lines"):
        extra += f" log_problems={r['server_log_problem_lines']}"
    size = f"K={r['circles']}xN={r['clients']}" if r.get("circles", 1) > 1 else f"N={r['clients']:<4}"
    if "deliveries_per_s" not in r:
        return f"{r['target']:4} {r['layer']:5} {size} {mode:11} FAILED: {r.get('failed')}{extra}"
    return (
        f"{r['target']:4} {r['layer']:5} {size} {mode:11} "
        f"conn={r['connected']}/{r['clients'] * r.get('circles', 1)} "
        f"({r['connect_s']}s) "
        + (
            f"storm: all in {r['all_in_s']}s hello p50={_ms(r['hello_p50_ms'])} p99={_ms(r['hello_p99_ms'])} "
            f"max={_ms(r['hello_max_ms'])} ms (accepted p50={_ms(r['open_p50_ms'])} p99={_ms(r['open_p99_ms'])}) "
            f"server cpu/member={r.get('storm_cpu_ms') or '?'} ms "
            if r.get("arrive_within")
            else ""
        )
        + f"sent={r['sent']} msg/s={r['msgs_per_s']} dlv/s={r['deliveries_per_s']:.0f} "
        f"lost={r['lost']}{'*' if r.get('drain_cut') else ''} dup={r['duplicates']} "
        f"p50={_ms(r['p50_ms'])} p99={_ms(r['p99_ms'])} ms "
        + (f"ack p50={_ms(r['ack_p50_ms'])} p99={_ms(r['ack_p99_ms'])} ms " if r.get("ack_p50_ms") else "")
        + f"cpu srv={cpu}% cli={r['client_cpu_pct']:.0f}%"
        + (f" redis={r['redis_cpu_pct']:.0f}%" if r.get("redis_cpu_pct") is not None else "")
        + f" other={r.get('other_cpu_pct', 0):.0f}%"
        + f" | {integrity_line(r)}"
        + extra
    )


def integrity_line(r: dict) -> str:
    """blank/wrong (messages), missing/dup (deliveries), and ours' store check."""
    i = r.get("integrity")
    if not i:
        return "integrity: -"
    out = f"blank={i['blank']} wrong={i['wrong']} missing={i['missing']} dup={r.get('duplicates', 0)}"
    if i.get("unacked_delivered"):
        out += f" unacked_delivered={i['unacked_delivered']}"
    if i.get("ack_conflicts"):
        out += f" ack_conflicts={i['ack_conflicts']}"
    db = r.get("store_check")
    if db:
        out += " db=" + ("ok" if db.get("ok") else "BAD") + f" ({db_summary(db)})"
    return out


def db_summary(db: dict) -> str:
    if db.get("failed"):
        return db["failed"]
    published = db.get("status", {}).get("published", 0)
    bad = [
        f"{k}={db[k]}" for k in ("html_blank", "html_wrong", "body_wrong", "not_acked", "acked_not_stored") if db.get(k)
    ]
    return f"{published}/{db.get('stored', 0)} published" + (", " + " ".join(bad) if bad else "")


REFUSALS = ("render_failed", "server_error", "bad_frame")


def spread_table(results: list[dict]) -> str:
    """Spread load (--circles K > 1): one row per layer, mode and target, with the
    integrity counts next to the speed."""
    head = (
        "layer",
        "KxN",
        "mode",
        "target",
        "msg/s",
        "dlv/s",
        "p50/p99 ms",
        "p50/p99 from 3 s",
        "ack p50/p99 ms",
        "blank",
        "wrong",
        "missing",
        "dup",
        "refused",
        "db check",
        "cpu% server",
        "cpu% client",
        "cpu% other",
    )
    rows = [head]
    for r in results:
        mode = f"{r['rate']:g}/s" if r["mode"] == "rate" else f"max w{r.get('window')}"
        size = f"{r.get('circles', 1)}x{r['clients']}"
        if "deliveries_per_s" not in r:
            rows.append((r["layer"], size, mode, r["target"], "FAILED", str(r.get("failed"))[:60]) + ("",) * 12)
            continue
        i = r.get("integrity") or {}
        refused = sum(n for code, n in (r.get("errors") or {}).items() if code in REFUSALS)
        db = r.get("store_check")
        cpu = "+".join(f"{c:.0f}" for c in r.get("server_cpu_pct", []))
        ack = f"{_ms(r['ack_p50_ms'])}/{_ms(r['ack_p99_ms'])}" if r.get("ack_p50_ms") is not None else "-"
        missing = f"{i.get('missing', '-')}{'*' if r.get('drain_cut') and i.get('missing') else ''}"
        target = r["target"] + (
            f" ({r['channel_layer']})" if r.get("channel_layer") and r["target"] != "bare-pubsub" else ""
        )
        rows.append(
            (
                r["layer"],
                size,
                mode,
                target,
                f"{r['msgs_per_s']:.1f}",
                f"{r['deliveries_per_s']:.0f}",
                f"{_ms(r['p50_ms'])}/{_ms(r['p99_ms'])}",
                f"{_ms(r.get('steady_p50_ms'))}/{_ms(r.get('steady_p99_ms'))}",
                ack,
                str(i.get("blank", "-")),
                str(i.get("wrong", "-")),
                missing,
                str(r.get("duplicates", "-")),
                str(refused) if refused else "0",
                ("ok" if db.get("ok") else "BAD") + f" ({db_summary(db)})" if db else "-",
                cpu,
                f"{r.get('client_cpu_pct', 0):.0f}",
                f"{r.get('other_cpu_pct', 0):.0f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    out = []
    for j, row in enumerate(rows):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if j == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def table(results: list[dict]) -> str:
    if any(r.get("circles", 1) > 1 for r in results):
        return spread_table(results)
    by = {(r["layer"], r["clients"], r["mode"], r["target"]): r for r in results}
    keys = []
    for r in results:
        k = (r["layer"], r["clients"], r["mode"])
        if k not in keys:
            keys.append(k)
    head = (
        "layer",
        "N",
        "mode",
        "ours msg/s",
        "ours dlv/s",
        "bare dlv/s",
        "ours/bare",
        "lost ours",
        "lost bare",
        "p50/p99 ours ms",
        "p50/p99 bare ms",
        "cpu% ours",
        "cpu% bare",
        "cpu% client o/b",
        "cpu% other o/b",
    )
    with_nohop = any(r["target"] == "nohop" for r in results)
    if with_nohop:
        head += ("nohop dlv/s", "lost nohop", "p50/p99 nohop ms")
    rows = [head]
    for layer, n, mode in keys:
        o, b = by.get((layer, n, mode, "ours")), by.get((layer, n, mode, "bare"))

        def g(r, key, fmt="{:.0f}"):
            if r is None or r.get(key) is None:
                return "-"
            return fmt.format(r[key])

        def lost(r):
            return "-" if r is None or r.get("lost") is None else f"{r['lost']}{'*' if r.get('drain_cut') else ''}"

        ratio = "-"
        if o and b and o.get("deliveries_per_s") and b.get("deliveries_per_s"):
            ratio = f"{o['deliveries_per_s'] / b['deliveries_per_s']:.2f}"

        def lat(r):
            return "-" if r is None or "p50_ms" not in r else f"{_ms(r['p50_ms'])}/{_ms(r['p99_ms'])}"

        def cpu(r):
            return "-" if r is None or "server_cpu_pct" not in r else "+".join(f"{c:.0f}" for c in r["server_cpu_pct"])

        mode_s = f"{args_rate(results, layer, n)}/s" if mode == "rate" else "max"
        row = (
            layer,
            str(n),
            mode_s,
            g(o, "msgs_per_s", "{:.1f}"),
            g(o, "deliveries_per_s"),
            g(b, "deliveries_per_s"),
            ratio,
            lost(o),
            lost(b),
            lat(o),
            lat(b),
            cpu(o),
            cpu(b),
            f"{g(o, 'client_cpu_pct')}/{g(b, 'client_cpu_pct')}",
            f"{g(o, 'other_cpu_pct')}/{g(b, 'other_cpu_pct')}",
        )
        if with_nohop:
            h = by.get((layer, n, mode, "nohop"))
            row += (g(h, "deliveries_per_s"), lost(h), lat(h))
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    out = []
    for j, row in enumerate(rows):
        out.append(
            "| "
            + " | ".join(
                c.rjust(w) if j and i > 2 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
            + " |"
        )
        if j == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def args_rate(results: list[dict], layer: str, n: int) -> str:
    for r in results:
        if r["layer"] == layer and r["clients"] == n and r.get("rate"):
            return f"{r['rate']:g}"
    return "?"


def problems_report(results: list[dict]) -> str:
    lines = []
    for r in results:
        issues = []
        if r.get("lost"):
            issues.append(f"lost={r['lost']}")
        if r.get("drain_cut"):
            issues.append(f"still delivering when --drain-max ({r.get('drain_s')} s) ran out: 'lost' counts late ones")
        for key in ("duplicates", "gaps", "reordered", "ack_timeouts", "stalls", "closed_early", "unstamped"):
            if r.get(key):
                issues.append(f"{key}={r[key]}")
        integrity = r.get("integrity") or {}
        for key in ("blank", "wrong", "missing", "unacked_delivered", "ack_conflicts"):
            if integrity.get(key):
                issues.append(f"{key}={integrity[key]}")
        db = r.get("store_check")
        if db and not db.get("ok"):
            issues.append(f"database check: {db_summary(db)}")
        if r.get("failed"):
            issues.append(f"cell failed: {r['failed']}")
        if r.get("errors"):
            issues.append(f"error frames={r['errors']}")
        if set(r.get("verdicts") or {}) - {"published"}:
            issues.append(f"ack verdicts={r['verdicts']}")
        if r.get("connect_failures"):
            issues.append(f"connect failures={r['connect_failures']}")
        if r.get("restarted_before"):
            issues.append(f"server restarted before this cell: {r['restarted_before']}")
        if r.get("servers_alive") and not all(r["servers_alive"]):
            issues.append("a server died during the cell")
        if r.get("server_log_problem_lines"):
            issues.append(f"{r['server_log_problem_lines']} problem lines in the Daphne log")
        if issues:
            mode = f"{r['rate']:g}/s" if r["mode"] == "rate" else "max"
            size = f"K={r['circles']}xN={r['clients']}" if r.get("circles", 1) > 1 else f"N={r['clients']}"
            lines.append(f"- {r['target']} {r['layer']} {size} {mode}: " + "; ".join(issues))
            for ex in r.get("server_log_excerpt", [])[:8]:
                lines.append(f"    {ex}")
            for ex in integrity.get("examples", [])[:5] + (db or {}).get("examples", [])[:3]:
                lines.append(f"    {json.dumps(ex, ensure_ascii=False)[:300]}")
    return "\n".join(lines) if lines else "(none)"


# --- command line ---------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--target",
        default="ours,bare",
        help="ours, bare or ours,bare (default: both, side by side); nohop = the bare consumer without "
        "Channels' per-event aclose_old_connections hop (diagnostic); bare-pubsub = bare on the "
        "pub/sub layer ours uses (Redis mode only; bare alone uses the tutorial's RedisChannelLayer)",
    )
    p.add_argument(
        "--circles",
        type=int,
        default=1,
        help="K circles (rooms) per cell, each with N clients of its own and S senders: spread load "
        "(ours: K fresh circles; bare: one group per circle). Default 1",
    )
    p.add_argument(
        "--clients",
        default=None,
        help="N clients per circle, or a comma list (each is a cell); default 10, and 10,100,500 with --matrix",
    )
    p.add_argument("--senders", type=int, default=10, help="S senders among the N clients of each circle (default 10)")
    p.add_argument(
        "--rate",
        type=float,
        default=20.0,
        help="rate mode: total messages/s of all senders of all circles together (default 20)",
    )
    p.add_argument("--throughput", action="store_true", help="shorthand for --modes throughput")
    p.add_argument("--modes", default="rate", help="rate, throughput or rate,throughput")
    p.add_argument(
        "--window",
        type=int,
        default=2,
        help="throughput mode: messages each sender keeps in flight (ours: until the ack; "
        "bare: until its own copy comes back)",
    )
    p.add_argument(
        "--bare-rate",
        type=float,
        default=0.0,
        help="throughput mode, bare: send at this fixed total rate instead of pacing on the echo",
    )
    p.add_argument("--duration", "-T", type=float, default=10.0, help="seconds of sending per cell")
    p.add_argument(
        "--redis",
        action="store_true",
        help=f"channels-redis at {REDIS_BENCH_URL} and TWO Daphne processes per target "
        "(PostgreSQL database ic_bench for ours when DATABASE_URL is set)",
    )
    p.add_argument("--drain-idle", type=float, default=3.0, help="stop draining after this long with no delivery")
    p.add_argument("--drain-max", type=float, default=30.0, help="never drain longer than this")
    p.add_argument("--connect-concurrency", type=int, default=25)
    p.add_argument(
        "--arrive-within",
        type=float,
        default=0.0,
        help="the session-start storm: every client arrives at a random moment of the first SECONDS "
        "(no concurrency gate); reports the time until all are in and connect-to-hello p50/p99",
    )
    p.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="seconds to wait after the servers start, before the first cell (default 0: the first "
        "cell meets a server still compiling its keyword rules, as right after a deploy)",
    )
    p.add_argument("--keep-db", action="store_true", help="keep the throwaway database")
    p.add_argument(
        "--pg-db",
        default=PG_BENCH_DB,
        help=f"the PostgreSQL database ours uses in the Redis mode (dropped and re-created; "
        f"default {PG_BENCH_DB}): give a name of your own when another run may be going on",
    )
    p.add_argument(
        "--app-root",
        default=str(ROOT),
        help="the source tree whose server code runs (ours and bare; default this one), e.g. a "
        "worktree of an older commit; the load client stays this one",
    )
    p.add_argument(
        "--ours-settings",
        default="config.settings.base",
        help="settings module for our servers (what-if runs, e.g. bench.settings_persistent_db)",
    )
    p.add_argument(
        "--no-rules",
        action="store_true",
        help="ours: no keyword rule enabled (by default the shipped rules are loaded, as scripts/serve does; "
        "with this, even those the migrations made are switched off)",
    )
    p.add_argument("--jsonl", help="append one JSON object per cell to this file")
    p.add_argument(
        "--profile",
        action="store_true",
        help="sample every server with py-spy during the sending phase (needs .venv/bin/py-spy); "
        "raw stacks and a summary go to the run's profiles/ folder",
    )
    p.add_argument("--out-dir", help=argparse.SUPPRESS)
    p.add_argument(
        "--matrix",
        action="store_true",
        help="ours and bare for 10/100/500 clients, in-memory and Redis, 20 msg/s and throughput",
    )
    p.add_argument("--layers", default="mem,redis", help="--matrix: which layers (mem, redis)")
    args = p.parse_args(argv)
    args.target = [t for t in args.target.split(",") if t]
    if not set(args.target) <= {"ours", "bare", "nohop", "bare-pubsub"}:
        p.error("--target takes ours, bare, nohop and/or bare-pubsub")
    args.clients = [int(n) for n in str(args.clients or ("10,100,500" if args.matrix else "10")).split(",") if n]
    args.modes = ["throughput"] if args.throughput else [m for m in args.modes.split(",") if m]
    args.layers = [x for x in args.layers.split(",") if x]
    if not set(args.layers) <= {"mem", "redis"}:
        p.error("--layers takes mem and/or redis")
    if not set(args.modes) <= {"rate", "throughput"}:
        p.error("--modes takes rate and/or throughput")
    if not 1 <= max(args.clients) <= 2000 or args.duration <= 0 or args.duration > 600:
        p.error("1..2000 clients and 0 < T <= 600 s")
    if not 1 <= args.circles <= 500 or args.circles * max(args.clients) > 5000:
        p.error("1..500 circles and at most 5000 clients in all (circles x clients)")
    if not (Path(args.app_root) / "config" / "asgi.py").exists():
        p.error(f"--app-root {args.app_root}: no config/asgi.py there")
    return args


def run_matrix(args: argparse.Namespace) -> int:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = BENCH_DIR / f"matrix-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    jsonl = out / "results.jsonl"
    t0 = time.monotonic()
    load_before = os.getloadavg()
    clients = ",".join(str(n) for n in args.clients)
    print(
        f"# room_bench matrix {time.strftime('%Y-%m-%d %H:%M:%S')}: {os.cpu_count()} cores, "
        f"load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
        f"ours on {'PostgreSQL ' + args.pg_db if os.environ.get('DATABASE_URL') else 'SQLite'} in the Redis mode",
        flush=True,
    )
    for layer in args.layers:
        cmd = [
            PYTHON,
            str(Path(__file__).resolve()),
            "--target",
            ",".join(args.target),
            "--clients",
            clients,
            "--circles",
            str(args.circles),
            "--pg-db",
            args.pg_db,
            "--app-root",
            args.app_root,
            "--bare-rate",
            str(args.bare_rate),
            "--modes",
            "rate,throughput",
            "--rate",
            str(args.rate),
            "--duration",
            str(args.duration),
            "--senders",
            str(args.senders),
            "--window",
            str(args.window),
            "--drain-idle",
            str(args.drain_idle),
            "--drain-max",
            str(args.drain_max),
            "--jsonl",
            str(jsonl),
            "--out-dir",
            str(out / layer),
        ]
        if layer == "redis":
            cmd.append("--redis")
        if args.keep_db:
            cmd.append("--keep-db")
        if args.profile:
            cmd.append("--profile")
        if args.no_rules:
            cmd.append("--no-rules")
        cmd += ["--ours-settings", args.ours_settings]
        print(f"\n## {layer}: {' '.join(cmd[1:])}", flush=True)
        try:
            subprocess.run(cmd, cwd=ROOT, timeout=1800, check=False, preexec_fn=_die_with_parent)
        except subprocess.TimeoutExpired:
            print(f"!! the {layer} suite took over 30 minutes and was stopped")
    results = [json.loads(line) for line in jsonl.read_text().splitlines()] if jsonl.exists() else []
    took = time.monotonic() - t0
    load_after = os.getloadavg()
    print(
        f"\n## Results ({len(results)} cells in {took / 60:.1f} min, T={args.duration:g} s per cell, "
        f"{os.cpu_count()} cores, load average {load_before[0]:.2f} before, {load_after[0]:.2f} after)\n"
    )
    print(table(results))
    print("\n## Problems seen\n")
    print(problems_report(results))
    print(f"\nraw results: {jsonl}")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if args.matrix:
        return run_matrix(args)
    results = run_suite(args)
    print()
    print(table(results))
    print("\nProblems seen:")
    print(problems_report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
