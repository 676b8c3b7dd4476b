r"""Keyword screening: fold text, compile rules once per rule-set version, match.

Pure: the standard library only (no Django, no ORM, no settings), so it is
unit-tested without a database and called by ``moderation.screening`` through a
per-process cache keyed by the rule-set version.

How a message is screened
=========================

Two normalised forms of the message are built, each with a map back to the
original text so that every ``Hit`` carries a span of the ORIGINAL text:

* the *plain form* (personal-info detectors run here): every character folded on
  its own -- Unicode compatibility forms (fullwidth, mathematical, ligatures),
  accents dropped ("café" -> "cafe"), case-folded, look-alike letters from other
  scripts folded (Cyrillic "а", Greek omicron, small capitals ... a table
  generated from the Unicode confusables data, see ``_CONFUSABLE_BY_LETTER``), every
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

from .verdicts import RULE_ACTIONS

__all__ = [
    "ACTIONS",
    "BUILTINS",
    "CATEGORIES",
    "KINDS",
    "MAX_PATTERN_LENGTH",
    "CompiledRules",
    "Hit",
    "PatternError",
    "RuleSpec",
    "compile_rules",
    "fold",
    "redact",
    "validate",
]

KINDS = ("word", "phrase", "regex")
CATEGORIES = ("crisis", "sourcing", "medical-advice", "harassment", "personal-info", "spam")
ACTIONS = RULE_ACTIONS  # the one vocabulary (moderation.verdicts)
BUILTINS = ("@email", "@phone")
MAX_PATTERN_LENGTH = 500


@dataclass(frozen=True)
class RuleSpec:
    """One rule as the matcher sees it (``KeywordRule`` rows become these)."""

    id: int
    pattern: str
    kind: str  # word | phrase | regex
    category: str
    action: str
    exempt: tuple[str, ...] = ()  # a hit overlapping an occurrence of one of these is ignored
    circle_id: int | None = None  # None: site-wide; else only that circle
    shadow: bool = False  # hits are reported, but the caller does not act on them


@dataclass(frozen=True)
class Hit:
    """One match of one rule.  ``start``/``end`` index the ORIGINAL text."""

    rule_id: int
    category: str
    action: str
    shadow: bool
    start: int
    end: int
    matched: str  # text[start:end]


class PatternError(ValueError):
    """A rule pattern that cannot be used; ``str(err)`` is a sentence for a moderator."""


# --- character folding -----------------------------------------------------------

# Look-alike letters -> ASCII letter.  Generated from the Unicode confusables data
# (confusables.json of confusable-homoglyphs 3.3.1, itself from Unicode's
# confusables.txt): every single non-ASCII character listed as confusable with an
# ASCII letter, minus those that compatibility decomposition + accent stripping
# already turn into that letter (fullwidth, most mathematical letters), minus
# decimal digits of other scripts (made ASCII digits instead); capital letters
# that look like "l" are taken as "i" (they are capital I look-alikes).
_CONFUSABLE_BY_LETTER = {
    "a": "ɑΑαАаᎪᗅ⍺ꓮ\U000102a0\U00016f40\U0001d6a8\U0001d6c2\U0001d6e2\U0001d6fc\U0001d71c\U0001d736\U0001d756\U0001d770\U0001d790\U0001d7aa",
    "b": "ƄΒВЬᏏᏴᑲᖯᗷꓐꞴ\U00010282\U000102a1\U00010301\U0001d6a9\U0001d6e3\U0001d71d\U0001d757\U0001d791",
    "c": "ϲϹСсᏟᴄⲤⲥꓚꮯ\U000102a2\U00010302\U00010415\U0001043d\U0001051c\U000118f2\U0001f74c",
    "d": "ԁᎠᏧᑯᗞᗪꓒꓓ",
    "e": "ΕЕеҽᎬ\u212e⋿ⴹꓰꬲ\U00010286\U000118a6\U000118ae\U0001d6ac\U0001d6e6\U0001d720\U0001d75a\U0001d794",
    "f": "ſϜքᖴẝꓝꞘꞙꬵ\U00010287\U000102a5\U00010525\U000118a2\U000118c2\U0001d213\U0001d7ca",
    "g": "ƍɡԌցᏀᏳᶃꓖ",
    "h": "ΗНһհᎻᏂᕼⲎꓧ\U000102cf\U0001d6ae\U0001d6e8\U0001d722\U0001d75c\U0001d796",
    "i": "ıƖɩɪ˛ͺΙιІіӀӏᎥᏞιℐℑ⍳ⲒⳐꙇꭵＩ\U0001041b\U000118a3\U000118b2\U000118c3\U0001d408\U0001d43c"
    "\U0001d470\U0001d4d8\U0001d540\U0001d574\U0001d5a8\U0001d5dc\U0001d610\U0001d644\U0001d678\U0001d6a4"
    "\U0001d6b0\U0001d6ca\U0001d6ea\U0001d704\U0001d724\U0001d73e\U0001d75e\U0001d778\U0001d798\U0001d7b2",
    "j": "ͿϳЈјᎫᒍꓙꞲ",
    "k": "ΚКᏦᛕⲔꓗ\U00010518\U0001d6b1\U0001d6eb\U0001d725\U0001d75f\U0001d799",
    "l": "ǀᒪᛁ\u2160∣⏽ⵏꓡꓲ￨\U0001028a\U00010309\U00010320\U00010526\U00016f16\U00016f28\U0001d22a",
    "m": "ΜϺМᎷᗰᛖⲘꓟ\U000102b0\U00010311\U0001d6b3\U0001d6ed\U0001d727\U0001d761\U0001d79b",
    "n": "ΝոռⲚꓠ\U00010513\U0001d6b4\U0001d6ee\U0001d728\U0001d762\U0001d79c",
    "o": "ΟοσОоՕօଠ\u0c02\u0c82\u0d02ഠ\u0d82ဝჿዐᴏᴑⲞⲟⵔ\u3007ꓳꬽ\U00010292\U000102ab\U00010404\U0001042c"
    "\U000104c2\U000104ea\U00010516\U000118b5\U000118c8\U000118d7\U0001d6b6\U0001d6d0\U0001d6d4\U0001d6f0"
    "\U0001d70a\U0001d70e\U0001d72a\U0001d744\U0001d748\U0001d764\U0001d77e\U0001d782\U0001d79e\U0001d7b8\U0001d7bc",
    "p": "ΡρϱРрᏢᑭ⍴Ⲣⲣꓑ\U00010295\U0001d6b8\U0001d6d2\U0001d6e0\U0001d6f2\U0001d70c\U0001d71a\U0001d72c"
    "\U0001d746\U0001d754\U0001d766\U0001d780\U0001d78e\U0001d7a0\U0001d7ba\U0001d7c8",
    "q": "ԛգզⵕ",
    "r": "ƦгᎡᏒᖇᴦⲅꓣꭇꭈꮁ\U000104b4\U00016f35\U0001d216",
    "s": "ƽЅѕՏᏕᏚꓢꜱꮪ\U00010296\U00010420\U00010448\U000118c1\U00016f3a",
    "t": "ΤТᎢ⊤⟙Ⲧꓔ\U00010297\U000102b1\U00010315\U000118bc\U00016f0a\U0001d6bb\U0001d6f5\U0001d72f\U0001d769\U0001d7a3\U0001f768",
    "u": "ʋυՍսሀᑌᴜ∪⋃ꓴꞟꭎꭒ\U000104ce\U000104f6\U000118b8\U000118d8\U00016f42\U0001d6d6\U0001d710\U0001d74a\U0001d784\U0001d7be",
    "v": "νѴѵᏙᐯᴠ∨⋁ⴸꓦꛟꮩ\U0001051d\U00011706\U000118a0\U000118c0\U00016f08\U0001d20d\U0001d6ce\U0001d708\U0001d742\U0001d77c\U0001d7b6",
    "w": "ɯѡԜԝաᎳᏔᴡꓪꮃ\U0001170a\U0001170e\U0001170f\U000118ef",
    "x": "×ΧХхᕁᕽ᙭\u166eᚷ╳⤫⤬⨯ⲬⵝꓫꞳ\U00010290\U000102b4\U00010317\U00010322\U00010527\U000118ec\U0001d6be\U0001d6f8\U0001d732\U0001d76c\U0001d7a6",
    "y": "ɣʏΥγϒУуҮүყᎩᎽᶌỿℽⲨꓬꭚ\U000102b2\U000118a4\U000118dc\U00016f43\U0001d6bc\U0001d6c4\U0001d6f6\U0001d6fe"
    "\U0001d730\U0001d738\U0001d76a\U0001d772\U0001d7a4\U0001d7ac",
    "z": "ΖᏃᴢꓜꮓ\U000102f5\U000118a9\U000118c4\U0001d6ad\U0001d6e7\U0001d721\U0001d75b\U0001d795",
}

# Look-alikes the confusables data leaves out (it maps to prototypes, not to
# lowercase Latin): small capitals, lowercase Cyrillic/Greek shapes, Latin
# letters without a decomposition; plus punctuation made ASCII.
_EXTRA = {
    # small capitals
    "ᴀ": "a",
    "ʙ": "b",
    "ᴅ": "d",
    "ᴇ": "e",
    "ꜰ": "f",
    "ɢ": "g",
    "ʜ": "h",
    "ᴊ": "j",
    "ᴋ": "k",
    "ʟ": "l",
    "ᴍ": "m",
    "ɴ": "n",
    "ᴘ": "p",
    "ʀ": "r",
    "ᴛ": "t",
    # lowercase Cyrillic and Greek shapes
    "к": "k",
    "м": "m",
    "т": "t",
    "н": "h",
    "в": "b",
    "ь": "b",
    "п": "n",
    "ԁ": "d",
    "κ": "k",
    "τ": "t",
    "η": "n",
    "ε": "e",
    "χ": "x",
    "β": "b",
    "ω": "w",
    "μ": "u",
    # Latin letters with no decomposition
    "ø": "o",
    "Ø": "o",
    "ł": "l",
    "Ł": "l",
    "đ": "d",
    "Đ": "d",
    "ð": "d",
    "ħ": "h",
    "Ħ": "h",
    "ŧ": "t",
    "Ŧ": "t",
    "æ": "ae",
    "Æ": "ae",
    "œ": "oe",
    "Œ": "oe",
    "ß": "ss",
    "ẞ": "ss",
    # apostrophes, dashes, middle dots
    "\u2018": "'",
    "\u2019": "'",
    "\u201b": "'",
    "\u02bc": "'",
    "\u02b9": "'",
    "`": "'",
    "\u00b4": "'",
    "\u2032": "'",
    "\uff07": "'",
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\ufe63": "-",
    "\uff0d": "-",
    "\u00b7": ".",
    "\u2022": ".",
    "\u2027": ".",
    "\u2219": ".",
    "\u22c5": ".",
    "\u30fb": ".",
}

_CHAR_MAP: dict[str, str] = dict(_EXTRA)
for _letter, _chars in _CONFUSABLE_BY_LETTER.items():
    for _ch in _chars:
        _CHAR_MAP.setdefault(_ch, _letter)
del _letter, _chars, _ch

# ASCII: lowercase, control characters (tab, newline ...) become spaces.
_ASCII_TABLE = dict.fromkeys(range(32), " ")
_ASCII_TABLE[127] = " "
_ASCII_TABLE[ord("`")] = "'"
_ASCII_TABLE.update({ord(c): c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"})

_FOLD_CACHE: dict[str, str] = {}
_FOLD_CACHE_LIMIT = 50_000


def _fold_char(ch: str) -> str:
    """The plain-form folding of one code point (0, 1 or more characters)."""
    out = _FOLD_CACHE.get(ch)
    if out is not None:
        return out
    out = _CHAR_MAP.get(ch)
    if out is None:
        digit = unicodedata.decimal(ch, None)
        if digit is not None:
            out = str(digit)
        else:
            cat = unicodedata.category(ch)
            if cat in ("Mn", "Me", "Cf"):  # combining marks, zero-width and format characters
                out = ""
            elif cat in ("Cc", "Zs", "Zl", "Zp"):
                out = " "
            else:
                pieces = []
                for c in unicodedata.normalize("NFKD", ch):
                    if unicodedata.combining(c):
                        continue
                    for cc in c.casefold():
                        pieces.append(_CHAR_MAP.get(cc, cc))
                out = "".join(pieces)
    if len(_FOLD_CACHE) < _FOLD_CACHE_LIMIT:
        _FOLD_CACHE[ch] = out
    return out


def _plain(text: str) -> tuple[str, list[int], list[int]]:
    """Plain form + for each of its characters the original span [start, end)."""
    if text.isascii():
        return text.translate(_ASCII_TABLE), list(range(len(text))), list(range(1, len(text) + 1))
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for m in _NON_ASCII.finditer(text):  # ASCII stretches in slices, the rest one by one
        a, b = m.span()
        if a > pos:
            out.append(text[pos:a].translate(_ASCII_TABLE))
            starts.extend(range(pos, a))
            ends.extend(range(pos + 1, a + 1))
        for j in range(a, b):
            piece = _fold_char(text[j])
            if len(piece) == 1:
                out.append(piece)
                starts.append(j)
                ends.append(j + 1)
            elif piece:
                for c in piece:
                    out.append(c)
                    starts.append(j)
                    ends.append(j + 1)
            elif ends:  # a dropped mark belongs to the character before it
                ends[-1] = j + 1
        pos = b
    if pos < len(text):
        out.append(text[pos:].translate(_ASCII_TABLE))
        starts.extend(range(pos, len(text)))
        ends.extend(range(pos + 1, len(text) + 1))
    return "".join(out), starts, ends


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


# A word in the plain form: letters and digits, with look-alike symbols inside
# ("k@y", "d!e", "don't", "a$$hole"), a leading "$" before a letter ("$uicide")
# and pipes or dollars glued to its end ("ki||", "a$$").
_P_WORD = re.compile(r"(?:\$(?=[^\W\d_]))?\|*[^\W_]+(?:(?:['@$!]+|\|+)[^\W_]+)*[|$]*")
# What may separate the single characters of a spaced-out word.
_JOIN_GAP = re.compile(r"[\s.\-_*/\\,+~:;'\"]{1,3}")
_QUANTITY = re.compile(
    r"(\d+)(mg|mcg|ug|g|gr|kg|ml|l|cc|iu|x|am|pm|h|hr|hrs|min|mins|s|sec|secs|d|wk|wks|mo|y|yr|yrs|yo|"
    r"k|m|km|kms|mi|lb|lbs|st|nd|rd|th)"
)
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i", "|": "l"}
_LEET_ALT = {"1": "l", "|": "i"}  # the other reading of an ambiguous character
_WORD = re.compile(r"[^\W_]+")
_SQUEEZE = re.compile(r"([^\W\d_])\1+")
_TRIPLE = re.compile(r"([^\W\d_])\1\1")
_WORD_SYMBOLS = "'@$!|"
# Where the screening form may differ from the plain form: digits, look-alike
# symbols, apostrophes, 3+ repeated letters, two single characters in a row.
_INTERESTING = re.compile(r"[\d'@$!|]|([^\W\d_])\1\1|(?<![^\W_])[^\W_][\s.\-_*/\\,+~:;'\"]{1,3}[^\W_](?![^\W_])")
_SIMPLE_WORD = re.compile(r"[^\W\d_]+")  # letters only: nothing to fold
_NUMBER = re.compile(r"\d+")


def _is_quantity(word: str) -> bool:
    m = _QUANTITY.fullmatch(word)
    if m is None:
        return False
    number, unit = m.groups()
    if unit in ("st", "nd", "rd", "th"):  # an ordinal only if it is the right one ("3nd" is leet)
        n = int(number) % 100
        right = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return unit == right
    return True


class _Folded:
    """The screening form of one text, with maps back to the original."""

    __slots__ = ("alt", "ends", "starts", "text")

    def __init__(self, text: str, starts: list[int], ends: list[int], alt: dict[int, str]):
        self.text = text
        self.starts = starts  # folded index -> original start
        self.ends = ends  # folded index -> original end (exclusive)
        self.alt = alt  # folded index -> the other reading of an ambiguous "1" or "|"


def _emit_word(
    chars: list[str],
    src: list[int],
    ps: list[int],
    pe: list[int],
    out: list[str],
    starts: list[int],
    ends: list[int],
    alt: dict[int, str],
) -> None:
    """Append one word of the plain form to the screening form (steps 2-4)."""
    word = "".join(chars)
    if word.isalpha() and not _TRIPLE.search(word):  # the common case
        out.extend(chars)
        starts.extend(ps[k] for k in src)
        ends.extend(pe[k] for k in src)
        return
    has_letter = any(c.isalpha() for c in chars)
    fold_leet = has_letter and not _is_quantity(word)
    prev = ""
    run = 0
    for n, (c, k) in enumerate(zip(chars, src, strict=True)):
        if c == "'":
            if ends:
                ends[-1] = max(ends[-1], pe[k])
            continue
        if fold_leet and c in _LEET:
            if c == "1" and "11" in word[max(n - 1, 0) : n + 2]:  # "ki11": a doubled 1 reads as ll
                alt[len(out)] = "i"
                c = "l"
            else:
                if c in _LEET_ALT:
                    alt[len(out)] = _LEET_ALT[c]
                c = _LEET[c]
        run = run + 1 if (c == prev and c.isalpha()) else 1
        prev = c
        if run >= 3:  # cut runs of 3+ identical letters to two
            ends[-1] = max(ends[-1], pe[k])
            alt.pop(len(out), None)
            continue
        out.append(c)
        starts.append(ps[k])
        ends.append(pe[k])


def _screen_form(text: str) -> tuple[_Folded, str, list[int], list[int]]:
    """(screening form, plain form, plain starts, plain ends) of ``text``.

    Most words need no change: one search finds the spots that might (digits,
    look-alike symbols, apostrophes, 3+ repeats, two single characters in a
    row), and the plain form is copied in slices around the words there."""
    plain, ps, pe = _plain(text)
    search = _INTERESTING.search
    m = search(plain)
    if m is None:
        return _Folded(plain, ps, pe, {}), plain, ps, pe
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    alt: dict[int, str] = {}
    pos = 0  # plain[:pos] has been handled
    while m is not None:
        k = m.start()
        a = k
        while a > 0 and (plain[a - 1].isalnum() or plain[a - 1] in _WORD_SYMBOLS):
            a -= 1
        word = _P_WORD.search(plain, max(a, pos))
        while word is not None and word.end() <= k:  # the scan may start a few words early ("a$'|k")
            word = _P_WORD.search(plain, word.end())
        if word is None:
            break
        a, b = word.span()
        if a > k or b <= k or a < pos:  # not inside a word, or already handled
            m = search(plain, max(k + 1, pos))
            continue
        run = _single_char_run(plain, a) if b - a == 1 else None
        if run is not None:
            out.extend(plain[pos:a])
            starts.extend(ps[pos:a])
            ends.extend(pe[pos:a])
            _emit_word([plain[i] for i in run], run, ps, pe, out, starts, ends, alt)
            pos = run[-1] + 1
        elif (_SIMPLE_WORD.fullmatch(plain, a, b) or _NUMBER.fullmatch(plain, a, b)) and not _TRIPLE.search(
            plain, a, b
        ):
            pass  # nothing to change in this word
        else:
            out.extend(plain[pos:a])
            starts.extend(ps[pos:a])
            ends.extend(pe[pos:a])
            _emit_word(list(plain[a:b]), list(range(a, b)), ps, pe, out, starts, ends, alt)
            pos = b
        m = search(plain, max(b, pos))
    if pos == 0:  # nothing changed
        return _Folded(plain, ps, pe, alt), plain, ps, pe
    out.extend(plain[pos:])
    starts.extend(ps[pos:])
    ends.extend(pe[pos:])
    return _Folded("".join(out), starts, ends, alt), plain, ps, pe


def _single_char_run(plain: str, a: int) -> list[int] | None:
    """Plain-form indices of the spaced-out word starting at the single character ``a``.

    Single characters separated by 1-3 separator characters join.  Where some
    gaps hold punctuation ("k.i.l.l"), gaps of bare spaces end the run ("I
    k.i.l.l" is "I" and "kill"); such a run joins from two characters on.  A
    run separated by spaces only ("k i l l") joins from three on.  It must hold
    a letter (spaced digits stay numbers).
    """
    indices = [a]
    spaces_only: list[bool] = []
    end = a + 1
    while True:
        gap = _JOIN_GAP.match(plain, end)
        if gap is None:
            break
        word = _P_WORD.match(plain, gap.end())
        if word is None or word.end() - word.start() != 1:
            break
        spaces_only.append(gap.group().isspace())
        indices.append(word.start())
        end = word.end()
    if len(indices) < 2:
        return None
    if not all(spaces_only):
        # Punctuated run: keep only the part up to the first bare-space gap.
        if True in spaces_only:
            indices = indices[: spaces_only.index(True) + 1]
        if len(indices) < 2:
            return None
    elif len(indices) < 3:
        return None
    if not any(plain[k].isalpha() for k in indices):
        return None
    return indices


def fold(text: str) -> tuple[str, list[int]]:
    """The screening form of ``text`` and, for each of its characters, the index
    of the original character it came from (``len(result) == len(mapping)``).

    This is the string regex rules are searched in (see the module docstring).
    """
    folded = _screen_form(text)[0]
    return folded.text, folded.starts


def _key(word: str) -> str:
    """A word as rules compare it: every run of one repeated letter squeezed."""
    return _SQUEEZE.sub(r"\1", word)


def _glue(left: str, right: str) -> str:
    """Two squeezed keys glued, squeezed again where they meet."""
    if left and right and left[-1] == right[0] and right[0].isalpha():
        return left + right[1:]
    return left + right


def _phrase_key(pattern: str) -> str:
    key = ""
    for word in _WORD.findall(fold(pattern)[0]):
        key = _glue(key, _key(word))
    return key


# --- built-in detectors (run on the plain form) ----------------------------------

_PHONE = re.compile(
    r"""
    (?<![\w+\-.:/$£€#@,])              # not the tail of a word, decimal, time, date, amount
    (?P<number>
      (?:\+\ ?)?                           # international prefix
      (?:\(\ ?\d{1,5}\ ?\)|\d{1,5}+)       # first group, maybe "(555)"
      (?:(?:\ ?[.\-]\ ?|\ {1,2}|(?<=\)))(?:\(\ ?\d{1,5}\ ?\)|\d{1,6}+)){0,6}   # "(555)867-5309" too
      |
      \+?\d{7,15}+                         # unbroken
    )
    (?![\w:/@]|[.,\-]\d)
    """,
    re.VERBOSE,
)
_PHONE_GROUPS = re.compile(r"\d+")
_DIGIT = re.compile(r"\d")


def _looks_like_phone(number: str) -> bool:
    groups = _PHONE_GROUPS.findall(number)
    digits = sum(len(g) for g in groups)
    if not 7 <= digits <= 15:
        return False
    if number.startswith("+") or "(" in number:
        return True
    if len(groups) == 1:
        return True  # an unbroken run of 7-15 digits
    lengths = [len(g) for g in groups]
    separators = set(re.sub(r"[\d()]", "", number))
    # dates: 2024-01-15, 15.01.2024, 01 15 2024
    if len(groups) == 3 and digits in (6, 8):
        a, b, c = (int(g) for g in groups)
        if lengths[0] == 4 and 1 <= b <= 12 and 1 <= c <= 31:
            return False
        if lengths[2] in (2, 4) and ((1 <= a <= 12 and 1 <= b <= 31) or (1 <= a <= 31 and 1 <= b <= 12)):
            return False
    # year ranges: 1990-2020
    if lengths == [4, 4] and all(1900 <= int(g) <= 2099 for g in groups):
        return False
    # thousands: 1.234.567, 1 234 567
    if lengths[0] <= 3 and all(n == 3 for n in lengths[1:]) and separators <= {".", " "}:
        return False
    # French style: 06 12 34 56 78
    if len(groups) >= 4 and all(n == 2 for n in lengths):
        return True
    if separators == {" "}:
        return lengths[-1] >= 4  # "200 250 300" is a list of numbers, "020 7946 0958" a phone
    return lengths[-1] >= 3


_TLDS = (
    "com|net|org|edu|gov|mil|io|co|me|info|biz|app|dev|xyz|ai|us|uk|ca|au|nz|ie|de|fr|es|it|nl|be|ch|at|se|no|"
    "dk|fi|pl|pt|br|mx|in|jp|ru|eu|tv|ly|gg"
)
_DOTTED_TLD = re.compile(rf"\.\s*(?:{_TLDS})\b")
_AT = r"(?:\s*@\s*|\s*[(\[{<]\s*(?:at|@)\s*[)\]}>]\s*|\s+at\s+)"
_DOT = r"(?:\s*\.\s*|\s*[(\[{<]\s*(?:dot|\.)\s*[)\]}>]\s*|\s+dot\s+)"
_EMAIL = re.compile(
    rf"""
    (?<![\w.+\-])
    [\w.+\-]*\w                     # local part
    (?:
      @[\w\-]+(?:\.[\w\-]+)*\.[a-z]{{2,24}}\b                    # plain address
      |
      {_AT}[\w\-]+(?:{_DOT}[\w\-]+)*{_DOT}(?:{_TLDS})\b         # spelled out: jo at gmail dot com
    )
    """,
    re.VERBOSE,
)


def _find_phones(plain: str, words: set[str]) -> Iterable[tuple[int, int]]:
    if len(_DIGIT.findall(plain)) < 7:
        return
    for m in _PHONE.finditer(plain):
        number = m.group("number").rstrip(" .-")
        if _looks_like_phone(number):
            yield m.start(), m.start() + len(number)


def _find_emails(plain: str, words: set[str]) -> Iterable[tuple[int, int]]:
    # "@", or a spelled-out "at" with a "dot" or a ".com"-like ending
    if "@" not in plain and not ("at" in words and ("dot" in words or _DOTTED_TLD.search(plain))):
        return
    for m in _EMAIL.finditer(plain):
        yield m.start(), m.end()


_DETECTORS = {"@phone": _find_phones, "@email": _find_emails}


# --- validation --------------------------------------------------------------------

_PROBES = ("", " ", "a", "hello world", "0", "a.b")


def validate(kind: str, pattern: str) -> None:
    """Raise ``PatternError`` with a sentence for a moderator if the rule cannot be used."""
    if kind not in KINDS:
        raise PatternError(f"Unknown rule kind {kind!r}: use word, phrase or regex.")
    if pattern is None or not pattern.strip():
        raise PatternError("The pattern is empty.")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"The pattern is too long: {len(pattern)} characters, the limit is {MAX_PATTERN_LENGTH}.")
    if kind == "regex":
        _validate_regex(pattern)
        return
    words = _WORD.findall(fold(pattern)[0])
    if not words:
        raise PatternError("The pattern has no letters or digits to match.")
    if kind == "word" and len(words) > 1:
        raise PatternError(
            f"A word rule matches one whole word, but {pattern.strip()!r} is {len(words)} words: use a phrase rule."
        )


def _validate_regex(pattern: str) -> None:
    if pattern.startswith("@") and re.fullmatch(r"@[a-z_]+", pattern):
        if pattern not in _DETECTORS:
            raise PatternError(
                f"Unknown built-in detector {pattern!r}: the built-ins are "
                f"{' and '.join(BUILTINS)} (to match a literal '@', write \\@)."
            )
        return
    try:
        compiled = re.compile(pattern, _regex_flags(pattern))
    except re.error as err:
        where = f" at position {err.pos}" if err.pos is not None else ""
        raise PatternError(f"Invalid regular expression: {err.msg}{where}") from None
    except (OverflowError, RecursionError, ValueError) as err:
        raise PatternError(f"Invalid regular expression: {err}") from None
    for probe in _PROBES:
        m = compiled.search(probe)
        if m is not None and m.start() == m.end():
            raise PatternError("The regular expression matches empty text, so it would match every message.")
    position = _nested_repeat(pattern)
    if position is not None:
        raise PatternError(
            "The regular expression repeats a group that itself repeats (like '(a+)+'), which can take "
            f"exponential time on some messages: rewrite it without the nested repeat (position {position})."
        )
    literal = re.sub(r"\\.|\[(?:\\.|[^\]])*\]", "", pattern)  # drop escapes and character classes
    if re.search(r"[^\W\d_]'[^\W\d_]", literal):
        raise PatternError(
            "Regular expressions run on folded text, where apostrophes inside words are removed: write dont, not don't."
        )
    for ch in literal:
        if ch.isalpha() and not ch.isascii() and _fold_char(ch) != ch:
            raise PatternError(
                f"Regular expressions run on folded text, which has no {ch!r}: write "
                f"{_fold_char(ch)!r} instead (accents and look-alike letters are folded)."
            )


def _regex_flags(pattern: str) -> int:
    # The screening form is lowercase; uppercase letters in a pattern (outside
    # escapes such as \S \W \D \B) ask for case-insensitive matching.
    return re.IGNORECASE if re.search(r"[A-Z]", re.sub(r"\\.", "", pattern)) else 0


def _nested_repeat(pattern: str) -> int | None:
    """Position of a group with an unbounded repeat inside that is itself
    repeated without bound ("(a+)+", "(\\w+\\s?)*"), or None.  A cheap scan,
    not a proof: it catches the classic catastrophic shapes."""
    stack = [False]  # per open group: does it contain an unbounded repeat?
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            if i < n and pattern[i] == "]":
                i += 1
            while i < n and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
            i += 1
            continue
        if c == "(":
            stack.append(False)
            i += 1
            continue
        if c == ")":
            inner = stack.pop() if len(stack) > 1 else False
            unbounded, length = _quantifier_at(pattern, i + 1)
            possessive = length and i + 1 + length < n and pattern[i + 1 + length] == "+"
            if inner and unbounded and not possessive:
                return i + 1
            stack[-1] = stack[-1] or inner or unbounded
            i += 1 + length
            continue
        unbounded, length = _quantifier_at(pattern, i)
        if unbounded:
            stack[-1] = True
        i += max(length, 1)
    return None


def _quantifier_at(pattern: str, i: int) -> tuple[bool, int]:
    """(is it an unbounded repeat, its length) for the quantifier at ``i``."""
    if i >= len(pattern):
        return False, 0
    c = pattern[i]
    if c in "*+":
        return True, 1
    if c == "?":
        return False, 1
    if c == "{":
        m = re.match(r"\{(\d*)(,?)(\d*)\}", pattern[i:])
        if m:
            return bool(m.group(2)) and not m.group(3), len(m.group(0))
    return False, 0


# --- regex gates ------------------------------------------------------------------
#
# A regex rule is run only when the message could match it: at compile time the
# parsed pattern is searched for a word it cannot match without (a literal word
# with a word boundary, a space or punctuation on both sides, e.g. "suicide" in
# r"\b(?:commit|attempt)\s+suicide\b", or a choice of such words, e.g.
# {"commit", "attempt"}).  The message's words are a set, so finding which
# gated rules to run is one set intersection however many rules there are.
# Rules without such a word (or if the parser is unavailable) go through one
# combined alternation instead.  Either way every match is found: the gate is a
# necessary condition, never a filter on results.

try:  # the standard library's regular-expression parser (private, but stable since 3.11)
    from re import _constants as _sre  # type: ignore[attr-defined]
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - other Pythons run every regex rule
    _sre = _sre_parse = None


def _gate(pattern: str, flags: int) -> frozenset[str] | None:
    """Keys of which at least one is a word of every text the regex matches, or None."""
    if _sre_parse is None:
        return None
    try:
        words = _sequence_gate(list(_sre_parse.parse(pattern, flags)), depth=0)
    except Exception:
        return None
    return frozenset(_key(w) for w in words) if words else None


_GATE_PRODUCT_LIMIT = 64


def _sequence_gate(items: list, depth: int) -> set[str] | None:
    """Required words of a sequence of parsed regex items (see the comment above)."""
    if len(items) == 1 and items[0][0] is _sre.SUBPATTERN:
        return _sequence_gate(list(items[0][1][-1]), depth)
    if len(items) == 1 and items[0][0] is _sre.BRANCH:  # a|b at the top: one gate per branch
        return _union_of_branches(items, 0, depth)
    candidates: list[set[str]] = []
    k = 0
    while k < len(items):
        if _literal_strings(items[k]) is None:
            k += 1
            continue
        first = k
        strings = {""}
        while k < len(items) and (more := _literal_strings(items[k])) is not None:
            strings = {a + b for a in strings for b in more}
            k += 1
            if len(strings) > _GATE_PRODUCT_LIMIT:
                strings = set()
                break
        if strings:
            choice = _required_word_of_each(strings, _left_bounded(items, first), _right_bounded(items, k - 1))
            if choice:
                candidates.append(choice)
    if candidates:
        return max(candidates, key=lambda words: (min(map(len, words)), -len(words)))
    if depth < 2:  # "\bA|\bB" is parsed as \b(?:A|B): gate each branch in its context
        for k, (op, _av) in enumerate(items):
            if op is _sre.BRANCH:
                return _union_of_branches(items, k, depth + 1)
    return None


def _union_of_branches(items: list, k: int, depth: int) -> set[str] | None:
    branches = items[k][1][1]
    if len(branches) > 16:
        return None
    gates = [_sequence_gate(items[:k] + list(branch) + items[k + 1 :], depth) for branch in branches]
    return set().union(*gates) if all(gates) else None


def _required_word_of_each(strings: set[str], left_ok: bool, right_ok: bool) -> set[str] | None:
    """For each literal string, its longest word that stands alone in the folded text."""
    chosen = set()
    for string in strings:
        pieces = re.split(r"([^\W_]+)", string.lower())  # ["", word, separator, word, ""]
        usable = [
            pieces[n] for n in range(1, len(pieces), 2) if (pieces[n - 1] or left_ok) and (pieces[n + 1] or right_ok)
        ]
        if not usable:
            return None
        chosen.add(max(usable, key=len))
    return chosen


def _literal_strings(item) -> set[str] | None:
    """The strings a literal-only item can match ("a", "[ab]", "(?:x|yz)", "s?"), or None."""
    op, av = item
    if op is _sre.LITERAL:
        return {chr(av)}
    if op is _sre.IN:
        if all(o is _sre.LITERAL for o, _ in av):
            return {chr(a) for _, a in av}
        return None
    if op is _sre.SUBPATTERN:
        return _literal_sequence(list(av[-1]))
    if op is _sre.BRANCH:
        out: set[str] = set()
        for branch in av[1]:
            strings = _literal_sequence(list(branch))
            if strings is None:
                return None
            out |= strings
        return out if len(out) <= _GATE_PRODUCT_LIMIT else None
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and av[0] == 0 and av[1] == 1:
        strings = _literal_sequence(list(av[2]))
        return None if strings is None else strings | {""}
    return None


def _literal_sequence(items: list) -> set[str] | None:
    strings = {""}
    for item in items:
        more = _literal_strings(item)
        if more is None:
            return None
        strings = {a + b for a in strings for b in more}
        if len(strings) > _GATE_PRODUCT_LIMIT:
            return None
    return strings


def _neighbour_index(items: list, k: int, step: int) -> int | None:
    """Index of the nearest element beside ``items[k]`` that consumes text."""
    k += step
    while 0 <= k < len(items) and items[k][0] in (_sre.ASSERT, _sre.ASSERT_NOT):
        k += step
    return k if 0 <= k < len(items) else None


def _left_bounded(items: list, k: int) -> bool:
    """Does whatever precedes ``items[k]`` end a word (\b, ^, a space, punctuation)?"""
    j = _neighbour_index(items, k, -1)
    if j is None:
        return False  # the pattern's own start can fall inside a word
    if _is_boundary(items[j]):
        return True
    if _is_optional(items[j]) and _edge_is_boundary(list(items[j][1][2]), -1):
        return _left_bounded(items, j)  # "(?:so\s+)?word": either way a boundary precedes
    return False


def _right_bounded(items: list, k: int) -> bool:
    j = _neighbour_index(items, k, +1)
    if j is None:
        return False
    if _is_boundary(items[j]):
        return True
    if _is_optional(items[j]) and _edge_is_boundary(list(items[j][1][2]), 0):
        return _right_bounded(items, j)
    return False


def _is_optional(item) -> bool:
    return item[0] in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and item[1][0] == 0


def _edge_is_boundary(items: list, edge: int) -> bool:
    """Is the first (edge 0) or last (edge -1) element of ``items`` always a boundary?"""
    if not items:
        return False
    op, av = items[edge]
    if op is _sre.BRANCH:
        return all(_edge_is_boundary(list(branch), edge) for branch in av[1])
    if op is _sre.SUBPATTERN:
        return _edge_is_boundary(list(av[-1]), edge)
    return _is_boundary(items[edge])


def _is_boundary(item) -> bool:
    """Does ``item`` only match where a word ends (\b, ^, $, spaces, punctuation)?"""
    op, av = item
    if op is _sre.AT:
        return str(av) in ("AT_BOUNDARY", "AT_BEGINNING", "AT_BEGINNING_STRING", "AT_END", "AT_END_STRING")
    if op is _sre.LITERAL:
        return not chr(av).isalnum()
    if op is _sre.IN:
        return all(
            (o is _sre.CATEGORY and str(a) in ("CATEGORY_SPACE", "CATEGORY_NOT_WORD"))
            or (o is _sre.LITERAL and not chr(a).isalnum())
            for o, a in av
        )
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)):
        return av[0] >= 1 and len(av[2]) == 1 and _is_boundary(av[2][0])
    return False


# --- compiling ---------------------------------------------------------------------


@dataclass
class _PhraseEntry:
    rules: list[RuleSpec]
    exempt_for: list[int]


def _record_phrase(entry, span: tuple[int, int], record, exempt) -> None:
    """A phrase key matched the words of ``span``: record its rules' hits and the
    exempt-phrase occurrences it marks."""
    start, end = span
    record(entry.rules, start, end)
    for rule_id in entry.exempt_for:
        exempt.setdefault(rule_id, []).append((start, end))


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
        self._regexes: list[tuple[RuleSpec, re.Pattern[str]]] = []
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

    def _add(self, spec: RuleSpec) -> None:
        if spec.category not in CATEGORIES:
            raise PatternError(f"Unknown category {spec.category!r}: use one of {', '.join(CATEGORIES)}.")
        if spec.action not in ACTIONS:
            raise PatternError(f"Unknown action {spec.action!r}: use one of {', '.join(ACTIONS)}.")
        validate(spec.kind, spec.pattern)
        exempt_keys = []
        for phrase in spec.exempt:
            key = _phrase_key(phrase)
            if not key:
                raise PatternError(f"The exempt phrase {phrase!r} has no letters or digits to match.")
            exempt_keys.append(key)
        pattern = spec.pattern if spec.kind == "regex" else spec.pattern.strip()  # a regex is verbatim
        if spec.kind == "word":
            self._words.setdefault(_key(_WORD.findall(fold(pattern)[0])[0]), []).append(spec)
        elif spec.kind == "phrase":
            self._phrase_entry(_phrase_key(pattern)).rules.append(spec)
        elif pattern in _DETECTORS:
            self._detectors.setdefault(pattern, []).append(spec)
        else:
            self._regexes.append((spec, re.compile(pattern, _regex_flags(pattern))))
        for key in exempt_keys:
            self._phrase_entry(key).exempt_for.append(spec.id)
        self._rules[spec.id] = spec

    def _phrase_entry(self, key: str) -> _PhraseEntry:
        entry = self._phrases.get(key)
        if entry is None:
            entry = self._phrases[key] = _PhraseEntry([], [])
            for end in range(1, len(key) + 1):
                self._prefixes.add(key[:end])
        return entry

    def _build_regex_gates(self) -> None:
        """Gate each regex rule by its required words; combine the rest into one pre-filter."""
        self._gates: dict[str, list[int]] = {}  # word key -> indices into self._regexes
        self._ungated: list[int] = []
        self._prefilter: re.Pattern[str] | None = None
        for index, (_spec, compiled) in enumerate(self._regexes):
            gate = _gate(compiled.pattern, compiled.flags)
            if gate is None:
                self._ungated.append(index)
            else:
                for key in gate:
                    self._gates.setdefault(key, []).append(index)
        parts = []
        for index in self._ungated:
            compiled = self._regexes[index][1]
            if compiled.groupindex or re.search(r"\\\d|\(\?P=", compiled.pattern):
                return  # named groups or back-references cannot be combined: run each rule
            flags = "i" if compiled.flags & re.IGNORECASE else "-i"
            parts.append(f"(?{flags}:{compiled.pattern})")
        if parts:
            try:
                self._prefilter = re.compile("|".join(parts))
            except re.error:
                self._prefilter = None

    # --- matching ---

    def match(self, text: str, circle_id: int | None = None) -> list[Hit]:
        """Hits of the site-wide rules and of ``circle_id``'s rules, in text order."""
        if not text:
            return []
        folded, plain, ps, pe = _screen_form(text)
        ftext, fstarts, fends = folded.text, folded.starts, folded.ends
        keys = _WORD.findall(_SQUEEZE.sub(r"\1", ftext))
        keyset = set(keys)
        spans: list[tuple[int, int]] = []  # word spans in the folded text, built on the first hit

        def span_of(first: int, last: int) -> tuple[int, int]:
            if not spans:
                spans.extend(m.span() for m in _WORD.finditer(ftext))
            return fstarts[spans[first][0]], fends[spans[last][1] - 1]

        found: list[tuple[RuleSpec, int, int]] = []  # (rule, original start, original end)
        exempt: dict[int, list[tuple[int, int]]] = {}

        def record(specs: Iterable[RuleSpec], start: int, end: int) -> None:
            for spec in specs:
                if spec.circle_id is None or spec.circle_id == circle_id:
                    found.append((spec, start, end))

        if folded.alt:
            self._match_words_with_variants(folded, keys, span_of, record, exempt)
        else:
            self._match_words(keys, keyset, span_of, record, exempt)

        if self._regexes:
            to_run = set()
            for key in keyset.intersection(self._gate_keys):
                to_run.update(self._gates[key])
            if self._ungated and (self._prefilter is None or self._prefilter.search(ftext)):
                to_run.update(self._ungated)
            for index in sorted(to_run):
                spec, compiled = self._regexes[index]
                if spec.circle_id is None or spec.circle_id == circle_id:
                    for m in compiled.finditer(ftext):
                        if m.end() > m.start():
                            found.append((spec, fstarts[m.start()], fends[m.end() - 1]))

        for name, specs in self._detectors.items():
            active = [spec for spec in specs if spec.circle_id is None or spec.circle_id == circle_id]
            if active:
                for a, b in _DETECTORS[name](plain, keyset):
                    for spec in active:
                        found.append((spec, ps[a], pe[b - 1]))

        if not found:
            return []
        hits: dict[tuple[int, int, int], Hit] = {}
        for spec, start, end in found:
            if any(s < end and start < e for s, e in exempt.get(spec.id, ())):
                continue
            hits.setdefault(
                (spec.id, start, end),
                Hit(spec.id, spec.category, spec.action, spec.shadow, start, end, text[start:end]),
            )
        return sorted(hits.values(), key=lambda h: (h.start, h.end, h.rule_id))

    def _match_words(self, keys, keyset, span_of, record, exempt) -> None:
        """Word and phrase rules (and exempt phrases), one key per word."""
        words, phrases, prefixes = self._words, self._phrases, self._prefixes
        word_keys = keyset.intersection(self._word_keys)
        start_keys = keyset.intersection(prefixes)
        if not word_keys and not start_keys:
            return
        n = len(keys)
        for i in range(n):
            glued = keys[i]
            if glued in word_keys:
                record(words[glued], *span_of(i, i))
            if glued not in start_keys:
                continue
            # phrases: glue words from i on while the glued key is a prefix of some phrase
            j = i
            while True:
                entry = phrases.get(glued)
                if entry is not None:
                    _record_phrase(entry, span_of(i, j), record, exempt)
                j += 1
                if j == n:
                    break
                glued = _glue(glued, keys[j])
                if glued not in prefixes:
                    break

    def _match_words_with_variants(self, folded, keys, span_of, record, exempt) -> None:
        """As ``_match_words``, trying both readings of ambiguous "1" and "|"."""
        words, phrases, prefixes = self._words, self._phrases, self._prefixes
        spans = [m.span() for m in _WORD.finditer(folded.text)]
        variants = self._variants(folded, spans, keys)
        n = len(keys)
        for i in range(n):
            for key in variants[i]:
                if key in words:
                    record(words[key], *span_of(i, i))
            frontier = [key for key in variants[i] if key in prefixes]
            j = i
            while frontier:
                for glued in frontier:
                    entry = phrases.get(glued)
                if entry is not None:
                    _record_phrase(entry, span_of(i, j), record, exempt)
                j += 1
                if j == n:
                    break
                frontier = [g for glued in frontier for key in variants[j] if (g := _glue(glued, key)) in prefixes]

    @staticmethod
    def _variants(folded: _Folded, spans: list[tuple[int, int]], keys: list[str]) -> list[tuple[str, ...]]:
        """Per word: its key, plus the key with the other reading of "1"/"|"."""
        out: list[tuple[str, ...]] = []
        alt = folded.alt
        for (a, b), key in zip(spans, keys, strict=True):
            positions = [k for k in range(a, b) if k in alt]
            if not positions:
                out.append((key,))
                continue
            chars = list(folded.text[a:b])
            for k in positions:
                chars[k - a] = alt[k]
            other = _key("".join(chars))
            out.append((key, other) if other != key else (key,))
        return out


def compile_rules(specs: Iterable[RuleSpec], *, on_error: str = "raise") -> CompiledRules:
    """Compile a rule set once (per rule-set version).

    ``on_error="raise"`` (the default) raises ``PatternError`` naming the first
    unusable rule; ``"skip"`` leaves such rules out and lists them in
    ``CompiledRules.skipped`` as ``(rule_id, message)`` -- for a screening path
    that must keep working when a bad row slipped past ``validate``.
    """
    return CompiledRules(specs, on_error=on_error)


def redact(text: str, hits: Iterable[Hit], replacement: str = "[removed]") -> str:
    """``text`` with the spans of its non-shadow ``redact`` hits replaced
    (overlapping or touching spans are merged into one replacement)."""
    spans = sorted((h.start, h.end) for h in hits if h.action == "redact" and not h.shadow)
    if not spans:
        return text
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out = []
    pos = 0
    for start, end in merged:
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return "".join(out)
