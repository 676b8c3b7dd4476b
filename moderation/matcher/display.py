"""What readers see: a message as the chat displays it, with a map back.

The chat renders a Markdown subset (chat/text.py: markdown-it-py's "zero"
preset with emphasis, list, link, newline, escape and paragraph; raw HTML
shown as text) and the browser decodes HTML entities.  So "**sell**ing" reads
"selling", "k\\*ll" reads "k*ll" and "&#107;ill" reads "kill": screening must
see that, not the markup.  ``displayed(text)`` renders the same subset with
markdown-it-py, takes the text content (a link's destination is kept after its
text: readers can follow it), decodes entities, and maps every displayed
character back to the original characters it came from, so hits still span
the original text (redaction uses them).

Most messages hold no markup character at all; for them ``displayed`` returns
None at the cost of one regex search.  markdown-it's parser keeps compiled rule
chains on the instance and is not safe to share between threads (the render
race of issue 8), so each thread gets its own parser.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Sequence

from markdown_it import MarkdownIt

_MARKUP = re.compile(r"[*_\\\]]|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_LINK_DESTINATION = re.compile(r"\]\(\s*<?([^\s)>]*)")
_ESCAPE = re.compile(r"\\[!-/:-@\[-`{-~]")
_local = threading.local()


def _parser() -> MarkdownIt:
    md = getattr(_local, "md", None)
    if md is None:
        md = MarkdownIt("zero", {"breaks": True, "html": False, "linkify": False, "typographer": False}).enable(
            ["emphasis", "list", "link", "newline", "escape", "paragraph"]
        )
        md.parse("warm *up*")  # build the rule chains in this thread, now
        _local.md = md
    return md


def displayed(text: str) -> tuple[str, Sequence[int], Sequence[int]] | None:
    """(displayed text, original starts, original ends), or None when the text
    is displayed as written."""
    if not _MARKUP.search(text):
        return None
    mapped: tuple[str, Sequence[int], Sequence[int]] | None = _rendered(text) if _needs_markdown(text) else None
    if mapped is None:
        mapped = text, range(len(text)), range(1, len(text) + 1)
    if "&" in mapped[0]:
        mapped = _decode_entities(*mapped)
    if mapped[0] == text:
        return None
    return mapped


def _needs_markdown(text: str) -> bool:
    """Could the chat's Markdown change the words?  Emphasis needs two delimiters,
    a link "](", an escape a backslash before punctuation; a single "*" (a list
    marker, or censoring: "k*ll") changes nothing readers see in a word."""
    return text.count("*") >= 2 or text.count("_") >= 2 or "](" in text or _ESCAPE.search(text) is not None


def _rendered(text: str) -> tuple[str, list[int], list[int]] | None:
    """The text content of the rendered Markdown with its map, placed piece by
    piece (each text token is found in the source, in order); None when the
    rendering draws nothing (the chat then shows the text as typed) or cannot be
    placed."""
    pieces: list[str] = []
    pos = 0  # where the next link destination is looked for
    for token in _parser().parse(text):
        if token.type == "inline":
            for child in token.children or ():
                kind = child.type
                if kind == "text":
                    pieces.append(child.content)
                elif kind in ("softbreak", "hardbreak"):
                    pieces.append("\n")
                elif kind == "link_close":
                    m = _LINK_DESTINATION.search(text, pos)
                    if m and m.group(1):
                        pieces.extend((" ", m.group(1), " "))
                        pos = m.end()
        elif token.nesting == -1:  # the end of a paragraph, a list item ...
            pieces.append("\n")
    while pieces and pieces[-1].isspace():  # the last paragraph's end
        pieces.pop()
    while pieces and pieces[0].isspace():
        pieces.pop(0)
    if not "".join(pieces).strip():
        return None
    return _place(pieces, text)


def _place(pieces: list[str], source: str) -> tuple[str, list[int], list[int]] | None:
    """Map each piece of the rendering to the source characters it displays.  The
    rendering only drops characters (markup), so each piece is found at or after
    the previous one -- whole (one ``find``), or, when markup sits inside it (an
    escape: "k\\*ll"), character by character.  Added spaces and line breaks map to
    where the scan is."""
    starts: list[int] = []
    ends: list[int] = []
    p = 0
    n = len(source)
    for piece in pieces:
        if not piece:
            continue
        if piece.isspace():
            at = min(p, n - 1)
            starts.extend([at] * len(piece))
            ends.extend([at + 1] * len(piece))
            continue
        q = source.find(piece, p)
        if q >= 0:
            starts.extend(range(q, q + len(piece)))
            ends.extend(range(q + 1, q + len(piece) + 1))
            p = q + len(piece)
            continue
        for ch in piece:
            q = source.find(ch, p)
            if q < 0:
                return None
            starts.append(q)
            ends.append(q + 1)
            p = q + 1
    return "".join(pieces), starts, ends


def _decode_entities(text: str, starts: Sequence[int], ends: Sequence[int]) -> tuple[str, Sequence[int], Sequence[int]]:
    out: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    pos = 0
    for m in _ENTITY.finditer(text):
        a, b = m.span()
        decoded = html.unescape(m.group())
        if decoded == m.group():
            continue
        out.append(text[pos:a])
        new_starts.extend(starts[pos:a])
        new_ends.extend(ends[pos:a])
        for c in decoded:
            out.append(c)
            new_starts.append(starts[a])
            new_ends.append(ends[b - 1])
        pos = b
    if pos == 0:
        return text, starts, ends
    out.append(text[pos:])
    new_starts.extend(starts[pos:])
    new_ends.extend(ends[pos:])
    return "".join(out), new_starts, new_ends
