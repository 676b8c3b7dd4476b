"""Settings, read from the environment.

Without configuration: SQLite in ``data/`` and the in-memory channel layer (one
process).  ``DATABASE_URL`` switches to PostgreSQL, ``REDIS_URL`` to
channels-redis and the Redis cache.  See README.md for every variable.
"""

import json
import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "data"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG:
        # Development only: a new key each start (sessions end on restart).
        SECRET_KEY = secrets.token_urlsafe(50)
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(scripts/serve generates one for the local demo), or DEBUG=true "
            "for development."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "community",
    "chat",
    "moderation",
    "library",
    "schedules",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "community.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "community.middleware.DomainErrorMiddleware",
    "community.middleware.PrivatePagesMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "community.context_processors.header",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# Connections are kept between frames (each worker thread holds one): opening a
# connection per frame cost more than the frame's own queries (bench/README.md).
DB_CONN_MAX_AGE = int(os.environ.get("DB_CONN_MAX_AGE", "60"))
# A health check is one more round trip ("SELECT 1") before the first query of
# every frame.  Off by default: a connection that broke (a database restart)
# fails one request, is then closed by Django as unusable, and the next one
# reconnects; the live room's clients retry a send with the same client_id.
DB_CONN_HEALTH_CHECKS = os.environ.get("DB_CONN_HEALTH_CHECKS", "false").lower() in ("1", "true", "yes", "on")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=DB_CONN_MAX_AGE, conn_health_checks=DB_CONN_HEALTH_CHECKS
    )
    if DATABASE_URL
    else {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "db.sqlite3",
        "CONN_MAX_AGE": DB_CONN_MAX_AGE,
    }
}
if str(DATABASES["default"]["ENGINE"]).endswith("sqlite3"):
    # WAL lets the live room read while a write is in flight; IMMEDIATE makes
    # writers queue for the lock up front instead of failing on upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer and cache ----------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# Several deployments (or test runs) may share one Redis: every key carries this prefix.
REDIS_PREFIX = os.environ.get("REDIS_PREFIX", "ic")
if REDIS_URL:
    # Redis pub/sub: a group_send is one PUBLISH and each process reads every
    # message of its subscriptions from one connection as it arrives.  The
    # list-based RedisChannelLayer pops one message per round trip, which under
    # load left the room's delivery seconds behind (bench/README.md).  Both are
    # best-effort; the gap rule (docs/protocol.md) repairs what is dropped.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": os.environ.get("CHANNEL_LAYER_BACKEND", "realtime.layer.PubSubChannelLayer"),
            # REDIS_CHANNEL_URLS (comma-separated) spreads the channel layer over
            # several Redis hosts (channels-redis shards groups by name across them);
            # the cache and limits stay on REDIS_URL (docs/operations.md, "Growing").
            "CONFIG": {
                "hosts": [u.strip() for u in os.environ.get("REDIS_CHANNEL_URLS", REDIS_URL).split(",") if u.strip()],
                "prefix": f"{REDIS_PREFIX}:asgi",
            },
        }
    }
    # An unreachable Redis answers within a second; core.cache then falls back.
    REDIS_TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 1.0}
    CACHES: dict[str, dict[str, Any]] = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"{REDIS_PREFIX}:cache",
            "OPTIONS": REDIS_TIMEOUTS,
        },
        # Guessing limits (community.throttle): shared by every process.
        "throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"{REDIS_PREFIX}:throttle",
            "OPTIONS": REDIS_TIMEOUTS,
        },
        # This process's own memory: where limits count while Redis is unreachable (core.cache).
        "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "local"},
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": int(os.environ.get("CHANNEL_CAPACITY", "1000"))},
        }
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        # Room enough that junk failures cannot evict a limit that holds.
        "throttle": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "throttle",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        },
        "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "local"},
    }

# --- Accounts -------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "community.passwords.HandleSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username",)},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "community:directory"
LOGOUT_REDIRECT_URL = "community:directory"
# Guessing limits (community.throttle), counted per LOGIN_WINDOW_SECONDS: failed
# log-ins per source, per handle from one source, and per handle from anywhere
# (past which attempts on the handle are slowed to one per LOGIN_HANDLE_SPACING
# seconds, never locked).  Wrong invite codes per account and per source.
LOGIN_WINDOW_SECONDS = int(os.environ.get("LOGIN_WINDOW_SECONDS", "900"))
LOGIN_SOURCE_FAILURES = int(os.environ.get("LOGIN_SOURCE_FAILURES", "20"))
LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
LOGIN_HANDLE_FAILURES = int(os.environ.get("LOGIN_HANDLE_FAILURES", "50"))
LOGIN_HANDLE_SPACING = int(os.environ.get("LOGIN_HANDLE_SPACING", "10"))
INVITE_WINDOW_SECONDS = int(os.environ.get("INVITE_WINDOW_SECONDS", "900"))
INVITE_MEMBER_FAILURES = int(os.environ.get("INVITE_MEMBER_FAILURES", "10"))
INVITE_SOURCE_FAILURES = int(os.environ.get("INVITE_SOURCE_FAILURES", "30"))
# Behind N reverse proxies that append to X-Forwarded-For, the client address is
# the N-th entry from the end (0: take the connection's own address).
TRUSTED_PROXY_HOPS = int(os.environ.get("TRUSTED_PROXY_HOPS", "0"))

# Django's ModelBackend with its user read compiled (community.auth).
AUTHENTICATION_BACKENDS = ["community.auth.AccountBackend"]
# Django's database sessions, read with a compiled query (community.sessions).
SESSION_ENGINE = "community.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Behind TLS (a proxy that sets X-Forwarded-Proto): secure cookies, redirect
# plain HTTP, and HSTS, so `manage.py check --deploy` is clean.
HTTPS = env_bool("HTTPS", False)
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # probes on the inside
    SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading binds the domain and every subdomain to HTTPS in browsers for
        # months, beyond this deployment: an operator's explicit choice
        # (HSTS_PRELOAD=true), so its absence is not a warning here.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
# Content-Security-Policy on every response (community.middleware): no inline
# script or style anywhere; sockets only to this site's own origin (added per
# request: ws://host, or wss://host behind TLS).
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    # a journal's voice note: played back from this site, and heard before saving
    # from the recording still in the page (a blob: URL, static/js/journal.js)
    "media-src": ["'self'", "blob:"],
    "connect-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "object-src": ["'none'"],
}
# A session ends after SESSION_HOURS (default 12) unless the member chose to
# stay signed in at log-in (then STAY_SIGNED_IN_DAYS, default 30).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_HOURS", "12")) * 3600
STAY_SIGNED_IN_DAYS = int(os.environ.get("STAY_SIGNED_IN_DAYS", "30"))

# --- I18N, static ---------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Logging: no IP address is ever written ------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "core.health.JsonFormatter"}},
    # The same failure repeated (a library's reconnect loop, every client's retry)
    # is logged once per 10 s with a count (core.health.RepeatFilter).
    "filters": {"repeats": {"()": "core.health.RepeatFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["repeats"],
            **({"formatter": "json"} if os.environ.get("LOG_FORMAT", "text") == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {
        # Django's request logger would print the request; keep only the path-free summary.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.security": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "daphne": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# --- Operations -------------------------------------------------------------
# /metrics (Prometheus) only when METRICS_ENABLED; with METRICS_TOKEN, only with
# "Authorization: Bearer <token>".  /readyz checks the scheduler's heartbeat
# when SCHEDULER_REQUIRED (a deployment that runs `manage.py run_scheduler`).
METRICS_ENABLED = env_bool("METRICS_ENABLED", False)
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
SCHEDULER_REQUIRED = env_bool("SCHEDULER_REQUIRED", False)
SCHEDULER_HEARTBEAT_MAX_AGE = int(os.environ.get("SCHEDULER_HEARTBEAT_MAX_AGE", "120"))
# LOG_FORMAT=json: one JSON object per log line (core.health.JsonFormatter).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")

# --- Product settings -----------------------------------------------------
SITE_NAME = "Integration Circles"

# --- Live room ------------------------------------------------------------
# bucket: (actions, per seconds) per member, shared across processes via the cache.
# Group commit: while a batch of sends is being stored, the next batch gathers
# for at least this long (only under load; a lone message goes at once).
CHAT_SEND_LINGER_MS = float(os.environ.get("CHAT_SEND_LINGER_MS", "5"))
CHAT_RATE_LIMITS = {
    "send": (int(os.environ.get("CHAT_RATE_SEND", "10")), 10),
    "react": (int(os.environ.get("CHAT_RATE_REACT", "40")), 10),
    "report": (int(os.environ.get("CHAT_RATE_REPORT", "10")), 60),
    "frame": (int(os.environ.get("CHAT_RATE_FRAMES", "120")), 10),
    "connect": (int(os.environ.get("CHAT_RATE_CONNECTS", "30")), 60),
}
CHAT_EDIT_WINDOW_SECONDS = int(os.environ.get("CHAT_EDIT_WINDOW_SECONDS", "900"))
CHAT_HELLO_HISTORY = 50
# Who came and went is shown after CHAT_PRESENCE_DELAY plus up to
# CHAT_PRESENCE_JITTER seconds, drawn per circle: join times do not link aliases.
CHAT_PRESENCE_DELAY = float(os.environ.get("CHAT_PRESENCE_DELAY", "0.5"))
CHAT_PRESENCE_JITTER = float(os.environ.get("CHAT_PRESENCE_JITTER", "3.0"))
# Reports from this many distinct members hide a message until a moderator decides.
REPORTS_TO_HIDE = int(os.environ.get("REPORTS_TO_HIDE", "3"))

# --- Moderation -----------------------------------------------------------
# Shown privately to a member whose message reads as a crisis.  Override with a
# JSON list of {"name", "contact", "detail", "links": [{"label", "href"}]} in
# CRISIS_RESOURCES_JSON.
CRISIS_MESSAGE = os.environ.get(
    "CRISIS_MESSAGE",
    "It sounds like you are carrying something very heavy right now. You are not alone: "
    "people are ready to talk with you, right now.",
)
# The gentler word for the *concern* tier (passive wishes, hopelessness, past self-harm).
CONCERN_MESSAGE = os.environ.get(
    "CONCERN_MESSAGE",
    "Thank you for sharing this. If things feel heavy, you don't have to hold them alone: "
    "these people are there to listen, any time.",
)
CRISIS_RESOURCES = json.loads(os.environ.get("CRISIS_RESOURCES_JSON", "null") or "null") or [
    {
        "name": "988 Suicide & Crisis Lifeline",
        "contact": "Call or text 988 (US)",
        "detail": "Free, confidential, 24/7.",
        "links": [{"label": "Call 988", "href": "tel:988"}, {"label": "Text 988", "href": "sms:988"}],
    },
    {
        "name": "Fireside Project psychedelic peer support",
        "contact": "Call or text 62-FIRESIDE (623-473-7433)",
        "detail": "Peer support during and after psychedelic experiences.",
        "links": [{"label": "Call 62-FIRESIDE", "href": "tel:+16234737433"}],
    },
    {
        "name": "Local emergency services",
        "contact": "Call your local emergency number (911 in the US, 112 in the EU, 999 in the UK)",
        "detail": "If you are in immediate danger.",
    },
]
# An urgent flag nobody acknowledged within this many seconds is raised again to every moderator.
CRISIS_ESCALATE_SECONDS = int(os.environ.get("CRISIS_ESCALATE_SECONDS", "300"))

# --- Library and private tools (docs/library.md) ------------------------------
# The site's public address (e.g. https://circles.example.org): a resource shared
# into a live room links to its page with it.  Empty: the shared message names
# the resource and the room's card links to it.
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")
# Crisis lines and links not re-checked for this many days are listed for
# moderators to re-check, and readers are shown their age.
LIBRARY_RECHECK_DAYS = int(os.environ.get("LIBRARY_RECHECK_DAYS", "90"))
# Members' voice notes: outside every static or web-served path, files 0600.
PRIVATE_DATA_DIR = Path(os.environ.get("PRIVATE_DATA_DIR", str(DATA_DIR / "private")))
VOICE_NOTE_MAX_BYTES = int(os.environ.get("VOICE_NOTE_MAX_BYTES", str(5 * 1024 * 1024)))
VOICE_NOTE_MAX_SECONDS = int(os.environ.get("VOICE_NOTE_MAX_SECONDS", "180"))
# --- Schedules (issue 12; docs/schedules.md) ----------------------------------------
# How long before a session RSVP'd members get the in-app reminder; how often
# `manage.py run_scheduler` looks (seconds).
SCHEDULE_REMINDER_MINUTES = int(os.environ.get("SCHEDULE_REMINDER_MINUTES", "60"))
SCHEDULER_INTERVAL_SECONDS = float(os.environ.get("SCHEDULER_INTERVAL_SECONDS", "15"))
# The scheduler inside each Daphne process (config.daphne): on by default with the
# in-memory channel layer (the embedded default: one process, which a scheduler
# of its own could not reach); off on Redis, where `manage.py run_scheduler` runs
# as its own process (scripts/serve starts it).
SCHEDULER_IN_PROCESS = os.environ.get("SCHEDULER_IN_PROCESS", "auto").lower() in (
    ("true", "1", "yes", "auto") if "InMemory" in CHANNEL_LAYERS["default"]["BACKEND"] else ("true", "1", "yes")
)
