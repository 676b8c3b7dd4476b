"""Outages cost seconds, not messages (issue 15): Redis killed, the database cut,
the channel layer sharded over two Redis hosts.  Real Daphne processes on
PostgreSQL; a Redis of the test's own; a TCP cut in front of the database."""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
import websockets

from chat.models import Message
from core import health
from realtime import protocol
from tests.conftest import _database_url, session_cookie_for
from tests.live.outages import DatabaseCut, Follower, OwnRedis, Page
from tests.live.wsclient import LiveSocket

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

FAST = {
    "CHAT_RATE_SEND": "100000",
    "CHAT_RATE_FRAMES": "100000",
    "CHAT_RATE_CONNECTS": "100000",
    "LOG_FORMAT": "json",
    "LOG_LEVEL": "WARNING",
}
SECRET_WORDS = "my private words"


@pytest.fixture
def own_redis():
    redis = OwnRedis()
    yield redis
    redis.kill()


def _log_records(server) -> list[dict]:
    """The process's log, one JSON object per record (LOG_FORMAT=json)."""
    return [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]


def _assert_clean_logs(servers, cookies, *, most: int, addresses=(), outage: float = 0) -> None:
    """A handful of records for an outage, tracebacks at most once per kind, and
    none naming a member's text, session or address (host and port of the
    member's socket).  With ``outage``: each failing dependency takes at most a
    line per core.health interval, plus its first failure and its recovery."""
    for server in servers:
        records = _log_records(server)
        summary = "\n".join(f"{r['level']} {r['logger']}: {r['message'][:150]}" for r in records)
        assert len(records) <= most, f"{len(records)} log records:\n{summary}"
        text = server.output()
        assert len(text.splitlines()) <= most + sum(len(r.get("traceback", "").splitlines()) for r in records)
        assert SECRET_WORDS not in text
        assert not any(cookie in text for cookie in cookies)
        for host, port in addresses:
            assert f"{host}:{port}" not in text and f"'{host}', {port}" not in text and f" {port}" not in text
        if outage:
            per_dependency = Counter(r["message"].split(" ")[0] for r in records if r["logger"] == "ic.health")
            assert per_dependency, summary
            for name, lines in per_dependency.items():
                assert lines <= outage / health.INTERVAL + 3, f"{name}: {lines} lines\n{summary}"
        kinds = [(r["logger"], r["message"].split(" (")[0]) for r in records if "traceback" in r]
        assert len(kinds) <= len(set(kinds)) * 2, summary  # a traceback per kind per 10 s interval


def test_redis_killed_for_three_seconds_costs_no_send_and_no_message(
    daphne_factory, make_user, circle, join, own_redis
):
    """Two processes on a Redis of the test's own.  Redis is killed for 3 s while a
    member sends 20 messages a second: every send is still stored and acked
    (limits fall back to each process), cross-process delivery resumes by itself,
    the member on the other process repairs the gap and ends with every message;
    each process logs a handful of lines, none with a text or a session."""
    env = {"REDIS_URL": own_redis.url, "REDIS_PREFIX": "outage-redis", **FAST}
    servers = [daphne_factory(**env), daphne_factory(**env)]
    sender_m, follower_m = join(make_user("redis-sender"), circle), join(make_user("redis-follower"), circle)
    cookies = [session_cookie_for(sender_m.user), session_cookie_for(follower_m.user)]

    async def scenario():
        sender = await LiveSocket.open(servers[0], circle.slug, cookies[0])
        follower = Follower(await LiveSocket.open(servers[1], circle.slug, cookies[1]))
        acked, refused = [], []

        sent = {"n": -1}
        answered = asyncio.Event()

        async def read_acks():
            while True:
                frame = await sender.recv(timeout=30)
                if frame["type"] == "ack":
                    acked.append(frame["id"])
                elif frame["type"] == "error":
                    refused.append(frame["code"])
                if len(acked) + len(refused) == sent["n"]:
                    answered.set()

        reading = asyncio.ensure_future(read_acks())
        started = time.monotonic()
        killed = restarted = False
        n = 0
        while time.monotonic() - started < 8:
            elapsed = time.monotonic() - started
            if elapsed > 2 and not killed:
                own_redis.kill()
                killed = True
            if elapsed > 5 and not restarted:
                own_redis.start()
                restarted = True
            await sender.send(type="send", client_id=f"rd-{n}", body=f"{SECRET_WORDS} {n}")
            n += 1
            await asyncio.sleep(0.05)
        sent["n"] = n
        if len(acked) + len(refused) < n:
            await asyncio.wait_for(answered.wait(), 15)
        reading.cancel()
        await follower.follow_until(set(acked), timeout=20)
        await sender.close()
        await follower.sock.close()
        return n, acked, refused, follower

    n, acked, refused, follower = asyncio.run(scenario())
    assert refused == [] and len(acked) == n
    assert set(acked) == set(Message.objects.filter(circle=circle).values_list("seq", flat=True))
    assert set(acked) <= follower.ids and follower.resumes >= 1
    _assert_clean_logs(servers, cookies, most=30)


DB_CUT_SECONDS = 10.0  # the figure


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_the_database_stopped_for_ten_seconds_asks_for_a_retry_and_loses_nothing(
    daphne_factory, make_user, circle, join
):
    """The database cut for 10 s under two processes while eight members send 20
    messages a second: sends are refused with ``unavailable`` and ``retry_after``
    (never server_error), the pages send them again (same client_id); /readyz
    says the database is failing and a new socket is told to come back later
    (1013); both processes recover by themselves when the database returns, and
    every message is stored exactly once and reaches every member.  Each
    process logs about one line per interval for the outage (core.health), with
    no text, session, cookie or member's address."""
    cut = DatabaseCut(_database_url())
    try:
        servers = [daphne_factory(DATABASE_URL=cut.url, **FAST), daphne_factory(DATABASE_URL=cut.url, **FAST)]
        members = [join(make_user(f"db-member-{n}"), circle) for n in range(8)]
        cookies = [session_cookie_for(m.user) for m in members]

        async def scenario():
            pages = []
            for n, cookie in enumerate(cookies):
                page = Page(f"db-{n}", cookie, circle.slug, [servers[n % 2], servers[1 - n % 2]])
                await page.connect()
                pages.append(page)
            addresses = [page.sock.ws.local_address for page in pages if page.sock]
            stop = asyncio.Event()
            readers = [asyncio.ensure_future(page.run(stop)) for page in pages]
            started = time.monotonic()
            cut_at = started + 3
            probe: dict[str, object] = {}
            sent = 0
            while (now := time.monotonic()) - started < DB_CUT_SECONDS + 6:
                if now >= cut_at and "cut" not in probe:
                    cut.cut(DB_CUT_SECONDS)
                    probe["cut"] = now
                if now >= cut_at + 3 and "ready" not in probe:
                    probe["ready"] = await asyncio.to_thread(_get, f"{servers[0].url}/readyz")
                    try:
                        late = await LiveSocket.open(servers[1], circle.slug, cookies[0])
                        probe["late"] = ("accepted", late.hello["type"])
                    except websockets.ConnectionClosed as closed:
                        probe["late"] = ("closed", closed.rcvd.code if closed.rcvd else None)
                page = pages[sent % len(pages)]
                await page.send(page.make(f"{SECRET_WORDS} {sent}"))
                sent += 1
                await asyncio.sleep(max(0.0, started + sent / 20 - time.monotonic()))
            stop.set()
            await asyncio.gather(*readers)
            await asyncio.gather(*(page.settle(set(), timeout=60) for page in pages))
            wanted = {ids[0] for page in pages for ids in page.acks.values()}
            await asyncio.gather(*(page.settle(wanted, timeout=30) for page in pages))
            back = min((t for page in pages for t in page.ack_times if t > probe["cut"] + DB_CUT_SECONDS), default=None)
            probe["ready_after"] = await asyncio.to_thread(_get, f"{servers[0].url}/readyz")
            for page in pages:
                if page.sock is not None:
                    await page.sock.close()
            return pages, addresses, probe, back - (probe["cut"] + DB_CUT_SECONDS) if back else None

        pages, addresses, probe, recovered_in = asyncio.run(asyncio.wait_for(scenario(), 150))
    finally:
        cut.stop()
    codes = [error["code"] for page in pages for error in page.errors]
    assert "unavailable" in codes and set(codes) == {"unavailable"}, set(codes)
    assert all(error.get("retry_after", 0) > 0 for page in pages for error in page.errors)
    assert probe["ready"][0] == 503 and "database" in probe["ready"][1]["failing"], probe["ready"]
    assert probe["late"] == ("closed", protocol.CLOSE_TRY_AGAIN), probe["late"]
    assert probe["ready_after"][0] == 200, probe["ready_after"]
    assert recovered_in is not None and recovered_in < 10, recovered_in
    for page in pages:
        assert page.pending == {}, f"{page.name}: {len(page.pending)} never stored"
        for client_id, ids in page.acks.items():
            assert len(set(ids)) == 1, f"{client_id} acked as {ids}"
    acked = {page.acks[cid][0]: cid for page in pages for cid in page.order}
    stored = dict(Message.objects.filter(circle=circle).values_list("seq", "client_id"))
    assert stored == acked  # every send stored once, under the id it was acked with
    for page in pages:
        assert page.ids == set(stored), f"{page.name}: missing {sorted(set(stored) - page.ids)[:10]}"
        assert all(sorted(stream) == stream and len(set(stream)) == len(stream) for stream in page.streams)
    _assert_clean_logs(servers, cookies, most=20, addresses=addresses, outage=DB_CUT_SECONDS)
    print(f"\n{len(acked)} stored, {codes.count('unavailable')} refusals, recovered {recovered_in:.2f} s after")


def test_the_channel_layer_sharded_over_two_redis_hosts(daphne_factory, make_user, make_circle, join):
    """REDIS_CHANNEL_URLS spreads the channel layer over two Redis hosts: both
    carry subscriptions, and members of several circles on two processes still
    hear each other."""
    import redis as redis_lib

    first, second = OwnRedis(), OwnRedis()
    try:
        env = {"REDIS_URL": first.url, "REDIS_CHANNEL_URLS": f"{first.url},{second.url}", **FAST}
        servers = [daphne_factory(**env), daphne_factory(**env)]
        circles = [make_circle(name=f"Shard {k}", slug=f"shard-{k}") for k in range(6)]
        pairs = []
        for k, c in enumerate(circles):
            a, b = join(make_user(f"shard-a{k}"), c), join(make_user(f"shard-b{k}"), c)
            pairs.append((c, session_cookie_for(a.user), session_cookie_for(b.user)))

        async def scenario():
            sockets = []
            for c, cookie_a, cookie_b in pairs:
                sockets.append(
                    (
                        c,
                        await LiveSocket.open(servers[0], c.slug, cookie_a),
                        await LiveSocket.open(servers[1], c.slug, cookie_b),
                    )
                )
            subscribed = [len(redis_lib.Redis.from_url(r.url).pubsub_channels()) for r in (first, second)]
            for c, a, b in sockets:
                await a.send(type="send", client_id="s1", body=f"hello {c.slug}")
                ack = await a.recv_type("ack")
                got = await b.recv_type("message", timeout=10)
                assert got["message"]["id"] == ack["id"]
            for _c, a, b in sockets:
                await a.close()
                await b.close()
            return subscribed

        subscribed = asyncio.run(scenario())
        assert all(n > 0 for n in subscribed), subscribed
    finally:
        first.kill()
        second.kill()


def test_no_service_is_skipped_in_ci():
    """These tests need PostgreSQL (pass 2 of scripts/test)."""
    assert os.environ.get("DATABASE_URL", "").startswith("postgres")
