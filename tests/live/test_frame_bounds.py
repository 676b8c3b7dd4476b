"""Every server frame is bounded by bytes: a room full of maximum-size messages
cannot make hello, a resume or a history page too large for the socket."""

import asyncio

import pytest
from django.conf import settings
from django.test import override_settings

from chat import services as chat_services
from realtime import protocol
from tests.conftest import session_cookie_for
from tests.live.wsclient import LiveSocket

pytestmark = pytest.mark.django_db(transaction=True)

# A body at the length limit, mostly bare links: each becomes an <a> with
# rel="nofollow noopener", so its HTML is several times the body.
LINKS = " ".join(f"https://example.com/{n:04d}?a=1&b=2" for n in range(400))


def _link_heavy_body(n: int) -> str:
    return (f"{n} " + LINKS)[: protocol.MAX_BODY_CHARS]


def _fill(member, count: int) -> None:
    ctx = chat_services.open_room(user=member.user, slug=member.circle.slug)
    for n in range(count):
        chat_services.post_message(ctx, client_id=f"fill-{n}", body=_link_heavy_body(n))


@override_settings(CHAT_RATE_LIMITS={**settings.CHAT_RATE_LIMITS, "send": (10_000, 10), "frame": (10_000, 10)})
def test_a_room_full_of_maximum_size_messages_can_still_be_entered_resumed_and_paged(
    daphne_server, make_user, circle, join
):
    """Connect, resume from 0 and page back through a room of 60 maximum-size,
    link-heavy messages: every frame arrives, none above the bound, no 1011."""
    writer = join(make_user("filler"), circle)
    reader = join(make_user("reader"), circle)
    _fill(writer, 60)
    cookie = session_cookie_for(reader.user)

    async def scenario():
        sizes = []
        sock = await LiveSocket.open(daphne_server, circle.slug, cookie)
        got = [m["id"] for m in sock.hello["messages"]]
        assert got and got[-1] == 60
        # page back to the start
        oldest = got[0]
        while oldest > 1:
            await sock.send(type="history", before=oldest)
            page = await sock.recv_type("batch")
            assert page["kind"] == "history" and page["messages"]
            got = [m["id"] for m in page["messages"]] + got
            oldest = got[0]
        assert got == list(range(1, 61))
        await sock.close()
        # resume from the very beginning
        again = await LiveSocket.open(daphne_server, circle.slug, cookie, since=0)
        seen = [m["id"] for m in again.hello["messages"]]
        while seen[-1] < 60:
            frame = await again.recv_type("batch")
            seen += [m["id"] for m in frame["messages"]]
        assert seen == list(range(1, 61))
        sizes.extend(sock.sizes + again.sizes)
        # Live: a burst of maximum-size messages reaches a connected member in
        # frames that each stay within the bound.
        watcher = await LiveSocket.open(daphne_server, circle.slug, cookie)
        writer_cookie = await asyncio.to_thread(session_cookie_for, writer.user)
        sender = await LiveSocket.open(daphne_server, circle.slug, writer_cookie)
        for n in range(61, 69):  # within the server's send budget (10 per 10 s)
            await sender.send(type="send", client_id=f"live-{n}", body=_link_heavy_body(n))
        live = []
        while len(live) < 8:
            frame = await watcher.recv_type("message", timeout=10)
            live.append(frame["message"]["id"])
        assert live == list(range(61, 69))
        sizes.extend(watcher.sizes)
        await watcher.close()
        await sender.close()
        return sizes

    sizes = asyncio.run(scenario())
    assert max(sizes) <= protocol.MAX_SERVER_FRAME_BYTES, max(sizes)
    assert max(sizes) > protocol.MAX_SERVER_FRAME_BYTES // 2  # the bound was really reached
