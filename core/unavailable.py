"""Turning a dependency outage into an answer a member can act on.

When the database cannot be reached, a frame's service call fails with a
connection error.  ``unavailable_from`` recognises those errors (not a bug in a
query, not a constraint), records the outage once (core.health), and gives the
refusal the member sees: code ``unavailable``, with ``retry_after`` — the page
keeps the message and sends it again after that, with jitter and growing waits.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

from . import health
from .errors import DomainError, ErrorCode

DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER = 2  # seconds: the first wait a client is told


def unavailable_from(exc: BaseException) -> DomainError | None:
    """The refusal for ``exc`` if it means the database is unreachable, else None."""
    if not isinstance(exc, DATABASE_DOWN):
        return None
    health.failed("database", exc)
    return DomainError(
        ErrorCode.UNAVAILABLE,
        "The room cannot store messages for a moment. Your message is kept and will be sent again.",
        retry_after=RETRY_AFTER,
    )
