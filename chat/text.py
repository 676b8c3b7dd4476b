"""Message text: normalise, then render a small Markdown subset to clean HTML.

Allowed: paragraphs, line breaks, **bold**, *italic*, bulleted and numbered lists,
links ([text](https://…) and bare URLs).  Everything else is shown as text.
The HTML is cleaned by bleach with a tiny allow-list; links get
``rel="nofollow noopener"`` and open nothing but http(s).
"""

import html as html_lib
import logging
import re
import threading
import unicodedata

import bleach
from markdown_it import MarkdownIt

from core.errors import DomainError, ErrorCode
from realtime.protocol import MAX_BODY_CHARS, MAX_MESSAGE_HTML_BYTES

MAX_BODY_LINES = 60

ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "ul", "ol", "li", "a"})
ALLOWED_ATTRIBUTES = {"a": ["href", "rel"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https"})

# Cc and Cf (control and format characters) except tab and newline; format
# characters include the bidi overrides that can disguise text.
_STRIP = {cp for cp in range(0x110000) if unicodedata.category(chr(cp)) in ("Cc", "Cf") and chr(cp) not in "\n\t"}
_STRIP_TABLE = dict.fromkeys(_STRIP)
_STRIP_TABLE[ord("\t")] = " "
# Keep zero-width joiner: it builds emoji such as family or flag sequences.
_STRIP_TABLE.pop(0x200D, None)
_BLANK_LINES = re.compile(r"\n{3,}")

log = logging.getLogger(__name__)


class _WebLinksOnly(MarkdownIt):
    def validateLink(self, url: str) -> bool:  # noqa: N802 - markdown-it's method name
        """Only http(s) links become links; anything else stays text."""
        return url.lower().startswith(("http://", "https://"))


def _link_open(self, tokens, idx, options, env) -> str:
    tokens[idx].attrSet("rel", "nofollow noopener")
    return self.renderToken(tokens, idx, options, env)


class _Renderer:
    """A Markdown parser and a bleach cleaner for one thread.

    Neither may be shared between threads: bleach's ``Cleaner`` keeps its HTML
    parser and tokenizer state on the instance (its documentation: "create a
    separate cleaner per thread"; shared, it crashed, returned empty HTML and
    once returned another thread's text), and markdown-it compiles its rule
    chains lazily into a dict another thread may read half-built.  Sends of
    different circles render in parallel worker threads, so each thread gets
    its own pair (``_local``).  Measured against a lock around one shared
    cleaner and a new cleaner per call, a cleaner per thread costs least
    (``bench/render_bench.py``).
    """

    def __init__(self) -> None:
        # Bare links are found by markdown-it (linkify-it-py), not by bleach's
        # LinkifyFilter: that filter re-reads the text and turned a typed
        # "&amp;#x202e;" back into a live entity (a right-to-left override, a
        # zero-width message).  bleach still cleans the result.  Linkifying is
        # the costly part, so a text with nothing that could be a link (no "." or
        # "://") is rendered by a twin without it.
        rules = ["emphasis", "list", "link", "newline", "escape", "paragraph"]
        options = {"breaks": True, "html": False, "typographer": False}
        self.md = _WebLinksOnly("zero", {**options, "linkify": True}).enable([*rules, "linkify"])
        self.md.add_render_rule("link_open", _link_open)
        self.md_plain = _WebLinksOnly("zero", {**options, "linkify": False}).enable(rules)
        self.md_plain.add_render_rule("link_open", _link_open)
        self.cleaner = bleach.Cleaner(
            tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, protocols=ALLOWED_PROTOCOLS, strip=True
        )
        self.render("warm up")  # compile markdown-it's rule chains in this thread, now

    def render(self, text: str) -> str:
        md = self.md if _MAYBE_LINK.search(text) else self.md_plain
        out = self.cleaner.clean(md.render(text)).strip()
        if not visible_text(out):
            # Markdown that draws nothing ("-", "1.", "**"): show what was typed.
            out = self.cleaner.clean("<p>" + html_lib.escape(text).replace("\n", "<br>\n") + "</p>").strip()
        return out


_MAYBE_LINK = re.compile(r"\w\.\w|://")
_local = threading.local()


def _renderer() -> _Renderer:
    renderer = getattr(_local, "renderer", None)
    if renderer is None:
        renderer = _local.renderer = _Renderer()
    return renderer


_TAG = re.compile(r"<[^>]*>")


def visible_text(html: str) -> str:
    """What a reader sees of ``html``: the text without tags, entities decoded."""
    return html_lib.unescape(_TAG.sub("", html)).strip()


def normalise(body: object) -> str:
    """NFC, control characters stripped, line endings unified, length bounded.

    Raises ``DomainError`` (EMPTY_BODY, TOO_LARGE).
    """
    if not isinstance(body, str):
        raise DomainError(ErrorCode.BAD_FRAME, "The message body must be text.")
    text = body.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    # Composed after the invisible characters go, so the result is NFC and
    # normalising it again changes nothing.
    text = unicodedata.normalize("NFC", text.translate(_STRIP_TABLE))
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
        raise DomainError(
            ErrorCode.TOO_LARGE, f"Messages can have at most {MAX_BODY_LINES} lines.", limit=MAX_BODY_LINES
        )
    return text


def render(text: str) -> str:
    """Markdown subset → HTML, then bleach: the only HTML that reaches a screen.
    Safe to call from any number of threads at once."""
    return _renderer().render(text)


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
