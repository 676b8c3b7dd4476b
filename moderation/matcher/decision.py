"""Hits -> one decision: the pure core of screening's verdict.

``decide(hits)`` says what the hits of one message add up to, so that
screening, the evaluation command and a moderator's dry run of a draft rule
compute the same thing:

* ``action``      -- the one verdict, by precedence: crisis, block, hold, concern,
  flag, else publish.  A crisis outranks block and hold: a member in crisis is
  never silenced (DESIGN.md).  ``redact`` applies in addition to any of them.
* ``care``        -- the support tier, whatever else applies: "crisis" (intent,
  plan, method, goodbye: alert staff now, resources to the member at once),
  "concern" (passive wishes, hopelessness, past self-harm: a quiet check-in for
  the circle's facilitators, resources offered gently), or None.
* ``containment`` -- what happens to the message itself besides care: "block",
  "hold" or None.  With a crisis, "crisis + block" and "crisis + hold" both
  apply: the member is supported AND the message is contained.
* ``redact``      -- True if any non-shadow ``redact`` hit is present.
* ``decisive``    -- the hit that decided ``action`` (its rule raises the flag).
* ``block_category`` -- the category of the deciding block hit (the reason the
  sender is told), when containment is "block".

Shadow hits never act; they are returned apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .. import verdicts
from .base import Hit

PUBLISH = verdicts.Verdict.PUBLISH.value


@dataclass(frozen=True)
class Decision:
    action: str
    care: str | None
    containment: str | None
    redact: bool
    hits: tuple[Hit, ...]
    shadow_hits: tuple[Hit, ...]
    decisive: Hit | None
    block_category: str | None

    @property
    def acts(self) -> bool:
        """Does anything happen beyond publishing as written?"""
        return self.action != PUBLISH or self.redact


def decide(hits: Iterable[Hit]) -> Decision:
    """The hits' decision: how they combine is ``moderation.verdicts.decide`` (the
    one rule, shared with screening); this adds which hit decided and the block's
    category."""
    hits = tuple(hits)
    acting = tuple(h for h in hits if not h.shadow)
    shadow = tuple(h for h in hits if h.shadow)
    combined = verdicts.decide(h.action for h in acting)
    action = combined.verdict.value if combined.verdict is not verdicts.Verdict.REDACT else PUBLISH
    decisive = next((h for h in acting if h.action == action), None)
    block_hit = next((h for h in acting if h.action == "block"), None)
    return Decision(
        action=action,
        care=combined.risk.value if combined.risk else None,
        containment=combined.outcome.value if combined.outcome is not verdicts.Outcome.PUBLISH else None,
        redact=combined.redact,
        hits=acting,
        shadow_hits=shadow,
        decisive=decisive,
        block_category=block_hit.category if block_hit else None,
    )
