"""Shared fixtures.  Data is built through the services, as the product builds it.

``daphne_server`` starts a real Daphne process on 127.0.0.1 against the test
database (SQLite file or PostgreSQL) and, with REDIS_URL, the shared Redis.
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from community import services
from community.models import Circle, Membership
from realtime import protocol

# The live-room fixtures (connect, people, post, attempt, rate-limit isolation),
# shared by every test package.
pytest_plugins = ["tests.room_fixtures"]

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "a calm river at dusk"


def pytest_collection_modifyitems(config, items):
    """In pass 2 of scripts/test (IC_REQUIRE_SERVICES=1) the services must be there:
    fail loudly rather than skip."""
    if os.environ.get("IC_REQUIRE_SERVICES") == "1":
        missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
        if missing:
            raise pytest.UsageError(f"IC_REQUIRE_SERVICES=1 but {', '.join(missing)} is not set")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """``migrate`` installs the default keyword-rule pack (moderation/migrations/0004).
    Tests start from an empty rule table, as before, and make the rules they need
    (or load the pack: ``moderation.management.commands.load_rule_pack.load_pack``);
    tests/moderation/test_rulepack_sync.py checks what the migration installs."""
    with django_db_blocker.unblock():
        from django.db import connection

        from moderation.models import KeywordRule

        KeywordRule.objects.all().delete()
        # The install's system entries: the app refuses to delete audit entries
        # (append-only), so the test database's setup does it in SQL.
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM moderation_auditentry")


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """Each test gets its own channel-layer object: pytest-asyncio gives every test
    a new event loop, and a layer (channels-redis's receive lock, the in-memory
    layer's queues) must not outlive the loop it was used on."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def make_user(db):
    counter = iter(range(1, 10_000))

    def make(handle: str | None = None, password: str = PASSWORD):
        return services.register_user(handle=handle or f"person-{next(counter)}", password=password)

    return make


@pytest.fixture
def make_circle(db):
    counter = iter(range(1, 10_000))

    def make(**fields) -> Circle:
        n = next(counter)
        fields.setdefault("name", f"Circle {n}")
        fields.setdefault("slug", f"circle-{n}")
        return Circle.objects.create(**fields)

    return make


@pytest.fixture
def circle(make_circle):
    return make_circle(name="Morning Circle", slug="morning", capacity=20)


@pytest.fixture
def join(db):
    def do(user, circle, role=Membership.Role.MEMBER, **kw) -> Membership:
        membership = services.join_circle(user=user, circle=circle, **kw)
        if role != Membership.Role.MEMBER:
            services.set_role(circle=circle, membership=membership, role=role)
        return membership

    return do


@pytest.fixture
def member(make_user, circle, join):
    return join(make_user("member-one"), circle)


@pytest.fixture
def facilitator(make_user, circle, join):
    return join(make_user("facilitator-one"), circle, Membership.Role.FACILITATOR)


def session_cookie_for(user) -> str:
    """A real session (in the database) for ``user``, as log-in would create."""
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    from django.db import connection

    sd = connection.settings_dict
    if sd["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(sd['NAME']).resolve()}"
    user, host, port = sd.get("USER") or "postgres", sd.get("HOST") or "127.0.0.1", sd.get("PORT") or 5432
    auth = user if not sd.get("PASSWORD") else f"{user}:{sd['PASSWORD']}"
    return f"postgres://{auth}@{host}:{port}/{sd['NAME']}"


def _listening_by(port: int, pid: int) -> bool:
    """Whether process ``pid`` holds a socket listening on loopback ``port`` (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                    inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return False
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return True
    return False


class DaphneProcess:
    def __init__(self, port: int, extra_env: dict[str, str] | None = None):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.test",
            DATABASE_URL=_database_url(),
            PYTHONUNBUFFERED="1",
            IC_TEST_CACHE_SUFFIX=getattr(settings, "IC_TEST_CACHE_SUFFIX", ""),
        )
        env.update(extra_env or {})
        self.log_path = ROOT / "data" / f"daphne-{port}.log"
        self._files = contextlib.ExitStack()  # closed by stop()
        self.log = self._files.enter_context(self.log_path.open("wb"))
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "config.daphne",  # Daphne with the clean restart and backpressure (config/daphne.py)
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                # Verbosity 1 would print an access log with every client's address.
                "-v",
                "0",
                # The same transport cap as scripts/serve (docs/protocol.md, "Limits").
                "--websocket-max-message-size",
                str(protocol.DAPHNE_MAX_MESSAGE_BYTES),
                "--websocket-max-frame-size",
                str(protocol.DAPHNE_MAX_MESSAGE_BYTES),
                "config.asgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Daphne exited early:\n{self.output()}")
            # Listening, and by this process: a port picked free can be taken by
            # another suite's server in between, which would answer for ours.
            if _listening_by(port, self.proc.pid):
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Daphne did not start in 30 s:\n{self.output()}")

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self._files.close()
            self.log_path.unlink(missing_ok=True)


@pytest.fixture
def daphne_factory(transactional_db):
    """Start real Daphne processes on free loopback ports; all stopped at teardown."""
    started: list[DaphneProcess] = []

    def start(port: int | None = None, **extra_env: str) -> DaphneProcess:
        for attempt in range(3):
            try:
                proc = DaphneProcess(port or _free_port(), extra_env)
                break
            except RuntimeError as err:
                # A port picked free and taken meanwhile by another process: pick again.
                if port is not None or attempt == 2 or "Address already in use" not in str(err):
                    raise
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def daphne_server(daphne_factory):
    return daphne_factory()


# --- added for the community tests (accounts, circles, permissions) ------------


@pytest.fixture
def client_for(db):
    """A Django test ``Client`` logged in as the given user."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def circle_moderator(make_user, circle, join):
    """A member holding the moderator role in ``circle`` (not a site moderator)."""
    return join(make_user("circle-moderator-one"), circle, Membership.Role.MODERATOR)


@pytest.fixture
def site_moderator(make_user):
    """A user in the "Moderators" group (created by community's post_migrate hook)."""
    from django.contrib.auth.models import Group

    from community.apps import MODERATORS_GROUP

    user = make_user("site-moderator-one")
    user.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    # A fresh instance: Django caches permissions on the user object.
    return get_user_model().objects.get(pk=user.pk)
