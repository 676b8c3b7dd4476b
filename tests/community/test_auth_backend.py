"""community.auth: the sign-in backend reads the user with a compiled query and
keeps Django's rules; sessions signed in under Django's ModelBackend are
renamed by migration 0007, so the change signs nobody out."""

import importlib

import pytest
from asgiref.sync import async_to_sync
from django.apps import apps
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from community.auth import BACKEND, LEGACY_BACKEND, AccountBackend
from community.sessions import SessionStore
from tests.conftest import PASSWORD, session_cookie_for

pytestmark = pytest.mark.django_db

rename = importlib.import_module("community.migrations.0007_sessions_name_the_account_backend")


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


def _with_backend(key: str, backend: str) -> None:
    store = SessionStore(key)
    store[BACKEND_SESSION_KEY] = backend
    store.save()


def test_the_migration_keeps_sessions_signed_in_under_the_old_backend(make_user, circle, join):
    user = make_user()
    join(user, circle)
    key = session_cookie_for(user)
    _with_backend(key, LEGACY_BACKEND)
    client = Client()
    client.cookies["sessionid"] = key
    # Without the rename Django signs the session out (its backend is not configured).
    assert client.get("/sessions/").status_code == 302
    _with_backend(key, LEGACY_BACKEND)  # that request flushed it: named as before again
    unreadable = Session.objects.create(
        session_key="u" * 32, session_data="not signed", expire_date=Session.objects.get(pk=key).expire_date
    )
    rename.forwards(apps, None)
    assert SessionStore(key)[BACKEND_SESSION_KEY] == BACKEND
    assert Session.objects.get(pk=unreadable.pk).session_data == "not signed"  # left as it was
    client = Client()
    client.cookies["sessionid"] = key
    assert client.get("/sessions/").status_code == 200
    rename.backwards(apps, None)
    assert SessionStore(key)[BACKEND_SESSION_KEY] == LEGACY_BACKEND
