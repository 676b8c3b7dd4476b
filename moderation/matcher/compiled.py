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
import bisect
import re
from dataclasses import dataclass, field

from . import language
from .base import ACTIONS, CATEGORIES, Hit, PatternError, RuleSpec
from .detectors import DETECTORS
from .folding import TOKEN, fold, glue, key, screen_form
from .gates import gate
from .validation import compile_regex, regex_flags, validate
from .vocabulary import Vocabulary

_SENTENCE_END = re.compile(r"[.!?;\n]+(?:\s|$)|\n")
SENTENCE_PREFIX = "sentence:"  # an exempt phrase that exempts hits anywhere in its sentence
_CACHE_LIMIT = 100_000  # words remembered per rule set
MAX_WORD = 30  # longer "words" (50,000 "a"s) get no typo or censoring readings: linear time


@dataclass
class _PhraseEntry:
    rules: list[RuleSpec]
    exempt_for: list[int]  # ids of the rules that list this phrase as exempt
    sentence_exempt_for: list[int] = field(default_factory=list)  # ... as exempt anywhere in the sentence


class _Scan:
    """One message being matched: its forms, its words and their keys, what was found.

    Made by ``match`` for one call and dropped after it: never shared."""

    __slots__ = ("text", "circle_id", "folded", "plain", "plain_starts", "plain_ends", "words", "cands",
                 "bounds", "starts", "keyset", "_spans", "found", "exempt", "sentence_exempt")

    def __init__(self, text: str, circle_id: int | None):
        self.text = text
        self.circle_id = circle_id
        self.folded, self.plain, self.plain_starts, self.plain_ends = screen_form(text)
        self.words: list[str] = TOKEN.findall(self.folded.text)  # folded words, "*" kept inside
        self.cands: list[tuple[str, ...]] = []  # per token: the keys it can stand for (set by the rules)
        self.bounds: list[tuple[int, int]] | None = None  # per token: its first and last word, when merged
        self.starts: list[tuple[str, ...]] | None = None  # per token: where a phrase may start inside it
        self.keyset: set[str] = set()  # squeezed surface keys of the words (regex gates, detectors)
        self._spans: list[tuple[int, int]] | None = None  # word spans in the folded text, made on demand
        self.found: list[tuple[RuleSpec, int, int]] = []  # (rule, original start, original end)
        self.exempt: dict[int, list[tuple[int, int]]] = {}  # rule id -> original spans of its exempt phrases
        self.sentence_exempt: dict[int, list[int]] = {}  # rule id -> original starts of its sentence-wide ones

    def word_spans(self) -> list[tuple[int, int]]:
        if self._spans is None:
            self._spans = [m.span() for m in TOKEN.finditer(self.folded.text)]
        return self._spans

    def span_of(self, first: int, last: int) -> tuple[int, int]:
        """The original span from token ``first`` to token ``last`` (inclusive)."""
        if self.bounds is not None:
            first, last = self.bounds[first][0], self.bounds[last][1]
        spans = self.word_spans()
        return self.folded.starts[spans[first][0]], self.folded.ends[spans[last][1] - 1]

    def applies(self, spec: RuleSpec) -> bool:
        return spec.circle_id is None or spec.circle_id == self.circle_id

    def record(self, specs: Iterable[RuleSpec], start: int, end: int) -> None:
        for spec in specs:
            if self.applies(spec):
                self.found.append((spec, start, end))

    def record_phrase(self, entry: _PhraseEntry, first: int, last: int) -> None:
        """A phrase key matched tokens ``first``..``last``: its rules' hits, and the
        exempt-phrase occurrences it marks."""
        start, end = self.span_of(first, last)
        self.record(entry.rules, start, end)
        for rule_id in entry.exempt_for:
            self.exempt.setdefault(rule_id, []).append((start, end))
        for rule_id in entry.sentence_exempt_for:
            self.sentence_exempt.setdefault(rule_id, []).append(start)

    def hits(self) -> list[Hit]:
        """The findings minus exempted ones, one hit per (rule, span), in text order."""
        if not self.found:
            return []
        text, exempt, sentence_exempt = self.text, self.exempt, self.sentence_exempt
        ends: list[int] | None = None  # where each sentence of the text ends, made on demand
        hits: dict[tuple[int, int, int], Hit] = {}
        for spec, start, end in self.found:
            if any(s < end and start < e for s, e in exempt.get(spec.id, ())):
                continue
            if spec.id in sentence_exempt:
                if ends is None:
                    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
                sentence = bisect.bisect_right(ends, start)
                if any(bisect.bisect_right(ends, s) == sentence for s in sentence_exempt[spec.id]):
                    continue
            hits.setdefault(
                (spec.id, start, end),
                Hit(spec.id, spec.category, spec.action, spec.shadow, start, end, text[start:end]),
            )
        return sorted(hits.values(), key=lambda h: (h.start, h.end, h.rule_id))


class CompiledRules:
    """A rule set compiled once; ``match`` costs about the same for 10 or 10,000
    word and phrase rules.  Immutable after construction (its bounded per-word
    cache aside: single get/set on a dict, atomic under the GIL, values derived
    from the word alone); safe to share between threads."""

    def __init__(self, specs: Iterable[RuleSpec], *, on_error: str = "raise"):
        if on_error not in ("raise", "skip"):
            raise ValueError("on_error must be 'raise' or 'skip'")
        language.warm_up()
        # Word and phrase keys: canonical (inflections, slang ...) and, for quoted
        # patterns, exact (surface forms only: matched against surface keys alone).
        self._words: dict[str, list[RuleSpec]] = {}
        self._phrases: dict[str, _PhraseEntry] = {}
        self._prefixes: set[str] = set()
        self._exact_words: dict[str, list[RuleSpec]] = {}
        self._exact_phrases: dict[str, _PhraseEntry] = {}
        self._exact_prefixes: set[str] = set()
        self._regexes: list[tuple[RuleSpec, object]] = []  # (rule, RE2 pattern)
        self._detectors: dict[str, list[RuleSpec]] = {}
        self._rules: dict[int, RuleSpec] = {}
        self._vocabulary = Vocabulary()
        self._cache: dict[str, tuple[str, ...]] = {}  # folded word -> its keys under these rules
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
        self._vocabulary.freeze()
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
            sentence_wide = phrase.strip().lower().startswith(SENTENCE_PREFIX)
            keys, exact = self._keys_of(phrase.strip()[len(SENTENCE_PREFIX):] if sentence_wide else phrase)
            if not keys:
                raise PatternError(f"The exempt phrase {phrase!r} has no letters or digits to match.")
            exempt_keys.extend((k, exact, sentence_wide) for k in keys)
        pattern = spec.pattern if spec.kind == "regex" else spec.pattern.strip()  # a regex is verbatim
        if spec.kind in ("word", "phrase"):
            keys, exact = self._keys_of(pattern)
            if not keys:
                raise PatternError("The pattern has no letters or digits to match.")
            for k in keys:
                if spec.kind == "word":
                    (self._exact_words if exact else self._words).setdefault(k, []).append(spec)
                else:
                    self._phrase_entry(k, exact).rules.append(spec)
        elif pattern in DETECTORS:
            self._detectors.setdefault(pattern, []).append(spec)
        else:
            self._regexes.append((spec, compile_regex(pattern)))
        for exempt_key, exact, sentence_wide in dict.fromkeys(exempt_keys):
            entry = self._phrase_entry(exempt_key, exact)
            (entry.sentence_exempt_for if sentence_wide else entry.exempt_for).append(spec.id)
        self._rules[spec.id] = spec

    def _keys_of(self, pattern: str) -> tuple[tuple[str, ...], bool]:
        """The keys a word or phrase pattern is indexed under, and whether they are
        exact: its canonical key (inflections, slang, inner articles optional) and
        its surface key (the words glued as written); only the surface key, exact,
        when the pattern is quoted ("killed myself")."""
        text = pattern.strip()
        exact = len(text) >= 2 and text[0] == text[-1] == '"'
        words = TOKEN.findall(fold(text.strip('"') if exact else text)[0])
        surface = ""
        for word in words:
            surface = glue(surface, key(word))
            self._vocabulary.add(word)
        if exact:
            return ((surface,) if surface else ()), True
        return tuple(k for k in dict.fromkeys((language.phrase_canonical(words), surface)) if k), False

    def _phrase_entry(self, phrase: str, exact: bool = False) -> _PhraseEntry:
        phrases, prefixes = (self._exact_phrases, self._exact_prefixes) if exact else (self._phrases, self._prefixes)
        entry = phrases.get(phrase)
        if entry is None:
            entry = phrases[phrase] = _PhraseEntry([], [])
            for end in range(1, len(phrase) + 1):
                prefixes.add(phrase[:end])
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
        self._read_words(scan)
        self._match_words(scan)
        self._match_regexes(scan)
        self._run_detectors(scan)
        return scan.hits()

    def _keys(self, word: str) -> tuple[str, ...]:
        """Every key a folded word can stand for under these rules: surface,
        canonical (lemma or slang), readings, typo and censoring readings."""
        found = self._cache.get(word)
        if found is not None:
            return found
        if "*" in word:
            keys: tuple[str, ...] = (key(word), *(self._vocabulary.wildcard(word) if len(word) <= MAX_WORD else ()))
        else:
            keys = language.analyse(word)
            if 3 <= len(word) <= MAX_WORD and keys[0] == keys[1] and word.isalpha() and not language.is_known(word):
                keys = keys + self._vocabulary.typos(word)
        found = tuple(dict.fromkeys(keys))
        if len(self._cache) < _CACHE_LIMIT:
            self._cache[word] = found
        return found

    def _read_words(self, scan: _Scan) -> None:
        """The keys of every word of the message (``scan.cands``), two-word slang
        merged into one token, both readings of an ambiguous "1" or "|"."""
        words = scan.words
        cands = [self._keys(w) for w in words]
        scan.keyset = {c[0] for c in cands}
        if language.UNITS.intersection(words):  # "5 kms" is a distance, not "kill myself"
            for i in range(1, len(words)):
                if words[i] in language.UNITS and words[i - 1].isdigit():
                    cands[i] = cands[i][:1]
        if scan.folded.alt:
            self._add_other_readings(scan, cands)
        if language.SLANG_WORDS.intersection(words):
            scan.starts = [language.inner_starts(w) for w in words]
        if language.MULTI_FIRST.intersection(words):
            cands = self._merge_slang(scan, cands)
        scan.cands = cands

    def _add_other_readings(self, scan: _Scan, cands: list[tuple[str, ...]]) -> None:
        alt, text = scan.folded.alt, scan.folded.text
        for index, (a, b) in enumerate(scan.word_spans()):
            positions = [k for k in range(a, b) if k in alt]
            if positions:
                chars = list(text[a:b])
                for k in positions:
                    chars[k - a] = alt[k]
                cands[index] = tuple(dict.fromkeys((*cands[index], *self._keys("".join(chars)))))

    def _merge_slang(self, scan: _Scan, cands: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
        words = scan.words
        merged: list[tuple[str, ...]] = []
        bounds: list[tuple[int, int]] = []
        starts: list[tuple[str, ...]] = []
        i, n = 0, len(words)
        while i < n:
            if words[i] in language.MULTI_FIRST:
                for length in language.MULTI_LENGTHS:
                    readings = language.multi_readings(tuple(words[i:i + length])) if i + length <= n else None
                    if readings:
                        surface = ""
                        for w in words[i:i + length]:
                            surface = glue(surface, key(w))
                        merged.append((surface, *readings))
                        bounds.append((i, i + length - 1))
                        if scan.starts is not None:
                            starts.append(())
                        i += length
                        break
                else:
                    merged.append(cands[i])
                    bounds.append((i, i))
                    if scan.starts is not None:
                        starts.append(scan.starts[i])
                    i += 1
                continue
            merged.append(cands[i])
            bounds.append((i, i))
            if scan.starts is not None:
                starts.append(scan.starts[i])
            i += 1
        if len(merged) != n:
            scan.bounds = bounds
            if scan.starts is not None:
                scan.starts = starts
        return merged

    def _match_words(self, scan: _Scan) -> None:
        """Word and phrase rules (and exempt phrases), on every key of every token;
        quoted rules on the surface keys alone."""
        if self._words or self._phrases:
            _walk(scan, scan.cands, self._words, self._phrases, self._prefixes, scan.starts)
        if self._exact_words or self._exact_phrases:
            _walk(scan, [c[:1] for c in scan.cands], self._exact_words, self._exact_phrases, self._exact_prefixes)

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
                for a, b in DETECTORS[name](scan):
                    for spec in active:
                        scan.found.append((spec, ps[a], pe[b - 1]))


def _walk(scan: _Scan, cands: list[tuple[str, ...]], words: dict, phrases: dict, prefixes: set,
          starts: list[tuple[str, ...]] | None = None) -> None:
    """From each token, glue the next tokens' keys on while the glued key is a
    prefix of some phrase.  A token may stand for several keys (surface, lemma,
    slang ...); an article may also stand for nothing ("") -- phrases skip it,
    but never start or end on it."""
    n = len(cands)
    for i in range(n):
        frontier: dict[str, bool] | None = None  # glued key -> did it end by skipping an article?
        for k in cands[i]:
            if k in words:
                scan.record(words[k], *scan.span_of(i, i))
            if k in prefixes:
                if frontier is None:
                    frontier = {}
                frontier[k] = False
        if starts is not None:
            for k in starts[i]:  # a phrase starting inside a multi-word reading ("do [not] wake up")
                if k in prefixes:
                    if frontier is None:
                        frontier = {}
                    frontier[k] = False
        j = i
        while frontier:
            for glued, skipped in frontier.items():
                if not skipped:
                    entry = phrases.get(glued)
                    if entry is not None:
                        scan.record_phrase(entry, i, j)
            j += 1
            if j == n:
                break
            following: dict[str, bool] = {}
            for glued, skipped in frontier.items():
                for k in cands[j]:
                    if not k:
                        following[glued] = following.get(glued, True)
                        continue
                    g = glue(glued, k)
                    if g in prefixes:
                        following[g] = False
            frontier = following


def compile_rules(specs: Iterable[RuleSpec], *, on_error: str = "raise") -> CompiledRules:
    """Compile a rule set once (per rule-set version).

    ``on_error="raise"`` (the default) raises ``PatternError`` naming the first
    unusable rule; ``"skip"`` leaves such rules out and lists them in
    ``CompiledRules.skipped`` as ``(rule_id, message)`` -- for a screening path
    that must keep working when a bad row slipped past ``validate``.
    """
    return CompiledRules(specs, on_error=on_error)
