"""What the library accepts: plain one-line fields (titles, track names, tags),
bodies in the site's Markdown subset (``core.markup``), http(s) links, track
lists and prompts.

Every refusal is a ``DomainError`` naming the field (``field``) with a sentence
the author can act on; callers check every field before writing anything, so a
refused form changes nothing.  HTML is never accepted, not even to be shown as
text: a ``<`` followed by a letter, ``/``, ``!`` or ``?`` is refused wherever
it appears, and so is any link that is not http(s).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from core import markup
from core.errors import DomainError, ErrorCode

TITLE_MAX = 120
BODY_MAX = 8000
BODY_MAX_LINES = 200
LINK_MAX = 500
MOOD_MAX = 200
TRACK_FIELD_MAX = 200
TRACKS_MAX = 60
TRACK_SECONDS_MAX = 3 * 3600
PROMPTS_MAX = 20
PROMPT_MAX = 500
JOURNAL_MAX = 20_000
JOURNAL_MAX_LINES = 600
ANSWER_MAX = 4000
TAGS_MAX = 10
TAG_MAX = 30
# A rendered body larger than this is refused (a screen of text, not a book).
HTML_MAX_BYTES = 256 * 1024

# "<b>", "</p", "<!--", "<?xml", "<script": HTML.  "<3", "a < b", "<= 5" are text.
_MARKUP = re.compile(r"<[a-zA-Z/!?]")
# A script or data link written anywhere (also inside Markdown link targets).
_BAD_SCHEME = re.compile(r"(?<![a-z0-9+.-])(?:javascript|vbscript|data|file)\s*:", re.IGNORECASE)
# Markdown link targets: [text](target)
_MD_TARGET = re.compile(r"\]\(\s*<?([^)\s>]*)")


def _refuse(field: str, message: str, code: ErrorCode = ErrorCode.INVALID, **extra: object) -> DomainError:
    return DomainError(code, message, field=field, **extra)


def _no_markup(field: str, label: str, value: str) -> None:
    if _MARKUP.search(value):
        raise _refuse(
            field,
            f"{label}: HTML is not allowed here. A '<' directly followed by a letter reads as HTML; "
            "add a space after it or write it out.",
        )
    if _BAD_SCHEME.search(value):
        raise _refuse(field, f"{label}: script and data links are not allowed.", ErrorCode.BAD_LINK)


def line(value: object, *, field: str, label: str, max_len: int, required: bool = True) -> str:
    """A plain one-line field: cleaned, no HTML, within ``max_len``."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _refuse(field, f"{label} must be text.")
    text = markup.clean_line(value)
    if required and not text:
        raise _refuse(field, f"{label} is required.")
    if len(text) > max_len:
        raise _refuse(field, f"{label} can be at most {max_len} characters; this has {len(text)}.", ErrorCode.TOO_LARGE)
    _no_markup(field, label, text)
    return text


def body(
    value: object,
    *,
    field: str = "body",
    label: str = "The text",
    max_len: int = BODY_MAX,
    max_lines: int = BODY_MAX_LINES,
    required: bool = True,
) -> str:
    """A Markdown-subset body: cleaned, bounded, no HTML, only http(s) links."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _refuse(field, f"{label} must be text.")
    text = markup.clean_text(value)
    if required and not text:
        raise _refuse(field, f"{label} is empty.", ErrorCode.EMPTY_BODY)
    if len(text) > max_len:
        raise _refuse(
            field,
            f"{label} can be at most {max_len} characters; this has {len(text)}.",
            ErrorCode.TOO_LARGE,
            limit=max_len,
        )
    if text.count("\n") >= max_lines:
        raise _refuse(field, f"{label} can have at most {max_lines} lines.", ErrorCode.TOO_LARGE, limit=max_lines)
    _no_markup(field, label, text)
    for target in _MD_TARGET.findall(text):
        if target and not target.lower().startswith(("http://", "https://")):
            raise _refuse(field, f"{label}: links must start with https:// (or http://).", ErrorCode.BAD_LINK)
    return text


def render(text: str, *, field: str = "body") -> str:
    """The stored HTML of a cleaned body (bleach-cleaned; never an image, a
    script or a non-http(s) link)."""
    if not text:
        return ""
    html = markup.render(text)
    if len(html.encode("utf-8")) > HTML_MAX_BYTES:
        raise _refuse(field, "This text has too much formatting to show. Please shorten it.", ErrorCode.TOO_LARGE)
    return html


def link(value: object, *, field: str = "link", label: str = "The link", required: bool = False) -> str:
    """An optional http(s) link to a public page: no credentials, no spaces or
    quotes, a real host name.  Anything else is refused, never "fixed"."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _refuse(field, f"{label} must be text.", ErrorCode.BAD_LINK)
    url = value.strip()
    if not url:
        if required:
            raise _refuse(field, f"{label} is required.", ErrorCode.BAD_LINK)
        return ""
    if len(url) > LINK_MAX:
        raise _refuse(field, f"{label} can be at most {LINK_MAX} characters.", ErrorCode.TOO_LARGE)
    if any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf") or c in "<>\"'`\\{}|^" for c in url):
        raise _refuse(
            field, f"{label} has spaces, quotes or brackets in it; paste the address alone.", ErrorCode.BAD_LINK
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _port = parts.port
    except ValueError:
        raise _refuse(field, f"{label} is not a web address.", ErrorCode.BAD_LINK) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise _refuse(field, f"{label} must start with https:// (or http://).", ErrorCode.BAD_LINK)
    if not host or "." not in host.strip(".") or parts.username or parts.password:
        raise _refuse(field, f"{label} is not a web address we can link to.", ErrorCode.BAD_LINK)
    return url


# --- playlists and prompts ---------------------------------------------------------


@dataclass(frozen=True)
class TrackIn:
    title: str
    artist: str
    seconds: int
    link: str


_LENGTH = re.compile(r"^(?:(\d{1,2}):)?(\d{1,3}):(\d{2})$")
_MINUTES = re.compile(r"^(\d{1,3})\s*(?:m|min|mins|minutes?)$", re.IGNORECASE)


def parse_length(value: str) -> int | None:
    """'4:30' → 270, '1:02:03' → 3723, '6 min' → 360; None if not a length."""
    value = value.strip()
    m = _LENGTH.match(value)
    if m:
        hours, minutes, seconds = int(m.group(1) or 0), int(m.group(2)), int(m.group(3))
        if seconds >= 60 or (m.group(1) and minutes >= 60):
            return None
        return hours * 3600 + minutes * 60 + seconds
    m = _MINUTES.match(value)
    return int(m.group(1)) * 60 if m else None


def format_length(seconds: int) -> str:
    """270 → '4:30', 3723 → '1:02:03'."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def tracks(value: object, *, field: str = "tracks") -> list[TrackIn]:
    """A track list, one track a line: ``title | artist | length | link``
    (artist and link optional; length as 4:30, 1:02:03 or '6 min')."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _refuse(field, "The track list must be text.")
    out: list[TrackIn] = []
    for n, raw in enumerate(markup.clean_text(value).split("\n"), 1):
        if not raw.strip():
            continue
        if len(out) == TRACKS_MAX:
            raise _refuse(field, f"A playlist can have at most {TRACKS_MAX} tracks.", ErrorCode.TOO_LARGE)
        parts = [p.strip() for p in raw.split("|")]
        if len(parts) < 3 or len(parts) > 4:
            raise _refuse(field, f"Track {n}: write it as 'title | artist | length | link' (the link is optional).")
        title = line(parts[0], field=field, label=f"Track {n}: the title", max_len=TRACK_FIELD_MAX)
        artist = line(parts[1], field=field, label=f"Track {n}: the artist", max_len=TRACK_FIELD_MAX, required=False)
        seconds = parse_length(parts[2])
        if seconds is None or not 0 < seconds <= TRACK_SECONDS_MAX:
            raise _refuse(field, f"Track {n}: the length should look like 4:30 (at most 3 hours).")
        url = link(parts[3] if len(parts) == 4 else "", field=field, label=f"Track {n}: the link")
        out.append(TrackIn(title, artist, seconds, url))
    return out


def tracks_text(items) -> str:
    """A stored track list as the form shows it (``tracks`` reads it back)."""
    rows = []
    for t in items:
        parts = [t.title, t.artist, format_length(t.seconds)]
        if t.link:
            parts.append(t.link)
        rows.append(" | ".join(parts))
    return "\n".join(rows)


def prompts(value: object, *, field: str = "prompts") -> list[str]:
    """Prompts, one a line, each plain text."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _refuse(field, "The prompts must be text.")
    out: list[str] = []
    for n, raw in enumerate(markup.clean_text(value).split("\n"), 1):
        if not raw.strip():
            continue
        if len(out) == PROMPTS_MAX:
            raise _refuse(field, f"At most {PROMPTS_MAX} prompts.", ErrorCode.TOO_LARGE)
        out.append(line(raw, field=field, label=f"Prompt {n}", max_len=PROMPT_MAX))
    return out


_TAG_OK = re.compile(r"^[\w][\w -]*$")


def tags(value: object, *, field: str = "tags") -> list[str]:
    """Tags, separated by commas: lower case, letters, digits, spaces and dashes."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _refuse(field, "Tags must be text.")
    out: list[str] = []
    for raw in markup.clean_line(value).split(","):
        tag = " ".join(raw.strip().lstrip("#").lower().split())
        if not tag:
            continue
        if len(tag) > TAG_MAX or not _TAG_OK.match(tag):
            raise _refuse(field, f"Tags are short words (up to {TAG_MAX} letters, digits, spaces or dashes).")
        if tag not in out:
            out.append(tag)
    if len(out) > TAGS_MAX:
        raise _refuse(field, f"At most {TAGS_MAX} tags.", ErrorCode.TOO_LARGE)
    return out
