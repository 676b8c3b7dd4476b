"""The screening vocabulary, defined once: what a rule may ask for, what
screening decides for a text, and how several rule hits combine.

Pure (standard library only): the matcher, the rule model, the message model,
screening and the rule evaluation all take their words from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    """What screening decided for a text (stored on the message).  Every value
    but ``publish`` is also an action a keyword rule may ask for."""

    PUBLISH = "publish"  # nothing to do
    FLAG = "flag"  # published, and queued for a moderator
    REDACT = "redact"  # the matched text replaced by "[removed]" before storing
    CONCERN = "concern"  # published; a quiet check-in for the circle's facilitators
    HOLD = "hold"  # stored, shown to nobody until a moderator approves it
    BLOCK = "block"  # refused; the sender is told why
    CRISIS = "crisis"  # published; resources to the sender, every staff member alerted


LABELS = {
    Verdict.PUBLISH: "Published",
    Verdict.FLAG: "Flag (publish and queue)",
    Verdict.REDACT: "Redact the matched text",
    Verdict.CONCERN: "Concern (publish, quiet check-in for facilitators, gentle resources)",
    Verdict.HOLD: "Hold until approved",
    Verdict.BLOCK: "Block (refuse, tell the sender why)",
    Verdict.CRISIS: "Crisis (publish, support the sender, alert staff)",
}

RULE_ACTIONS: tuple[str, ...] = tuple(v.value for v in Verdict if v is not Verdict.PUBLISH)
# The message's verdict when several rules hit: the first of these among the hits.
PRECEDENCE = (Verdict.CRISIS, Verdict.BLOCK, Verdict.HOLD, Verdict.CONCERN, Verdict.FLAG, Verdict.REDACT)


class Outcome(StrEnum):
    """What happens to the text itself."""

    PUBLISH = "publish"
    HOLD = "hold"
    BLOCK = "block"


class Risk(StrEnum):
    """The safety lane, beside the outcome: a risk is never silenced by a hold or
    a block (the sender still gets resources, staff are still told)."""

    CRISIS = "crisis"
    CONCERN = "concern"


def choices(values: Iterable[str]) -> list[tuple[str, str]]:
    """Django field choices for ``values``."""
    return [(str(value), LABELS[Verdict(value)]) for value in values]


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    outcome: Outcome
    risk: Risk | None
    redact: bool
    flag: bool  # a flag rule hit

    @property
    def stored(self) -> bool:
        """Whether the text is stored: a blocked text is kept (shown to nobody,
        for the moderators' case) only when it carries a risk."""
        return self.outcome is not Outcome.BLOCK or self.risk is not None

    @property
    def visible(self) -> bool:
        """Whether it is published to the room."""
        return self.outcome is Outcome.PUBLISH

    @property
    def queued(self) -> bool:
        """Whether it becomes a review-queue item."""
        return self.stored and (self.risk is not None or self.outcome is not Outcome.PUBLISH or self.flag)


def decide(actions: Iterable[str]) -> Decision:
    """Combine the actions of every (non-shadow) rule that hit one text.

    The outcome is the strictest of block, hold and publish; the risk lane is
    crisis, else concern; redaction applies whatever decides.  So a crisis with
    a block is blocked *and* alerted: adding "I want to die" to a sale offer
    publishes nothing, and the person behind it is still looked after."""
    acts = frozenset(actions)
    unknown = acts - set(RULE_ACTIONS)
    if unknown:
        raise ValueError(f"unknown rule actions {sorted(unknown)}")
    verdict = next((v for v in PRECEDENCE if v in acts), Verdict.PUBLISH)
    outcome = Outcome.BLOCK if Verdict.BLOCK in acts else Outcome.HOLD if Verdict.HOLD in acts else Outcome.PUBLISH
    risk = Risk.CRISIS if Verdict.CRISIS in acts else Risk.CONCERN if Verdict.CONCERN in acts else None
    return Decision(verdict, outcome, risk, Verdict.REDACT in acts, Verdict.FLAG in acts)
