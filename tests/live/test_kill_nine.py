"""kill -9 of one of two processes while a busy room chats (issue 15): its
members reconnect to the other process and resume; no acknowledged message is
lost, none is stored or shown twice, and each room's order holds.

Two Daphne processes on PostgreSQL and Redis; two circles of ten members each,
half of every circle on each process; twenty members sending about 50 messages
a second in all.  Bounded: about 10 s of sending, then at most 60 s to settle."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import statistics
import time

import pytest

from chat.models import Message
from tests.conftest import session_cookie_for
from tests.live.outages import Page

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

FAST = {
    "CHAT_RATE_SEND": "100000",
    "CHAT_RATE_FRAMES": "100000",
    "CHAT_RATE_CONNECTS": "100000",
    "LOG_FORMAT": "json",
}
MEMBERS_PER_CIRCLE = 10
RATE = 50.0  # messages a second, all members together
SEND_SECONDS = 10.0
KILL_AT = 4.0


def _increasing(ids: list[int]) -> bool:
    return all(a < b for a, b in itertools.pairwise(ids))


def test_kill_nine_of_one_process_loses_no_acknowledged_message(daphne_factory, make_user, make_circle, join):
    if not os.environ.get("REDIS_URL"):
        pytest.fail("REDIS_URL is required for the multi-process tests (scripts/test pass 2 sets it)")
    servers = [daphne_factory(**FAST), daphne_factory(**FAST)]
    circles = [make_circle(name=f"Kill {k}", slug=f"kill-{k}", capacity=20) for k in range(2)]
    plan = []  # (name, cookie, slug, home process)
    for c in circles:
        for n in range(MEMBERS_PER_CIRCLE):
            member = join(make_user(f"{c.slug}-m{n}"), c)
            plan.append((f"{c.slug}-m{n}", session_cookie_for(member.user), c.slug, n % 2))
    victim, survivor = servers

    async def scenario() -> tuple[list[Page], float]:
        pages = []
        for name, cookie, slug, home in plan:
            page = Page(name, cookie, slug, [servers[home], servers[1 - home]])
            await page.connect()
            pages.append(page)
        stop = asyncio.Event()
        readers = [asyncio.ensure_future(page.run(stop)) for page in pages]
        rng = random.Random(15)
        started = time.monotonic()
        killed_at = 0.0
        sent = 0
        # Each member sends in turn at random; RATE sends a second in all.
        while (elapsed := time.monotonic() - started) < SEND_SECONDS:
            if elapsed >= KILL_AT and not killed_at:
                victim.dead = True  # pages stop trying it
                victim.proc.send_signal(signal.SIGKILL)
                killed_at = time.monotonic()
            page = rng.choice(pages)
            client_id = page.make(f"{page.name} says {sent}")
            await page.send(client_id)
            sent += 1
            await asyncio.sleep(max(0.0, started + sent / RATE - time.monotonic()))
        stop.set()
        await asyncio.gather(*readers)
        # Every send acked (sent again after a reconnect if need be), then every
        # member must have every acked id of its circle.
        await asyncio.gather(*(page.settle(set(), timeout=60) for page in pages))
        wanted = {c.slug: set() for c in circles}
        for page in pages:
            wanted[page.slug].update(ids[0] for ids in page.acks.values())
        await asyncio.gather(*(page.settle(wanted[page.slug], timeout=30) for page in pages))
        for page in pages:
            if page.sock is not None:
                await page.sock.close()
        return pages, killed_at - started

    pages, killed_after = asyncio.run(asyncio.wait_for(scenario(), 150))
    assert victim.proc.wait(5) == -signal.SIGKILL

    sends = sum(len(page.order) for page in pages)
    assert sends >= RATE * SEND_SECONDS * 0.5, f"only {sends} sends: the machine was too slow to test anything"
    for page in pages:
        assert page.pending == {}, f"{page.name}: {len(page.pending)} never acked"
        assert [e for e in page.errors if e.get("code") != "unavailable"] == [], page.errors[:3]
        for client_id, ids in page.acks.items():
            assert len(set(ids)) == 1, f"{client_id} acked as {ids}"  # a retry names the stored id

    moved = [page for page in pages if page.servers[0] is victim]
    assert all(page.drops for page in moved), "a member of the killed process was not dropped"
    back = [seconds for page in moved for _code, seconds in page.drops]
    assert max(back) < 5, f"reconnects took {sorted(back)[-5:]} s"
    assert all(not page.drops for page in pages if page.servers[0] is survivor)

    for c in circles:
        members = [page for page in pages if page.slug == c.slug]
        acked = {page.acks[cid][0]: cid for page in members for cid in page.order}
        stored = dict(Message.objects.filter(circle=c, status=Message.Status.PUBLISHED).values_list("seq", "client_id"))
        # Nothing acked was lost, nothing was stored twice (each send once, under its acked id).
        assert stored == acked
        assert Message.objects.filter(circle=c).count() == len(acked)
        for page in members:
            # Every member ends with every message of its room ...
            assert page.ids == set(stored), f"{page.name}: missing {sorted(set(stored) - page.ids)[:10]}"
            # ... and each connection delivered them once, in the room's order.
            for stream in page.streams:
                assert _increasing(stream), f"{page.name}: out of order or twice: {stream}"

    print(
        f"\n{sends} sends in {SEND_SECONDS:.0f} s, killed after {killed_after:.1f} s; {len(moved)} members moved, "
        f"back in median {statistics.median(back) * 1000:.0f} ms, max {max(back) * 1000:.0f} ms; "
        f"sent again after the reconnect {sum(p.resent for p in pages)}, gap repairs {sum(p.repairs for p in pages)}"
    )
