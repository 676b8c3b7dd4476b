"""``@handle``: a way to reach someone off the platform -- a social or messaging
handle ("@name on IG", "my insta is name", "add me on snap: name", "telegram
@name", "kik me: name", "my discord is name#1234"), an invitation to one ("add
me on snap", "signal me"), or a profile link (instagram.com/name, t.me/name).

An "@name" alone is a chat mention ("@sam thanks for sharing") and is left
alone; so are platforms talked about ("I deleted instagram", "the signal from
my body was clear").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_PLATFORM = (
    r"(?:insta(?:gram)?|ig|snap(?:chat)?|telegram|tg|signal|whats\s?app|discord|tik\s?tok|twitter|"
    r"facebook|fb|messenger|kik|reddit|threads|bluesky|bsky|linkedin|skype|wechat|viber|onlyfans|tumblr)"
)
_HANDLE = r"@?[a-z0-9][a-z0-9._#\-]{1,40}[a-z0-9]"
# A handle-like word: an @, or letters with digits, underscores, dots or # inside.
_HANDLE_LIKE = re.compile(r"@[a-z0-9]|[a-z][a-z0-9]*[0-9_.#]|[0-9][a-z]")
_INVITE = r"(?:add|follow|find|dm|message|msg|text|hit|contact|reach|friend|look|catch|talk to|chat with)"
_PATTERNS = [
    # "add me on snap: name", "dm me on ig @name", "find me on facebook"
    re.compile(
        rf"\b{_INVITE}\s+me\s+(?:up\s+)?(?:on|at|via|through|thru|over)\s+(?:my\s+)?{_PLATFORM}\b"
        rf"(?:\s*(?:[:\-]|it'?s|is|as|at)?\s*(?P<h1>{_HANDLE}))?"
    ),
    # "my insta is name", "my snapchat username is name", "my discord: name#1234"
    re.compile(
        rf"\bmy\s+{_PLATFORM}(?:\s+(?:handle|username|user\s?name|name|id|account|tag|@))?\s*(?:is|:|=|-)?\s*"
        rf"(?P<h2>{_HANDLE})"
    ),
    # "telegram @name", "ig: name", "kik me: name", "signal me", "snap me at name"
    re.compile(rf"\b{_PLATFORM}\s*(?::|-)\s*(?P<h3>{_HANDLE})"),
    re.compile(rf"\b{_PLATFORM}\s+@[a-z0-9][a-z0-9._\-]*"),
    re.compile(rf"\b(?:{_PLATFORM}|text|dm|pm)\s+me\b(?:\s*(?:[:\-]|at|@)\s*(?P<h4>{_HANDLE}))?"),
    # "@name on IG", "I'm @name on instagram"
    re.compile(rf"@[a-z0-9][a-z0-9._\-]*\s+(?:on|at|in|over\s+on)\s+{_PLATFORM}\b"),
    # "I'm on telegram as name"
    re.compile(rf"\b(?:i'?m|i\s+am)\s+on\s+{_PLATFORM}\s+(?:as|at|@)\s*(?P<h5>{_HANDLE})"),
    # "my handle everywhere is name", "my username is name"
    re.compile(
        rf"\bmy\s+(?:handle|username|user\s?name|gamertag|tag)\s+(?:\w+\s+){{0,2}}?(?:is|:)\s*(?P<h6>{_HANDLE})"
    ),
    # profile links
    re.compile(r"\b(?:instagram|facebook|fb|tiktok|twitter|x|linkedin|snapchat|threads)\.(?:com|net)/[^\s]+"),
    re.compile(r"\b(?:t|wa)\.me/[^\s]+|\bdiscord\.gg/[^\s]+"),
]
# Cheap gate: an "@", a "/" (links), or one of these words among the message's (squeezed) word keys.
_GATE_WORDS = frozenset(  # folded words
    [
        "insta",
        "instagram",
        "ig",
        "snap",
        "snapchat",
        "telegram",
        "tg",
        "signal",
        "whatsapp",
        "whats",
        "discord",
        "tiktok",
        "tik",
        "twitter",
        "facebook",
        "fb",
        "messenger",
        "kik",
        "reddit",
        "threads",
        "bluesky",
        "bsky",
        "linkedin",
        "skype",
        "wechat",
        "viber",
        "onlyfans",
        "tumblr",
        "handle",
        "username",
        "user",
        "gamertag",
    ]
)


_REQUIRED = {"h2", "h3", "h5", "h6"}  # these shapes are only a handle if a handle-like word follows


def find_handles(scan) -> Iterable[tuple[int, int]]:
    plain = scan.plain
    if "@" not in plain and "/" not in plain and _GATE_WORDS.isdisjoint(scan.keyset):
        return ()
    merged: list[tuple[int, int]] = []  # the shapes overlap ("add me on insta @x"): one span each
    for a, b in sorted(_handles(scan)):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _handles(scan) -> Iterable[tuple[int, int]]:
    plain = scan.plain
    for pattern in _PATTERNS:
        name = next(iter(pattern.groupindex), None)  # the group holding the handle, if the shape has one
        for m in pattern.finditer(plain):
            if name is None:
                yield m.span()
                continue
            handle = m.group(name)
            if handle and _handle_like(handle):
                yield m.span()
            elif name in _REQUIRED:
                continue
            elif handle:  # "add me on snap if ...": the invitation, not the word after it
                end = m.start(name)
                while end > m.start() and plain[end - 1] in " :-":
                    end -= 1
                yield m.start(), end
            else:
                yield m.span()


def _handle_like(handle: str) -> bool:
    return _HANDLE_LIKE.search(handle) is not None
