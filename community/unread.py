"""How many messages each of a member's circles holds that they have not seen,
for the circle list.

Community sits below the app that owns the messages, so that app registers the
counter when Django starts (``ChatConfig.ready``), as it registers its member
data sections.  With none registered, nothing is unread.
"""

from __future__ import annotations

from collections.abc import Callable

Counter = Callable[[object], dict[int, int]]

_counter: Counter | None = None


def register(counter: Counter) -> None:
    """``counter(user)`` → unread messages per circle id (one query, please)."""
    global _counter
    _counter = counter


def counts(user) -> dict[int, int]:
    if _counter is None or not (user and user.is_authenticated):
        return {}
    return _counter(user)
