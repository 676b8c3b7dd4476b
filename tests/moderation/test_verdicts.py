"""The screening vocabulary and how several rule hits combine (pure)."""

import pytest

from moderation.verdicts import PRECEDENCE, RULE_ACTIONS, Outcome, Risk, Verdict, decide


@pytest.mark.parametrize(
    ("actions", "verdict", "outcome", "risk", "redact", "stored", "visible", "queued"),
    [
        ([], "publish", "publish", None, False, True, True, False),
        (["flag"], "flag", "publish", None, False, True, True, True),
        (["redact"], "redact", "publish", None, True, True, True, False),
        (["redact", "flag"], "flag", "publish", None, True, True, True, True),
        (["hold"], "hold", "hold", None, False, True, False, True),
        (["block"], "block", "block", None, False, False, False, False),
        (["crisis"], "crisis", "publish", "crisis", False, True, True, True),
        (["concern"], "concern", "publish", "concern", False, True, True, True),
        (["crisis", "block"], "crisis", "block", "crisis", False, True, False, True),
        (["crisis", "hold"], "crisis", "hold", "crisis", False, True, False, True),
        (["concern", "block", "redact"], "block", "block", "concern", True, True, False, True),
        (["crisis", "concern"], "crisis", "publish", "crisis", False, True, True, True),
        (["block", "hold", "flag"], "block", "block", None, False, False, False, False),
    ],
)
def test_decide_combines_every_hit(actions, verdict, outcome, risk, redact, stored, visible, queued):
    decision = decide(actions)
    assert decision.verdict == verdict and decision.outcome == outcome
    assert decision.risk == (Risk(risk) if risk else None) and decision.redact is redact
    assert (decision.stored, decision.visible, decision.queued) == (stored, visible, queued)


def test_a_risk_is_never_silenced_by_a_block_or_a_hold():
    for other in ("block", "hold"):
        for risk in ("crisis", "concern"):
            decision = decide([other, risk])
            assert decision.risk == Risk(risk) and decision.stored and decision.queued
            assert decision.outcome == Outcome(other)


def test_the_vocabulary_is_one_list():
    assert set(RULE_ACTIONS) == {v.value for v in Verdict} - {"publish"}
    assert set(PRECEDENCE) == {Verdict(a) for a in RULE_ACTIONS}
    with pytest.raises(ValueError, match="unknown rule actions"):
        decide(["shout"])
