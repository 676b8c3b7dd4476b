"""Settings for the test suite: the real settings, with a throwaway secret and a
file-backed SQLite test database so that Daphne subprocesses can share it."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
# Presence shows sooner in tests (the jitter itself is tested on its own).
os.environ.setdefault("CHAT_PRESENCE_DELAY", "0.1")
os.environ.setdefault("CHAT_PRESENCE_JITTER", "0.2")

from .base import *  # noqa: F403
from .base import DATA_DIR, DATABASES

# Each run may name its own test database (scripts/test does, with its process
# id), so two runs on one machine never share or drop each other's database.
_suffix = os.environ.get("IC_TEST_DB_SUFFIX", "main")
if str(DATABASES["default"]["ENGINE"]).endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{_suffix}.sqlite3")}
elif "IC_TEST_DB_SUFFIX" in os.environ:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{_suffix}"}
# Voice notes of this run's own (Daphne subprocesses read the same suffix).
if "PRIVATE_DATA_DIR" not in os.environ:
    PRIVATE_DATA_DIR = DATA_DIR / f"test-private-{_suffix}"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A test's Daphne runs no scheduler of its own unless the test asks for one: a
# test decides when its sessions open (tests/live/test_scheduler_in_process.py asks).
SCHEDULER_IN_PROCESS = os.environ.get("SCHEDULER_IN_PROCESS", "false").lower() in ("true", "1", "yes")
# The suite drops its test database at the end; connections kept open by worker
# threads would stop that, so the test process does not keep them.
DATABASES["default"]["CONN_MAX_AGE"] = 0

# tests/room_fixtures.py gives each test its own cache key prefixes on a shared
# Redis; a Daphne that a test starts is told the same suffix, so both processes
# read and write the same cached keys (the rule-set version, guessing limits).
# chat.ratelimit's own counters (under REDIS_PREFIX) stay the server's: a test
# that fills a room in its own process must not spend the server's send budget.
_cache_suffix = os.environ.get("IC_TEST_CACHE_SUFFIX", "")
IC_TEST_CACHE_SUFFIX = _cache_suffix
if _cache_suffix:
    from .base import CACHES

    for _alias in ("default", "throttle"):
        if "KEY_PREFIX" in CACHES.get(_alias, {}):
            CACHES[_alias]["KEY_PREFIX"] = f"{CACHES[_alias]['KEY_PREFIX']}:{_cache_suffix}"
