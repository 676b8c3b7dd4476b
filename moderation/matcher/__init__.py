r"""Keyword screening: read a message as people mean it, compile rules once per
rule-set version, match.

Pure: no Django, no ORM, no settings -- the standard library and matching
libraries only (markdown-it-py, google-re2, simplemma, emoji, anyascii,
phonenumbers, usaddress), so it is unit-tested without a database and called
by ``moderation.screening`` through a per-process cache keyed by the rule-set
version.

The package, by concern (each module has its own docstring):

* ``base``         -- kinds, categories, actions; ``RuleSpec``, ``Hit``, ``PatternError``
* ``display``      -- the text as readers see it: the chat's Markdown rendered, entities decoded
* ``confusables``  -- the look-alike character table (data)
* ``folding``      -- text -> plain form and screening form, with maps back to the original
* ``language``     -- the keys a word stands for: lemmas, contractions, slang, emoji readings
* ``vocabulary``   -- the words of a rule set: typo and censoring readings
* ``detectors``    -- built-in detectors (``@phone``, ``@email``, ``@address``, ``@handle``, ``@identity``)
* ``validation``   -- ``validate``: refusing unusable rules with a sentence; RE2 compilation
* ``compiled``     -- ``CompiledRules`` / ``compile_rules`` and ``match``, in named steps
* ``decision``     -- ``decide(hits)``: the verdict, the care tier (crisis / concern), containment
* ``redaction``    -- ``redact``

How a message is read
=====================

0. *As displayed* (``display``): the chat renders a Markdown subset and the
   browser decodes entities, so "**sell**ing" reads "selling" and "&#107;ill"
   reads "kill".  Screening sees that text (a link's destination is kept after
   its text).  Messages without markup skip this at the cost of one search.

Two normalised forms are then built, each with a map back to the original text
so that every ``Hit`` carries a span of the ORIGINAL text (redaction uses it):

* the *plain form* (detectors run here): every character folded on its own --
  Unicode compatibility forms, accents dropped ("café" -> "cafe"), case-folded,
  look-alike letters from other scripts folded (a table generated from the
  Unicode confusables data, see ``confusables``; plus "ĸ", "қ" ...), letters the
  tables miss transliterated (anyascii: "ꞣ" -> "k"), regional-indicator letters
  read as letters ("🇰🇮🇱🇱" -> "kill"), emoji read as one word of their name in
  the ``emoji`` package ("🔪" -> "kitchenknife", "💊" -> "pill"; skin tones and
  variation selectors vanish), every decimal digit made ASCII, dashes and curly
  apostrophes made ASCII, control characters made spaces, zero-width characters
  dropped, letters drawn with symbols read ("|<" -> "k", "|-|" -> "h").  Digits
  stay digits, so a phone number is still a phone number.

* the *screening form* (word, phrase and regex rules run here; this is what
  ``fold()`` returns), built from the plain form:

  1. runs of single characters separated by separators are joined:
     "k.i.l.l", "k-i-l-l", "k_i_l_l" -> "kill" (two or more characters when the
     separators are punctuation), "k i l l" -> "kill" (three or more when the
     separators are only spaces: "I a m" is the price, "am I a" is not touched).
     Ordinary sentences are never glued: only single-character pieces join.
     Two letters around stars ("k**l") are a censored word, not a spaced one.
  2. look-alike digits and symbols INSIDE a word are folded to letters:
     0->o 1->i 3->e 4->a 5->s 7->t @->a $->s !->i |->l ("k1ll", "$uicide",
     "d!e", "ki||"; a doubled "11" reads "ll": "ki11").  ``1`` and ``|`` are
     ambiguous (i or l): words and phrases are also tried with the other
     reading.  A quantity ("50mg", "10pm", "3rd") and a bare number ("2024",
     "10:30", "555-867-5309") keep their digits.
  3. apostrophes inside a word are dropped ("don't" -> "dont").
  4. runs of three or more identical letters are cut to two ("killll" ->
     "kill", "soooo" -> "soo").
  5. "*" inside a word is kept: the word is censored ("k*ll"), see below.

How a word is read (``language``, ``vocabulary``)
==================================================

Each word of the screening form stands for one or more *canonical keys*:

* its lemma (simplemma, English): "ending", "ended" -> "end"; "killed" ->
  "kill"; irregular forms too ("took" -> "take", "sold" -> "sell");
* contractions, slang and algospeak read as what they stand for: "wanna" ->
  "want to", "gonna" -> "going to", "im" -> "i am", "dont" -> "do not", "kms"
  -> "kill myself", "kys" -> "kill yourself", "unalive" -> "kill", "sewer
  slide" / "self delete" -> "suicide", "od" -> "overdose", "ket" -> "ketamine",
  "hmu" -> "hit me up" (``language.SLANG`` and ``MULTI_SLANG``); a phrase may
  also start inside such a reading ("do [not wake up]");
* an emoji's meaning, for the few that stand for a word ("🔪" -> "kill",
  "🔫" -> "shoot", "🪦" -> "die", "🌉" -> "bridge": ``EMOJI_READINGS``);
* a word no dictionary knows, one edit from a rule word with the same first
  letter ("suicdal", "kll") reads as that rule word (typos);
* a censored word reads as the rule words it can be, each "*" one letter
  ("k*ll", "k**l", "s*icide", "k*lling");
* "a", "an", "the" may also stand for nothing: articles inside a phrase are
  optional ("jump off a bridge" = "jump off the bridge" = "jump off bridge").

Keys are squeezed (every run of one letter cut to one: "kill" -> "kil"), so
letters repeated in the message are tolerated.  Every reading is cached per word
(bounded dicts; single get/set, atomic under the GIL; values derived from the
word alone), so a word costs its lemma once.

Why simplemma: lemmas from a dictionary (irregular forms included) at ~0.5 µs a
word, pure Python, and it works offline from its PyPI wheel.  lemminflect
needs numpy, imports in 250 ms and costs ~7 µs a word; snowballstemmer is a
stemmer (~50 µs a word in pure Python here) that does not know "took", "sold",
"hung" or "gave".

Rule kinds
==========

* ``word``: one whole word, any inflection: "die" matches "died", "dies",
  "dying"; "skill" never matches "kill".  A quoted word (``"die"``) matches only
  that form (repeats and folding still tolerated).
* ``phrase``: words in order with any spaces or punctuation between them, each
  word any inflection, contractions and slang read, articles inside optional:
  "end it all" catches "ending it all" and "ended it all"; "want to die"
  catches "wanna die".  A phrase is matched on its keys glued together,
  starting and ending on word boundaries, so splitting or joining words does
  not evade it ("kill my self", "killmyself", "k i l l m y s e l f") while it
  never matches part of a word.  Quote the phrase (``"killed myself"``) to match
  only the forms written -- tense matters there: a rule names "kill myself"
  once, and lists ``"killed myself"`` as an exempt phrase where the past belongs
  to another tier.
* ``regex``: a regular expression searched in the screening form (lowercase, no
  accents or look-alikes, leet folded inside words, "k.i.l.l" joined, 3+
  repeated letters cut to two, apostrophes inside words removed, digits of
  numbers and punctuation kept; no lemmas).  Regexes run with RE2
  (google-re2): matching time is linear in the message whatever the pattern, so
  no rule can hold a process at 100% CPU; back-references and lookaround, which
  RE2 cannot run, are refused when the rule is saved, with a sentence saying
  so.  All regex rules form one RE2 set: one pass over a message says which
  rules match, and only those are searched for their spans.  A pattern written
  with capitals is case-insensitive.
* built-in detectors: a ``regex`` rule whose whole pattern is ``@phone``,
  ``@email``, ``@address``, ``@handle`` or ``@identity`` runs a detector on the
  plain form (``detectors``).  Any other ``@name`` is refused by ``validate``
  (write ``\@`` for a literal at sign).

Exempt phrases are matched like phrases (quoted ones exactly); a hit of a rule
that overlaps an occurrence of one of that rule's exempt phrases is dropped.  An
exempt phrase written ``sentence: used to`` drops the rule's hits anywhere in
the same sentence (". ! ? ;" or a line break end a sentence).  A shadow rule's
hits are returned with ``shadow=True`` (``redact`` ignores them).

Cost and design
===============

Reading a message is linear in its length and independent of the rules.  Word
rules are a dict look-up per key; phrases a walk from each word a rule phrase
starts with, gluing the next words' keys on while the glued key is a prefix of
some phrase (one dict look-up per step says "prefix" and "whole phrase");
exempt phrases are walked only when a rule that has some hit; regexes are one
RE2 set pass.  None of this loops over the rules, so 10,000 rules cost less
than twice what 10 cost (bench/matcher_bench.py measures it, and the cost of
each step).  Hash look-ups on whole words do the job an Aho-Corasick automaton
would (pyahocorasick), with whole-word semantics and lemmas for free.

A ``CompiledRules`` is shared by every thread of a process: each ``match``
keeps its state in its own ``_Scan``; the only shared mutable state are the
bounded per-word caches (dicts and sets that only grow, single operations,
atomic under the GIL, values that depend on the word alone) and markdown-it's
parser, which is per thread.
"""

from __future__ import annotations

from .base import ACTIONS, BUILTINS, CATEGORIES, KINDS, MAX_PATTERN_LENGTH, Hit, PatternError, RuleSpec
from .compiled import CompiledRules, compile_rules
from .decision import Decision, decide
from .folding import fold
from .redaction import redact
from .validation import validate

__all__ = [
    "ACTIONS",
    "BUILTINS",
    "CATEGORIES",
    "KINDS",
    "MAX_PATTERN_LENGTH",
    "CompiledRules",
    "Decision",
    "Hit",
    "PatternError",
    "RuleSpec",
    "compile_rules",
    "decide",
    "fold",
    "redact",
    "validate",
]
