import pytest
from django.conf import settings
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_local_cache():
    """An empty process-local cache per test (as tests/community does)."""
    if settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        cache.clear()
