"""The default rule pack (moderation/rulepacks/default.json), driven by its own data.

Every rule carries ``catches`` (sentences it must match) and ``spares`` (benign
sentences it must not match); each one becomes a test here, so a rule cannot be
added without its examples.  No database: the pack is compiled by the pure
matcher.
"""

import json
from functools import cache
from pathlib import Path

import pytest

from moderation.matcher import ACTIONS, CATEGORIES, KINDS, RuleSpec, compile_rules, validate

PACK_PATH = Path(__file__).resolve().parents[2] / "moderation" / "rulepacks" / "default.json"
PACK = json.loads(PACK_PATH.read_text(encoding="utf-8"))
RULES = PACK["rules"]
REQUIRED = {
    "key": str,
    "pattern": str,
    "kind": str,
    "category": str,
    "action": str,
    "exempt": list,
    "note": str,
    "catches": list,
    "spares": list,
}


def rule_id(index: int) -> int:
    return index + 1


def spec_for(index: int, rule: dict) -> RuleSpec:
    return RuleSpec(
        id=rule_id(index),
        pattern=rule["pattern"],
        kind=rule["kind"],
        category=rule["category"],
        action=rule["action"],
        exempt=tuple(rule["exempt"]),
    )


@cache
def compiled():
    return compile_rules(spec_for(i, rule) for i, rule in enumerate(RULES))


def label(index: int) -> str:
    return f"{rule_id(index)}:{RULES[index]['pattern'][:40]}"


CATCHES = [
    pytest.param(i, sentence, id=f"{label(i)}|{sentence[:40]}")
    for i, rule in enumerate(RULES)
    for sentence in rule.get("catches", [])
]
SPARES = [
    pytest.param(i, sentence, id=f"{label(i)}|{sentence[:40]}")
    for i, rule in enumerate(RULES)
    for sentence in rule.get("spares", [])
]
EACH_RULE = [pytest.param(i, id=label(i)) for i in range(len(RULES))]

# Integration talk is full of death, dying and killing.  None of it is a crisis.
BENIGN_INTEGRATION_TALK = [
    "I felt like I died and was reborn",
    "ego death was terrifying and then so peaceful",
    "it felt like dying but peaceful",
    "my old self died in that session",
    "the k-hole felt like death",
    "I was dying to tell you about my session",
    "part of me died so the rest of me could live",
    "It was like dying and being born again",
    "I thought I was going to die, then I started laughing",
    "I'm dead tired after yesterday's infusion",
    "that joke killed me",
    "you're killing me lol",
    "I killed it at work today",
    "this song kills me every time",
    "we talked about death and grief in circle tonight",
    "suicide prevention week is coming up, the clinic has flyers",
    "my brother died by suicide and this group helps me carry it",
    "I used to want to die and ketamine helped me",
    "I wanted to die back then but now I'm grateful",
    "I'm not suicidal, just exhausted",
    "Ketamine helped me stop feeling suicidal",
    "ketamine helped with my suicidal thoughts",
    "I don't want to die, I want to live fully",
    "the dissociation felt like my body was dead and I was just awareness",
    "I killed my ego and found something softer underneath",
    "I hurt myself at the gym yesterday",
    "I cut myself while cooking dinner",
    "the trip felt like the end of my life as I knew it, in a good way",
    "I want to take my life back from depression",
    "I'm learning to let the old story die",
    "death doula training starts next month",
    "my therapist says the fear of dying came up because it was safe to",
    "I'd kill for a nap after these sessions",
    "grief is just love with nowhere to go",
    "I walked 5 kms after my session to ground myself",
]


def test_pack_has_rules_and_metadata():
    """The pack names itself, carries a version and a non-empty rule list."""
    assert PACK["name"] == "default"
    assert isinstance(PACK["version"], int)
    assert len(RULES) >= 40


@pytest.mark.parametrize("index", EACH_RULE)
def test_rule_has_every_field_with_examples(index):
    """Every rule has all fields, valid enums, a note, and at least one catch and one spare."""
    rule = RULES[index]
    for field, kind in REQUIRED.items():
        assert isinstance(rule.get(field), kind), f"{field} missing or not a {kind.__name__}"
    assert rule["kind"] in KINDS
    assert rule["category"] in CATEGORIES
    assert rule["action"] in ACTIONS
    assert rule["note"].strip()
    assert rule["catches"] and all(isinstance(s, str) and s.strip() for s in rule["catches"])
    assert rule["spares"] and all(isinstance(s, str) and s.strip() for s in rule["spares"])
    assert all(isinstance(s, str) and s.strip() for s in rule["exempt"])


@pytest.mark.parametrize("index", EACH_RULE)
def test_rule_pattern_is_valid(index):
    """Every pattern passes the same validation the admin applies."""
    validate(RULES[index]["kind"], RULES[index]["pattern"])


def test_patterns_are_unique():
    """No rule is listed twice."""
    keys = [(rule["kind"], rule["pattern"]) for rule in RULES]
    assert len(keys) == len(set(keys))


def test_pack_compiles_as_one_rule_set():
    """The whole pack compiles at once, every rule counted."""
    assert compiled().version_rules == len(RULES)


@pytest.mark.parametrize(("index", "sentence"), CATCHES)
def test_rule_catches_its_example(index, sentence):
    """Each 'catches' sentence is matched by its rule, with the rule's action."""
    hits = [h for h in compiled().match(sentence) if h.rule_id == rule_id(index)]
    assert hits, f"{RULES[index]['pattern']!r} did not match {sentence!r}"
    assert {h.action for h in hits} == {RULES[index]["action"]}
    assert all(sentence[h.start : h.end] == h.matched for h in hits)


@pytest.mark.parametrize(("index", "sentence"), SPARES)
def test_rule_spares_its_benign_example(index, sentence):
    """Each 'spares' sentence is not matched by its rule."""
    hits = [h for h in compiled().match(sentence) if h.rule_id == rule_id(index)]
    assert not hits, f"{RULES[index]['pattern']!r} matched {[h.matched for h in hits]} in {sentence!r}"


@pytest.mark.parametrize("sentence", BENIGN_INTEGRATION_TALK)
def test_integration_talk_is_never_a_crisis(sentence):
    """Talk about ego death, dying, rebirth and grief raises no crisis or concern hit from any rule."""
    crisis = [h for h in compiled().match(sentence) if h.category == "crisis" or h.action in ("crisis", "concern")]
    assert not crisis, [(h.matched, RULES[h.rule_id - 1]["pattern"]) for h in crisis]


@pytest.mark.parametrize("sentence", BENIGN_INTEGRATION_TALK)
def test_integration_talk_is_never_blocked_or_held(sentence):
    """Benign integration talk is published as written: no block, hold or redaction."""
    acting = [h for h in compiled().match(sentence) if h.action in ("block", "hold", "redact", "crisis", "concern")]
    assert not acting, [(h.matched, h.action) for h in acting]


@pytest.mark.parametrize(
    "index", [pytest.param(i, id=label(i)) for i, r in enumerate(RULES) if r["category"] == "crisis"]
)
def test_crisis_examples_are_never_only_blocked(index):
    """A crisis example that also trips a block rule still carries a crisis-category hit,
    so a caller giving crisis precedence never silences the member."""
    for sentence in RULES[index]["catches"]:
        hits = compiled().match(sentence)
        if any(h.action == "block" for h in hits):
            assert any(h.category == "crisis" for h in hits), sentence


def test_quoted_voices_are_crisis_as_well_as_harassment():
    """'the voice says kill yourself' trips the harassment block AND a crisis rule:
    the caller must let crisis win (DESIGN: never silence a member in crisis)."""
    actions = {h.action for h in compiled().match("the voice in my head keeps saying kill yourself")}
    assert {"crisis", "block"} <= actions


def test_personal_info_is_redacted_in_place():
    """Phone numbers and e-mail addresses are replaced, the rest of the message kept."""
    from moderation.matcher import redact

    text = "text me at 555-867-5309 or sam.k@example.com, I'm in the Tuesday circle"
    assert redact(text, compiled().match(text)) == "text me at [removed] or [removed], I'm in the Tuesday circle"
