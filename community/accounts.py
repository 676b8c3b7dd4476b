"""Account security without e-mail: recovery codes and the sessions an account is
signed in with.

There is no e-mail on an account, so a forgotten password cannot be reset by
mail.  Recovery codes are the way back in: ``RECOVERY_CODE_COUNT`` codes, shown
once when made (at sign-up, or when the member makes new ones), each usable once.
A code reads ``K7QM-XR4T-9PWD-HN2C``: its first group (the *selector*) is kept in
clear to find the row, the rest only as a password hash, so one attempt costs
one hash, as a log-in does.  Recovery attempts count against the same guessing
limits as log-in (``community.throttle``): switching forms gains a guesser nothing.

Sessions: each log-in is recorded (``AccountSession``, no address, no device
details) so the account page can list them and end every other one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from core.errors import DomainError, ErrorCode

from . import services, throttle
from .models import AccountSession, RecoveryCode

RECOVERY_CODE_COUNT = 8
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U: nothing to misread
_GROUPS, _GROUP = 4, 4
SELECTOR_LENGTH = _GROUP

BAD_CODE_MESSAGE = (
    "That handle and recovery code do not match, or the code was used already. "
    "Check the handle and the code, letter by letter, and try again."
)


# --- recovery codes ----------------------------------------------------------------


def _new_code() -> str:
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(_GROUPS * _GROUP))
    return "-".join(chars[i : i + _GROUP] for i in range(0, len(chars), _GROUP))


def normalise_code(code: str) -> str:
    """A typed code as stored: capitals, no spaces or hyphens."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


@transaction.atomic
def issue_recovery_codes(*, user: User) -> list[str]:
    """Make a fresh set of recovery codes for ``user`` and return them, in clear,
    for the one page that shows them.  Every earlier code stops working."""
    RecoveryCode.objects.filter(user=user).delete()
    codes: list[str] = []
    selectors: set[str] = set()
    while len(codes) < RECOVERY_CODE_COUNT:
        code = _new_code()
        plain = normalise_code(code)
        selector = plain[:SELECTOR_LENGTH]
        if selector in selectors:
            continue  # two codes of one set must not share a first group
        selectors.add(selector)
        codes.append(code)
    now = timezone.now()
    RecoveryCode.objects.bulk_create(
        RecoveryCode(
            user=user,
            selector=normalise_code(code)[:SELECTOR_LENGTH],
            code_hash=make_password(normalise_code(code)[SELECTOR_LENGTH:]),
            created_at=now,
        )
        for code in codes
    )
    return codes


@transaction.atomic
def issue_recovery_codes_with_password(*, user: User, password: str) -> list[str]:
    """New codes from the account page: the password first, so a session left open
    on someone else's screen cannot make codes that outlive it (WRONG_PASSWORD)."""
    if not user.check_password(password or ""):
        raise DomainError(ErrorCode.WRONG_PASSWORD, "That password is not right. Your codes are unchanged.")
    return issue_recovery_codes(user=user)


def mark_codes_saved(*, user: User) -> int:
    """The member says they saved their unused codes."""
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True, saved_at__isnull=True).update(
        saved_at=timezone.now()
    )


@dataclass(frozen=True)
class CodesState:
    left: int  # unused codes
    unsaved: bool  # made, but the member never said they saved them
    made_at: datetime | None


def recovery_codes_state(user: User) -> CodesState:
    rows = list(RecoveryCode.objects.filter(user=user, used_at__isnull=True).values_list("saved_at", "created_at"))
    return CodesState(
        left=len(rows),
        unsaved=any(saved is None for saved, _ in rows),
        made_at=max((made for _, made in rows), default=None),
    )


def recover_account(*, handle: str, code: str, new_password: str, source: str) -> tuple[User, int]:
    """Set a new password with a recovery code: the code is spent, every session of
    the account ends and its open sockets close.  Returns the user and how many
    codes are left.

    Refusals change nothing and spend nothing: LOGIN_THROTTLED (the log-in
    limits, for this handle and ``source``), BAD_RECOVERY_CODE (unknown handle,
    wrong or used code: one message for all, so it tells nothing about which),
    ``ValidationError`` for a weak new password (checked before the code, so a
    weak password never costs a code).
    """
    handle = services.normalise_handle(handle)
    throttle.check_login(handle=handle, source=source)
    user = User.objects.filter(username__iexact=handle).first() if handle else None
    validate_password(new_password, user=user or User(username=handle))
    plain = normalise_code(code)
    selector, verifier = plain[:SELECTOR_LENGTH], plain[SELECTOR_LENGTH:]
    with transaction.atomic():
        row = (
            RecoveryCode.objects.select_for_update().filter(user=user, selector=selector, used_at__isnull=True).first()
            if user is not None and len(plain) == _GROUPS * _GROUP
            else None
        )
        if row is None:
            make_password(verifier)  # the same work as a real check: timing says nothing
            matched = False
        else:
            matched = check_password(verifier, row.code_hash)
        if not matched or user is None or row is None:
            throttle.login_failed(handle=handle, source=source)
            raise DomainError(ErrorCode.BAD_RECOVERY_CODE, BAD_CODE_MESSAGE)
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
        user.set_password(new_password)
        user.save(update_fields=["password"])
        end_sessions(user=user, keep=None, why="password_changed")
    throttle.login_succeeded(handle=handle, source=source)
    return user, RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


# --- sessions -------------------------------------------------------------------------


def track_session(*, user: User, session_key: str | None, stay_signed_in: bool | None = None) -> None:
    """Record that ``user`` is signed in with ``session_key`` (at log-in, and again
    when a password change gives the session a new key)."""
    if not session_key or not Session.objects.filter(session_key=session_key).exists():
        return
    defaults: dict[str, object] = {"user": user}
    if stay_signed_in is not None:
        defaults["stay_signed_in"] = stay_signed_in
    AccountSession.objects.update_or_create(session_id=session_key, defaults=defaults)


def stays_signed_in(session_key: str | None) -> bool:
    return AccountSession.objects.filter(session_id=session_key or "", stay_signed_in=True).exists()


@dataclass(frozen=True)
class SessionRow:
    key: str
    current: bool
    signed_in: datetime
    ends: datetime
    stay_signed_in: bool


def sessions_of(user: User, *, current: str | None) -> list[SessionRow]:
    """The account's live sessions, this one first."""
    rows = (
        AccountSession.objects.filter(user=user, session__expire_date__gt=timezone.now())
        .select_related("session")
        .order_by("-created_at")
    )
    out = [
        SessionRow(r.session_id, r.session_id == current, r.created_at, r.session.expire_date, r.stay_signed_in)
        for r in rows
    ]
    return sorted(out, key=lambda r: not r.current)


@transaction.atomic
def end_sessions(*, user: User, keep: str | None, why: str = "signed_out_elsewhere") -> int:
    """End every session of ``user`` but ``keep`` (all of them when None), and
    close the account's open sockets on every process (``services.end_access``;
    pages of the kept session reconnect).  Returns how many sessions ended."""
    keys = AccountSession.objects.filter(user=user).exclude(session_id=keep or "").values_list("session_id")
    _, per_model = Session.objects.filter(session_key__in=keys).delete()
    services.end_access(user=user, why=why)
    return per_model.get(Session._meta.label, 0)
