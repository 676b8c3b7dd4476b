"""Two Daphne processes on one Redis and one PostgreSQL serve one circle."""

import asyncio
import os

import pytest
import websockets

from community.models import Membership
from tests.conftest import session_cookie_for
from tests.live.wsclient import LiveSocket

pytestmark = [pytest.mark.services]


@pytest.fixture
def two_servers(daphne_factory):
    if not os.environ.get("REDIS_URL"):
        pytest.fail("REDIS_URL is required for the multi-process tests (scripts/test pass 2 sets it)")
    return daphne_factory(), daphne_factory()


@pytest.fixture
def people(make_user, circle, join):
    facilitator = make_user("guide-live")
    a, b = make_user("alpha-live"), make_user("beta-live")
    return {
        "facilitator": (join(facilitator, circle, Membership.Role.FACILITATOR), session_cookie_for(facilitator)),
        "a": (join(a, circle), session_cookie_for(a)),
        "b": (join(b, circle), session_cookie_for(b)),
    }


def test_message_removal_and_mute_cross_processes(two_servers, people, circle):
    """A message sent through one process reaches a member on the other; a removal
    and a mute made on one process take effect on the other at once."""
    one, two = two_servers

    async def scenario():
        a = await LiveSocket.open(one, circle.slug, people["a"][1])
        b = await LiveSocket.open(two, circle.slug, people["b"][1])
        guide = await LiveSocket.open(two, circle.slug, people["facilitator"][1])

        await a.send(type="send", client_id="x-1", body="hello from process one")
        ack = await a.recv_type("ack")
        got = await b.recv_type("message")
        assert got["message"]["id"] == ack["id"]
        assert got["message"]["alias"] == people["a"][0].alias

        await guide.send(type="remove", message=ack["id"], reason="test")
        assert (await guide.recv_type("done"))["of"] == "remove"
        removed = await a.recv_type("removed")  # a is on the other process
        assert removed["id"] == ack["id"]

        await guide.send(type="mute", alias=people["a"][0].alias, minutes=5, reason="test")
        await guide.recv_type("done")
        notice = await a.recv_type("notice")
        assert notice["code"] == "muted"
        await a.send(type="send", client_id="x-2", body="am I muted?")
        err = await a.recv_type("error")
        assert err["code"] == "muted"

        for sock in (a, b, guide):
            await sock.close()

    asyncio.run(scenario())


def test_presence_spans_processes(two_servers, people, circle):
    """Members connected to different processes see each other present."""
    one, two = two_servers

    async def scenario():
        a = await LiveSocket.open(one, circle.slug, people["a"][1])
        b = await LiveSocket.open(two, circle.slug, people["b"][1])
        wanted = {people["a"][0].alias, people["b"][0].alias}
        seen = set(a.hello["present"])
        deadline = asyncio.get_running_loop().time() + 5
        while not wanted <= seen and asyncio.get_running_loop().time() < deadline:
            frame = await a.recv_type("presence", timeout=5)
            seen |= set(frame["joined"])
            seen -= set(frame["left"])
        assert wanted <= seen
        await b.close()
        frame = await a.recv_type("presence", timeout=5)
        assert people["b"][0].alias in frame["left"]
        await a.close()

    asyncio.run(scenario())


def test_resume_after_reconnecting_to_the_other_process(two_servers, people, circle):
    """A member who drops from one process and resumes on the other with ?since
    receives every message published meanwhile, in order, before live traffic."""
    one, two = two_servers

    async def scenario():
        a = await LiveSocket.open(one, circle.slug, people["a"][1])
        b = await LiveSocket.open(one, circle.slug, people["b"][1])
        await a.send(type="send", client_id="r-0", body="before")
        first = (await a.recv_type("ack"))["id"]
        await b.recv_type("message")
        await b.close()
        ids = []
        for i in range(1, 8):
            await a.send(type="send", client_id=f"r-{i}", body=f"while away {i}")
            ids.append((await a.recv_type("ack"))["id"])
        b2 = await LiveSocket.open(two, circle.slug, people["b"][1], since=first)
        replayed = [m["id"] for m in b2.hello["messages"]]
        assert replayed == ids
        await a.send(type="send", client_id="r-live", body="live again")
        live_id = (await a.recv_type("ack"))["id"]
        assert (await b2.recv_type("message"))["message"]["id"] == live_id
        await a.close()
        await b2.close()

    asyncio.run(scenario())


def test_access_ended_on_one_process_closes_sockets_on_every_process(two_servers, people, circle, client_for):
    """A member signs out (a request to process one's view, or anywhere): their
    sockets on both processes get the notice and close with 4409; nobody else's."""
    from realtime import protocol

    one, two = two_servers
    member = people["a"][0]

    async def scenario():
        on_one = await LiveSocket.open(one, circle.slug, people["a"][1])
        on_two = await LiveSocket.open(two, circle.slug, people["a"][1])
        other = await LiveSocket.open(two, circle.slug, people["b"][1])
        await asyncio.to_thread(lambda: client_for(member.user).post("/accounts/logout/"))
        for sock in (on_one, on_two):
            notice = await sock.recv_type("notice")
            assert notice["code"] == "signed_out"
            with pytest.raises(websockets.ConnectionClosed):
                await sock.recv(timeout=5)
            assert sock.ws.close_code == protocol.CLOSE_ACCESS_CHANGED
        await other.send(type="ping")
        assert (await other.recv_type("pong"))["type"] == "pong"
        await other.close()

    asyncio.run(scenario())
