"""The Markdown subset every text on the site is written in: cleaning typed
text, and rendering it to the only HTML that reaches a screen.

Allowed: paragraphs, line breaks, **bold**, *italic*, bulleted and numbered lists,
links ([text](https://…) and bare URLs).  Everything else is shown as text (no
images, no raw HTML).  The HTML is cleaned by bleach with a tiny allow-list;
links get ``rel="nofollow noopener"`` and open nothing but http(s).

Shared by the live room (``chat.text``: message bounds, the storing step) and
the library (``library.text``: resource posts, journal entries); each owner
keeps its own limits and error wording.
"""

import html as html_lib
import re
import threading
import unicodedata

import bleach
from markdown_it import MarkdownIt

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


def clean_text(text: str) -> str:
    """NFC, control and format characters stripped (tab becomes a space), line
    endings unified, runs of blank lines folded to one, outer space trimmed.
    Idempotent: cleaning the result again changes nothing."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    # Composed after the invisible characters go, so the result is NFC and
    # cleaning it again changes nothing.
    text = unicodedata.normalize("NFC", text.translate(_STRIP_TABLE))
    return _BLANK_LINES.sub("\n\n", text).strip()


def clean_line(text: str) -> str:
    """``clean_text`` for a one-line field (a title, a track name): every line
    break and run of spaces becomes one space."""
    return " ".join(clean_text(text).split())


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


def render(text: str) -> str:
    """Markdown subset → HTML, then bleach: the only HTML that reaches a screen.
    Safe to call from any number of threads at once."""
    return _renderer().render(text)
