"""Accounts: sign-up with a handle and a password only, log-in (throttled per handle),
log-out, password change and account deletion, through the real views and services."""

import re
import uuid

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from community import services
from community.forms import SignUpForm
from community.models import Membership
from core.errors import DomainError, ErrorCode
from tests.conftest import PASSWORD

User = get_user_model()
NEW_PASSWORD = "a slow tide under stars"


def input_names(html: str) -> set[str]:
    return set(re.findall(r'<input[^>]*\bname="([^"]+)"', html))


def signup(client: Client, handle: str, password: str = PASSWORD, again: str | None = None):
    return client.post(
        reverse("signup"),
        {"handle": handle, "password": password, "password_again": password if again is None else again},
    )


def login(client: Client, handle: str, password: str):
    return client.post(reverse("login"), {"username": handle, "password": password})


def is_logged_in(client: Client) -> bool:
    return SESSION_KEY in client.session


@pytest.fixture
def unique_handle():
    """A handle unique to this test run, so log-in failures counted in a shared
    cache (Redis in pass 2, kept between runs) never leak into another test."""
    handles: list[str] = []

    def make() -> str:
        handles.append(f"calm-{uuid.uuid4().hex[:10]}")
        return handles[-1]

    return make


# --- sign-up ------------------------------------------------------------------------


def test_signup_form_asks_only_handle_and_password():
    """The sign-up form has a handle and two password fields and nothing else (no e-mail, no name)."""
    assert set(SignUpForm.base_fields) == {"handle", "password", "password_again"}


def test_signup_page_has_no_email_or_name_input(client):
    """The sign-up page renders no e-mail or name input, only the handle and passwords."""
    response = client.get(reverse("signup"))
    assert response.status_code == 200
    assert input_names(response.content.decode()) == {"csrfmiddlewaretoken", "handle", "password", "password_again"}
    assert 'type="email"' not in response.content.decode()


def test_signup_creates_the_account_and_logs_in(client, db):
    """Signing up creates a user with just a handle and a usable password, logs in and
    shows the recovery codes (the directory comes after "I have saved them")."""
    response = signup(client, "quiet-fox")
    assert response.status_code == 200
    assert response.templates[0].name == "account/recovery_codes.html"
    user = User.objects.get(username="quiet-fox")
    assert user.check_password(PASSWORD)
    assert (user.email, user.first_name, user.last_name) == ("", "", "")
    assert client.session[SESSION_KEY] == str(user.pk)


def test_signup_refuses_a_handle_taken_in_another_case(client, make_user):
    """A handle differing only in case from an existing one is refused with a clear message and no new user."""
    make_user("quiet-fox")
    response = signup(client, "Quiet-Fox")
    assert response.status_code == 400
    assert response.context["form"].errors["handle"] == ["That handle is taken. Please choose another."]
    assert User.objects.filter(username__iexact="quiet-fox").count() == 1
    assert not is_logged_in(client)


def test_register_user_refuses_a_taken_handle_with_handle_taken(make_user):
    """register_user raises HANDLE_TAKEN (409) for a case-insensitive duplicate and creates nothing."""
    make_user("quiet-fox")
    with pytest.raises(DomainError) as caught:
        services.register_user(handle="  QUIET-FOX ", password=PASSWORD)
    assert caught.value.code == ErrorCode.HANDLE_TAKEN
    assert caught.value.http_status == 409
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("password", "message_part"),
    [
        ("short1", "too short"),
        ("password123", "too common"),
        ("8264019375421", "entirely numeric"),
        ("quiet-fox-2024", "too similar"),
    ],
)
def test_signup_refuses_a_weak_password(client, db, password, message_part):
    """A short, common, numeric or handle-like password is refused on the password field; no user is made."""
    response = signup(client, "quiet-fox", password)
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors["password"])
    assert message_part in errors
    assert not User.objects.exists()
    assert not is_logged_in(client)


def test_signup_refuses_mismatched_passwords(client, db):
    """Two different passwords are refused with a message on the second field; no user is made."""
    response = signup(client, "quiet-fox", PASSWORD, again=PASSWORD + "!")
    assert response.status_code == 400
    assert response.context["form"].errors["password_again"] == ["The two passwords are not the same."]
    assert not User.objects.exists()


@pytest.mark.parametrize("handle", ["ab", "quiet fox", "x" * 31])
def test_signup_refuses_a_malformed_handle(client, db, handle):
    """A handle that is too short, too long or has a space is refused on the handle field; no user is made."""
    response = signup(client, handle)
    assert response.status_code == 400
    assert response.context["form"].errors["handle"]
    assert not User.objects.exists()


def test_register_user_refuses_a_weak_password_with_validation_error(db):
    """register_user raises ValidationError for a weak password and creates nothing."""
    with pytest.raises(ValidationError):
        services.register_user(handle="quiet-fox", password="short1")
    assert not User.objects.exists()


def test_signup_page_redirects_a_logged_in_person(client_for, make_user):
    """A logged-in person opening sign-up goes to the directory instead."""
    response = client_for(make_user()).get(reverse("signup"))
    assert response.status_code == 302
    assert response.url == reverse("community:directory")


# --- log-in and log-out ---------------------------------------------------------------


def test_login_with_the_right_password_logs_in(client, make_user, unique_handle):
    """The right handle and password log in and go to the directory."""
    user = make_user(unique_handle())
    response = login(client, user.username, PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("community:directory")
    assert client.session[SESSION_KEY] == str(user.pk)


def test_login_with_a_wrong_password_is_refused(client, make_user, unique_handle):
    """A wrong password is refused on the form and no session is made."""
    user = make_user(unique_handle())
    response = login(client, user.username, "not the password at all")
    assert response.status_code == 400
    assert response.context["form"].errors.as_data()["__all__"][0].code == "invalid_login"
    assert not is_logged_in(client)


def test_login_is_throttled_after_max_failures_even_with_the_right_password(client, make_user, unique_handle):
    """After LOGIN_MAX_FAILURES wrong passwords for a handle, even the right one is
    refused with the throttle message."""
    user = make_user(unique_handle())
    for _ in range(settings.LOGIN_MAX_FAILURES):
        login(client, user.username, "not the password at all")
    response = login(client, user.username, PASSWORD)
    assert response.status_code == 429
    error = response.context["form"].errors.as_data()["__all__"][0]
    assert error.code == ErrorCode.LOGIN_THROTTLED
    minutes = settings.LOGIN_WINDOW_SECONDS // 60
    assert error.message == f"Too many attempts for this handle. Please wait {minutes} minutes and try again."
    assert error.message in response.content.decode()
    assert not is_logged_in(client)


def test_login_throttle_counts_the_handle_case_insensitively(client, make_user, unique_handle):
    """Failures typed with another capitalisation of the handle count against the same handle."""
    user = make_user(unique_handle())
    for _ in range(settings.LOGIN_MAX_FAILURES):
        login(client, user.username.upper(), "not the password at all")
    response = login(client, user.username, PASSWORD)
    assert response.context["form"].errors.as_data()["__all__"][0].code == ErrorCode.LOGIN_THROTTLED
    assert not is_logged_in(client)


def test_login_throttle_is_per_handle(client, make_user, unique_handle):
    """Failures for one handle do not lock out another handle."""
    locked, other = make_user(unique_handle()), make_user(unique_handle())
    for _ in range(settings.LOGIN_MAX_FAILURES):
        login(client, locked.username, "not the password at all")
    response = login(client, other.username, PASSWORD)
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(other.pk)


def test_successful_login_clears_the_failure_count(make_user, unique_handle):
    """A successful log-in resets the count, so later failures start again from zero."""
    user = make_user(unique_handle())
    client = Client()
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        login(client, user.username, "not the password at all")
    assert login(client, user.username, PASSWORD).status_code == 302
    client = Client()
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        login(client, user.username, "not the password at all")
    assert login(client, user.username, PASSWORD).status_code == 302
    assert client.session[SESSION_KEY] == str(user.pk)


def test_login_with_an_empty_password_does_not_clear_the_failure_count(client, make_user, unique_handle):
    """A post with an empty password is not a success and does not reset the failure count."""
    user = make_user(unique_handle())
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        login(client, user.username, "not the password at all")
    assert login(client, user.username, "").status_code == 400
    login(client, user.username, "not the password at all")
    response = login(client, user.username, PASSWORD)
    assert response.context["form"].errors.as_data()["__all__"][0].code == ErrorCode.LOGIN_THROTTLED
    assert not is_logged_in(client)


def test_logout_by_post_ends_the_session(client, make_user, unique_handle):
    """Log-out is a POST; it ends the session and goes to the directory."""
    user = make_user(unique_handle())
    login(client, user.username, PASSWORD)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("community:directory")
    assert not is_logged_in(client)


def test_logout_by_get_is_refused_and_keeps_the_session(client_for, make_user):
    """A GET to log-out is refused (405), so a link or image cannot log someone out."""
    client = client_for(make_user())
    assert client.get(reverse("logout")).status_code == 405
    assert is_logged_in(client)


# --- password change -------------------------------------------------------------------


def test_password_change_sets_the_new_password_and_keeps_the_session(client_for, make_user):
    """Changing the password with the old one sets the new one and keeps the person logged in."""
    user = make_user()
    client = client_for(user)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response.url == reverse("password_change_done")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.get(reverse("password_change")).status_code == 200


def test_password_change_with_a_wrong_old_password_changes_nothing(client_for, make_user):
    """A wrong old password is refused and the password stays as it was."""
    user = make_user()
    response = client_for(user).post(
        reverse("password_change"),
        {"old_password": "not the password at all", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert response.context["form"].errors.as_data()["old_password"][0].code == "password_incorrect"
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_change_page_needs_a_login(client, db):
    """The account page sends an anonymous visitor to log in."""
    response = client.get(reverse("password_change"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- account deletion ---------------------------------------------------------------------


def test_delete_account_with_a_wrong_password_changes_nothing(client_for, member):
    """Deleting the account needs the password; a wrong one is refused and nothing changes."""
    user = member.user
    client = client_for(user)
    response = client.post(reverse("delete_account"), {"password": "not the password at all"})
    assert response.status_code == 400
    assert response.context["form"].errors["password"] == ["That password is not right."]
    assert User.objects.filter(pk=user.pk).exists()
    member.refresh_from_db()
    assert member.user_id == user.pk and member.left_at is None
    assert is_logged_in(client)


def test_delete_account_removes_the_user_and_logs_out(client_for, member):
    """With the right password the account is deleted, the person is logged out and their sessions are gone."""
    user = member.user
    client = client_for(user)
    response = client.post(reverse("delete_account"), {"password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("community:directory")
    assert not User.objects.filter(pk=user.pk).exists()
    assert not is_logged_in(client)
    assert not any(s.get_decoded().get(SESSION_KEY) == str(user.pk) for s in Session.objects.all())


def test_delete_account_keeps_memberships_as_departed_rows_with_the_alias(client_for, member, make_circle, join):
    """Each membership stays as a departed row without a user, keeping its alias reserved in the circle."""
    user = member.user
    other = join(user, make_circle())
    aliases_before = {member.pk: member.alias, other.pk: other.alias}
    client_for(user).post(reverse("delete_account"), {"password": PASSWORD})
    rows = Membership.objects.filter(pk__in=aliases_before)
    assert rows.count() == 2
    for row in rows:
        assert row.user_id is None
        assert row.left_at is not None
        assert row.alias == aliases_before[row.pk]
        assert not row.is_active


def test_deleted_account_no_longer_counts_as_a_member(client_for, member, circle):
    """After deletion the circle's active member count drops by one."""
    assert services.active_member_count(circle) == 1
    client_for(member.user).post(reverse("delete_account"), {"password": PASSWORD})
    assert services.active_member_count(circle) == 0
