"""Dependencies (the database, Redis, the channel layer): whether each is up,
and logs that help during an outage instead of flooding.

``failed(name, exc)`` and ``succeeded(name)`` are called wherever a dependency
is used.  The first failure of a kind logs one line *with* its traceback; the
rest of the interval only counts; when the interval ends (checked at the next
failure or success) one line says how many failures of which exception types
there were; a success after failures logs one "recovered" line.  So a
three-second Redis outage with hundreds of clients costs a handful of lines,
not thousands.  Nothing here ever logs a message body, an address, a session
or a token: only dependency names, counts and exception type names.

``is_down(name)`` lets callers skip a dependency that just failed (a short
circuit breaker) and fall back, e.g. per-process rate limits while Redis is
unreachable.  ``snapshot()`` feeds /readyz and the metrics endpoint.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("ic.health")

INTERVAL = 10.0  # seconds per summary line while a dependency keeps failing
BREAKER = 1.0  # seconds a failed dependency is skipped before it is tried again


@dataclass
class _State:
    up: bool = True
    since: float = field(default_factory=time.monotonic)
    window_start: float = 0.0
    counts: Counter[str] = field(default_factory=Counter)
    tracebacks: set[str] = field(default_factory=set)
    total_failures: int = 0
    last_failure: float = 0.0


_states: dict[str, _State] = {}
_lock = threading.Lock()


def _state(name: str) -> _State:
    state = _states.get(name)
    if state is None:
        state = _states[name] = _State()
    return state


def _flush(name: str, state: _State, now: float) -> None:
    if state.counts:
        kinds = ", ".join(f"{n} x {kind}" for kind, n in state.counts.most_common())
        log.warning("%s still failing: %s in the last %.0f s", name, kinds, now - state.window_start)
    state.counts.clear()
    state.tracebacks.clear()
    state.window_start = now


def failed(name: str, exc: BaseException) -> None:
    """``name`` failed with ``exc``: logged at most once per kind per interval."""
    kind = type(exc).__name__
    now = time.monotonic()
    with _lock:
        state = _state(name)
        if state.up:
            state.up, state.since, state.window_start = False, now, now
            first = True
        else:
            first = False
            if now - state.window_start >= INTERVAL:
                _flush(name, state, now)
        state.total_failures += 1
        state.last_failure = now
        with_traceback = kind not in state.tracebacks
        state.tracebacks.add(kind)
        if not with_traceback:
            state.counts[kind] += 1
    if first:
        log.error("%s is unavailable (%s)", name, kind, exc_info=(type(exc), exc, exc.__traceback__))
    elif with_traceback:
        log.error("%s: another kind of failure (%s)", name, kind, exc_info=(type(exc), exc, exc.__traceback__))


def succeeded(name: str) -> None:
    """``name`` worked: after failures, one "recovered" line."""
    state = _states.get(name)
    if state is None or state.up:  # the common case, without the lock
        return
    now = time.monotonic()
    with _lock:
        if state.up:
            return
        _flush(name, state, now)
        log.warning("%s recovered after %.1f s", name, now - state.since)
        state.up, state.since = True, now


def is_down(name: str) -> bool:
    """True for BREAKER seconds after a failure that was not followed by a success."""
    state = _states.get(name)
    return state is not None and not state.up and time.monotonic() - state.last_failure < BREAKER


def snapshot() -> dict[str, dict[str, Any]]:
    """Each known dependency: up or not, for how long, failures counted."""
    now = time.monotonic()
    with _lock:
        return {
            name: {"up": s.up, "for_seconds": round(now - s.since, 1), "failures": s.total_failures}
            for name, s in _states.items()
        }


class JsonFormatter(logging.Formatter):
    """One JSON object per line (LOG_FORMAT=json): time, level, logger, message,
    and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["traceback"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class RepeatFilter(logging.Filter):
    """Lets a kind of log record through once per interval, then counts.

    A "kind" is the logger and the message template (the text before its
    arguments are put in): a library that logs every failed reconnect with a
    traceback, or the same exception from every client's retry, becomes one
    record per interval plus "(N more like this in the last 10 s)" on the next
    one that passes.  Attached to every handler (settings.LOGGING)."""

    def __init__(self, interval: float = INTERVAL) -> None:
        super().__init__()
        self.interval = interval
        self.seen: dict[tuple[str, str], tuple[float, int]] = {}
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, str(record.msg))
        now = time.monotonic()
        with self.lock:
            first, suppressed = self.seen.get(key, (0.0, 0))
            if first and now - first < self.interval:
                self.seen[key] = (first, suppressed + 1)
                return False
            self.seen[key] = (now, 0)
            if len(self.seen) > 10_000:  # kinds are few; never grow without bound
                self.seen.clear()
        if suppressed:
            record.msg = f"{record.msg} ({suppressed} more like this in the last {self.interval:.0f} s)"
        return True
