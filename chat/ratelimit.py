"""Per-member limits on the shared cache (Redis when configured), so every
process counts against the same budget.  Fixed windows: cheap and exact enough."""

import threading
import time

from django.conf import settings

from core import health
from core.cache import UNREACHABLE, resilient
from core.errors import DomainError, ErrorCode


def _limits() -> dict[str, tuple[int, int]]:
    return settings.CHAT_RATE_LIMITS


_redis = None
_redis_lock = threading.Lock()


def _redis_client():
    """A Redis client of this module's own when REDIS_URL is set: one round trip
    per count (INCR and EXPIRE in a pipeline) where Django's cache API needs three.
    One per process, shared by the worker threads: redis-py's client and its
    connection pool are thread-safe; a pipeline is built per call."""
    global _redis
    if _redis is None and settings.REDIS_URL:
        with _redis_lock:
            if _redis is None:
                import redis

                # Short timeouts: an unreachable Redis costs a send a moment, not a hang.
                _redis = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=1.0)
    return _redis


def _count_many(keys: list[tuple[str, int]]) -> list[int]:
    """Count one hit on each ``(key, window)``: one Redis round trip for them all.

    With Redis unreachable the counts are this process's own (core.cache):
    sends keep being stored and acked during an outage, limited per process."""
    client = _redis_client()
    if client is not None and not health.is_down("redis"):
        pipe = client.pipeline(transaction=False)
        for key, window in keys:
            full = f"{settings.REDIS_PREFIX}:{key}"
            pipe.incr(full)
            pipe.expire(full, window + 1, nx=True)
        try:
            counts = [int(n) for n in pipe.execute()[::2]]
        except UNREACHABLE as exc:
            health.failed("redis", exc)
        else:
            health.succeeded("redis")
            return counts
    return [_count_in_cache(key, window) for key, window in keys]


def _count_in_cache(key: str, window: int) -> int:
    cache = resilient()
    if cache.add(key, 1, timeout=window + 1):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 1)
        return 1


def hit_many(hits: list[tuple[str, int]]) -> list[DomainError | None]:
    """Count one action per ``(bucket, member_id)``, all in one round trip; for
    each, ``None`` or the ``DomainError(RATE_LIMITED)`` it earned (over budget)."""
    now = time.time()
    keys, slots = [], []
    for bucket, member_id in hits:
        limit, window = _limits()[bucket]
        slot = int(now // window)
        keys.append((f"rl:{bucket}:{member_id}:{slot}", window))
        slots.append((limit, window, slot))
    out: list[DomainError | None] = []
    for count, (limit, window, slot) in zip(_count_many(keys) if keys else [], slots, strict=True):
        if count <= limit:
            out.append(None)
            continue
        retry = max(1, int((slot + 1) * window - now + 0.999))
        out.append(
            DomainError(
                ErrorCode.RATE_LIMITED,
                f"You are sending faster than this room allows. Please wait {retry} s.",
                retry_after=retry,
            )
        )
    return out


def hit(bucket: str, member_id: int) -> None:
    """Count one action; raise ``DomainError(RATE_LIMITED)`` over the budget."""
    refusal = hit_many([(bucket, member_id)])[0]
    if refusal is not None:
        raise refusal


def slow_mode(circle_id: int, member_id: int, seconds: int) -> None:
    """One message per ``seconds`` per member; raise ``DomainError(SLOW_MODE)``."""
    if seconds <= 0:
        return
    key = f"slow:{circle_id}:{member_id}"
    now = time.time()
    cache = resilient()
    if cache.add(key, now, timeout=seconds):
        return
    # The key may have been set under a longer interval: judge by the current one.
    since = cache.get(key)
    if since is None or now - since >= seconds:
        cache.set(key, now, timeout=seconds)
        return
    retry = max(1, int(seconds - (now - since) + 0.999))
    raise DomainError(
        ErrorCode.SLOW_MODE,
        f"Slow mode is on: one message every {seconds} s. You can post again in {retry} s.",
        retry_after=retry,
    )
