import pytest
from django.conf import settings
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_local_cache():
    """Start each test with an empty process-local cache.

    Log-in failure counts and live-room rate limits live in the cache, keyed by handle
    or membership id; SQLite reuses ids after a rolled-back test, so without this one
    test's counts could throttle the next.  A shared Redis cache is left alone (clearing
    it would flush other runs' keys): the tests use run-unique handles, and PostgreSQL
    never reuses ids within a run.
    """
    if settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        cache.clear()
