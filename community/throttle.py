"""Guessing limits for log-in and invite codes, by account and by source.

A *source* is the client's address, but it is never kept: the counters are keyed
by an HMAC of the address under SECRET_KEY (so a key names no address and
cannot be reversed without the secret), live only in the ``throttle`` cache
(Redis with REDIS_URL, else this process's memory with room for 100,000 keys),
expire within minutes, and are never written to the database or a log.

Log-in (the numbers are settings, see the README):

* per source: LOGIN_SOURCE_FAILURES failed log-ins in LOGIN_WINDOW_SECONDS, for
  any handles, and that source is refused for the rest of the window (spraying
  many handles from one place stops there);
* per handle and source: LOGIN_MAX_FAILURES failures, and that source may not
  try that handle again for the window;
* per handle, from anywhere: past LOGIN_HANDLE_FAILURES failures in the window,
  attempts on the handle are *slowed* to one per LOGIN_HANDLE_SPACING seconds,
  never locked: the owner, from their own device, still gets in, while a
  guesser with many addresses gets a few tries a minute.

Invite codes: INVITE_MEMBER_FAILURES wrong codes per account and
INVITE_SOURCE_FAILURES per source in INVITE_WINDOW_SECONDS.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings

from core.cache import ResilientCache, resilient
from core.errors import DomainError, ErrorCode


def _cache() -> ResilientCache:
    # With Redis away for a moment, limits count in this process (core.cache).
    return resilient("throttle")


def source_of(request) -> str:
    """An opaque key for the request's source address (never the address)."""
    address = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_HOPS
    if hops:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    digest = hmac.new(settings.SECRET_KEY.encode(), f"source:{address}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _handle_key(handle: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"handle:{handle.strip().lower()}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _count(key: str) -> int:
    return int(_cache().get(key, 0))


def _add(key: str, window: int) -> int:
    cache = _cache()
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def _refuse(code: ErrorCode, message: str, retry_after: int) -> DomainError:
    return DomainError(code, message, retry_after=max(1, retry_after))


# --- log-in -------------------------------------------------------------------


def check_login(*, handle: str, source: str) -> None:
    """Refuse a log-in attempt that a limit stops (LOGIN_THROTTLED, retry_after)."""
    window = settings.LOGIN_WINDOW_SECONDS
    minutes = max(1, window // 60)
    if _count(f"login:src:{source}") >= settings.LOGIN_SOURCE_FAILURES:
        raise _refuse(
            ErrorCode.LOGIN_THROTTLED,
            f"Too many attempts from this connection. Please wait {minutes} minutes and try again.",
            window,
        )
    hkey = _handle_key(handle)
    if _count(f"login:pair:{hkey}:{source}") >= settings.LOGIN_MAX_FAILURES:
        raise _refuse(
            ErrorCode.LOGIN_THROTTLED,
            f"Too many attempts for this handle. Please wait {minutes} minutes and try again.",
            window,
        )
    if _count(f"login:handle:{hkey}") >= settings.LOGIN_HANDLE_FAILURES:
        spacing = settings.LOGIN_HANDLE_SPACING
        last = _cache().get(f"login:last:{hkey}")
        now = time.time()
        if last is not None and now - float(last) < spacing:
            raise _refuse(
                ErrorCode.LOGIN_THROTTLED,
                "This handle is being tried a lot. Please wait a few seconds between attempts.",
                int(spacing - (now - float(last))) + 1,
            )
        _cache().set(f"login:last:{hkey}", now, timeout=spacing * 2)


def login_failed(*, handle: str, source: str) -> None:
    window = settings.LOGIN_WINDOW_SECONDS
    hkey = _handle_key(handle)
    _add(f"login:src:{source}", window)
    _add(f"login:pair:{hkey}:{source}", window)
    _add(f"login:handle:{hkey}", window)


def login_succeeded(*, handle: str, source: str) -> None:
    """The owner is in: their own source starts afresh for this handle."""
    _cache().delete(f"login:pair:{_handle_key(handle)}:{source}")


# --- invite codes ---------------------------------------------------------------


def check_invite(*, user_id: int, source: str) -> None:
    window = settings.INVITE_WINDOW_SECONDS
    if (
        _count(f"invite:user:{user_id}") >= settings.INVITE_MEMBER_FAILURES
        or _count(f"invite:src:{source}") >= settings.INVITE_SOURCE_FAILURES
    ):
        raise _refuse(
            ErrorCode.RATE_LIMITED,
            f"Too many wrong invite codes. Please wait {max(1, window // 60)} minutes and ask the facilitator again.",
            window,
        )


def invite_failed(*, user_id: int, source: str) -> None:
    window = settings.INVITE_WINDOW_SECONDS
    _add(f"invite:user:{user_id}", window)
    _add(f"invite:src:{source}", window)
