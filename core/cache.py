"""The shared cache, and what happens when Redis is not there.

With REDIS_URL the rate limits, slow mode, guessing limits and the rule-set
version live in Redis, shared by every process.  If Redis stops answering,
``resilient(alias)`` falls back to this process's own memory (the ``local``
cache): limits then count per process rather than across processes, which is
the right trade for a few seconds — sends keep being stored and acked.  The
outage is logged once (core.health), Redis is retried a second later, and
when it answers again the shared counts take over.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import caches

from . import health

try:  # redis is installed with channels-redis; without it nothing here can fail that way
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - redis is a runtime requirement
    RedisError = OSError  # type: ignore[assignment,misc]

UNREACHABLE = (RedisError, OSError)


class ResilientCache:
    """The methods of Django's cache used here, falling back to local memory."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        primary = caches[self.alias]
        if primary.__class__.__name__ != "RedisCache" or health.is_down("redis"):
            target = primary if primary.__class__.__name__ != "RedisCache" else caches["local"]
            return getattr(target, method)(*args, **kwargs)
        try:
            result = getattr(primary, method)(*args, **kwargs)
        except UNREACHABLE as exc:
            health.failed("redis", exc)
            return getattr(caches["local"], method)(*args, **kwargs)
        health.succeeded("redis")
        return result

    def get(self, key: str, default: Any = None) -> Any:
        return self._call("get", key, default)

    def set(self, key: str, value: Any, timeout: Any = None) -> None:
        self._call("set", key, value, timeout=timeout)

    def add(self, key: str, value: Any, timeout: Any = None) -> bool:
        return bool(self._call("add", key, value, timeout=timeout))

    def incr(self, key: str, delta: int = 1) -> int:
        return int(self._call("incr", key, delta))

    def delete(self, key: str) -> None:
        self._call("delete", key)


def resilient(alias: str = "default") -> ResilientCache:
    return ResilientCache(alias)
