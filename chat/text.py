"""Message text: normalise, then render a small Markdown subset to clean HTML.

Allowed: paragraphs, line breaks, **bold**, *italic*, bulleted and numbered lists,
links ([text](https://…) and bare URLs).  Everything else is shown as text.
The HTML is cleaned by bleach with a tiny allow-list; links get
``rel="nofollow noopener"`` and open nothing but http(s).
"""

import re
import unicodedata

import bleach
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt

from community.errors import DomainError, ErrorCode

MAX_BODY_CHARS = 4000
MAX_BODY_LINES = 60

ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "ul", "ol", "li", "a"})
ALLOWED_ATTRIBUTES = {"a": ["href", "rel"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https"})

# Cc and Cf (control and format characters) except tab and newline; format
# characters include the bidi overrides that can disguise text.
_STRIP = {
    cp
    for cp in range(0x110000)
    if unicodedata.category(chr(cp)) in ("Cc", "Cf") and chr(cp) not in "\n\t"
}
_STRIP_TABLE = dict.fromkeys(_STRIP)
_STRIP_TABLE[ord("\t")] = " "
# Keep zero-width joiner: it builds emoji such as family or flag sequences.
_STRIP_TABLE.pop(0x200D, None)
_BLANK_LINES = re.compile(r"\n{3,}")

_md = (
    MarkdownIt("zero", {"breaks": True, "html": False, "linkify": False, "typographer": False})
    .enable(["emphasis", "list", "link", "newline", "escape", "paragraph"])
)


def _set_rel(attrs, new=False):
    href = attrs.get((None, "href"), "")
    if not href.startswith(("http://", "https://")):
        return None  # drop the link, keep its text
    attrs[(None, "rel")] = "nofollow noopener"
    return attrs


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    filters=[lambda source: LinkifyFilter(source, callbacks=[_set_rel], parse_email=False)],
)


def normalise(body: object) -> str:
    """NFC, control characters stripped, line endings unified, length bounded.

    Raises ``DomainError`` (EMPTY_BODY, TOO_LARGE).
    """
    if not isinstance(body, str):
        raise DomainError(ErrorCode.BAD_FRAME, "The message body must be text.")
    text = unicodedata.normalize("NFC", body.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.translate(_STRIP_TABLE)
    text = _BLANK_LINES.sub("\n\n", text).strip()
    if not text:
        raise DomainError(ErrorCode.EMPTY_BODY, "The message is empty.")
    if len(text) > MAX_BODY_CHARS:
        raise DomainError(
            ErrorCode.TOO_LARGE,
            f"Messages can be at most {MAX_BODY_CHARS} characters; this one has {len(text)}.",
            limit=MAX_BODY_CHARS,
        )
    if text.count("\n") >= MAX_BODY_LINES:
        raise DomainError(ErrorCode.TOO_LARGE, f"Messages can have at most {MAX_BODY_LINES} lines.")
    return text


def render(text: str) -> str:
    """Markdown subset → HTML, then bleach: the only HTML that reaches a screen."""
    return _cleaner.clean(_md.render(text)).strip()
