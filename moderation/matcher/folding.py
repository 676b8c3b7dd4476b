"""Folding: a message -> its plain form and its screening form, each with a map
back to the original text (so every ``Hit`` spans ORIGINAL characters).

* the *plain form* (personal-info detectors run here): every character folded on
  its own -- Unicode compatibility forms, accents dropped, case-folded,
  look-alike letters folded (``confusables.CHAR_MAP``), every decimal digit made
  ASCII, dashes and curly apostrophes made ASCII, control characters made
  spaces, zero-width characters dropped.  Digits stay digits.
* the *screening form* (word, phrase and regex rules run here; ``fold()``
  returns it), built from the plain form: spaced-out single characters joined
  ("k.i.l.l"), look-alike digits and symbols inside words folded ("k1ll"),
  apostrophes inside words dropped, runs of 3+ identical letters cut to two.
  The package docstring has the details.

``key``, ``glue`` and ``phrase_key`` turn words into the keys word and phrase
rules are looked up by.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from anyascii import anyascii
from emoji import EMOJI_DATA

from .confusables import CHAR_MAP as _CHAR_MAP
from .display import displayed

if TYPE_CHECKING:
    re2: Any  # google-re2 publishes no type information (no stubs, no py.typed marker)
else:
    import re2

# ASCII: lowercase, control characters (tab, newline ...) become spaces.
_ASCII_TABLE = dict.fromkeys(range(32), " ")
_ASCII_TABLE[127] = " "
_ASCII_TABLE[ord("`")] = "'"
_ASCII_TABLE.update({ord(c): c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"})

_ASCII_SPECIAL = re.compile(r"[\x00-\x1f\x7f`]")  # what lower() alone would not fold

_FOLD_CACHE: dict[str, str] = {}
_FOLD_CACHE_LIMIT = 50_000


def fold_char(ch: str) -> str:
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
            elif 0x1F1E6 <= ord(ch) <= 0x1F1FF:  # regional indicator letters: 🇰🇮🇱🇱 -> kill
                out = chr(ord("a") + ord(ch) - 0x1F1E6)
            elif cat in ("So", "Sk") and (name := _emoji_name(ch)) is not None:
                out = name
            else:
                pieces = []
                for c in unicodedata.normalize("NFKD", ch):
                    if unicodedata.combining(c):
                        continue
                    for cc in c.casefold():
                        cc = _CHAR_MAP.get(cc, cc)
                        if not cc.isascii() and cc.isalpha():  # a letter the tables miss: transliterate
                            cc = anyascii(cc).lower()
                        pieces.append(cc)
                out = "".join(pieces)
    if len(_FOLD_CACHE) < _FOLD_CACHE_LIMIT:
        _FOLD_CACHE[ch] = out
    return out


def _emoji_name(ch: str) -> str | None:
    """An emoji as one word of its name (the ``emoji`` package's English names):
    "🔪" -> " kitchenknife ", "💊" -> " pill "; skin-tone modifiers vanish."""
    data = EMOJI_DATA.get(ch) or EMOJI_DATA.get(ch + "\ufe0f")
    if data is None:
        return None
    name = data["en"].strip(":").lower()
    if name.endswith("skin_tone"):
        return ""
    return " " + re.sub(r"[^a-z0-9]", "", name) + " "


def plain_form(text: str) -> tuple[str, Sequence[int], Sequence[int]]:
    """Plain form + for each of its characters the original span [start, end)."""
    if text.isascii():  # the maps are the identity: ranges, not lists (they are only read)
        folded = text.translate(_ASCII_TABLE) if _ASCII_SPECIAL.search(text) else text.lower()
        return folded, range(len(text)), range(1, len(text) + 1)
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
            piece = fold_char(text[j])
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


# Letters drawn with several symbols: "|<ill" -> "kill", "|\/|" -> "m".
_SYMBOL_LETTERS = {"|<": "k", "|{": "k", "|\\/|": "m", "|\\|": "n", "|-|": "h", "\\/\\/": "w", "\\/": "v"}
_SYMBOL_LETTER = re.compile("|".join(re.escape(k) for k in sorted(_SYMBOL_LETTERS, key=len, reverse=True)))


def _symbol_letters(plain: str, starts: Sequence[int], ends: Sequence[int]) -> tuple[str, Sequence[int], Sequence[int]]:
    out: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    pos = 0
    for m in _SYMBOL_LETTER.finditer(plain):
        a, b = m.span()
        out.append(plain[pos:a])
        new_starts.extend(starts[pos:a])
        new_ends.extend(ends[pos:a])
        out.append(_SYMBOL_LETTERS[m.group()])
        new_starts.append(starts[a])
        new_ends.append(ends[b - 1])
        pos = b
    if not out:
        return plain, starts, ends
    out.append(plain[pos:])
    new_starts.extend(starts[pos:])
    new_ends.extend(ends[pos:])
    return "".join(out), new_starts, new_ends


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
WORD = re.compile(r"[^\W_]+")
# A word as word and phrase rules see it: letters and digits, and "*" standing
# for censored letters inside it ("k*ll", "f**k") or at its end ("f***").
TOKEN = re.compile(r"[^\W_]+(?:\*+[^\W_]+)*(?:\*\*+)?")
SQUEEZE = re.compile(r"([^\W\d_])\1+")
_TRIPLE = re.compile(r"([^\W\d_])\1\1")
_WORD_SYMBOLS = "'@$!|"
# Where the screening form may differ from the plain form: digits, look-alike
# symbols, apostrophes, 3+ repeated letters, two single characters in a row.
_INTERESTING = re.compile(r"[\d'@$!|]|([^\W\d_])\1\1|(?<![^\W_])[^\W_][\s.\-_*/\\,+~:;'\"]{1,3}[^\W_](?![^\W_])")
# The same for ASCII text (most messages): simpler classes, and digits only where
# they touch a letter (a number alone is never changed).
_INTERESTING_ASCII = re.compile(
    r"[a-z][0-9]|[0-9][a-z]|['@$!|]|([a-z])\1\1|(?<![a-z0-9])[a-z0-9][\s.\-_*/\\,+~:;'\"]{1,3}[a-z0-9](?![a-z0-9])"
)
# Everything above but an apostrophe inside a word: when only those are found
# ("don't", "I'm" -- most messages that change at all), they are simply dropped.
# One RE2 search (a DFA: ~2 µs for 200 characters, where Python's engine took
# ~10 µs for the same alternatives); triple letters are spelled out, as RE2 has
# no back-references.
_RARE_ASCII = re2.compile(
    r"[a-z][0-9]|[0-9][a-z]|[@$!|]|"
    + "|".join(c * 3 for c in "abcdefghijklmnopqrstuvwxyz")
    + r"|(?:^|[^a-z0-9])[a-z0-9][\s.\-_*/\\,+~:;\"]{1,3}[a-z0-9](?:[^a-z0-9]|$)"
    + r"|(?:^|[^a-z])'|'(?:[^a-z]|$)"
)


def _only_inner_apostrophes(plain: str) -> bool:
    """Is an apostrophe inside a word all the screening form may change in ASCII ``plain``?"""
    return _RARE_ASCII.search(plain) is None


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


class Folded:
    """The screening form of one text, with maps back to the original."""

    __slots__ = ("alt", "ends", "starts", "text")

    def __init__(self, text: str, starts: Sequence[int], ends: Sequence[int], alt: dict[int, str]):
        self.text = text
        self.starts = starts  # folded index -> original start
        self.ends = ends  # folded index -> original end (exclusive)
        self.alt = alt  # folded index -> the other reading of an ambiguous "1" or "|"


def _emit_word(
    chars: list[str],
    src: list[int],
    ps: Sequence[int],
    pe: Sequence[int],
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
    for n, (c, k) in enumerate(zip(chars, src, strict=True)):  # chars[i] is plain[src[i]]
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


def screen_form(text: str) -> tuple[Folded, str, Sequence[int], Sequence[int]]:
    """(screening form, plain form, plain starts, plain ends) of ``text``, every
    map pointing into ``text``.

    The text is first taken as readers see it (``display``: Markdown rendered to
    plain text, HTML entities decoded) when it holds any markup."""
    shown = displayed(text)
    if shown is None:
        return _screen_form(text)
    shown_text, shown_starts, shown_ends = shown
    folded, plain, ps, pe = _screen_form(shown_text)
    starts = [shown_starts[i] for i in folded.starts]
    ends = [shown_ends[i - 1] for i in folded.ends]
    ps = [shown_starts[i] for i in ps]
    pe = [shown_ends[i - 1] for i in pe]
    return Folded(folded.text, starts, ends, folded.alt), plain, ps, pe


def _screen_form(text: str) -> tuple[Folded, str, Sequence[int], Sequence[int]]:
    """``screen_form`` of text already as displayed.

    Most words need no change: one search finds the spots that might (digits,
    look-alike symbols, apostrophes, 3+ repeats, two single characters in a
    row), and the plain form is copied in slices around the words there."""
    plain, ps, pe = plain_form(text)
    if "|" in plain or "\\" in plain:
        plain, ps, pe = _symbol_letters(plain, ps, pe)
    if plain.isascii():
        if _only_inner_apostrophes(plain):
            if "'" not in plain:
                return Folded(plain, ps, pe, {}), plain, ps, pe
            return _without_inner_apostrophes(plain, ps, pe)
        search = _INTERESTING_ASCII.search
    else:
        search = _INTERESTING.search
    m = search(plain)
    if m is None:
        return Folded(plain, ps, pe, {}), plain, ps, pe
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
        if run is _NO_LETTERS:  # spaced digits ("1 2 3 …") stay numbers: skip the whole run at once
            m = search(plain, max(_run_end(plain, a), pos))
            continue
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
        return Folded(plain, ps, pe, alt), plain, ps, pe
    out.extend(plain[pos:])
    starts.extend(ps[pos:])
    ends.extend(pe[pos:])
    return Folded("".join(out), starts, ends, alt), plain, ps, pe


def _without_inner_apostrophes(
    plain: str, ps: Sequence[int], pe: Sequence[int]
) -> tuple[Folded, str, Sequence[int], Sequence[int]]:
    """The screening form of ASCII text whose only change is dropping apostrophes
    inside words (each one's span joins the letter before it, as in ``_emit_word``)."""
    starts: list[int] = []
    ends: list[int] = []
    prev = 0
    for k in _all_positions(plain, "'"):
        starts.extend(ps[prev:k])
        ends.extend(pe[prev:k])
        ends[-1] = pe[k]
        prev = k + 1
    starts.extend(ps[prev:])
    ends.extend(pe[prev:])
    return Folded(plain.replace("'", ""), starts, ends, {}), plain, ps, pe


def _all_positions(text: str, ch: str) -> list[int]:
    out = []
    k = text.find(ch)
    while k >= 0:
        out.append(k)
        k = text.find(ch, k + 1)
    return out


MAX_SPACED_RUN = 40  # letters of a spaced-out word looked at, at most


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
    while len(indices) < MAX_SPACED_RUN:  # bounded: "1 1 1 1 …" must not make this quadratic
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
    if len(indices) == 2 and set(plain[indices[0] + 1 : indices[1]]) == {"*"}:
        return None  # "k**l", "f**k": a censored word, not a spaced-out one
    if not all(spaces_only):
        # Punctuated run: keep only the part up to the first bare-space gap.
        if True in spaces_only:
            indices = indices[: spaces_only.index(True) + 1]
        if len(indices) < 2:
            return None
    elif len(indices) < 3:
        return None
    if not any(plain[k].isalpha() for k in indices):
        return _NO_LETTERS
    return indices


_NO_LETTERS: list[int] = []  # a run of single characters without a letter


def _run_end(plain: str, a: int) -> int:
    """Where the run of single characters starting at ``a`` ends (bounded scan)."""
    end = a + 1
    for _ in range(MAX_SPACED_RUN):
        gap = _JOIN_GAP.match(plain, end)
        word = _P_WORD.match(plain, gap.end()) if gap else None
        if word is None or word.end() - word.start() != 1:
            break
        end = word.end()
    return end


def fold(text: str) -> tuple[str, list[int]]:
    """The screening form of ``text`` and, for each of its characters, the index
    of the original character it came from (``len(result) == len(mapping)``).

    This is the string regex rules are searched in (see the package docstring).
    """
    folded = screen_form(text)[0]
    return folded.text, list(folded.starts)


def key(word: str) -> str:
    """A word as rules compare it: every run of one repeated letter squeezed."""
    return SQUEEZE.sub(r"\1", word)


def glue(left: str, right: str) -> str:
    """Two squeezed keys glued, squeezed again where they meet."""
    if left and right and left[-1] == right[0] and right[0].isalpha():
        return left + right[1:]
    return left + right


def phrase_key(pattern: str) -> str:
    """A phrase as rules compare it: its words' keys glued together."""
    out = ""
    for word in WORD.findall(fold(pattern)[0]):
        out = glue(out, key(word))
    return out
