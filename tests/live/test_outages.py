"""Outages cost seconds, not messages (issue 15): Redis killed, the database cut,
the channel layer sharded over two Redis hosts.  Real Daphne processes on
PostgreSQL; a Redis of the test's own; a TCP cut in front of the database."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest

from chat.models import Message
from tests.conftest import _database_url, session_cookie_for
from tests.live.outages import DatabaseCut, Follower, OwnRedis
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


def _assert_clean_logs(servers, cookies, *, most: int) -> None:
    """A handful of records for an outage, tracebacks at most once per kind, and
    none naming a member's text or session."""
    for server in servers:
        records = _log_records(server)
        summary = "\n".join(f"{r['level']} {r['logger']}: {r['message'][:150]}" for r in records)
        assert len(records) <= most, f"{len(records)} log records:\n{summary}"
        text = server.output()
        assert SECRET_WORDS not in text
        assert not any(cookie in text for cookie in cookies)
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


def test_the_database_cut_for_five_seconds_asks_for_a_retry_and_loses_nothing(daphne_factory, make_user, circle, join):
    """The database cut for 5 s under a process: sends are refused with
    ``unavailable`` and a retry hint (never server_error), the page sends them
    again (same client_id), the process recovers by itself when the database
    returns, and every message is stored exactly once."""
    cut = DatabaseCut(_database_url())
    try:
        server = daphne_factory(DATABASE_URL=cut.url, **FAST)
        member = join(make_user("db-sender"), circle)
        cookie = session_cookie_for(member.user)

        async def scenario():
            sock = await LiveSocket.open(server, circle.slug, cookie)
            pending: dict[str, str] = {}
            acked: dict[str, int] = {}
            codes: list[str] = []
            retry_at: dict[str, float] = {}

            async def read():
                while True:
                    frame = await sock.recv(timeout=30)
                    if frame["type"] == "ack":
                        acked[frame["client_id"]] = frame["id"]
                        pending.pop(frame["client_id"], None)
                    elif frame["type"] == "error":
                        codes.append(frame["code"])
                        ref = frame.get("ref")
                        if ref in pending:
                            retry_at[ref] = time.monotonic() + frame.get("retry_after", 1)

            reading = asyncio.ensure_future(read())
            started = time.monotonic()
            n = 0
            cut_done = False
            while time.monotonic() - started < 10 or pending:
                now = time.monotonic()
                if now - started > 2 and not cut_done:
                    cut.cut(5)
                    cut_done = True
                if now - started < 10:
                    client_id = f"db-{n}"
                    pending[client_id] = f"{SECRET_WORDS} {n}"
                    await sock.send(type="send", client_id=client_id, body=pending[client_id], ref=client_id)
                    n += 1
                for client_id, when in list(retry_at.items()):
                    if when <= now and client_id in pending:
                        del retry_at[client_id]
                        await sock.send(type="send", client_id=client_id, body=pending[client_id], ref=client_id)
                if now - started > 40:
                    break
                await asyncio.sleep(0.1)
            reading.cancel()
            await sock.close()
            return n, acked, codes, pending

        n, acked, codes, pending = asyncio.run(scenario())
    finally:
        cut.stop()
    assert pending == {}, f"{len(pending)} never stored"
    assert len(acked) == n
    assert "server_error" not in codes and "unavailable" in codes
    stored = list(Message.objects.filter(circle=circle).values_list("client_id", flat=True))
    assert sorted(stored) == sorted(acked) and len(stored) == len(set(stored))
    _assert_clean_logs([server], [cookie], most=30)


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
