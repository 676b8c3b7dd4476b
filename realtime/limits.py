"""A socket's own frame budget, counted on the event loop before a frame is
parsed: a flood of junk costs one comparison per frame, not a parse and a reply.

The member's shared budget (``chat.ratelimit``, across processes) still counts
every frame that parses; this one protects the process from one socket.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable


class Take(enum.Enum):
    OK = "ok"
    REFUSE = "refuse"  # the first frame over the budget: tell the client once
    DROP = "drop"  # further frames in the window: ignored, no reply
    CLOSE = "close"  # far over the budget: close the socket


class FrameBudget:
    """At most ``limit`` frames per ``window`` seconds (fixed windows); beyond
    ``close_after`` times the limit in one window the socket is closed."""

    def __init__(
        self, limit: int, window: float, *, close_after: int = 3, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.close_after = close_after
        self.clock = clock
        self.started = clock()
        self.count = 0

    def take(self) -> Take:
        now = self.clock()
        if now - self.started >= self.window:
            self.started, self.count = now, 0
        self.count += 1
        if self.count <= self.limit:
            return Take.OK
        if self.count == self.limit + 1:
            return Take.REFUSE
        if self.count > self.limit * self.close_after:
            return Take.CLOSE
        return Take.DROP

    def retry_after(self) -> int:
        """Whole seconds until the window turns."""
        return max(1, int(self.window - (self.clock() - self.started) + 0.999))
