"""``@email``: e-mail addresses, also spelled out ("jo at gmail dot com",
"jess dot turner at gmail dot com", "jo [at] proton [dot] me")."""

from __future__ import annotations

import re
from collections.abc import Iterable

_TLDS = (
    "com|net|org|edu|gov|mil|io|co|me|info|biz|app|dev|xyz|ai|us|uk|ca|au|nz|ie|de|fr|es|it|nl|be|ch|at|se|no|"
    "dk|fi|pl|pt|br|mx|in|jp|ru|eu|tv|ly|gg"
)
_DOTTED_TLD = re.compile(rf"\.\s*(?:{_TLDS})\b")
_AT = r"(?:\s*@\s*|\s*[(\[{<]\s*(?:at|@)\s*[)\]}>]\s*|\s+at\s+)"
_DOT = r"(?:\s*\.\s*|\s*[(\[{<]\s*(?:dot|\.)\s*[)\]}>]\s*|\s+dot\s+)"
_EMAIL = re.compile(
    rf"""
    (?<![\w.+\-])
    [\w.+\-]*\w(?:{_DOT}\w[\w+\-]*)*   # local part, maybe "jess dot turner"
    (?:
      @[\w\-]+(?:\.[\w\-]+)*\.[a-z]{{2,24}}\b                    # plain address
      |
      {_AT}[\w\-]+(?:{_DOT}[\w\-]+)*{_DOT}(?:{_TLDS})\b         # spelled out: jo at gmail dot com
    )
    """,
    re.VERBOSE,
)




def find_emails(scan) -> Iterable[tuple[int, int]]:
    plain, words = scan.plain, scan.keyset
    # "@", or a spelled-out "at" with a "dot" or a ".com"-like ending
    if "@" not in plain and not ("at" in words and ("dot" in words or _DOTTED_TLD.search(plain))):
        return ()
    return [m.span() for m in _EMAIL.finditer(plain)]
