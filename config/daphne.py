"""Daphne, as this project runs it: ``python -m config.daphne [daphne options] config.asgi:application``.

Everything is Daphne's (same options, same server), with two additions that an
ASGI application cannot make on its own:

* **Clean restarts.**  On SIGTERM (or SIGINT), before Twisted shuts down, every
  open WebSocket is closed with **1012** ("service restart") so pages reconnect
  at once, to another process behind the proxy; sends already queued are stored
  and acked first; new sockets are refused meanwhile (1012).  The whole goodbye
  is bounded by SHUTDOWN_GRACE_SECONDS (default 10), then the process exits.
* **Backpressure.**  What the server has queued for one socket and the client
  has not read yet is bounded: the kernel's send buffer is fixed at
  SOCKET_SEND_BUFFER_BYTES (default 256 KiB; Linux would grow it to 4 MiB), and
  past SOCKET_BACKLOG_BYTES (default 2 MiB) the
  socket is closed with **4008** ("you fell behind: reconnect and resume"; the
  page resumes from its last id): the close frame is queued after what is
  already there and nothing more is queued, so a reader that still reads gets
  it; one that has stalled is dropped after SLOW_READER_CLOSE_SECONDS (default
  15).  A reader that stalls cannot make the process grow, and does not slow
  anyone else.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import threading
from pprint import pformat

log = logging.getLogger("ic.daphne")

SOCKET_BACKLOG_BYTES = int(os.environ.get("SOCKET_BACKLOG_BYTES", str(2 * 1024 * 1024)))
# The kernel's send buffer of each WebSocket, fixed (Linux otherwise grows it
# up to net.ipv4.tcp_wmem's maximum, 4 MiB here): what one socket can hold
# unread is this plus SOCKET_BACKLOG_BYTES.  0 leaves the kernel's autotuning.
SOCKET_SEND_BUFFER_BYTES = int(os.environ.get("SOCKET_SEND_BUFFER_BYTES", str(256 * 1024)))
# How long a socket closed for falling behind has to read what was queued
# before its close frame; then it is dropped (the page sees 1006).
SLOW_READER_CLOSE_SECONDS = float(os.environ.get("SLOW_READER_CLOSE_SECONDS", "15"))
SHUTDOWN_GRACE_SECONDS = float(os.environ.get("SHUTDOWN_GRACE_SECONDS", "10"))
CLOSE_SLOW_READER = 4008  # realtime.protocol.CLOSE_SLOW_READER


def _queued_bytes(transport) -> int:
    """Bytes a Twisted TCP transport holds that the peer has not taken yet."""
    data = getattr(transport, "dataBuffer", b"")
    offset = getattr(transport, "offset", 0)
    return max(0, len(data) - offset) + int(getattr(transport, "_tempDataLen", 0))


def _install_backpressure() -> None:
    from daphne import ws_protocol

    class BoundedWebSocketProtocol(ws_protocol.WebSocketProtocol):
        def connectionMade(self):  # noqa: N802 - Twisted's method name
            get_handle = getattr(self.transport, "getHandle", None)
            handle = get_handle() if get_handle is not None else None
            if SOCKET_SEND_BUFFER_BYTES and isinstance(handle, socket.socket):
                handle.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_SEND_BUFFER_BYTES)
            super().connectionMade()

        def serverSend(self, content, binary=False):  # noqa: N802 - Daphne's method name
            if self.state == self.STATE_CLOSING:
                return  # closing (fell behind, a restart): nothing more is queued for it
            if self.state == self.STATE_OPEN and _queued_bytes(self.transport) > SOCKET_BACKLOG_BYTES:
                log.warning("closed a socket whose reader fell %d bytes behind", SOCKET_BACKLOG_BYTES)
                # The close frame goes after what is already queued, and nothing
                # more is: a reader that still reads reaches it and knows why
                # (4008); one that stalled is dropped when the grace ends.
                self.closeHandshakeTimeout = SLOW_READER_CLOSE_SECONDS
                self.sendClose(code=CLOSE_SLOW_READER, reason="fell behind: reconnect to resume")
                return
            super().serverSend(content, binary)

        def serverClose(self, code=None):  # noqa: N802 - Daphne's method name
            # autobahn lets an application close only with 1000 or 3000-4999;
            # 1012 (restart) and 1013 (try again later) are server codes, sent
            # as the close frame itself.
            if code in (1012, 1013) and self.state == self.STATE_OPEN:
                self.sendCloseFrame(code=code, isReply=False)
                return
            super().serverClose(code)

    ws_protocol.WebSocketFactory.protocol = BoundedWebSocketProtocol


def _pformat_when_debugging(
    object: object,  # pprint.pformat's own parameter names (mypy checks the replacement against them)
    indent: int = 1,
    width: int = 80,
    depth: int | None = None,
    *,
    compact: bool = False,
    sort_dicts: bool = True,
    underscore_numbers: bool = False,
) -> str:
    """autobahn's ``pformat``: the real one only while its debug log is on.

    autobahn pretty-prints its whole configuration on every new connection for
    a debug line, whether or not that line is logged: 7 % of the server's CPU
    while a session's members all connect at once (bench/README.md, the
    session-start storm).  Its only other uses are a client's handshake and
    its timing tracker (off), both debug aids too."""
    from txaio import tx  # the Twisted flavour Daphne runs on

    if tx.get_global_log_level() in ("debug", "trace"):
        return pformat(
            object,
            indent,
            width,
            depth,
            compact=compact,
            sort_dicts=sort_dicts,
            underscore_numbers=underscore_numbers,
        )
    return "(autobahn debug logging is off)"


def _install_cheap_handshake() -> None:
    from autobahn.websocket import protocol

    protocol.pformat = _pformat_when_debugging


def _install_graceful_shutdown() -> None:
    """Daphne cancels every application when Twisted begins to shut down; the
    goodbye runs first, inside that same step, so it is bounded by it."""
    from daphne.server import Server
    from twisted.internet import defer

    from realtime import hub

    cancel_all = Server.kill_all_applications

    def kill_all_applications(self):
        goodbye = asyncio.ensure_future(
            asyncio.wait_for(hub.shut_down_all(close_code=1012), timeout=SHUTDOWN_GRACE_SECONDS)
        )
        done = defer.Deferred.fromFuture(goodbye)
        done.addErrback(lambda failure: log.warning("the goodbye did not finish: %s", failure.value))
        done.addBoth(lambda _: cancel_all(self))
        return done

    Server.kill_all_applications = kill_all_applications


def default_options() -> list[str]:
    """The options every process of this project runs with (given options come
    after them and win):

    * ``-v 0`` and no access log: at verbosity 1 Daphne prints an access log
      with every client's address, and no IP address is ever written anywhere;
    * a day's WebSocket timeout (the page reconnects and resumes anyway);
    * the transport cap above our own frame bounds (docs/protocol.md, "Limits")."""
    from realtime.protocol import DAPHNE_MAX_MESSAGE_BYTES

    cap = str(DAPHNE_MAX_MESSAGE_BYTES)
    return [
        "-v",
        "0",
        "--websocket_timeout",
        "86400",
        "--websocket-max-message-size",
        cap,
        "--websocket-max-frame-size",
        cap,
    ]


def _warm_up() -> None:
    """Compile the keyword rules before the first message needs them.

    Compiling ~200 rules (RE2 set, lemma tables, detectors) takes a second or
    more; done lazily, the first message after a start waited for it.  If the
    database is not reachable yet the first screening compiles instead.
    """
    from django.db import connection

    from moderation.screening import warm_rules

    try:
        warm_rules()
    except Exception as exc:  # the server must start anyway; screening retries
        log.warning("keyword rules not compiled at start (%s); the first message will", type(exc).__name__)
    finally:
        connection.close()


async def _scheduler_loop(interval: float) -> None:
    """The session scheduler (``schedules.scheduler.run_once``) inside this process.

    For the embedded default (one process, the in-memory channel layer), where a
    scheduler in a process of its own could not reach this process's sockets:
    each pass runs on the worker pool from this event loop, so what it publishes
    (a room opening or closing) goes out through this process's outbox like any
    frame's.  Several processes on Redis run ``manage.py run_scheduler`` instead
    (it is safe to run both: every transition is claimed once)."""
    from asgiref.sync import sync_to_async

    while True:
        try:
            await sync_to_async(_scheduler_pass, thread_sensitive=False)()
        except Exception as exc:  # the next pass tries again (a database outage, say)
            log.warning("scheduler pass failed (%s); trying again", type(exc).__name__)
        await asyncio.sleep(interval)


def _scheduler_pass() -> None:
    from django.db import close_old_connections

    from schedules import scheduler

    close_old_connections()
    try:
        scheduler.run_once()
    finally:
        close_old_connections()


def _start_scheduler() -> None:
    from django.conf import settings
    from twisted.internet import reactor

    if settings.SCHEDULER_IN_PROCESS:
        interval = settings.SCHEDULER_INTERVAL_SECONDS
        reactor.callWhenRunning(lambda: asyncio.ensure_future(_scheduler_loop(interval)))


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django
    from daphne.cli import CommandLineInterface  # installs Twisted's asyncio reactor

    django.setup()
    threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()
    _install_backpressure()
    _install_cheap_handshake()
    _install_graceful_shutdown()
    _start_scheduler()
    given = argv if argv is not None else sys.argv[1:]
    if not any(arg.endswith(":application") or (":" in arg and not arg.startswith("-")) for arg in given):
        given = [*given, "config.asgi:application"]
    CommandLineInterface().run([*default_options(), *given])


if __name__ == "__main__":
    main()
