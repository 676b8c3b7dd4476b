"""Minimal settings for the bare broadcast consumer: no database, no auth, no screening.

The channel layer is configured exactly as config.settings.base configures it, from
the same environment variables (REDIS_URL, REDIS_PREFIX, CHANNEL_CAPACITY), so
both servers in a benchmark sit on the same layer.
"""

import os

SECRET_KEY = os.environ.get("SECRET_KEY") or "bench-bare-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["channels"]
DATABASES: dict = {}
USE_TZ = True
ASGI_APPLICATION = "bench.bare.asgi.application"

REDIS_URL = os.environ.get("REDIS_URL", "")
REDIS_PREFIX = os.environ.get("REDIS_PREFIX", "ic")
CAPACITY = int(os.environ.get("CHANNEL_CAPACITY", "1000"))
# The tutorial's layer by default; BARE_CHANNEL_LAYER=pubsub gives bare the
# pub/sub layer the product uses, for a like-for-like comparison.
if REDIS_URL and os.environ.get("BARE_CHANNEL_LAYER") == "pubsub":
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{REDIS_PREFIX}:asgi"},
        }
    }
elif REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{REDIS_PREFIX}:asgi", "capacity": CAPACITY, "expiry": 60},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": CAPACITY}}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
