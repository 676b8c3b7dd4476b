"""Is a number or an address someone's own, or a public one?

"Text me at 555-867-5309" unmasks the sender; "the clinic's front desk is
555-0143" or "the clinic moved to 400 Main Street" does not.  A detector's find
is left alone when the words around it (a window in the plain form) name a
public place or line and nothing marks it as the writer's own.
"""

from __future__ import annotations

import re

_PUBLIC = re.compile(
    r"\b(?:clinic|clinics|office|front desk|reception|receptionist|hotline|helpline|lifeline|crisis line|"
    r"text line|warmline|their|they|website|site|pharmacy|hospital|center|centre|practice|retreat|store|shop|"
    r"library|church|department|support line|line is|number for|fireside|988|samaritans|ask for)\b"
)
_PERSONAL = re.compile(
    r"\b(?:my|me|mine|our|ours|i live|i'?m at|i am at|home|house|apartment|apt|cell|text me|call me|reach me)\b"
)
BEFORE, AFTER = 80, 40


def public(plain: str, start: int, end: int) -> bool:
    around = plain[max(0, start - BEFORE) : start] + " " + plain[end : end + AFTER]
    return _PUBLIC.search(around) is not None and _PERSONAL.search(around) is None
