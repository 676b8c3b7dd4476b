"""A rule change reaches a running Daphne process on Redis within a second or two."""

import asyncio
import os
import time

import pytest

from moderation import services
from tests.conftest import session_cookie_for
from tests.live.wsclient import LiveSocket

pytestmark = [pytest.mark.services]


def test_rule_change_takes_effect_in_another_process_without_restart(daphne_factory, make_user, circle, join):
    """A block rule saved here (another process) is applied by a running Daphne
    within a few seconds, without a restart."""
    if not os.environ.get("REDIS_URL"):
        pytest.fail("REDIS_URL is required for the multi-process tests (scripts/test pass 2 sets it)")
    server = daphne_factory()
    member = join(make_user("rule-live"), circle)
    cookie = session_cookie_for(member.user)

    async def send(sock, client_id):
        await sock.send(type="send", client_id=client_id, body="lets swap playlists on telegram")
        return await sock.recv_type("ack")

    async def before():
        sock = await LiveSocket.open(server, circle.slug, cookie)
        ack = await send(sock, "before")
        await sock.close()
        return ack

    assert asyncio.run(before())["verdict"] == "published"
    services.save_rule(user=None, pattern="telegram", kind="word", category="spam", action="block")
    saved_at = time.monotonic()

    async def after():
        sock = await LiveSocket.open(server, circle.slug, cookie)
        for attempt in range(40):
            ack = await send(sock, f"after-{attempt}")
            if ack["verdict"] == "blocked":
                await sock.close()
                return time.monotonic() - saved_at
            await asyncio.sleep(0.25)
        await sock.close()
        return None

    took = asyncio.run(after())
    assert took is not None, "the running process never applied the new rule"
    assert took < 5
