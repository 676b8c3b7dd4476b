"""community.auth: the sign-in backend reads the user with a compiled query and
keeps Django's rules; sessions keep naming Django's ModelBackend when stored
(community.sessions), so the release before and this one read each other's."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from community.auth import BACKEND, STORED_BACKEND, AccountBackend, signed_in_user
from community.services import session_expiry
from community.sessions import SessionStore
from tests.conftest import PASSWORD, session_cookie_for

pytestmark = pytest.mark.django_db


def test_it_is_the_only_backend_and_sign_in_names_it(settings, make_user):
    assert settings.AUTHENTICATION_BACKENDS == [BACKEND]
    key = session_cookie_for(make_user())
    assert SessionStore(key)[BACKEND_SESSION_KEY] == BACKEND


def test_sign_up_names_it(client):
    response = client.post(
        reverse("signup"), {"handle": "quiet-heron", "password": PASSWORD, "password_again": PASSWORD}
    )
    assert response.status_code == 200, response.status_code  # the recovery codes, signed in
    assert client.session.get(BACKEND_SESSION_KEY) == BACKEND


def test_it_reads_the_user_django_would_in_one_query(make_user):
    user = make_user()
    ours, django = AccountBackend(), ModelBackend()
    with CaptureQueriesContext(connection) as queries:
        found = ours.get_user(user.pk)
    assert len(queries) == 1
    expected = django.get_user(user.pk)
    assert found == expected
    assert {f.attname: getattr(found, f.attname) for f in user._meta.concrete_fields} == {
        f.attname: getattr(expected, f.attname) for f in user._meta.concrete_fields
    }
    assert async_to_sync(ours.aget_user)(user.pk) == expected


def test_an_unknown_or_inactive_user_is_nobody(make_user):
    user = make_user()
    backend = AccountBackend()
    assert backend.get_user(user.pk + 10_000) is None
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert backend.get_user(user.pk) is None
    assert ModelBackend().get_user(user.pk) is None  # the same rule as Django's


def test_sessions_are_stored_naming_djangos_backend_and_read_as_ours(make_user):
    key = session_cookie_for(make_user())
    stored = Session.objects.get(pk=key).session_data
    assert DjangoSessionStore().decode(stored)[BACKEND_SESSION_KEY] == STORED_BACKEND
    assert SessionStore(key)[BACKEND_SESSION_KEY] == BACKEND


def test_a_session_of_the_release_before_signs_in_and_the_release_before_reads_ours(settings, make_user, circle, join):
    """A rolling restart runs both releases for minutes: neither signs the other's members out."""
    user = make_user()
    join(user, circle)
    # Written by a process of the release before: Django's store and backend.
    old = DjangoSessionStore()
    old[SESSION_KEY] = str(user.pk)
    old[BACKEND_SESSION_KEY] = STORED_BACKEND
    old[HASH_SESSION_KEY] = user.get_session_auth_hash()
    old.create()
    client = Client()
    client.cookies["sessionid"] = old.session_key
    assert client.get("/sessions/").status_code == 200
    # Written by this release, read by the release before.
    ours = session_cookie_for(user)
    settings.AUTHENTICATION_BACKENDS = [STORED_BACKEND]
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    client = Client()
    client.cookies["sessionid"] = ours
    assert client.get("/sessions/").status_code == 200
    assert DjangoSessionStore(ours)[BACKEND_SESSION_KEY] == STORED_BACKEND


def test_a_sockets_admission_reads_the_session_and_the_user_once_each(make_user):
    """A room socket's connect (chat.consumers._admit) learns who is signed in and
    when their session ends from one session read and one user read."""
    user = make_user()
    key = session_cookie_for(user)
    stored = Session.objects.get(session_key=key).expire_date
    session = SessionStore(key)
    with CaptureQueriesContext(connection) as queries:
        assert signed_in_user(session) == user
        assert session_expiry(session) == stored
    assert len(queries) == 2, [q["sql"] for q in queries]
    # A session nobody loaded: its expiry read by key.
    with CaptureQueriesContext(connection) as queries:
        assert session_expiry(SessionStore(key)) == stored
    assert len(queries) == 1


def test_an_unknown_ended_or_outdated_session_is_nobody_with_no_expiry(make_user):
    user = make_user()
    unknown = SessionStore("no-such-session-key-at-all-here")
    assert not signed_in_user(unknown).is_authenticated
    assert session_expiry(unknown) is None
    ended = session_cookie_for(user)
    Session.objects.filter(session_key=ended).update(expire_date=timezone.now() - timedelta(seconds=1))
    session = SessionStore(ended)
    assert not signed_in_user(session).is_authenticated
    assert session_expiry(session) is None
    # Django's rule: a password change ends the sessions signed in before it.
    key = session_cookie_for(user)
    user.set_password("a different long passphrase")
    user.save()
    assert not signed_in_user(SessionStore(key)).is_authenticated
