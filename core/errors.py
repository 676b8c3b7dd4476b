"""Stable error codes and the one exception type the domain raises.

Every failure a user can meet carries a code (machine-readable, stable, documented
in docs/protocol.md) and a human sentence.  Views turn it into a page with a 4xx
status; consumers turn it into an ``error`` frame.
"""

from django.db import models


class ErrorCode(models.TextChoices):
    # accounts
    HANDLE_TAKEN = "handle_taken", "Handle taken"
    BAD_HANDLE = "bad_handle", "Handle breaks the rules"
    LOGIN_THROTTLED = "login_throttled", "Too many log-in attempts"
    BAD_RECOVERY_CODE = "bad_recovery_code", "Wrong or used recovery code"
    WRONG_PASSWORD = "wrong_password", "Wrong password"
    # circles
    NOT_FOUND = "not_found", "Not found"
    NOT_MEMBER = "not_member", "Not a member"
    ALREADY_MEMBER = "already_member", "Already a member"
    CIRCLE_FULL = "circle_full", "Circle full"
    BAD_INVITE_CODE = "bad_invite_code", "Wrong invite code"
    BANNED = "banned", "Banned"
    FORBIDDEN = "forbidden", "Not allowed"
    ALIAS_LOCKED = "alias_locked", "Alias locked"
    LAST_FACILITATOR = "last_facilitator", "Last facilitator"
    # live room
    BAD_FRAME = "bad_frame", "Malformed frame"
    UNKNOWN_TYPE = "unknown_type", "Unknown frame type"
    TOO_LARGE = "too_large", "Too large"
    EMPTY_BODY = "empty_body", "Empty message"
    MUTED = "muted", "Muted"
    ROOM_CLOSED = "room_closed", "Room closed"
    SLOW_MODE = "slow_mode", "Slow mode"
    RATE_LIMITED = "rate_limited", "Rate limited"
    EDIT_WINDOW = "edit_window_passed", "Edit window passed"
    BLOCKED = "blocked", "Blocked by a rule"
    RENDER_FAILED = "render_failed", "Could not be shown"
    UNAVAILABLE = "unavailable", "Temporarily unavailable"
    ALREADY_REPORTED = "already_reported", "Already reported"
    REASON_REQUIRED = "reason_required", "A reason is required"
    ALREADY_HANDLED = "already_handled", "Already handled"
    MESSAGE_GONE = "message_gone", "Message already taken down"
    OWN_CASE = "own_case", "A case about your own message"
    BAD_RULE = "bad_rule", "Invalid rule"
    # library and private tools
    INVALID = "invalid", "Invalid input"
    BAD_LINK = "bad_link", "Not an http(s) link"
    BAD_AUDIO = "bad_audio", "Not a recording"
    # schedules (issue 12)
    BAD_SCHEDULE = "bad_schedule", "Invalid schedule"
    SESSION_UNAVAILABLE = "session_unavailable", "Session cancelled or over"


HTTP_STATUS = {
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.BANNED: 403,
    ErrorCode.NOT_MEMBER: 403,
    ErrorCode.ALREADY_MEMBER: 409,
    ErrorCode.HANDLE_TAKEN: 409,
    ErrorCode.CIRCLE_FULL: 409,
    ErrorCode.ALREADY_HANDLED: 409,
    ErrorCode.MESSAGE_GONE: 409,
    ErrorCode.OWN_CASE: 403,
    ErrorCode.ALREADY_REPORTED: 409,
    ErrorCode.LAST_FACILITATOR: 409,
    ErrorCode.ALIAS_LOCKED: 409,
    ErrorCode.LOGIN_THROTTLED: 429,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.SESSION_UNAVAILABLE: 409,  # schedules (issue 12)
}


class DomainError(Exception):
    """A refusal the user can understand: a stable ``code`` and a ``message``."""

    def __init__(self, code: ErrorCode, message: str, **extra: object) -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
        self.extra = extra

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.code, 400)

    def __repr__(self) -> str:
        return f"DomainError({self.code.value!r}, {self.message!r})"
