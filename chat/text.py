"""Message text: normalise a body within the room's bounds, then render it with
the site's Markdown subset (``core.markup``: bold, italic, lists, http(s) links;
everything else shown as text; cleaned by bleach).
"""

import logging

from core.errors import DomainError, ErrorCode
from core.markup import (  # noqa: F401  (the room's text vocabulary, re-exported)
    ALLOWED_ATTRIBUTES,
    ALLOWED_PROTOCOLS,
    ALLOWED_TAGS,
    clean_text,
    render,
    visible_text,
)
from realtime.protocol import MAX_BODY_CHARS, MAX_MESSAGE_HTML_BYTES

MAX_BODY_LINES = 60

log = logging.getLogger(__name__)


def normalise(body: object) -> str:
    """NFC, control characters stripped, line endings unified, length bounded.

    Raises ``DomainError`` (EMPTY_BODY, TOO_LARGE).
    """
    if not isinstance(body, str):
        raise DomainError(ErrorCode.BAD_FRAME, "The message body must be text.")
    text = clean_text(body)
    if not text:
        raise DomainError(ErrorCode.EMPTY_BODY, "The message is empty.")
    if len(text) > MAX_BODY_CHARS:
        raise DomainError(
            ErrorCode.TOO_LARGE,
            f"Messages can be at most {MAX_BODY_CHARS} characters; this one has {len(text)}.",
            limit=MAX_BODY_CHARS,
        )
    if text.count("\n") >= MAX_BODY_LINES:
        raise DomainError(
            ErrorCode.TOO_LARGE, f"Messages can have at most {MAX_BODY_LINES} lines.", limit=MAX_BODY_LINES
        )
    return text


def render_for_storage(text: str) -> str:
    """``render`` for a body about to be stored and shown.

    The invariant at the storing step: a non-empty body never becomes a message
    that shows nothing.  If rendering raises, or gives HTML without visible
    text, the send is refused with RENDER_FAILED (the author is told and can
    send again; nothing is stored) and the fault is logged without the text.
    """
    try:
        out = render(text)
    except Exception:
        log.exception("rendering a message failed (%d characters)", len(text))
        raise DomainError(ErrorCode.RENDER_FAILED, RENDER_FAILED_MESSAGE) from None
    if text.strip() and not visible_text(out):
        log.error("rendering a message of %d characters gave no visible text; refused", len(text))
        raise DomainError(ErrorCode.RENDER_FAILED, RENDER_FAILED_MESSAGE)
    if len(out.encode("utf-8")) > MAX_MESSAGE_HTML_BYTES:
        raise DomainError(
            ErrorCode.TOO_LARGE,
            "This message has too much formatting to show. Please shorten it or send it in parts.",
            limit=MAX_MESSAGE_HTML_BYTES,
        )
    return out


RENDER_FAILED_MESSAGE = "Your message could not be prepared for the room, so it was not posted. Please send it again."
