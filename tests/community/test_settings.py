"""Settings from the environment (config.settings.base), each case in a fresh Python
process so that the environment, not this test run's settings, decides."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Every variable base.py reads that could leak in from the shell running the tests.
READ_BY_SETTINGS = (
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_PREFIX",
    "CHANNEL_CAPACITY",
    "HTTPS",
    "DATA_DIR",
    "DJANGO_SETTINGS_MODULE",
)
PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "DEBUG": s.DEBUG,
    "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "ENGINE": s.DATABASES["default"]["ENGINE"],
    "DB_NAME": str(s.DATABASES["default"]["NAME"]),
    "DB_HOST": s.DATABASES["default"].get("HOST", ""),
    "LAYER": s.CHANNEL_LAYERS["default"]["BACKEND"],
    "LAYER_HOSTS": s.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("hosts"),
    "LAYER_PREFIX": s.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix"),
    "CACHE": s.CACHES["default"]["BACKEND"],
    "CACHE_LOCATION": s.CACHES["default"].get("LOCATION"),
    "CACHE_PREFIX": s.CACHES["default"].get("KEY_PREFIX"),
}))
"""


def run_settings(tmp_path, code: str = PRINT_SETTINGS, **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a new interpreter with only ``env`` set among the settings variables."""
    clean = {k: v for k, v in os.environ.items() if k not in READ_BY_SETTINGS}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings.base", DATA_DIR=str(tmp_path), **env)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def settings_with(tmp_path, **env: str) -> dict:
    result = run_settings(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_missing_secret_key_without_debug_refuses_to_start(tmp_path):
    """Without SECRET_KEY and with DEBUG unset, start-up fails with ImproperlyConfigured naming SECRET_KEY."""
    result = run_settings(tmp_path, code="import django; django.setup()")
    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("debug", ["", "false", "0", "no"])
def test_missing_secret_key_with_debug_off_refuses_to_start(tmp_path, debug):
    """An empty or false DEBUG is off, so a missing SECRET_KEY still refuses to start."""
    result = run_settings(tmp_path, code="import django; django.setup()", DEBUG=debug)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY" in result.stderr


def test_debug_true_starts_without_a_secret_key(tmp_path):
    """With DEBUG=true and no SECRET_KEY, Django starts (development only)."""
    settings = settings_with(tmp_path, DEBUG="true")
    assert settings["DEBUG"] is True


def test_debug_is_off_by_default(tmp_path):
    """With a SECRET_KEY and no DEBUG variable, DEBUG is False."""
    assert settings_with(tmp_path, SECRET_KEY="s" * 50)["DEBUG"] is False


def test_allowed_hosts_come_from_the_environment(tmp_path):
    """ALLOWED_HOSTS is the comma-separated list from the environment, spaces and empties dropped."""
    settings = settings_with(tmp_path, SECRET_KEY="s" * 50, ALLOWED_HOSTS=" circles.example.org, ,chat.example.org ")
    assert settings["ALLOWED_HOSTS"] == ["circles.example.org", "chat.example.org"]


def test_allowed_hosts_default_to_loopback_only(tmp_path):
    """Without ALLOWED_HOSTS only the loopback names are accepted."""
    settings = settings_with(tmp_path, SECRET_KEY="s" * 50)
    assert settings["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]


def test_without_urls_the_embedded_default_is_sqlite_and_in_memory(tmp_path):
    """With neither DATABASE_URL nor REDIS_URL: SQLite in DATA_DIR, in-memory layer, local-memory cache."""
    settings = settings_with(tmp_path, SECRET_KEY="s" * 50)
    assert settings["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["DB_NAME"] == str(tmp_path / "db.sqlite3")
    assert settings["LAYER"] == "channels.layers.InMemoryChannelLayer"
    assert settings["CACHE"] == "django.core.cache.backends.locmem.LocMemCache"


def test_database_url_selects_postgresql(tmp_path):
    """A postgres:// DATABASE_URL gives the postgresql engine with its host and name (no connection made)."""
    settings = settings_with(
        tmp_path, SECRET_KEY="s" * 50, DATABASE_URL="postgres://circles:pw@db.internal:5432/circles_prod"
    )
    assert settings["ENGINE"] == "django.db.backends.postgresql"
    assert (settings["DB_HOST"], settings["DB_NAME"]) == ("db.internal", "circles_prod")


def test_redis_url_selects_channels_redis_and_the_redis_cache(tmp_path):
    """REDIS_URL gives the channels-redis (pub/sub) layer and Django's Redis cache, both on that URL and prefixed."""
    settings = settings_with(
        tmp_path, SECRET_KEY="s" * 50, REDIS_URL="redis://cache.internal:6379/3", REDIS_PREFIX="circles-a"
    )
    assert settings["LAYER"] == "realtime.layer.PubSubChannelLayer"  # channels-redis's pub/sub layer
    assert settings["LAYER_HOSTS"] == ["redis://cache.internal:6379/3"]
    assert settings["LAYER_PREFIX"] == "circles-a:asgi"
    assert settings["CACHE"] == "django.core.cache.backends.redis.RedisCache"
    assert settings["CACHE_LOCATION"] == "redis://cache.internal:6379/3"
    assert settings["CACHE_PREFIX"] == "circles-a:cache"
