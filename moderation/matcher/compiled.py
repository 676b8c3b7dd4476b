"""The compiled rule set: rules indexed once per rule-set version, then ``match``.

Word rules are a dict look-up per key of each word; phrases (and exempt
phrases) a walk from each word a phrase starts with, gluing the next words' keys
on while the glued key is a prefix of some phrase; regex rules one RE2 set
pass; detectors run on the plain form.  None of this loops over the rules, so
10,000 rules cost less than twice what 10 cost.

``match`` runs in named steps on a ``_Scan``: one object per call holding that
message's forms and findings.  Nothing a call writes is shared but the bounded
per-word caches (``_cache``, ``_hot_words``: single get/set/add on a dict or a
set, atomic under the GIL, values derived from the word alone, only growing),
so one ``CompiledRules`` serves any number of threads at once.
"""

from __future__ import annotations

import bisect
import enum
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from . import language
from .base import ACTIONS, CATEGORIES, Hit, PatternError, RuleSpec
from .detectors import DETECTORS
from .detectors import warm_up as warm_detectors
from .folding import TOKEN, WORD, fold, glue, key, screen_form
from .validation import Regexp, RegexSet, compile_regex, regex_set, validate
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


class _Index:
    """Word and phrase keys of one kind: ``words`` (a key -> its word rules),
    ``phrases`` (a glued key -> its entry), ``prefixes`` (every prefix of a phrase
    key: a walk goes on while the glued key is one) and ``starts`` (the prefixes
    that end at a word of the phrase: a walk begins only at a token whose key is
    one of these)."""

    __slots__ = ("hot", "phrases", "prefixes", "starts", "words")

    def __init__(self) -> None:
        self.words: dict[str, list[RuleSpec]] = {}
        self.phrases: dict[str, _PhraseEntry] = {}
        self.prefixes: dict[str, _PhraseEntry | None] = {}  # every prefix -> its entry if it is a whole phrase
        self.starts: set[str] = set()
        self.hot: frozenset[str] = frozenset()  # starts and word keys: what makes a token worth a look

    def freeze(self) -> None:
        self.hot = frozenset(self.starts) | frozenset(self.words)

    def __bool__(self) -> bool:
        return bool(self.words or self.phrases)

    def entry(self, keys: tuple[str, ...]) -> _PhraseEntry:
        """The entry of the phrase whose word-by-word glued keys are ``keys``."""
        phrase = keys[-1]
        found = self.phrases.get(phrase)
        if found is None:
            found = self.phrases[phrase] = _PhraseEntry([], [])
            for end in range(1, len(phrase)):
                self.prefixes.setdefault(phrase[:end], None)
            self.prefixes[phrase] = found
        self.starts.update(keys)
        return found


class _Scan:
    """One message being matched: its forms, its words and their keys, what was found.

    Made by ``match`` for one call and dropped after it: never shared."""

    __slots__ = (
        "_spans",
        "bounds",
        "cands",
        "circle_id",
        "exempt",
        "folded",
        "found",
        "keyset",
        "pending",
        "plain",
        "plain_ends",
        "plain_starts",
        "sentence_exempt",
        "starts",
        "surfaces",
        "text",
        "words",
    )

    def __init__(self, text: str, circle_id: int | None):
        self.text = text
        self.circle_id = circle_id
        self.folded, self.plain, self.plain_starts, self.plain_ends = screen_form(text)
        ftext = self.folded.text
        self.words: list[str] = _words_of(ftext).findall(ftext)  # folded words, "*" kept inside
        self.cands: Sequence[tuple[str, ...]] = []  # per token: the canonical keys it can stand for (set by the rules)
        self.surfaces: Sequence[str] = []  # per token: its surface key (for quoted rules)
        self.bounds: list[tuple[int, int]] | None = None  # per token: its first and last word, when merged
        self.starts: list[tuple[str, ...]] | None = None  # per token: where a phrase may start inside it
        self.keyset: set[str] = set()  # the folded words, as a set (detectors' cheap gates)
        self._spans: list[tuple[int, int]] | None = None  # word spans in the folded text, made on demand
        self.found: list[tuple[RuleSpec, int, int]] = []  # (rule, original start, original end)
        self.exempt: dict[int, list[tuple[int, int]]] = {}  # rule id -> original spans of its exempt phrases
        self.sentence_exempt: dict[int, list[int]] = {}  # rule id -> original starts of its sentence-wide ones
        self.pending: list[tuple[_PhraseEntry, int, int]] = []  # exempt-only phrase occurrences, placed if needed

    def word_spans(self) -> list[tuple[int, int]]:
        if self._spans is None:
            ftext = self.folded.text
            self._spans = list(map(re.Match.span, _words_of(ftext).finditer(ftext)))
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
        exempt-phrase occurrences it marks (placed in the text only if some rule
        they exempt has a hit: most messages have none)."""
        if not entry.rules:
            self.pending.append((entry, first, last))
            return
        start, end = self.span_of(first, last)
        self.record(entry.rules, start, end)
        if entry.exempt_for or entry.sentence_exempt_for:
            self._mark_exempt(entry, start, end)

    def _mark_exempt(self, entry: _PhraseEntry, start: int, end: int) -> None:
        for rule_id in entry.exempt_for:
            self.exempt.setdefault(rule_id, []).append((start, end))
        for rule_id in entry.sentence_exempt_for:
            self.sentence_exempt.setdefault(rule_id, []).append(start)

    def _place_pending(self) -> None:
        hit_rules = {spec.id for spec, _start, _end in self.found}
        for entry, first, last in self.pending:
            if hit_rules.intersection(entry.exempt_for) or hit_rules.intersection(entry.sentence_exempt_for):
                self._mark_exempt(entry, *self.span_of(first, last))
        self.pending = []

    def hits(self) -> list[Hit]:
        """The findings minus exempted ones, one hit per (rule, span), in text order."""
        if not self.found:
            return []
        if self.pending:
            self._place_pending()
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
        warm_detectors()
        # Word and phrase keys: canonical (inflections, slang ...) and, for quoted
        # patterns, exact (surface forms only: matched against surface keys alone);
        # the rules' own, and their exempt phrases' (walked only when a rule hit).
        self._rules_index, self._rules_exact = _Index(), _Index()
        self._exempt_index, self._exempt_exact = _Index(), _Index()
        self._regexes: list[tuple[RuleSpec, Regexp]] = []  # (rule, RE2 pattern)
        self._detectors: dict[str, list[RuleSpec]] = {}
        self._rules: dict[int, RuleSpec] = {}
        self._with_exempts: set[int] = set()  # ids of rules that list exempt phrases
        self._vocabulary = Vocabulary()
        self._cache: dict[str, tuple[str, tuple[str, ...]]] = {}  # folded word -> its keys under these rules
        self._hot_words: set[str] = set()  # folded words (seen so far) a rule phrase may start at
        self._hot_exempt_words: set[str] = set()  # ... an exempt phrase may start at
        self._hot_overflow = False
        self._hot_sets = [
            (self._rules_index, False, self._hot_words),
            (self._rules_exact, True, self._hot_words),
            (self._exempt_index, False, self._hot_exempt_words),
            (self._exempt_exact, True, self._hot_exempt_words),
        ]
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
        self._build_regex_set()
        for index in (self._rules_index, self._rules_exact, self._exempt_index, self._exempt_exact):
            index.freeze()
        self._detector_list = []  # (detector, its site-wide rules, {circle id: that circle's rules})
        for name, specs in self._detectors.items():
            by_circle: dict[int, list[RuleSpec]] = {}
            for spec in specs:
                if spec.circle_id is not None:
                    by_circle.setdefault(spec.circle_id, []).append(spec)
            self._detector_list.append((DETECTORS[name], [s for s in specs if s.circle_id is None], by_circle))

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
        exempt_keys: list[tuple[tuple[str, ...], bool, bool]] = []  # (glued keys, exact, sentence-wide)
        for phrase in spec.exempt:
            sentence_wide = phrase.strip().lower().startswith(SENTENCE_PREFIX)
            keys, exact = self._keys_of(phrase.strip()[len(SENTENCE_PREFIX) :] if sentence_wide else phrase)
            if not keys:
                raise PatternError(f"The exempt phrase {phrase!r} has no letters or digits to match.")
            exempt_keys.extend((k, exact, sentence_wide) for k in keys)
        pattern = spec.pattern if spec.kind == "regex" else spec.pattern.strip()  # a regex is verbatim
        if spec.kind in ("word", "phrase"):
            keys, exact = self._keys_of(pattern)
            if not keys:
                raise PatternError("The pattern has no letters or digits to match.")
            index = self._rules_exact if exact else self._rules_index
            for k in keys:
                if spec.kind == "word":
                    index.words.setdefault(k[-1], []).append(spec)
                else:
                    index.entry(k).rules.append(spec)
        elif pattern in DETECTORS:
            self._detectors.setdefault(pattern, []).append(spec)
        else:
            self._regexes.append((spec, compile_regex(pattern)))
        for k, exact, sentence_wide in dict.fromkeys(exempt_keys):
            entry = (self._exempt_exact if exact else self._exempt_index).entry(k)
            (entry.sentence_exempt_for if sentence_wide else entry.exempt_for).append(spec.id)
        if spec.exempt:
            self._with_exempts.add(spec.id)
        self._rules[spec.id] = spec

    def _keys_of(self, pattern: str) -> tuple[list[tuple[str, ...]], bool]:
        """The keys a word or phrase pattern is indexed under, as its glued keys
        word by word (the last is the whole), and whether they are exact: its
        canonical keys (inflections, slang, inner articles optional), or, when the
        pattern is quoted ("killed myself"), its surface keys (the words glued as
        written), matched against messages' surface keys alone."""
        text = pattern.strip()
        exact = len(text) >= 2 and text[0] == text[-1] == '"'
        words = TOKEN.findall(fold(text.strip('"') if exact else text)[0])
        surface: list[str] = []
        for word in words:
            surface.append(glue(surface[-1] if surface else "", key(word)))
            self._vocabulary.add(word)
        variants = [tuple(surface)] if exact else [language.phrase_canonical_steps(words)]
        out: list[tuple[str, ...]] = []
        for steps in variants:
            steps = tuple(k for k in dict.fromkeys(steps) if k)
            if steps and steps not in out:
                out.append(steps)
        return out, exact

    def _build_regex_set(self) -> None:
        """All regex rules in one RE2 set: one linear pass over a message tells which
        rules match in it; only those are then searched for their spans."""
        self._regex_set: RegexSet | None = None
        if self._regexes:
            self._regex_set = regex_set([spec.pattern for spec, _compiled in self._regexes])

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
        # exempt phrases matter only now, for rules that have some
        if (
            scan.found
            and self._with_exempts
            and any(spec.id in self._with_exempts for spec, _start, _end in scan.found)
        ):
            self._match_exempt_phrases(scan)
        return scan.hits()

    def _keys(self, word: str) -> tuple[str, tuple[str, ...]]:
        """A folded word's surface key, and every canonical key it can stand for
        under these rules: its lemma or slang reading, other readings (an emoji's
        meaning), typo and censoring readings; an article also stands for ""."""
        found = self._cache.get(word)
        if found is not None:
            return found
        if "*" in word:
            surface = key(word)
            canonical = (surface, *(self._vocabulary.wildcard(word) if len(word) <= MAX_WORD else ()))
        else:
            keys = language.analyse(word)
            surface = keys[0]
            canonical = keys[1:]
            if word in language.ARTICLES:
                canonical = (surface, "")  # "the" as written (a phrase's first or last word), or skipped
            elif 3 <= len(word) <= MAX_WORD and keys[0] == keys[1] and word.isalpha() and not language.is_known(word):
                canonical = canonical + self._vocabulary.typos(word)
        found = (surface, tuple(dict.fromkeys(canonical)))
        inner = language.INNER_STARTS.get(word, ())
        for index, exact, hot_words in self._hot_sets:
            if (
                (found[0] in index.hot)
                if exact
                else not (index.hot.isdisjoint(found[1]) and index.hot.isdisjoint(inner))
            ):
                if len(hot_words) < _CACHE_LIMIT:
                    hot_words.add(word)  # set.add: atomic under the GIL; only ever grows
                else:
                    self._hot_overflow = True  # from now on every word is visited (still correct)
        if len(self._cache) < _CACHE_LIMIT:
            self._cache[word] = found
        return found

    def _read_words(self, scan: _Scan) -> None:
        """The keys of every word of the message: ``scan.cands`` (canonical keys, for
        word and phrase rules) and ``scan.surfaces`` (surface keys, for quoted
        rules); two-word slang merged into one token; both readings of an
        ambiguous "1" or "|"."""
        words = scan.words
        known = self._cache.get
        pairs = [known(w) or self._keys(w) for w in words]
        surfaces: Sequence[str]
        cands: Sequence[tuple[str, ...]]
        surfaces, cands = zip(*pairs, strict=True) if pairs else ((), ())  # every pair is (surface, canonical)
        scan.keyset = keyset = set(words)
        special = language.SPECIAL_WORDS.intersection(keyset)  # units, slang read as phrases, two-word slang
        if special and not language.UNITS.isdisjoint(special):  # "5 kms" is a distance, not "kill myself"
            cands = list(cands)
            for i in range(1, len(words)):
                if words[i] in language.UNITS and words[i - 1].isdigit():
                    cands[i] = (surfaces[i],)
        if scan.folded.alt:
            cands = list(cands)
            self._add_other_readings(scan, cands)
        if special and not language.SLANG_WORDS.isdisjoint(special):
            inner = language.INNER_STARTS.get
            scan.starts = [inner(w, ()) for w in words]
        if special and not language.MULTI_FIRST.isdisjoint(special):
            cands, surfaces = self._merge_slang(scan, cands, surfaces)
        scan.cands, scan.surfaces = cands, surfaces

    def _add_other_readings(self, scan: _Scan, cands: list[tuple[str, ...]]) -> None:
        alt, text = scan.folded.alt, scan.folded.text
        for index, (a, b) in enumerate(scan.word_spans()):
            positions = [k for k in range(a, b) if k in alt]
            if positions:
                chars = list(text[a:b])
                for k in positions:
                    chars[k - a] = alt[k]
                cands[index] = tuple(dict.fromkeys((*cands[index], *self._keys("".join(chars))[1])))

    def _merge_slang(
        self, scan: _Scan, cands: Sequence[tuple[str, ...]], surfaces: Sequence[str]
    ) -> tuple[Sequence[tuple[str, ...]], Sequence[str]]:
        words = scan.words
        merged: list[tuple[str, ...]] = []
        merged_surfaces: list[str] = []
        bounds: list[tuple[int, int]] = []
        starts: list[tuple[str, ...]] = []
        i, n = 0, len(words)
        while i < n:
            if words[i] in language.MULTI_FIRST:
                for length in language.MULTI_LENGTHS:
                    readings = language.multi_readings(tuple(words[i : i + length])) if i + length <= n else None
                    if readings:
                        surface = canonical = ""
                        for w in range(i, i + length):
                            surface = glue(surface, surfaces[w])
                            canonical = glue(canonical, cands[w][0])
                        merged.append(tuple(dict.fromkeys((canonical, *readings))))
                        merged_surfaces.append(surface)
                        bounds.append((i, i + length - 1))
                        starts.append(())
                        i += length
                        break
                else:
                    merged.append(cands[i])
                    merged_surfaces.append(surfaces[i])
                    bounds.append((i, i))
                    starts.append(scan.starts[i] if scan.starts is not None else ())
                    i += 1
                continue
            merged.append(cands[i])
            merged_surfaces.append(surfaces[i])
            bounds.append((i, i))
            starts.append(scan.starts[i] if scan.starts is not None else ())
            i += 1
        if len(merged) == n:
            return cands, surfaces
        scan.bounds = bounds
        if scan.starts is not None:
            scan.starts = starts
        return merged, merged_surfaces

    def _match_words(self, scan: _Scan) -> None:
        """Word and phrase rules on every key of every token, quoted rules on the
        surface keys alone; then, only if some rule hit, the exempt phrases.

        Most messages hold no word any rule phrase starts with: ``_hot_words``
        (words seen so far whose keys start a rule phrase or are a word rule) tells
        in one set intersection, and the walk visits only those words."""
        positions = self._hot_positions(scan, self._hot_words)
        if positions is not None and not positions:
            return
        if self._rules_index:
            _walk(scan, scan.cands, self._rules_index, scan.starts, positions)
        if self._rules_exact:
            _walk(scan, [(k,) for k in scan.surfaces], self._rules_exact, None, positions)

    def _match_exempt_phrases(self, scan: _Scan) -> None:
        positions = self._hot_positions(scan, self._hot_exempt_words)
        if positions is not None and not positions:
            return
        if self._exempt_index:
            _walk(scan, scan.cands, self._exempt_index, scan.starts, positions)
        if self._exempt_exact:
            _walk(scan, [(k,) for k in scan.surfaces], self._exempt_exact, None, positions)

    def _hot_positions(self, scan: _Scan, hot_words: set[str]) -> list[int] | None:
        """The tokens a walk must start from, or None for "all of them" (merged slang,
        ambiguous readings, or a full hot-word set)."""
        if scan.bounds is not None or scan.folded.alt or self._hot_overflow:
            return None
        hot = hot_words.intersection(scan.words)
        return [i for i, w in enumerate(scan.words) if w in hot] if hot else []

    def _match_regexes(self, scan: _Scan) -> None:
        """Regex rules: the set says which match somewhere; those are searched."""
        if not self._regexes:
            return
        ftext = scan.folded.text
        indices = self._regex_set.Match(ftext) if self._regex_set is not None else None
        if indices is None:  # the set could not run (memory): search every rule, still in linear time
            indices = range(len(self._regexes))
        elif not indices:
            return
        starts, ends = scan.folded.starts, scan.folded.ends
        for index in sorted(indices):
            spec, compiled = self._regexes[index]
            if scan.applies(spec):
                for m in compiled.finditer(ftext):
                    if m.end() > m.start():
                        scan.found.append((spec, starts[m.start()], ends[m.end() - 1]))

    def _run_detectors(self, scan: _Scan) -> None:
        """Built-in detectors on the plain form (each gates itself cheaply)."""
        ps, pe = scan.plain_starts, scan.plain_ends
        circle_id = scan.circle_id
        for detect, sitewide, by_circle in self._detector_list:
            active = sitewide + by_circle[circle_id] if circle_id in by_circle else sitewide
            if active:
                for a, b in detect(scan):
                    for spec in active:
                        scan.found.append((spec, ps[a], pe[b - 1]))


_ASCII_WORD = re.compile(r"[a-z0-9]+")  # WORD for ASCII text (the folded text nearly always is): faster


def _words_of(ftext: str) -> re.Pattern:
    """The word pattern for a folded text: words with "*" kept inside when it has
    one, else plain words (ASCII letters and digits when the text is ASCII)."""
    if "*" in ftext:
        return TOKEN
    return _ASCII_WORD if ftext.isascii() else WORD


class _Prefix(enum.Enum):
    NOT_A_PREFIX = enum.auto()


_NOT_A_PREFIX: Final = _Prefix.NOT_A_PREFIX  # what a walk's prefix look-up gives for a glued key no phrase starts with
_Look = Callable[[str, _Prefix], "_PhraseEntry | _Prefix | None"]  # ``index.prefixes.get``


def _walk(
    scan: _Scan,
    cands: Sequence[tuple[str, ...]],
    index: _Index,
    inner: list[tuple[str, ...]] | None = None,
    positions: Iterable[int] | None = None,
) -> None:
    """From each token whose key starts a phrase, glue the next tokens' keys on
    while the glued key is a prefix of some phrase.  A token may stand for several
    keys (surface, lemma, slang ...); an article may also stand for nothing ("") --
    phrases skip it, but never start or end on it.  ``inner``: keys a phrase may
    start with inside a token's multi-word reading ("do [not] wake up").
    ``positions``: the only tokens worth starting from, when known.

    One dict look-up per step says both "still a prefix" and "a whole phrase"
    (``index.prefixes``).  Most tokens stand for one key: those are walked as a
    single chain, without building lists (and no comprehensions here: on
    Python 3.11 each is a function call)."""
    words, prefixes, starts = index.words, index.prefixes, index.starts
    look = prefixes.get
    record_phrase = scan.record_phrase
    n = len(cands)
    entry: _PhraseEntry | _Prefix | None  # a whole phrase's entry, None (a prefix only) or _NOT_A_PREFIX
    for i in range(n) if positions is None else positions:
        keys = cands[i]
        if len(keys) == 1 and (inner is None or not inner[i]):
            glued = keys[0]
            if glued in words:
                scan.record(words[glued], *scan.span_of(i, i))
            if glued not in starts:
                continue
            entry = look(glued)
            if entry is not None:
                record_phrase(entry, i, i)
            j = i + 1
            while j < n:  # one key per token: a chain
                following = cands[j]
                if len(following) != 1 or not following[0]:
                    _spread(scan, cands, look, i, j - 1, [glued], n)  # several keys ahead: a frontier
                    break
                k = following[0]
                last = glued[-1]
                # glue(glued, k), inlined: keys hold letters and digits only, and a
                # letter repeated across the seam is squeezed
                glued = glued + k[1:] if k[0] == last and last > "9" else glued + k
                entry = look(glued, _NOT_A_PREFIX)
                if entry is _NOT_A_PREFIX:
                    break
                if entry is not None:
                    record_phrase(entry, i, j)
                j += 1
            continue
        frontier = []
        for k in keys:
            if k in starts:
                frontier.append(k)
                entry = look(k)
                if entry is not None:
                    record_phrase(entry, i, i)
            if k in words:
                scan.record(words[k], *scan.span_of(i, i))
        if inner is not None and inner[i]:
            for k in inner[i]:
                if k in starts:
                    frontier.append(k)
                    entry = look(k)
                    if entry is not None:
                        record_phrase(entry, i, i)
        if frontier:
            _spread(scan, cands, look, i, i, frontier, n)


def _spread(
    scan: _Scan, cands: Sequence[tuple[str, ...]], look: _Look, i: int, j: int, frontier: list[str], n: int
) -> None:
    """Go on from token ``j`` with every glued key of ``frontier`` (a walk that
    began at token ``i``), trying each key of each next token."""
    record_phrase = scan.record_phrase
    skipped: list[str] = []  # glued keys whose last token was a skipped article
    while frontier or skipped:
        j += 1
        if j == n:
            break
        following: list[str] = []
        following_skipped: list[str] = []
        keys = cands[j]
        for glued in (frontier + skipped) if skipped else frontier:
            last = glued[-1]
            for k in keys:
                if not k:
                    following_skipped.append(glued)
                    continue
                g = glued + k[1:] if k[0] == last and last > "9" else glued + k
                entry = look(g, _NOT_A_PREFIX)
                if entry is _NOT_A_PREFIX:
                    continue
                following.append(g)
                if entry is not None:
                    record_phrase(entry, i, j)
        frontier, skipped = following, following_skipped


def compile_rules(specs: Iterable[RuleSpec], *, on_error: str = "raise") -> CompiledRules:
    """Compile a rule set once (per rule-set version).

    ``on_error="raise"`` (the default) raises ``PatternError`` naming the first
    unusable rule; ``"skip"`` leaves such rules out and lists them in
    ``CompiledRules.skipped`` as ``(rule_id, message)`` -- for a screening path
    that must keep working when a bad row slipped past ``validate``.
    """
    return CompiledRules(specs, on_error=on_error)
