"""Daphne's own frame limit, set explicitly, against a real process."""

import asyncio
import json

import pytest
import websockets

from realtime import protocol
from tests.conftest import session_cookie_for
from tests.live.wsclient import LiveSocket

pytestmark = pytest.mark.django_db(transaction=True)


def test_oversize_frame_drops_only_that_socket(daphne_server, make_user, circle, join):
    """A frame above Daphne's 256 KiB cap makes Daphne drop the connection (the
    client sees 1006, never 1011: autobahn fails oversize frames by dropping the
    TCP connection); a frame between 16 and 256 KiB gets a too_large error;
    another member keeps chatting."""
    big_user, other_user = join(make_user("big-frame"), circle).user, join(make_user("calm-frame"), circle).user
    big_cookie, other_cookie = session_cookie_for(big_user), session_cookie_for(other_user)

    async def scenario():
        big = await LiveSocket.open(daphne_server, circle.slug, big_cookie)
        other = await LiveSocket.open(daphne_server, circle.slug, other_cookie)
        await big.ws.send(json.dumps({"type": "send", "client_id": "m", "body": "x" * 20_000}))
        err = await big.recv_type("error")
        assert err["code"] == "too_large"
        await big.ws.send("z" * 100_000)
        assert (await big.recv_type("error"))["code"] == "too_large"
        await big.ws.send("y" * (protocol.DAPHNE_MAX_MESSAGE_BYTES + 1000))

        async def read_until_closed():
            while True:
                await asyncio.wait_for(big.ws.recv(), 5)

        with pytest.raises(websockets.ConnectionClosed):
            await read_until_closed()
        assert big.ws.close_code == 1006
        await other.send(type="send", client_id="after", body="still here")
        assert (await other.recv_type("ack"))["verdict"] == "published"
        await other.close()

    asyncio.run(scenario())


def test_a_text_frame_with_invalid_utf8_drops_only_that_socket(daphne_server, make_user, circle, join):
    """Documented behaviour (docs/protocol.md): autobahn under Daphne fails a text
    frame that is not UTF-8 by dropping the connection (1006) rather than closing
    with 1007; no browser sends one.  Other sockets carry on."""
    bad_user, other_user = join(make_user("bad-utf8"), circle).user, join(make_user("good-utf8"), circle).user
    bad_cookie, other_cookie = session_cookie_for(bad_user), session_cookie_for(other_user)

    async def scenario():
        bad = await LiveSocket.open(daphne_server, circle.slug, bad_cookie)
        other = await LiveSocket.open(daphne_server, circle.slug, other_cookie)
        bad.ws.protocol.send_text(b'{"type":"ping","x":"\xff\xfe"}')
        bad.ws.send_data()

        async def read_until_closed():
            while True:
                await asyncio.wait_for(bad.ws.recv(), 5)

        with pytest.raises(websockets.ConnectionClosed):
            await read_until_closed()
        assert bad.ws.close_code in (1006, 1007)
        await other.send(type="ping")
        assert (await other.recv_type("pong"))["type"] == "pong"
        await other.close()

    asyncio.run(scenario())
