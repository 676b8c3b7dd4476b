"""A clean restart closes sockets with 1012 after storing what was queued; a
reader that falls behind is cut off instead of growing the process (issue 15)."""

import asyncio
import signal
import time

import pytest
import websockets

from chat.models import Message
from realtime import protocol
from tests.conftest import session_cookie_for
from tests.live.wsclient import LiveSocket

pytestmark = pytest.mark.django_db(transaction=True)

FAST = {"CHAT_RATE_SEND": "100000", "CHAT_RATE_FRAMES": "100000"}


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def test_sigterm_closes_every_socket_with_1012_after_storing_what_was_queued(daphne_factory, make_user, circle, join):
    """SIGTERM while a member sends: every acked message is stored, every socket
    sees 1012 (so the page reconnects at once, elsewhere), and the process exits
    within its grace period."""
    server = daphne_factory(**FAST)
    sender_m, watcher_m = join(make_user("restart-sender"), circle), join(make_user("restart-watch"), circle)
    sender_cookie, watcher_cookie = session_cookie_for(sender_m.user), session_cookie_for(watcher_m.user)

    async def scenario():
        sender = await LiveSocket.open(server, circle.slug, sender_cookie)
        watcher = await LiveSocket.open(server, circle.slug, watcher_cookie)
        for n in range(40):
            await sender.send(type="send", client_id=f"r-{n}", body=f"before the restart {n}")
        await asyncio.sleep(0.05)
        server.proc.send_signal(signal.SIGTERM)
        acked, codes = [], {}
        for name, sock in (("sender", sender), ("watcher", watcher)):
            try:
                while True:
                    frame = await sock.recv(timeout=15)
                    if frame["type"] == "ack" and frame["id"]:
                        acked.append(frame["id"])
            except websockets.ConnectionClosed:
                codes[name] = sock.ws.close_code
        return acked, codes

    started = time.monotonic()
    acked, codes = asyncio.run(scenario())
    assert codes == {"sender": protocol.CLOSE_RESTARTING, "watcher": protocol.CLOSE_RESTARTING}
    assert server.proc.wait(timeout=20) == 0 or server.proc.returncode is not None
    assert time.monotonic() - started < 20
    stored = set(Message.objects.filter(circle=circle).values_list("seq", flat=True))
    assert set(acked) <= stored  # nothing acked was lost
    assert acked  # the restart came while sends were flowing


def test_a_reader_that_falls_behind_is_closed_and_the_process_stays_flat(daphne_factory, make_user, circle, join):
    """A member whose page reads slowly (it still answers pings) while a busy
    member posts large messages: past SOCKET_BACKLOG_BYTES that socket is closed
    (4008, or dropped), the process's memory does not grow with what the slow
    reader missed, and the members who read get every message."""
    server = daphne_factory(SOCKET_BACKLOG_BYTES=str(1024 * 1024), **FAST)
    members = [join(make_user(f"bp-{n}"), circle) for n in range(3)]
    cookies = [session_cookie_for(m.user) for m in members]
    body = "&" * 3990  # 20 KB a message once shown (&amp;): far more in all than the kernel's buffers hold
    total = 900

    async def scenario():
        sender = await LiveSocket.open(server, circle.slug, cookies[0])
        fast = await LiveSocket.open(server, circle.slug, cookies[1])
        url = f"{server.ws_url}/ws/circles/{circle.slug}/"
        slow = await websockets.connect(
            url,
            origin=f"http://127.0.0.1:{server.port}",
            additional_headers={"Cookie": f"sessionid={cookies[2]}"},
            max_queue=2,
            max_size=2**22,
        )
        rss_before = _rss_kib(server.proc.pid)
        got: dict[str, list[int]] = {"fast": [], "sender": []}
        acked: list[int] = []
        slow_closed = None

        async def read(name, sock):
            while len(got[name]) < total or (name == "sender" and len(acked) < total):
                frame = await sock.recv(timeout=30)
                if frame["type"] == "message":
                    got[name].append(frame["message"]["id"])
                elif frame["type"] == "ack":
                    acked.append(frame["id"])

        async def read_slowly():
            nonlocal slow_closed
            try:
                while True:
                    await slow.recv()
                    await asyncio.sleep(1.0)  # a page on a very slow link (pings still answered)
            except websockets.ConnectionClosed:
                slow_closed = slow.close_code

        readers = [asyncio.ensure_future(read("fast", fast)), asyncio.ensure_future(read("sender", sender))]
        laggard = asyncio.ensure_future(read_slowly())
        for n in range(total):
            await sender.send(type="send", client_id=f"bp-{n}", body=f"{n} {body}")
            if n % 50 == 49:
                await asyncio.sleep(0.05)
        await asyncio.wait_for(asyncio.gather(*readers), 120)
        await asyncio.wait_for(laggard, 60)
        rss_after = _rss_kib(server.proc.pid)
        await sender.close()
        await fast.close()
        return got, len(acked), slow_closed, rss_before, rss_after

    got, acks, slow_closed, rss_before, rss_after = asyncio.run(scenario())
    assert acks == total
    assert got["fast"] == sorted(got["fast"]) and len(got["fast"]) == total
    assert slow_closed in (protocol.CLOSE_SLOW_READER, 1006), slow_closed
    # ~18 MB went to the slow reader's socket; the process kept at most its bound of it.
    assert rss_after - rss_before < 48 * 1024, (rss_before, rss_after)
    log = server.output()
    assert "fell" in log and "behind" in log
