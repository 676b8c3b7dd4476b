"""Replacing what ``redact`` rules matched, in the original text."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Hit


def redact(text: str, hits: Iterable[Hit], replacement: str = "[removed]") -> str:
    """``text`` with the spans of its non-shadow ``redact`` hits replaced
    (overlapping or touching spans are merged into one replacement)."""
    spans = sorted((h.start, h.end) for h in hits if h.action == "redact" and not h.shadow)
    if not spans:
        return text
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out = []
    pos = 0
    for start, end in merged:
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return "".join(out)
