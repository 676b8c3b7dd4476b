"""The compiled rule set: rules indexed once per rule-set version, then ``match``.

Words are a set intersection of the message's word keys with the rule keys;
phrases (and exempt phrases) a walk from each word that glues the next words on
while the glued key is a prefix of some phrase; regex rules are gated
(``gates``); detectors run on the plain form.  None of this loops over the
rules, so 10,000 rules cost about what 10 cost.

``match`` runs in named steps on a ``_Scan``: one object per call holding that
message's forms and findings.  Nothing a call writes is shared, so one
``CompiledRules`` serves any number of threads at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .base import ACTIONS, CATEGORIES, Hit, PatternError, RuleSpec
from .detectors import DETECTORS
from .folding import SQUEEZE, WORD, Folded, fold, glue, key, phrase_key, screen_form
from .gates import gate
from .validation import compile_regex, regex_flags, validate


@dataclass
class _PhraseEntry:
    rules: list[RuleSpec]
    exempt_for: list[int]  # ids of the rules that list this phrase as exempt


class _Scan:
    """One message being matched: its forms, its word keys, what was found.

    Made by ``match`` for one call and dropped after it: never shared."""

    __slots__ = ("text", "circle_id", "folded", "plain", "plain_starts", "plain_ends", "keys", "keyset",
                 "_spans", "found", "exempt")

    def __init__(self, text: str, circle_id: int | None):
        self.text = text
        self.circle_id = circle_id
        self.folded, self.plain, self.plain_starts, self.plain_ends = screen_form(text)
        self.keys: list[str] = WORD.findall(SQUEEZE.sub(r"\1", self.folded.text))
        self.keyset = set(self.keys)
        self._spans: list[tuple[int, int]] | None = None  # word spans in the folded text, made on demand
        self.found: list[tuple[RuleSpec, int, int]] = []  # (rule, original start, original end)
        self.exempt: dict[int, list[tuple[int, int]]] = {}  # rule id -> original spans of its exempt phrases

    def word_spans(self) -> list[tuple[int, int]]:
        if self._spans is None:
            self._spans = [m.span() for m in WORD.finditer(self.folded.text)]
        return self._spans

    def span_of(self, first: int, last: int) -> tuple[int, int]:
        """The original span from word ``first`` to word ``last`` (inclusive)."""
        spans = self.word_spans()
        return self.folded.starts[spans[first][0]], self.folded.ends[spans[last][1] - 1]

    def applies(self, spec: RuleSpec) -> bool:
        return spec.circle_id is None or spec.circle_id == self.circle_id

    def record(self, specs: Iterable[RuleSpec], start: int, end: int) -> None:
        for spec in specs:
            if self.applies(spec):
                self.found.append((spec, start, end))

    def record_phrase(self, entry: _PhraseEntry, first: int, last: int) -> None:
        """A phrase key matched words ``first``..``last``: its rules' hits, and the
        exempt-phrase occurrences it marks."""
        start, end = self.span_of(first, last)
        self.record(entry.rules, start, end)
        for rule_id in entry.exempt_for:
            self.exempt.setdefault(rule_id, []).append((start, end))

    def hits(self) -> list[Hit]:
        """The findings minus exempted ones, one hit per (rule, span), in text order."""
        if not self.found:
            return []
        text, exempt = self.text, self.exempt
        hits: dict[tuple[int, int, int], Hit] = {}
        for spec, start, end in self.found:
            if any(s < end and start < e for s, e in exempt.get(spec.id, ())):
                continue
            hits.setdefault(
                (spec.id, start, end),
                Hit(spec.id, spec.category, spec.action, spec.shadow, start, end, text[start:end]),
            )
        return sorted(hits.values(), key=lambda h: (h.start, h.end, h.rule_id))


class CompiledRules:
    """A rule set compiled once; ``match`` costs about the same for 10 or 10,000
    word and phrase rules.  Immutable after construction; safe to share between
    threads."""

    def __init__(self, specs: Iterable[RuleSpec], *, on_error: str = "raise"):
        if on_error not in ("raise", "skip"):
            raise ValueError("on_error must be 'raise' or 'skip'")
        self._words: dict[str, list[RuleSpec]] = {}
        self._phrases: dict[str, _PhraseEntry] = {}
        self._prefixes: set[str] = set()
        self._regexes: list[tuple[RuleSpec, object]] = []  # (rule, RE2 pattern)
        self._detectors: dict[str, list[RuleSpec]] = {}
        self._rules: dict[int, RuleSpec] = {}
        skipped: list[tuple[int, str]] = []
        for spec in specs:
            try:
                self._add(spec)
            except PatternError as err:
                if on_error == "raise":
                    raise PatternError(f"Rule {spec.id} ({spec.pattern!r}): {err}") from None
                skipped.append((spec.id, str(err)))
        self.skipped: tuple[tuple[int, str], ...] = tuple(skipped)
        self.version_rules: int = len(self._rules)
        self._build_regex_gates()
        # set.intersection walks its argument unless it is a set: keep set views to intersect with
        self._word_keys = frozenset(self._words)
        self._gate_keys = frozenset(self._gates)

    @property
    def rules(self) -> dict[int, RuleSpec]:
        return dict(self._rules)

    # --- compiling ---

    def _add(self, spec: RuleSpec) -> None:
        if spec.category not in CATEGORIES:
            raise PatternError(f"Unknown category {spec.category!r}: use one of {', '.join(CATEGORIES)}.")
        if spec.action not in ACTIONS:
            raise PatternError(f"Unknown action {spec.action!r}: use one of {', '.join(ACTIONS)}.")
        validate(spec.kind, spec.pattern)
        exempt_keys = []
        for phrase in spec.exempt:
            exempt_key = phrase_key(phrase)
            if not exempt_key:
                raise PatternError(f"The exempt phrase {phrase!r} has no letters or digits to match.")
            exempt_keys.append(exempt_key)
        pattern = spec.pattern if spec.kind == "regex" else spec.pattern.strip()  # a regex is verbatim
        if spec.kind == "word":
            self._words.setdefault(key(WORD.findall(fold(pattern)[0])[0]), []).append(spec)
        elif spec.kind == "phrase":
            self._phrase_entry(phrase_key(pattern)).rules.append(spec)
        elif pattern in DETECTORS:
            self._detectors.setdefault(pattern, []).append(spec)
        else:
            self._regexes.append((spec, compile_regex(pattern)))
        for exempt_key in exempt_keys:
            self._phrase_entry(exempt_key).exempt_for.append(spec.id)
        self._rules[spec.id] = spec

    def _phrase_entry(self, phrase: str) -> _PhraseEntry:
        entry = self._phrases.get(phrase)
        if entry is None:
            entry = self._phrases[phrase] = _PhraseEntry([], [])
            for end in range(1, len(phrase) + 1):
                self._prefixes.add(phrase[:end])
        return entry

    def _build_regex_gates(self) -> None:
        """Gate each regex rule by its required words; combine the rest into one pre-filter."""
        self._gates: dict[str, list[int]] = {}  # word key -> indices into self._regexes
        self._ungated: list[int] = []
        self._prefilter = None
        for index, (spec, _compiled) in enumerate(self._regexes):
            words = gate(spec.pattern, regex_flags(spec.pattern))
            if words is None:
                self._ungated.append(index)
            else:
                for word in words:
                    self._gates.setdefault(word, []).append(index)
        parts = []
        for index in self._ungated:
            pattern = self._regexes[index][0].pattern
            flags = "i" if regex_flags(pattern) else "-i"
            parts.append(f"(?{flags}:{pattern})")
        if parts:
            try:
                self._prefilter = compile_regex("|".join(parts))
            except PatternError:  # e.g. two rules naming the same group: run each rule
                self._prefilter = None

    # --- matching ---

    def match(self, text: str, circle_id: int | None = None) -> list[Hit]:
        """Hits of the site-wide rules and of ``circle_id``'s rules, in text order."""
        if not text:
            return []
        scan = _Scan(text, circle_id)
        if scan.folded.alt:
            self._match_words_with_variants(scan)
        else:
            self._match_words(scan)
        self._match_regexes(scan)
        self._run_detectors(scan)
        return scan.hits()

    def _match_words(self, scan: _Scan) -> None:
        """Word and phrase rules (and exempt phrases), one key per word."""
        words, phrases, prefixes = self._words, self._phrases, self._prefixes
        keys, keyset = scan.keys, scan.keyset
        word_keys = keyset.intersection(self._word_keys)
        start_keys = keyset.intersection(prefixes)
        if not word_keys and not start_keys:
            return
        n = len(keys)
        for i in range(n):
            glued = keys[i]
            if glued in word_keys:
                scan.record(words[glued], *scan.span_of(i, i))
            if glued not in start_keys:
                continue
            # phrases: glue words from i on while the glued key is a prefix of some phrase
            j = i
            while True:
                entry = phrases.get(glued)
                if entry is not None:
                    scan.record_phrase(entry, i, j)
                j += 1
                if j == n:
                    break
                glued = glue(glued, keys[j])
                if glued not in prefixes:
                    break

    def _match_words_with_variants(self, scan: _Scan) -> None:
        """As ``_match_words``, trying both readings of ambiguous "1" and "|"."""
        words, phrases, prefixes = self._words, self._phrases, self._prefixes
        variants = _variants(scan.folded, scan.word_spans(), scan.keys)
        n = len(scan.keys)
        for i in range(n):
            for word in variants[i]:
                if word in words:
                    scan.record(words[word], *scan.span_of(i, i))
            frontier = [word for word in variants[i] if word in prefixes]
            j = i
            while frontier:
                for glued in frontier:  # every reading that is a whole phrase counts
                    entry = phrases.get(glued)
                    if entry is not None:
                        scan.record_phrase(entry, i, j)
                j += 1
                if j == n:
                    break
                frontier = [g for glued in frontier for word in variants[j] if (g := glue(glued, word)) in prefixes]

    def _match_regexes(self, scan: _Scan) -> None:
        """Regex rules whose gate word the message holds, and the ungated ones if
        the combined pre-filter finds anything."""
        if not self._regexes:
            return
        to_run = set()
        for word in scan.keyset.intersection(self._gate_keys):
            to_run.update(self._gates[word])
        ftext = scan.folded.text
        if self._ungated and (self._prefilter is None or self._prefilter.search(ftext)):
            to_run.update(self._ungated)
        starts, ends = scan.folded.starts, scan.folded.ends
        for index in sorted(to_run):
            spec, compiled = self._regexes[index]
            if scan.applies(spec):
                for m in compiled.finditer(ftext):
                    if m.end() > m.start():
                        scan.found.append((spec, starts[m.start()], ends[m.end() - 1]))

    def _run_detectors(self, scan: _Scan) -> None:
        """Built-in detectors on the plain form."""
        ps, pe = scan.plain_starts, scan.plain_ends
        for name, specs in self._detectors.items():
            active = [spec for spec in specs if scan.applies(spec)]
            if active:
                for a, b in DETECTORS[name](scan.plain, scan.keyset):
                    for spec in active:
                        scan.found.append((spec, ps[a], pe[b - 1]))


def _variants(folded: Folded, spans: list[tuple[int, int]], keys: list[str]) -> list[tuple[str, ...]]:
    """Per word: its key, plus the key with the other reading of "1"/"|"."""
    out: list[tuple[str, ...]] = []
    alt = folded.alt
    for (a, b), word_key in zip(spans, keys):
        positions = [k for k in range(a, b) if k in alt]
        if not positions:
            out.append((word_key,))
            continue
        chars = list(folded.text[a:b])
        for k in positions:
            chars[k - a] = alt[k]
        other = key("".join(chars))
        out.append((word_key, other) if other != word_key else (word_key,))
    return out


def compile_rules(specs: Iterable[RuleSpec], *, on_error: str = "raise") -> CompiledRules:
    """Compile a rule set once (per rule-set version).

    ``on_error="raise"`` (the default) raises ``PatternError`` naming the first
    unusable rule; ``"skip"`` leaves such rules out and lists them in
    ``CompiledRules.skipped`` as ``(rule_id, message)`` -- for a screening path
    that must keep working when a bad row slipped past ``validate``.
    """
    return CompiledRules(specs, on_error=on_error)
