"""community.sessions: Django's database sessions read with a compiled query
keep Django's rules (a live session signs in, an ended or unknown one does not)."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from community.sessions import SessionStore
from tests.conftest import session_cookie_for

pytestmark = pytest.mark.django_db


def test_the_engine_is_ours(settings):
    from importlib import import_module

    assert import_module(settings.SESSION_ENGINE).SessionStore is SessionStore


def test_a_live_session_reads_back_as_django_stored_it(make_user):
    user = make_user()
    key = session_cookie_for(user)
    store = SessionStore(key)
    assert store["_auth_user_id"] == str(user.pk)
    assert store.session_key == key


def test_an_ended_or_unknown_session_reads_as_empty_and_forgets_its_key(make_user):
    user = make_user()
    key = session_cookie_for(user)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    ended = SessionStore(key)
    assert dict(ended.items()) == {}
    assert ended.session_key is None
    unknown = SessionStore("x" * 32)
    assert dict(unknown.items()) == {}
    assert unknown.session_key is None


def test_pages_follow_the_session(make_user, circle, join):
    """Signed in through the session, and signed out once it has ended."""
    user = make_user()
    join(user, circle)
    client = Client()
    client.cookies["sessionid"] = key = session_cookie_for(user)
    assert client.get("/sessions/").status_code == 200
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/sessions/")
    assert response.status_code == 302 and "login" in response["Location"]
