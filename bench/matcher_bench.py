#!/usr/bin/env python
"""How screening cost grows with the number of keyword rules.

Builds rule sets of 10, 1,000 and 10,000 rules (plus the shipped default pack),
compiles each once, then screens the same ~200-character messages with each
and prints messages per second.  The target: 10,000 rules cost less than twice
what 10 cost.

    .venv/bin/python bench/matcher_bench.py
    .venv/bin/python bench/matcher_bench.py --seconds 3 --sizes 10,100,1000,10000,50000

The rule mix is what a moderation list looks like: mostly words (55%) and
phrases (45%), the phrases starting with everyday English words (so phrase
look-ups really do walk into the prefix set on ordinary messages), plus regex
rules capped at 50 (the "regex" column adds the two built-in detectors, @phone
and @email, present in every set).  Why a cap: each regex rule is gated by a
word it requires, so a message only pays for the regex rules whose word it
holds, but those it does hold each cost a regex search -- a real rule set keeps
regex rules to tens and puts its lists into words and phrases.

"cost vs 10" is microseconds per message relative to the 10-rule set.
Measurements are interleaved (round-robin slices, best slice kept) so that
other load on the machine hits every rule set alike.  Regex rules all go into
one RE2 set (one pass per message says which rules to search).

The messages go through the whole reading pipeline: Markdown rendered to text
when they hold markup (some do: "**so** tired"), entities decoded, folding with
transliteration and emoji names (some hold emoji), lemmas and slang per word,
the word/phrase walk, the regex set, the built-in detectors.  ``--steps``
(on by default) then prints what each step costs per message with the default
pack, in CPU time (process time, best of several runs, so other processes on
the machine do not inflate it), and the messages per second one core screens.

Pure: no Django, no database; runs in a few seconds per size.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moderation.matcher import RuleSpec, compile_rules  # noqa: E402

REGEX_CAP = 50

# Everyday English: both the messages and the rules are made of these, so that
# rule phrases share prefixes with what people actually write.
COMMON = [
    "i",
    "me",
    "my",
    "myself",
    "we",
    "our",
    "you",
    "your",
    "he",
    "she",
    "it",
    "they",
    "them",
    "what",
    "which",
    "who",
    "this",
    "that",
    "these",
    "those",
    "am",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "have",
    "has",
    "had",
    "having",
    "do",
    "does",
    "did",
    "doing",
    "a",
    "an",
    "the",
    "and",
    "but",
    "if",
    "or",
    "because",
    "as",
    "until",
    "while",
    "of",
    "at",
    "by",
    "for",
    "with",
    "about",
    "against",
    "between",
    "into",
    "through",
    "during",
    "before",
    "after",
    "above",
    "below",
    "to",
    "from",
    "up",
    "down",
    "in",
    "out",
    "on",
    "off",
    "over",
    "under",
    "again",
    "further",
    "then",
    "once",
    "here",
    "there",
    "when",
    "where",
    "why",
    "how",
    "all",
    "any",
    "both",
    "each",
    "few",
    "more",
    "most",
    "other",
    "some",
    "such",
    "no",
    "nor",
    "not",
    "only",
    "own",
    "same",
    "so",
    "than",
    "too",
    "very",
    "can",
    "will",
    "just",
    "don",
    "should",
    "now",
    "feel",
    "felt",
    "feeling",
    "session",
    "sessions",
    "circle",
    "group",
    "today",
    "yesterday",
    "tonight",
    "week",
    "morning",
    "night",
    "sleep",
    "tired",
    "calm",
    "safe",
    "scared",
    "anxious",
    "peaceful",
    "heavy",
    "light",
    "body",
    "mind",
    "heart",
    "breath",
    "breathing",
    "music",
    "playlist",
    "eyes",
    "dream",
    "dreams",
    "memory",
    "memories",
    "mother",
    "father",
    "sister",
    "brother",
    "friend",
    "partner",
    "therapist",
    "doctor",
    "clinic",
    "nurse",
    "dose",
    "lozenge",
    "infusion",
    "spray",
    "integration",
    "journal",
    "journaling",
    "walk",
    "walked",
    "nature",
    "tree",
    "trees",
    "ocean",
    "sky",
    "colors",
    "colours",
    "grief",
    "love",
    "anger",
    "fear",
    "shame",
    "joy",
    "hope",
    "release",
    "letting",
    "go",
    "old",
    "new",
    "self",
    "ego",
    "death",
    "dying",
    "died",
    "reborn",
    "born",
    "again",
    "child",
    "inner",
    "younger",
    "version",
    "parts",
    "part",
    "whole",
    "really",
    "honestly",
    "kind",
    "gentle",
    "hard",
    "easy",
    "strange",
    "beautiful",
    "weird",
    "intense",
    "first",
    "second",
    "third",
    "time",
    "times",
    "still",
    "think",
    "thought",
    "know",
    "knew",
    "want",
    "wanted",
    "need",
    "needed",
    "try",
    "tried",
    "trying",
    "help",
    "helped",
    "work",
    "worked",
    "working",
    "job",
    "home",
    "house",
    "family",
    "kids",
    "dog",
    "cat",
    "food",
    "tea",
    "coffee",
    "water",
    "cry",
    "cried",
    "crying",
    "laugh",
    "laughed",
    "laughing",
    "talk",
    "talked",
    "talking",
    "share",
    "shared",
    "sharing",
    "listen",
    "listened",
    "hear",
    "heard",
    "see",
    "saw",
    "seen",
    "remember",
    "remembered",
    "forget",
    "forgot",
    "wish",
]

# Everyday words a list might really hold as word rules (a handful, whatever its size).
TOPICAL = ["dose", "infusion", "clinic", "lozenge", "spray", "doctor", "nurse", "sitter", "playlist", "therapist"]

SYLLABLES = [
    "ka",
    "ke",
    "ki",
    "ko",
    "ku",
    "ra",
    "re",
    "ri",
    "ro",
    "ru",
    "ta",
    "te",
    "ti",
    "to",
    "tu",
    "na",
    "ne",
    "ni",
    "no",
    "nu",
    "ma",
    "me",
    "mi",
    "mo",
    "mu",
    "sa",
    "se",
    "si",
    "so",
    "su",
    "za",
    "zo",
    "ve",
    "vi",
]

REGEX_SHAPES = [
    r"\b(?:want|need|going)\s+to\s+{w}\b",
    r"\b{w}(?:ing|ed|s)?\s+(?:my|your)\s+{v}\b",
    r"\b\d+\s*mg\s+of\s+{w}\b",
    r"\b(?:buy|sell|get)\s+(?:some\s+)?{w}\b",
    r"\b{w}\W+{v}\b",
    r"\b(?:i|we)\s+(?:am|are|feel)\s+(?:so\s+)?{w}\b",
]

FRAGMENTS = [
    "I felt so heavy before the session but the music helped me let go",
    "my therapist said the fear of dying came up because it was finally safe",
    "today I walked by the ocean and cried for the first time in years",
    "the second infusion was gentler, colours everywhere and a kind of warmth",
    "I keep journaling every morning, it helps the integration land",
    "does anyone else feel tired for a day or two after the lozenge?",
    "my inner child showed up again and I just listened to her",
    "it felt like ego death but peaceful, like being born again",
    "I took 50 mg at 10:30 with my sitter and we talked after",
    "grief is just love with nowhere to go, that's what I heard tonight",
    "Café after circle? I need to talk about my mother again",
    "the k-hole felt like floating above my old self, not scary at all",
    "thank you all for holding space last week, it meant a lot 💛",
    "I'm scared to go back but I know the work is worth it",
    "sleep has been strange, vivid dreams about my brother and the house",
    "my partner asked how it went and I didn't have words yet",
    "naïve question maybe: how do you all journal without judging yourself?",
    "breathing exercises before the dose made a huge difference for me",
]
# Less common shapes, one in every ~12 messages: Markdown, a link, an entity, slang and emoji.
EXTRAS = [
    "idk tbh i'm gonna rest all weekend, **so** tired after tuesday 🙏",
    "the [integration guide](https://example.org/guide) helped me a lot",
    "we're hanging in there, thanks for asking &amp; for the playlist ✨",
    "wanna do a check-in thread tmrw? 💛 i'm in",
]


def vocabulary(rng: random.Random, n: int) -> list[str]:
    words = list(dict.fromkeys(COMMON))
    rng.shuffle(words)
    while len(words) < n:
        words.append("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return words[:n]


def make_rules(n: int, seed: int = 7) -> list[RuleSpec]:
    """``n`` rules: 2 built-ins, min(50, n // 5) regexes, then 55% words / 45% phrases.

    Words are mostly invented (slang, misspellings, names: rare in ordinary
    messages) with some everyday words; phrases start with one to three everyday
    words and end in a rarer one ("i want to zekaro"), so the phrase walk goes
    deep into the prefix set on ordinary text while real hits stay rare, as in
    a real rule list."""
    rng = random.Random(seed)
    categories = ["crisis", "sourcing", "medical-advice", "harassment", "spam"]
    actions = ["flag", "hold", "block", "crisis"]
    specs = [
        RuleSpec(1, "@phone", "regex", "personal-info", "redact"),
        RuleSpec(2, "@email", "regex", "personal-info", "redact"),
    ]
    n_regex = min(REGEX_CAP, max(1, n // 5)) if n > 2 else 0
    rare = vocabulary(rng, max(n, 400))[len(set(COMMON)) :]
    everyday = list(dict.fromkeys(COMMON))
    seen: set[tuple[str, str]] = set()
    while len(specs) < n:
        rule_id = len(specs) + 1
        category, action = rng.choice(categories), rng.choice(actions)
        circle = rng.choice([None] * 8 + [1, 2])  # a fifth of the rules belong to a circle
        if len(specs) < 2 + n_regex:
            shape = rng.choice(REGEX_SHAPES)
            pattern, kind = shape.format(w=rng.choice(rare), v=rng.choice(everyday + rare)), "regex"
        elif rng.random() < 0.55:
            pattern, kind = (rng.choice(TOPICAL) if rng.random() < 0.05 else rng.choice(rare)), "word"
        else:
            lead = [rng.choice(everyday) for _ in range(rng.randint(1, 3))]
            pattern, kind = " ".join([*lead, rng.choice(rare)]), "phrase"
        if (kind, pattern) in seen:
            continue
        seen.add((kind, pattern))
        exempt = (f"{pattern} at work",) if kind != "regex" and rng.random() < 0.1 else ()
        specs.append(RuleSpec(rule_id, pattern, kind, category, action, exempt, circle))
    return specs


def default_pack() -> list[RuleSpec]:
    pack = json.loads((ROOT / "moderation" / "rulepacks" / "default.json").read_text(encoding="utf-8"))
    return [
        RuleSpec(i + 1, r["pattern"], r["kind"], r["category"], r["action"], tuple(r["exempt"]))
        for i, r in enumerate(pack["rules"])
    ]


def make_messages(count: int, seed: int = 11) -> list[str]:
    """~200-character messages: 3 fragments (8% with Markdown, a link, an entity or
    slang and emoji), some with a phone number or an e-mail address."""
    rng = random.Random(seed)
    messages = []
    for _ in range(count):
        parts = rng.sample(FRAGMENTS, 3)
        if rng.random() < 0.08:
            parts[0] = rng.choice(EXTRAS)
        text = " ".join(parts)
        roll = rng.random()
        if roll < 0.03:
            text += " text me 555-867-5309"
        elif roll < 0.05:
            text += " or sam at gmail dot com"
        messages.append(text[:220])
    return messages


def compile_and_size(specs: list[RuleSpec]) -> dict:
    start = time.perf_counter()
    compiled = compile_rules(specs)
    compile_s = time.perf_counter() - start
    tracemalloc.start()
    traced = compile_rules(specs)
    size, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del traced
    kinds = [s.kind for s in specs]
    return {
        "compiled": compiled,
        "rules": len(specs),
        "words": kinds.count("word"),
        "phrases": kinds.count("phrase"),
        "regex": kinds.count("regex"),
        "compile_ms": compile_s * 1000,
        "memory_mb": size / 1e6,
        "rates": [],
        "hits": 0,
        "screened": 0,
    }


def screen_for(row: dict, messages: list[str], seconds: float) -> None:
    """Screen ``messages`` in a loop for about ``seconds``; record the rate."""
    match = row["compiled"].match
    done = hits = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for text in messages:
            hits += len(match(text, 1))
        done += len(messages)
    row["rates"].append(done / (time.perf_counter() - start))
    row["hits"] += hits
    row["screened"] += done


def step_costs(messages: list[str], repeats: int = 7) -> list[tuple[str, float]]:
    """CPU microseconds per message for each step of screening, with the default pack."""
    from moderation.matcher import display, folding
    from moderation.matcher.compiled import _Scan
    from moderation.matcher.detectors import DETECTORS

    compiled = compile_rules(default_pack())
    for text in messages:
        compiled.match(text, 1)

    def cpu(fn, items) -> float:
        best = float("inf")
        for _ in range(repeats):
            start = time.process_time()
            for item in items:
                fn(item)
            best = min(best, time.process_time() - start)
        return best / len(items) * 1e6

    def scans(upto: str) -> list:
        out = []
        for text in messages:
            scan = _Scan(text, 1)
            if upto in ("words", "walked"):
                compiled._read_words(scan)
            if upto == "walked":
                compiled._match_words(scan)
            out.append(scan)
        return out

    plains = [folding.plain_form(t)[0] for t in messages]
    rows = [
        ("Markdown-to-text and entities (display)", cpu(display.displayed, messages)),
        ("folding: plain form (accents, look-alikes, transliteration, emoji names)", cpu(folding.plain_form, messages)),
        (
            "folding: screening form (spaced letters, leet, apostrophes)",
            cpu(folding.screen_form, messages) - cpu(folding.plain_form, messages) - cpu(display.displayed, messages),
        ),
        ("splitting into words", cpu(folding.WORD.findall, [folding.screen_form(t)[0].text for t in messages])),
        ("lemmas, slang, typo and censoring readings (per-word cache warm)", cpu(compiled._read_words, scans("init"))),
        ("word and phrase look-up (the walk)", cpu(compiled._match_words, scans("words"))),
        ("regex rules (one RE2 set pass)", cpu(compiled._match_regexes, scans("walked"))),
    ]
    for name, detect in DETECTORS.items():
        rows.append((f"detector {name}", cpu(detect, scans("words"))))
    rows.append(("whole match (default pack)", cpu(lambda t: compiled.match(t, 1), messages)))
    fresh = [f"zqunseen{n}ing" for n in range(2000)]  # never seen: the dictionary is consulted
    rows.append(("a word seen for the first time: lemma + slang (then cached)", _cold(fresh)))
    del plains
    return rows


def _cold(words: list[str]) -> float:
    from moderation.matcher import language

    start = time.process_time()
    for word in words:
        language.analyse(word)
    return (time.process_time() - start) / len(words) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,1000,10000", help="comma-separated rule counts")
    parser.add_argument("--seconds", type=float, default=3.0, help="screening time per rule set")
    parser.add_argument("--rounds", type=int, default=6, help="slices per rule set, interleaved; the best counts")
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--no-steps", action="store_true", help="skip the cost of each step")
    args = parser.parse_args()

    messages = make_messages(args.messages)
    mean_len = statistics.mean(len(m) for m in messages)
    print(f"{len(messages)} messages, mean {mean_len:.0f} characters; circle-scoped match (site-wide + circle 1)")
    print(
        f"Python {sys.version.split()[0]}; best of {args.rounds} interleaved slices of "
        f"{args.seconds / args.rounds:.2f} s per rule set\n"
    )

    rows = [("default pack", compile_and_size(default_pack()))]
    for size in (int(s) for s in args.sizes.split(",")):
        rows.append((f"{size:,} rules", compile_and_size(make_rules(size))))
    for _label, row in rows:  # warm the per-character fold cache
        for text in messages[:100]:
            row["compiled"].match(text, 1)
    # Round-robin slices, best slice per rule set: load from other processes
    # on the machine then hits every rule set alike.
    for _round in range(args.rounds):
        for _label, row in rows:
            screen_for(row, messages, args.seconds / args.rounds)
    for _label, row in rows:
        row["rate"] = max(row["rates"])
        row["hits_per_msg"] = row["hits"] / row["screened"]

    base = next((r for label, r in rows if label == f"{10:,} rules"), rows[1][1])
    header = (
        f"{'rule set':<14}{'rules':>7}{'words':>7}{'phrases':>8}{'regex':>6}{'compile ms':>11}"
        f"{'memory MB':>10}{'msgs/s':>9}{'µs/msg':>8}{'hits/msg':>9}{'cost vs 10':>11}"
    )
    print(header)
    print("-" * len(header))
    for label, r in rows:
        print(
            f"{label:<14}{r['rules']:>7}{r['words']:>7}{r['phrases']:>8}{r['regex']:>6}{r['compile_ms']:>11.1f}"
            f"{r['memory_mb']:>10.2f}{r['rate']:>9.0f}{1e6 / r['rate']:>8.1f}{r['hits_per_msg']:>9.2f}"
            f"{base['rate'] / r['rate']:>11.2f}"
        )
    worst = max(base["rate"] / r["rate"] for label, r in rows if label != "default pack")
    print(f"\nlargest cost relative to 10 rules: {worst:.2f}× (target < 2×)")
    if not args.no_steps:
        print("\nwhat each step costs per message, default pack (CPU µs, best of 7 runs):")
        steps = step_costs(messages)
        for name, cost in steps:
            print(f"  {name:<72}{cost:>7.1f}")
        whole = dict(steps)["whole match (default pack)"]
        print(
            f"\none core screens {1e6 / whole:,.0f} messages/s with the default pack (CPU time; "
            f"wall-clock figures above include other load on this machine)"
        )
    return 0 if worst < 2 else 1


if __name__ == "__main__":
    sys.exit(main())
