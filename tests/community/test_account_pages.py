"""Sign-up's handle rule, recovery codes, "stay signed in", the sessions list and
"sign out everywhere", the account page, notifications and the reports a member
made: through the real views (Django's test client) and services."""

import re
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from community import accounts, notifications, selectors, services
from community.models import AccountSession, Notification, RecoveryCode
from core.errors import DomainError, ErrorCode
from tests.conftest import PASSWORD

User = get_user_model()
NEW = "a new lantern by the door"
CODE = re.compile(r"<code>([2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4})</code>")


def signup(client: Client, handle: str, password: str = PASSWORD, again: str | None = None):
    return client.post(
        reverse("signup"),
        {"handle": handle, "password": password, "password_again": password if again is None else again},
    )


def recover(client: Client, handle: str, code: str, password: str = NEW, again: str | None = None):
    return client.post(
        reverse("recover"),
        {"handle": handle, "code": code, "new_password": password, "new_password_again": again or password},
    )


def handle_() -> str:
    """A handle unique to the run (log-in limits may live in a shared Redis)."""
    return f"calm-{uuid.uuid4().hex[:10]}"


def field_error(response, name: str) -> list[str]:
    return response.context["form"].errors.get(name, [])


@pytest.fixture
def with_codes(make_user):
    """A user and the recovery codes they were shown."""
    user = make_user(handle_())
    return user, accounts.issue_recovery_codes(user=user)


# --- the handle rule ---------------------------------------------------------------------


def test_signup_page_states_the_handle_rule_and_the_no_email_warning(client, db):
    """Sign-up says what a handle may be, and that a password cannot be reset by e-mail."""
    page = client.get(reverse("signup")).content.decode()
    assert services.HANDLE_RULE in page
    assert "cannot be reset by e-mail" in page
    assert "recovery codes" in page


def test_the_handle_field_never_cuts_what_is_typed(client, db):
    """No maxlength on the handle input: a browser would silently cut a long handle."""
    page = client.get(reverse("signup")).content.decode()
    handle_input = re.search(r'<input[^>]*name="handle"[^>]*>', page).group(0)
    assert "maxlength" not in handle_input


def test_a_200_character_handle_is_refused_beside_the_field_and_kept(client, db):
    """A 200-character handle is refused (not cut to 30), with a message beside the
    field naming the limit and its length; the form keeps it, passwords are not echoed."""
    long_handle = "a" * 200
    response = signup(client, long_handle)
    assert response.status_code == 400
    assert field_error(response, "handle") == ["A handle is 3 to 30 characters long; this one has 200."]
    page = response.content.decode()
    assert 'id="id_handle_error"' in page
    assert 'aria-describedby="id_handle_helptext id_handle_error"' in page
    assert f'value="{long_handle}"' in page
    assert PASSWORD not in page
    assert "passwords are never sent back" in page
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("handle", "says"),
    [
        ("river walker", "a space"),
        ("me@home", "“@”"),
        ("plus+one", "“+”"),
        ("ab", "this one has 2"),
        ("", "Please choose a handle."),
    ],
)
def test_a_handle_breaking_the_rule_is_refused_with_what_to_change(client, db, handle, says):
    """Spaces and signs other than . _ - are refused, the message naming them."""
    response = signup(client, handle)
    assert response.status_code == 400
    errors = " ".join(field_error(response, "handle"))
    assert says in errors, errors
    assert not User.objects.exists()


def test_register_user_follows_the_same_rule(db):
    """The service refuses what the form refuses (BAD_HANDLE), and accepts letters
    beyond ASCII, digits and . _ -."""
    with pytest.raises(DomainError) as caught:
        services.register_user(handle="x" * 31, password=PASSWORD)
    assert caught.value.code == ErrorCode.BAD_HANDLE
    assert services.register_user(handle=" zoë.k_9-b ", password=PASSWORD).username == "zoë.k_9-b"


def test_login_says_handle_not_username(client, db):
    """The log-in page speaks of a handle, offers "stay signed in" and the recovery page."""
    page = client.get(reverse("login")).content.decode()
    assert "Handle" in page and "Username" not in page and "username</label>" not in page.lower()
    assert "Stay signed in" in page
    assert reverse("recover") in page
    handle_input = re.search(r'<input[^>]*name="username"[^>]*>', page).group(0)
    assert "maxlength" not in handle_input


def test_a_wrong_login_says_handle(client, make_user):
    """The refusal speaks of the handle too."""
    user = make_user(handle_())
    response = client.post(reverse("login"), {"username": user.username, "password": "not the one at all"})
    assert "That handle and password do not match" in response.content.decode()


# --- recovery codes at sign-up -------------------------------------------------------------


def test_signup_shows_eight_codes_once_and_keeps_only_hashes(client, db):
    """Sign-up shows 8 distinct codes; the database holds none of them in clear."""
    response = signup(client, "quiet-fox")
    codes = CODE.findall(response.content.decode())
    assert len(codes) == accounts.RECOVERY_CODE_COUNT == 8
    assert len(set(codes)) == 8
    assert "shown only this once" in response.content.decode()
    assert response["Cache-Control"] == "private, no-store" or "no-store" in response["Cache-Control"]
    rows = RecoveryCode.objects.filter(user__username="quiet-fox")
    assert rows.count() == 8
    stored = " ".join(f"{r.selector} {r.code_hash}" for r in rows)
    for code in codes:
        assert accounts.normalise_code(code) not in stored
        assert accounts.normalise_code(code)[4:] not in stored


def test_i_have_saved_them_leads_to_the_directory(client, db):
    """After "I have saved them" the newcomer lands on the directory, welcomed; the
    codes are marked saved."""
    signup(client, "quiet-fox")
    response = client.post(reverse("recovery_codes_saved"), {"first_time": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("community:directory")
    assert "Welcome" in response.content.decode()
    assert not RecoveryCode.objects.filter(saved_at__isnull=True).exists()


# --- recovering an account -------------------------------------------------------------------


def test_a_recovery_code_sets_a_new_password_and_is_spent(client, with_codes):
    """Handle + one code sets the new password, signs in, and the code works once."""
    user, codes = with_codes
    response = recover(client, user.username, codes[3])
    assert response.status_code == 302
    assert response.url == reverse("account")
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert client.session[SESSION_KEY] == str(user.pk)
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=False).count() == 1
    again = recover(Client(), user.username, codes[3], password="yet another long phrase")
    assert again.status_code == 400
    assert accounts.BAD_CODE_MESSAGE in again.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW)


def test_a_code_is_read_whatever_its_capitals_spaces_and_dashes(client, with_codes):
    """Typed in lower case with spaces instead of dashes, the code still works."""
    user, codes = with_codes
    typed = codes[0].lower().replace("-", " ")
    assert recover(client, user.username.upper(), typed).status_code == 302


@pytest.mark.parametrize("what", ["wrong code", "unknown handle", "malformed"])
def test_a_failed_recovery_changes_nothing_and_says_one_thing(client, with_codes, what):
    """A wrong code, an unknown handle or a malformed code: the same sentence, the
    password and the codes unchanged, no session."""
    user, codes = with_codes
    handle, code = user.username, codes[0]
    if what == "wrong code":
        code = code[:5] + ("2222-2222-2222" if code[5:] != "2222-2222-2222" else "3333-3333-3333")
    elif what == "unknown handle":
        handle = handle_()
    else:
        code = "hello"
    response = recover(client, handle, code)
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [accounts.BAD_CODE_MESSAGE]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not RecoveryCode.objects.filter(used_at__isnull=False).exists()
    assert SESSION_KEY not in client.session
    assert f'value="{handle}"' in response.content.decode()  # the handle stays in the form


def test_a_weak_new_password_does_not_spend_the_code(client, with_codes):
    """The new password is checked first: a weak one is refused and the code stays usable."""
    user, codes = with_codes
    response = recover(client, user.username, codes[0], password="short1")
    assert response.status_code == 400
    assert field_error(response, "new_password")
    assert not RecoveryCode.objects.filter(used_at__isnull=False).exists()
    assert recover(client, user.username, codes[0]).status_code == 302


def test_recovery_is_throttled_like_login(client, with_codes):
    """After LOGIN_MAX_FAILURES wrong codes, even a right one is refused (429) for the window."""
    user, codes = with_codes
    for _ in range(settings.LOGIN_MAX_FAILURES):
        recover(client, user.username, "2222-2222-2222-2222")
    response = recover(client, user.username, codes[0])
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_recovery_ends_every_other_session(client, with_codes):
    """Success signs the account out everywhere else (their sessions are deleted)."""
    user, codes = with_codes
    elsewhere = Client()
    elsewhere.force_login(user)
    key = elsewhere.session.session_key
    assert recover(client, user.username, codes[0]).status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert elsewhere.get(reverse("account")).status_code == 302  # back to log-in


def test_the_last_code_used_says_to_make_new_ones(client, make_user):
    user = make_user(handle_())
    codes = accounts.issue_recovery_codes(user=user)
    RecoveryCode.objects.filter(user=user).exclude(selector=accounts.normalise_code(codes[0])[:4]).update(
        used_at=timezone.now()
    )
    response = recover(client, user.username, codes[0], again=None)
    page = client.get(response.url).content.decode()
    assert "That was your last recovery code" in page
    assert "You have no recovery codes." in page


# --- the account page ----------------------------------------------------------------------------


def test_account_page_shows_aliases_codes_sessions_and_links(client_for, member, make_circle, join):
    """Aliases per circle (linked), how many codes are left, this device's session,
    and the password, download and deletion links."""
    accounts.issue_recovery_codes(user=member.user)
    accounts.mark_codes_saved(user=member.user)
    page = client_for(member.user).get(reverse("account")).content.decode()
    assert member.alias in page and member.circle.get_absolute_url() in page
    assert "8 of 8" in page
    assert "This device" in page
    for name in ("password_change", "export_my_data", "delete_account", "notifications", "my_reports"):
        assert reverse(name) in page


def test_account_pages_need_a_login(client, db):
    for name in ("account", "recovery_codes", "notifications", "my_reports"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response.url.startswith(reverse("login")), name


def test_new_codes_need_the_password_and_replace_the_old(client_for, with_codes):
    """A wrong password changes nothing; the right one shows 8 new codes, and the old
    ones stop working."""
    user, old = with_codes
    client = client_for(user)
    wrong = client.post(reverse("recovery_codes"), {"password": "not it at all, no"})
    assert wrong.status_code == 400
    assert "Your codes are unchanged" in wrong.content.decode()
    assert RecoveryCode.objects.filter(user=user).count() == 8
    response = client.post(reverse("recovery_codes"), {"password": PASSWORD})
    new = CODE.findall(response.content.decode())
    assert len(new) == 8 and not set(new) & set(old)
    assert recover(Client(), user.username, old[0]).status_code == 400
    assert recover(Client(), user.username, new[0]).status_code == 302


def test_stay_signed_in_keeps_the_session_for_the_chosen_days(client, make_user):
    """Ticked, the session lasts STAY_SIGNED_IN_DAYS; unticked, SESSION_COOKIE_AGE."""
    user = make_user(handle_())
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD, "stay_signed_in": "on"})
    long_session = Session.objects.get(session_key=client.session.session_key)
    assert long_session.expire_date > timezone.now() + timedelta(days=settings.STAY_SIGNED_IN_DAYS - 1)
    assert AccountSession.objects.get(session=long_session).stay_signed_in
    other = Client()
    other.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    short = Session.objects.get(session_key=other.session.session_key)
    assert short.expire_date < timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    assert not AccountSession.objects.get(session=short).stay_signed_in


def test_every_login_is_listed_and_sign_out_everywhere_ends_the_others(make_user):
    """Two other devices are listed; "sign out everywhere else" ends them and keeps this one."""
    user = make_user(handle_())
    here, phone, laptop = Client(), Client(), Client()
    for c in (here, phone, laptop):
        c.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    rows = accounts.sessions_of(user, current=here.session.session_key)
    assert len(rows) == 3 and rows[0].current and not any(r.current for r in rows[1:])
    response = here.post(reverse("end_other_sessions"), follow=True)
    assert "Signed out on 2 other sessions" in response.content.decode()
    assert phone.get(reverse("account")).status_code == 302
    assert laptop.get(reverse("account")).status_code == 302
    assert here.get(reverse("account")).status_code == 200
    assert [r.current for r in accounts.sessions_of(user, current=here.session.session_key)] == [True]


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(make_user):
    user = make_user(handle_())
    here, other = Client(), Client()
    for c in (here, other):
        c.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    response = here.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW}
    )
    assert response.status_code == 302
    assert other.get(reverse("account")).status_code == 302
    assert here.get(reverse("account")).status_code == 200
    assert [r.current for r in accounts.sessions_of(user, current=here.session.session_key)] == [True]


def test_signing_out_forgets_the_session(client, make_user):
    user = make_user(handle_())
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert AccountSession.objects.filter(user=user).count() == 1
    client.post(reverse("logout"))
    assert not AccountSession.objects.filter(user=user).exists()


# --- notifications -----------------------------------------------------------------------------------


def _note(user, text="A moderator looked at a message you reported.", link="", **kw):
    return notifications.notify(user=user, kind=Notification.Kind.REPORT_DECIDED, text=text, link=link, **kw)


def test_the_notification_list_has_an_empty_state(client_for, make_user):
    page = client_for(make_user()).get(reverse("notifications")).content.decode()
    assert 'id="notes-empty"' in page


def test_unread_count_in_the_header_costs_one_query(client_for, make_user, django_assert_num_queries):
    """The header's unread count (and the queue link) is one query."""
    user = make_user()
    _note(user)
    _note(user, text="Another one")
    with django_assert_num_queries(1):
        facts = selectors.header_facts(user)
    assert facts.unread == 2 and not facts.staff
    page = client_for(user).get("/").content.decode()
    assert 'data-unread="2"' in page
    assert '<span class="count" id="header-unread">2<span class="visually-hidden"> unread</span>' in page


def test_notifications_are_listed_and_marked_read_one_or_all(client_for, make_user):
    user = make_user()
    first, second, third = _note(user, text="one"), _note(user, text="two"), _note(user, text="three")
    client = client_for(user)
    page = client.get(reverse("notifications")).content.decode()
    assert page.index("three") < page.index("two") < page.index("one")  # newest first
    assert "3 unread" in page
    client.post(reverse("notifications_read"), {"id": str(second.pk)})
    assert set(Notification.objects.filter(read_at__isnull=True).values_list("pk", flat=True)) == {first.pk, third.pk}
    client.post(reverse("notifications_read"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert 'data-unread="0"' in client.get("/").content.decode()


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(client_for, make_user, circle):
    user = make_user()
    note = _note(user, link=circle.get_absolute_url())
    response = client_for(user).post(reverse("notification_open", args=[note.pk]))
    assert response.status_code == 302 and response.url == circle.get_absolute_url()
    note.refresh_from_db()
    assert note.read_at is not None


def test_a_link_off_the_site_is_never_followed(client_for, make_user):
    user = make_user()
    note = _note(user, link="//evil.example/")
    response = client_for(user).post(reverse("notification_open", args=[note.pk]))
    assert response.url == reverse("notifications")


def test_someone_elses_notification_cannot_be_opened_or_read(client_for, make_user):
    owner, other = make_user(), make_user()
    note = _note(owner)
    client = client_for(other)
    assert client.post(reverse("notification_open", args=[note.pk])).status_code == 404
    client.post(reverse("notifications_read"), {"id": str(note.pk)})
    client.post(reverse("notifications_read"))
    note.refresh_from_db()
    assert note.read_at is None


def test_a_bad_notification_id_is_a_calm_404(client_for, make_user):
    response = client_for(make_user()).post(reverse("notifications_read"), {"id": "abc"})
    assert response.status_code == 404
    assert "That notification does not exist." in response.content.decode()
