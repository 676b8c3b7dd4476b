r"""Keyword screening: fold text, compile rules once per rule-set version, match.

Pure: the standard library only (no Django, no ORM, no settings), so it is
unit-tested without a database and called by ``moderation.screening`` through a
per-process cache keyed by the rule-set version.

The package, by concern (each module has its own docstring):

* ``base``         -- kinds, categories, actions; ``RuleSpec``, ``Hit``, ``PatternError``
* ``confusables``  -- the look-alike character table (data)
* ``folding``      -- text -> plain form and screening form, with maps back to the original
* ``detectors``    -- built-in detectors (``@phone``, ``@email``) on the plain form
* ``validation``   -- ``validate``: refusing unusable rules with a sentence for a moderator
* ``gates``        -- which words a regex rule requires, so it runs only when they occur
* ``compiled``     -- ``CompiledRules`` / ``compile_rules`` and ``match``, in named steps
* ``redaction``    -- ``redact``

How a message is screened
=========================

Two normalised forms of the message are built, each with a map back to the
original text so that every ``Hit`` carries a span of the ORIGINAL text:

* the *plain form* (personal-info detectors run here): every character folded on
  its own -- Unicode compatibility forms (fullwidth, mathematical, ligatures),
  accents dropped ("café" -> "cafe"), case-folded, look-alike letters from other
  scripts folded (Cyrillic "а", Greek omicron, small capitals ... a table
  generated from the Unicode confusables data, see ``confusables``), every
  decimal digit made ASCII, dashes and curly apostrophes made ASCII, control
  characters made spaces, zero-width characters dropped.  Digits stay digits,
  so a phone number is still a phone number.

* the *screening form* (word, phrase and regex rules run here; this is what
  ``fold()`` returns), built from the plain form:

  1. runs of single characters separated by separators are joined:
     "k.i.l.l", "k-i-l-l", "k_i_l_l" -> "kill" (two or more characters when the
     separators are punctuation), "k i l l" -> "kill" (three or more when the
     separators are only spaces: "I a m" is the price, "am I a" is not touched).
     Ordinary sentences are never glued: only single-character pieces join.
  2. look-alike digits and symbols INSIDE a word are folded to letters:
     0->o 1->i 3->e 4->a 5->s 7->t @->a $->s !->i |->l ("k1ll", "$uicide",
     "d!e", "ki||"; a doubled "11" reads "ll": "ki11").  ``1`` and ``|`` are
     ambiguous (i or l): words and phrases are also tried with the other
     reading.  A word that is
     a quantity ("50mg", "200mcg", "10pm", "3rd") and a bare number ("2024",
     "10:30", "555-867-5309") keep their digits.
  3. apostrophes inside a word are dropped ("don't" -> "dont").
  4. runs of three or more identical letters are cut to two ("killll" ->
     "kill", "soooo" -> "soo").

Rule kinds
==========

* ``word``: one whole word.  "skill" never matches "kill".  Letters repeated in
  the message are tolerated: a word matches when both sides are equal after
  every run of identical letters is squeezed to one letter ("kill" ~ "kil" ~
  "killll", "die" ~ "diieee").  Digits are never squeezed ("100mg" != "10mg").
  The price is that words differing only by doubled letters are the same
  word to a rule ("god" ~ "good"); choose word rules with that in mind.
* ``phrase``: a sequence of words matched with any whitespace and punctuation
  between the words ("kill, myself", "kill    myself").  A phrase is matched
  on the words glued together (squeezed as above), starting and ending on word
  boundaries, so splitting or joining words does not evade it ("kill my self",
  "killmyself", "k i l l m y s e l f") while a phrase never matches part of a
  word ("hurt myselfesteem" is not "hurt myself").
* ``regex``: a Python regular expression searched in the screening form (the
  string ``fold()`` returns): lowercase, no accents or look-alikes, leet folded
  inside words, "k.i.l.l" joined, 3+ repeated letters cut to two, apostrophes
  inside words removed, digits of numbers and all punctuation kept.  Write
  ``dont`` not ``don't``, ``cafe`` not ``café``, and ``di+e+`` to tolerate
  repeats (``validate`` refuses apostrophes inside words and letters the
  folded text never holds).  The folded text is lowercase; a pattern written
  with capitals is compiled case-insensitive.  Each regex rule is *gated*: at
  compile time its parsed pattern is searched for a word every match must
  contain (e.g. "suicide" in ``\b(?:commit|attempt)\s+suicide\b``), and the
  rule runs only on messages holding that word -- one set intersection per
  message for all gated rules.  Rules without such a word go through one
  combined alternation first.  Every match of every rule is still reported,
  overlapping ones included.  Keep regex rules to tens all the same: a message
  that holds a gate word pays for running that rule.
* built-in detectors: a ``regex`` rule whose whole pattern is ``@phone`` or
  ``@email`` runs a built-in detector on the plain form instead of a regex:
  ``@phone`` finds phone numbers in US and international shapes ("555-867-5309",
  "(555) 867 5309", "+44 20 7946 0958") but not years, times, dates, doses or
  short numbers; ``@email`` finds e-mail addresses, also spelled out ("jo at
  gmail dot com", "jo [at] proton [dot] me").  Any other ``@name`` is refused
  by ``validate`` (write ``\@`` for a literal at sign).

Exempt phrases are matched like phrases; a hit of a rule that overlaps an
occurrence of one of that rule's exempt phrases is dropped.  A shadow rule's
hits are returned with ``shadow=True`` (``redact`` ignores them).

Cost and design
===============

Building the two forms is linear in the message and independent of the rules.
Words are then a set intersection of the message's word keys with the rule
keys; phrases and exempt phrases a walk from each word that glues the next
words on while the glued key is a prefix of some phrase (a prefix set stops
it after a word or two); regex rules are gated as above.  None of this loops
over the rules, so 10,000 rules cost about what 10 cost (bench/matcher_bench.py
measures it).  Hash look-ups on whole words do the job an Aho-Corasick
automaton would (pyahocorasick), with whole-word semantics for free and
without a compiled dependency.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

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
