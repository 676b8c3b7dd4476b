"""``@address``: street addresses ("42 Maple Street", "1200 W Elm Ave apt 3",
"221B Baker Street, Springfield").

A pattern finds candidates (a house number, up to three name words, a street
type), then usaddress (a CRF address parser) must read the candidate as an
address: a house number, a street name and a street type.  usaddress rather
than pyap: pyap finds only complete postal addresses (street, city, state and
ZIP: "42 Maple Street, Springfield, IL 62704") and missed every address as
people write them in a chat; usaddress labels the parts of any span, so it
confirms "42 Maple Street" and refuses "200 mg on Main street".  It costs ~100
µs, so it runs only on candidates, which ordinary messages do not have.
A public address (a clinic's, a retreat centre's) is left alone.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .context import public

if TYPE_CHECKING:
    usaddress: Any  # usaddress ships a .pyi but no py.typed marker, so mypy does not read it
else:
    import usaddress

log = logging.getLogger(__name__)

_STREET_TYPES = (
    "street|st|avenue|ave|av|road|rd|lane|ln|boulevard|blvd|drive|dr|court|ct|way|place|pl|terrace|ter|"
    "circle|cir|parkway|pkwy|highway|hwy|square|sq|crescent|cres|close|row|trail|trl|alley|plaza|pike|"
    "grove|gardens|mews|walk|hill|heights|point|ridge|loop|run|path"
)
_NOT_NAMES = (
    "on|in|at|to|of|and|or|the|a|an|for|from|with|mg|mcg|ml|g|kg|lbs?|miles?|mi|km|kms|minutes?|mins?|hours?|"
    "hrs?|days?|weeks?|months?|years?|kids?|people|times?|sessions?|doses?|pills?|more|other|of|my|your|his|her"
)
_CANDIDATE = re.compile(
    rf"\b\d{{1,5}}[a-z]?(?:\s+(?:n|s|e|w|ne|nw|se|sw|north|south|east|west)\.?)?"
    rf"(?:\s+(?!(?:{_NOT_NAMES})\b)[a-z0-9][a-z0-9'\-]*){{1,3}}?\s+(?:{_STREET_TYPES})\b\.?"
    rf"(?:,?\s+(?:apt|apartment|unit|suite|ste|#)\.?\s*[a-z0-9\-]+)?"
)
_NEEDS = {"AddressNumber", "StreetName"}
# usaddress tags with one module-level CRF tagger whose set-then-tag calls keep
# state between them: never let two threads interleave there (it runs only on
# candidates, so the lock is almost never contended).
_TAGGER_LOCK = threading.Lock()
_TYPES = {"StreetNamePostType", "StreetNamePreType"}


_TYPE_WORDS = frozenset(_STREET_TYPES.split("|"))


def find_addresses(scan) -> Iterable[tuple[int, int]]:
    plain = scan.plain
    if _TYPE_WORDS.isdisjoint(scan.keyset) or not any(d in plain for d in "0123456789"):
        return ()
    return list(_addresses(scan))


def _addresses(scan) -> Iterable[tuple[int, int]]:
    plain = scan.plain
    for m in _CANDIDATE.finditer(plain):
        a, b = m.span()
        if public(plain, a, b):
            continue
        original = scan.text[scan.plain_starts[a] : scan.plain_ends[b - 1]]
        try:
            with _TAGGER_LOCK:
                parsed = usaddress.parse(original)
            labels = {label for _token, label in parsed}
        except Exception as err:  # the parser's failure is "not an address", never a failed screening
            # the type only: the candidate is a member's text (maybe their address), kept out of logs
            log.warning("usaddress failed on an address candidate (%s): not taken as an address", type(err).__name__)
            continue
        if labels >= _NEEDS and labels & _TYPES:
            yield a, b
