"""Built-in detectors: a ``regex`` rule whose whole pattern is one of these names
runs a detector on the plain form (digits kept, case folded) instead of a regex.

| name        | finds |
| ----------- | ----- |
| ``@phone``    | phone numbers, in digits (US and international shapes) or in words |
| ``@email``    | e-mail addresses, also spelled out ("jo at gmail dot com") |
| ``@address``  | street addresses ("42 Maple Street", "1200 W Elm Ave apt 3") |
| ``@handle``   | social and messaging handles and invitations ("my insta is x", "add me on snap") |
| ``@identity`` | a full name given with a workplace, or a "real name" |

A detector takes the message being screened (its ``plain`` form,
``plain_starts``/``plain_ends`` maps to the original ``text``, and ``keyset``,
its words) and yields ``(start, end)`` spans of the plain form.  Numbers and
addresses given as public ones (a clinic's, a crisis line's) are left alone.
"""

from __future__ import annotations

from .address import find_addresses
from .email import find_emails
from .handles import find_handles
from .identity import find_identity
from .phone import find_phones
from .phone import warm_up as _warm_phone

DETECTORS = {
    "@phone": find_phones,
    "@email": find_emails,
    "@address": find_addresses,
    "@handle": find_handles,
    "@identity": find_identity,
}


def warm_up() -> None:
    """Load what the detectors load lazily, once, before any thread screens."""
    _warm_phone()
