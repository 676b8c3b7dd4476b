"""The matcher reads what members write: text as displayed, more folding, language
(inflections, slang, articles, typos, censoring, emoji), context exemptions, the
built-in detectors, ``decide``, and many threads at once.

Table-driven and database-free, like test_matcher.py.
"""

import threading
from functools import cache

import pytest

from moderation.matcher import Hit, RuleSpec, compile_rules, decide, fold, redact


def rules(*specs: tuple):
    """(pattern, kind[, action[, exempt]]) tuples, category crisis."""
    built = []
    for n, spec in enumerate(specs, start=1):
        pattern, kind, *rest = spec
        action = rest[0] if rest else "flag"
        exempt = tuple(rest[1]) if len(rest) > 1 else ()
        built.append(RuleSpec(n, pattern, kind, "crisis", action, exempt))
    return compile_rules(built)


def matched(compiled, text):
    hits = compiled.match(text)
    for hit in hits:  # every hit is a real span of the original text
        assert text[hit.start : hit.end] == hit.matched
    return [h.matched for h in hits]


# --- the text as readers see it ----------------------------------------------------

DISPLAY_FOLDS = [
    ("**sell**ing k", "selling k"),  # Markdown splitting a word
    ("*kill* myself", "kill myself"),
    ("k\\*ll", "k*ll"),  # an escaped star is shown as a star
    ("&#107;ill", "kill"),  # numeric entity, shown by the page as the letter
    ("&#x6b;ill", "kill"),
    ("&amp;#107;", "&#107;"),  # shown as typed: "&#107;"
    ("a &lt;b&gt; c", "a <b> c"),
    ("[click](https://t.me/abc) now", "click https://t.me/abc  now"),  # a link keeps where it goes
    ("* item\n* two", "item  two"),  # list markers are not text
    ("**", "**"),  # Markdown that draws nothing: shown as typed
]


@pytest.mark.parametrize(("text", "expected"), DISPLAY_FOLDS)
def test_screening_sees_the_displayed_text(text, expected):
    """Markdown is rendered to its text and entities decoded before folding."""
    assert fold(text)[0] == expected


MORE_FOLDS = [
    ("ĸill", "kill"),  # Latin kra, a look-alike the confusables data misses
    ("ꞣill", "kill"),  # transliterated (anyascii)
    ("🇰🇮🇱🇱 me", "kill me"),  # regional-indicator letters
    ("|<ill", "kill"),
    ("|-|ang", "hang"),
    ("want to 🔪 myself", "want to  kitchenknife  myself"),  # emoji read as their names
    ("💊 for sale", " pill  for sale"),
    ("⚰️", " coffin "),  # the variation selector goes
    ("👍🏽", " thumbsup "),  # skin tones go
    ("k i l l m y s e l f", "killmyself"),
]


@pytest.mark.parametrize(("text", "expected"), MORE_FOLDS)
def test_more_folding(text, expected):
    """Look-alikes, regional indicators, symbol letters and emoji are folded."""
    assert fold(text)[0] == expected


@pytest.mark.parametrize(
    "text",
    [
        "I want to **kill** myself",
        "I want to &#107;ill myself",
        "I want to 🇰🇮🇱🇱 myself",
        "want to |<ill myself",
        "want to ĸill myself",
        "I want to k*ll myself",
        "i want to 🔪 myself",
        "I want to k i l l myself",
    ],
)
def test_evasions_are_caught_and_spans_stay_in_the_original(text):
    """Each evasion still matches "kill myself", and the hit spans the original text."""
    compiled = rules(("kill myself", "phrase", "crisis"))
    assert matched(compiled, text)


def test_redaction_spans_survive_markdown_and_entities():
    """Redaction replaces the original characters even when screening saw rendered text."""
    compiled = rules(("@phone", "regex", "redact"))
    text = "**call** me: 555&#45;867&#45;5309 ok"
    assert redact(text, compiled.match(text)) == "**call** me: [removed] ok"


# --- language ------------------------------------------------------------------------

LANGUAGE = [
    # (pattern, kind, text, hit?)
    ("end it all", "phrase", "thinking about ending it all", True),  # inflections
    ("end it all", "phrase", "I ended it all", True),
    ("end it all", "phrase", "thinkin bout endin it all", True),  # dropped g
    ("kill myself", "phrase", "I keep killing myself over deadlines", True),
    ('"kill myself"', "phrase", "I almost killed myself", False),  # quoted: only the forms written
    ("take my life", "phrase", "take my lifeline", False),  # never part of a word
    ("want to die", "phrase", "i wanna die", True),  # contractions and slang
    ("want to die", "phrase", "I want to d i e", True),
    ("kill myself", "phrase", "honestly might kms", True),
    ("kill myself", "phrase", "thinking about unaliving myself", True),
    ("kill yourself", "phrase", "kys", True),
    ("suicide", "word", "might sewer slide tbh", True),
    ("suicide", "word", "ready to self delete", True),
    ("not wake up", "phrase", "I hope I don't wake up", True),  # a phrase inside "do not"
    ("i am going to", "phrase", "im gonna", True),
    ("jump off a bridge", "phrase", "jump off the bridge", True),  # articles inside a phrase are optional
    ("jump off a bridge", "phrase", "jump off bridge", True),
    ("the end", "phrase", "this is the end", True),
    ("the end", "phrase", "the weekend", False),  # an article at either end is kept
    ("suicidal", "word", "feeling suicdal tonight", True),  # one edit from a rule word
    ("kill myself", "phrase", "i want to kll myself", True),
    ("suicidal", "word", "feeling suicidally", False),  # a known word is not a typo
    ("kill myself", "phrase", "i want to k*ll myself", True),  # censoring
    ("kill myself", "phrase", "k**l myself", True),
    ("suicide", "word", "s*icide", True),
    ("kill myself", "phrase", "k*lling myself", True),
    ("kill myself", "phrase", "want to 🔪 myself", True),  # an emoji standing for the verb
    ("pill for sale", "phrase", "💊 for sale", True),
    ("shoot myself", "phrase", "going to 🔫 myself", True),
    ("kill myself", "phrase", "I walked 5 kms today", False),  # a distance, not slang
]


@pytest.mark.parametrize(("pattern", "kind", "text", "hit"), LANGUAGE)
def test_words_and_phrases_read_language(pattern, kind, text, hit):
    """Inflections, slang, optional articles, typos, censoring and emoji."""
    assert bool(matched(rules((pattern, kind)), text)) is hit


SENTENCE_EXEMPT = [
    ("I used to think everyone would be better off without me, and I was so wrong", False),
    ("I used to be fine. Now everyone would be better off without me", True),  # another sentence
    ("everyone would be better off without me", True),
]


@pytest.mark.parametrize(("text", "hit"), SENTENCE_EXEMPT)
def test_sentence_wide_exempt_phrases(text, hit):
    """'sentence: used to' exempts a hit anywhere in the same sentence, not beyond it."""
    compiled = rules(("better off without me", "phrase", "concern", ["sentence: used to"]))
    assert bool(matched(compiled, text)) is hit


# --- detectors -------------------------------------------------------------------------

DETECTED = [
    (
        "@phone",
        "my number is five five five, eight six seven, five three oh nine",
        "five five five, eight six seven, five three oh nine",
    ),
    ("@phone", "5 5 5 8 6 7 5 3 0 9 is mine", "5 5 5 8 6 7 5 3 0 9"),
    ("@phone", "reach me on 555/201/4433", "555/201/4433"),
    ("@phone", "my phone number is 555 — 302 — 8841", "555 — 302 — 8841"),
    ("@phone", "whatsapp +44 7700 900123", "+44 7700 900123"),
    ("@email", "email jess dot turner at gmail dot com", "jess dot turner at gmail dot com"),
    ("@address", "i live at 42 Maple Street, Springfield", "42 Maple Street"),
    ("@address", "come by 1200 W Elm Ave apt 3 tonight", "1200 W Elm Ave apt 3"),
    ("@handle", "add me on insta @sunny.days.22", "add me on insta @sunny.days.22"),
    ("@handle", "my insta is sunny_days22", "my insta is sunny_days22"),
    ("@handle", "telegram @quietmoon", "telegram @quietmoon"),
    ("@handle", "signal me later", "signal me"),
    ("@handle", "@marcus_w on IG if you want", "@marcus_w on IG"),
    ("@handle", "my discord is moonchild#4411", "my discord is moonchild#4411"),
    ("@handle", "add me on snap if you want", "add me on snap"),
    ("@identity", "I'm Jane Doe, I work at the Mercy clinic", "I'm Jane Doe, I work at the Mercy"),
    ("@identity", "my real name is Sarah Kim btw", "my real name is Sarah Kim"),
]


@pytest.mark.parametrize(("detector", "text", "span"), DETECTED)
def test_detectors_find_personal_details(detector, text, span):
    """Each built-in detector finds its kind of detail, spanning the original text."""
    assert matched(rules((detector, "regex", "redact")), text) == [span]


NOT_DETECTED = [
    ("@phone", "the front desk number at the clinic is 555-0143 if you need to reschedule"),
    ("@phone", "the clinic's number is on their website, (555) 010-0199, ask for Dr. Patel"),
    ("@phone", "I took 50 mg at 10:30 and slept 9 hours"),
    ("@address", "the clinic moved to 400 Main Street, there's parking in the back"),
    ("@address", "I took 200 mg on Main street"),
    ("@address", "my 3 kids play in the street"),
    ("@handle", "@sam thanks for sharing"),
    ("@handle", "I deleted instagram after my session"),
    ("@handle", "the signal from my body was clear: rest"),
    ("@handle", "my handle here is different from my real name"),
    ("@identity", "my therapist Dr. Lee works at the Mercy clinic"),
    ("@identity", "I work at a library, so quiet is my thing"),
    ("@identity", "I'm Sorry, I work at Target and I'm late"),
    ("@email", "look at that, a dot on the map"),
]


@pytest.mark.parametrize(("detector", "text"), NOT_DETECTED)
def test_detectors_leave_public_and_ordinary_text_alone(detector, text):
    """Public numbers and addresses, mentions and ordinary talk are not personal details."""
    assert matched(rules((detector, "regex", "redact")), text) == []


# --- decide -------------------------------------------------------------------------------


def hit(action, category="crisis", shadow=False, rule_id=1):
    return Hit(rule_id, category, action, shadow, 0, 1, "x")


DECISIONS = [
    ([], "publish", None, None, False),
    ([hit("flag", "spam")], "flag", None, None, False),
    ([hit("concern")], "concern", "concern", None, False),
    ([hit("concern"), hit("flag", "spam")], "concern", "concern", None, False),
    ([hit("hold", "personal-info"), hit("concern")], "hold", "concern", "hold", False),
    ([hit("crisis"), hit("block", "harassment")], "crisis", "crisis", "block", False),  # both apply
    ([hit("crisis"), hit("hold", "sourcing")], "crisis", "crisis", "hold", False),
    ([hit("block", "harassment"), hit("hold", "sourcing")], "block", None, "block", False),
    ([hit("redact", "personal-info")], "publish", None, None, True),
    ([hit("redact", "personal-info"), hit("concern")], "concern", "concern", None, True),
    ([hit("crisis", shadow=True)], "publish", None, None, False),  # shadow hits never act
]


@pytest.mark.parametrize(("hits", "action", "care", "containment", "redacts"), DECISIONS)
def test_decide_gives_one_verdict_a_care_tier_and_containment(hits, action, care, containment, redacts):
    """Precedence crisis > block > hold > concern > flag; care and containment apart."""
    decision = decide(hits)
    assert (decision.action, decision.care, decision.containment, decision.redact) == (
        action,
        care,
        containment,
        redacts,
    )
    assert decision.acts is (action != "publish" or redacts)


def test_decide_names_the_block_category_and_the_decisive_hit():
    decision = decide([hit("crisis", rule_id=1), hit("block", "harassment", rule_id=2)])
    assert decision.block_category == "harassment"
    assert decision.decisive.rule_id == 1
    assert decide([hit("crisis", shadow=True)]).shadow_hits


# --- many threads at once ---------------------------------------------------------------


def test_many_threads_never_mix_messages():
    """One compiled rule set shared by many threads: every thread gets exactly the hits
    its own message has (caches are per word; each match keeps its state to itself)."""
    compiled = rules(
        ("kill myself", "phrase", "crisis"),
        ("@phone", "regex", "redact"),
        ("sell k", "phrase", "hold"),
        (r"\bdose\b", "regex", "flag"),
    )
    texts = [
        f"**note {n}**: "
        + (
            "i want to k*ll myself"
            if n % 3 == 0
            else f"call 555-867-53{n % 100:02d}"
            if n % 3 == 1
            else f"selling k and dose {n}"
        )
        for n in range(120)
    ]
    expected = {t: [(h.rule_id, h.matched) for h in compiled.match(t)] for t in texts}
    fresh = rules(
        ("kill myself", "phrase", "crisis"),
        ("@phone", "regex", "redact"),
        ("sell k", "phrase", "hold"),
        (r"\bdose\b", "regex", "flag"),
    )  # cold caches, raced on
    errors = []

    def work(offset):
        for k in range(300):
            t = texts[(offset * 7 + k) % len(texts)]
            got = [(h.rule_id, h.matched) for h in fresh.match(t)]
            if got != expected[t]:
                errors.append((t, got))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]


# --- adversarial input stays fast ----------------------------------------------------------

ADVERSARIAL_MESSAGES = {
    "spaced digits": "1 " * 2000,
    "dashed digits": "1-" * 2000,
    "dotted local part": "a." * 1500 + " at x dot",
    "spelled dots": "a dot " * 600 + "at",
    "at signs": "a.a@" * 1000,
    "streets": "12 a street " * 300,
    "handles": "@a on ig " * 400,
    "names": "I'm Jane Doe I work at Mercy " * 130,
    "spaced letters": "k " * 2000,
    "stars": "k*" * 2000,
    "markdown": "**a** " * 600 + "[x](y) " * 200,
    "emoji": "🔪" * 3000,
    "entities": "&#107;" * 600,
    "apostrophes": "a'" * 2000,
    "phrase starts": "i want to " * 400,
}


@pytest.mark.parametrize("name", list(ADVERSARIAL_MESSAGES))
def test_the_default_pack_screens_adversarial_messages_quickly(name):
    """A message of the largest size the chat accepts (4,000 characters), built to make
    a backtracking or quadratic step slow, is screened with the whole default pack
    well within a second (generous for a slow, shared machine)."""
    import time

    compiled = _default_pack()
    text = ADVERSARIAL_MESSAGES[name][:4000]
    start = time.perf_counter()
    compiled.match(text)
    assert time.perf_counter() - start < 1.0


@cache
def _default_pack():
    from moderation.evaluation import pack_specs

    return compile_rules(pack_specs())
