"""Guessing limits (issue 11.7, 11.10): spraying is stopped by source, the owner is
slowed at worst, never locked out by someone else, and no address is kept."""

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import caches
from django.test import Client, override_settings

from community import services, throttle
from community.models import Circle
from core.errors import DomainError, ErrorCode
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _login(client: Client, handle: str, password: str):
    return client.post("/accounts/login/", {"username": handle, "password": password})


def _code(response) -> str | None:
    errors = response.context["form"].errors.as_data().get("__all__", []) if response.context else []
    return errors[0].code if errors else None


def test_spraying_many_handles_from_one_source_is_stopped(make_user):
    """Past LOGIN_SOURCE_FAILURES failures from one source, for any handles, that
    source is refused, even for a real handle with its right password; another
    source is unaffected."""
    real = make_user("sprayed-owner")
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(settings.LOGIN_SOURCE_FAILURES):
        assert _login(attacker, f"guess-{n}", "hunter2 hunter2").status_code == 400
    refused = _login(attacker, real.username, PASSWORD)
    assert refused.status_code == 429 and _code(refused) == ErrorCode.LOGIN_THROTTLED
    assert "from this connection" in refused.content.decode()
    owner = Client(REMOTE_ADDR="198.51.100.20")
    assert _login(owner, real.username, PASSWORD).status_code == 302


def test_bad_guesses_on_a_handle_do_not_lock_the_owner_out(make_user):
    """LOGIN_MAX_FAILURES wrong passwords from one source stop that source for that
    handle; the owner, on their own device, logs in at once."""
    owner_user = make_user("guarded-owner")
    guesser = Client(REMOTE_ADDR="203.0.113.8")
    for _ in range(settings.LOGIN_MAX_FAILURES):
        _login(guesser, owner_user.username, "not the password")
    assert _login(guesser, owner_user.username, PASSWORD).status_code == 429
    owner = Client(REMOTE_ADDR="198.51.100.21")
    response = _login(owner, owner_user.username, PASSWORD)
    assert response.status_code == 302 and owner.session[SESSION_KEY] == str(owner_user.pk)


@override_settings(LOGIN_HANDLE_FAILURES=6, LOGIN_HANDLE_SPACING=30)
def test_a_handle_guessed_from_many_sources_is_slowed_never_locked(make_user):
    """Past LOGIN_HANDLE_FAILURES failures from anywhere, attempts on the handle are
    spaced LOGIN_HANDLE_SPACING apart: the first attempt after a pause goes through
    (the owner gets in), the next one at once is told to wait."""
    owner_user = make_user("popular-owner")
    for n in range(6):
        _login(Client(REMOTE_ADDR=f"203.0.113.{n + 20}"), owner_user.username, "not the password")
    owner = Client(REMOTE_ADDR="198.51.100.22")
    assert _login(owner, owner_user.username, PASSWORD).status_code == 302
    hurried = _login(Client(REMOTE_ADDR="203.0.113.99"), owner_user.username, "again")
    assert hurried.status_code == 429 and "a few seconds" in hurried.content.decode()


def test_junk_failures_cannot_evict_a_limit(make_user):
    """The throttle cache is not the 300-entry default: a thousand junk failures
    from other sources do not reset a source that is being held."""
    held = Client(REMOTE_ADDR="203.0.113.50")
    for n in range(settings.LOGIN_SOURCE_FAILURES):
        _login(held, f"junk-{n}", "x" * 12)
    for n in range(1000):
        throttle.login_failed(handle=f"filler-{n}", source=f"src-{n}")
    assert _login(held, "anyone-at-all", "x" * 12).status_code == 429


def test_no_address_is_kept_in_a_throttle_key():
    """Counters are keyed by an HMAC of the address: no key names the address."""
    address = "203.0.113.77"
    request = type("R", (), {"META": {"REMOTE_ADDR": address}})()
    source = throttle.source_of(request)
    throttle.login_failed(handle="someone", source=source)
    cache = caches["throttle"]
    store = getattr(cache, "_cache", None)
    if isinstance(store, dict):  # this process's memory
        keys = list(store)
    else:  # Redis: this deployment's throttle keys (KEY_PREFIX), as stored
        prefix = cache.make_key("")
        keys = [k.decode() for k in store.get_client().scan_iter(match=f"{prefix}*", count=1000)]
    assert keys, "the failure was counted somewhere"
    assert all(address not in str(key) for key in keys)
    assert address not in source and len(source) == 32


def test_guessing_invite_codes_is_limited_per_account(make_user, make_circle):
    """Past INVITE_MEMBER_FAILURES wrong codes the account is told to wait, even
    with the right code; another account can still join."""
    circle = make_circle(name="Quiet", slug="quiet", access=Circle.Access.INVITE, invite_code="open-sesame-42")
    guesser, friend = make_user("code-guesser"), make_user("code-friend")
    for n in range(settings.INVITE_MEMBER_FAILURES):
        with pytest.raises(DomainError) as err:
            services.join_circle(user=guesser, circle=circle, invite_code=f"nope-{n}", source="s1")
        assert err.value.code == ErrorCode.BAD_INVITE_CODE
    with pytest.raises(DomainError) as err:
        services.join_circle(user=guesser, circle=circle, invite_code="open-sesame-42", source="s1")
    assert err.value.code == ErrorCode.RATE_LIMITED
    assert services.join_circle(user=friend, circle=circle, invite_code="open-sesame-42", source="s2").alias


def test_guessing_invite_codes_is_limited_per_source(make_user, make_circle):
    circle = make_circle(name="Quieter", slug="quieter", access=Circle.Access.INVITE, invite_code="open-sesame-43")
    users = [make_user(f"sock-{n}") for n in range(settings.INVITE_SOURCE_FAILURES // 5 + 1)]
    tries = 0
    for user in users:
        for _ in range(5):
            if tries == settings.INVITE_SOURCE_FAILURES:
                break
            with pytest.raises(DomainError):
                services.join_circle(user=user, circle=circle, invite_code="wrong", source="one-place")
            tries += 1
    fresh = make_user("sock-fresh")
    with pytest.raises(DomainError) as err:
        services.join_circle(user=fresh, circle=circle, invite_code="open-sesame-43", source="one-place")
    assert err.value.code == ErrorCode.RATE_LIMITED
