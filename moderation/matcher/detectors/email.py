"""``@email``: e-mail addresses, also spelled out ("jo at gmail dot com",
"jess dot turner at gmail dot com", "jo [at] proton [dot] me")."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    re2: Any  # google-re2 publishes no type information (no stubs, no py.typed marker)
else:
    import re2

_TLDS = (
    "com|net|org|edu|gov|mil|io|co|me|info|biz|app|dev|xyz|ai|us|uk|ca|au|nz|ie|de|fr|es|it|nl|be|ch|at|se|no|"
    "dk|fi|pl|pt|br|mx|in|jp|ru|eu|tv|ly|gg"
)
_DOTTED_TLD = re.compile(rf"\.\s*(?:{_TLDS})\b")
_AT = r"(?:\s*@\s*|\s*[(\[{<]\s*(?:at|@)\s*[)\]}>]\s*|\s+at\s+)"
_DOT = r"(?:\s*\.\s*|\s*[(\[{<]\s*(?:dot|\.)\s*[)\]}>]\s*|\s+dot\s+)"
# RE2 (linear time: "a.a.a.a…" without an ending must not take Python's engine
# seconds), so no lookbehind: a start of text or a character that cannot be in
# an address is matched before the local part and left out of the span.
_LOCAL = rf"\w[\w+\-]*(?:(?:\.|{_DOT})\w[\w+\-]*)*"  # "sam.k", "jess dot turner"
_EMAIL = re2.compile(
    rf"(?:^|[^\w.+\-])({_LOCAL}"
    rf"(?:@[\w\-]+(?:\.[\w\-]+)*\.[a-z]{{2,24}}\b"  # plain address
    rf"|{_AT}[\w\-]+(?:{_DOT}[\w\-]+)*{_DOT}(?:{_TLDS})\b))"  # spelled out: jo at gmail dot com
)


def find_emails(scan) -> Iterable[tuple[int, int]]:
    plain, words = scan.plain, scan.keyset
    # "@", or a spelled-out "at" with a "dot" or a ".com"-like ending
    if "@" not in plain and not ("at" in words and ("dot" in words or _DOTTED_TLD.search(plain))):
        return ()
    return [m.span(1) for m in _EMAIL.finditer(plain)]
