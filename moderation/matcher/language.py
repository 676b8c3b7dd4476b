"""Language: the keys a word of a message can stand for.

A rule names a phrase once ("end it all") and catches its inflections ("ending
it all", "ended it all"), contractions and slang ("wanna die" = "want to die",
"kms" = "kill myself", "unalive myself"), and articles are optional ("jump off a
bridge" = "jump off the bridge" = "jump off bridge").  Rules and messages are
both reduced to *canonical keys*; a message word also keeps its surface key, so
a quoted rule (``"killed myself"``: only the forms written) still matches.

``analyse(word)`` gives, for one folded word, ``(surface, canonical, *more)``:

* surface   -- the word squeezed (every run of one letter cut to one: "kill" -> "kil")
* canonical -- the slang expansion if the word is slang, else its lemma, squeezed;
  an article's canonical key is "" (skipped in phrases)
* more      -- further readings (an emoji's meaning: "kitchenknife" -> "knife", "kill")

Lemmas: simplemma (English dictionary, pure Python, no model download, works
offline from its PyPI wheel).  Chosen over lemminflect (needs numpy, ~7 µs a
word, 250 ms import) and snowballstemmer (a stemmer: ~50 µs a word in pure
Python, and it does not know irregular forms: "took", "sold", "hung", "gave").
simplemma costs ~0.5 µs a word and knows irregular forms; it leaves most "-ing"
words alone ("ending", "hanging", "cutting"), so those are reduced here when the
shorter form is a known word.

Cost: every result is cached per word in a bounded dict (``_CACHE``).  Many
threads screen at once; the cache is a plain dict whose only operations are a
single ``get`` and a single ``__setitem__`` (each atomic under the GIL), and its
values are immutable tuples computed from the word alone, so two threads at
worst compute the same entry twice.  No other state is shared.
"""

from __future__ import annotations

import simplemma

from .folding import SQUEEZE

# --- slang, contractions, algospeak ------------------------------------------------
# Left out on purpose: "catch the bus" (algospeak for suicide in some corners, but
# almost always the bus here: a false crisis alert costs a member's trust).
# word -> what it stands for (one or more readings).  Apostrophes are gone by
# now: "don't" is "dont", "I'm" is "im".
SLANG: dict[str, tuple[str, ...]] = {
    # contractions and spoken forms
    "wanna": ("want to",),
    "wana": ("want to",),
    "wannna": ("want to",),
    "gonna": ("going to",),
    "gona": ("going to",),
    "gunna": ("going to",),
    "finna": ("going to",),
    "boutta": ("about to",),
    "bouta": ("about to",),
    "gotta": ("got to",),
    "tryna": ("trying to",),
    "hafta": ("have to",),
    "needa": ("need to",),
    "lemme": ("let me",),
    "gimme": ("give me",),
    "kinda": ("kind of",),
    "sorta": ("sort of",),
    "outta": ("out of",),
    "lotta": ("lot of",),
    "youll": ("you will",),
    "itll": ("it will",),
    "theyll": ("they will",),
    "theyd": ("they would",),
    "youd": ("you would",),
    "itd": ("it would",),
    "id": ("i would",),
    "whats": ("what is",),
    "thats": ("that is",),
    "theres": ("there is",),
    "hows": ("how is",),
    "whered": ("where did",),
    "im": ("i am",),
    "ima": ("i am going to",),
    "imma": ("i am going to",),
    "iam": ("i am",),
    "ive": ("i have",),
    "ill": ("i will",),
    "youre": ("you are",),
    "ur": ("you are", "your"),
    "u": ("you",),
    "ya": ("you",),
    "yall": ("you all",),
    "r": ("are",),
    "urself": ("yourself",),
    "ppl": ("people",),
    "bc": ("because",),
    "cuz": ("because",),
    "coz": ("because",),
    "idk": ("i do not know",),
    "idc": ("i do not care",),
    "idgaf": ("i do not care",),
    "rn": ("right now",),
    "tmrw": ("tomorrow",),
    "tmr": ("tomorrow",),
    "2nite": ("tonight",),
    "tn": ("tonight",),
    "pls": ("please",),
    "plz": ("please",),
    "thx": ("thanks",),
    "msg": ("message",),
    "dm": ("message",),
    "pm": ("message",),
    "b4": ("before",),
    "w": ("with",),
    "wo": ("without",),
    "noone": ("no one",),
    "dont": ("do not",),
    "cant": ("can not",),
    "cannot": ("can not",),
    "wont": ("will not",),
    "didnt": ("did not",),
    "doesnt": ("does not",),
    "isnt": ("is not",),
    "wasnt": ("was not",),
    "arent": ("are not",),
    "werent": ("were not",),
    "wouldnt": ("would not",),
    "couldnt": ("could not",),
    "shouldnt": ("should not",),
    "havent": ("have not",),
    "hasnt": ("has not",),
    "hadnt": ("had not",),
    "aint": ("am not",),
    "dunno": ("do not know",),
    "nvm": ("never mind",),
    "tho": ("though",),
    "thru": ("through",),
    "gud": ("good",),
    "luv": ("love",),
    "wat": ("what",),
    "wut": ("what",),
    # self-harm algospeak and abbreviations
    "kms": ("kill myself",),
    "kmys": ("kill myself",),
    "kys": ("kill yourself",),
    "unalive": ("kill",),
    "unalived": ("kill",),
    "unaliving": ("kill",),
    "unalives": ("kill",),
    "sewerslide": ("suicide",),
    "suicde": ("suicide",),
    "suiside": ("suicide",),
    "sucide": ("suicide",),
    "selfharm": ("self harm",),
    "od": ("overdose",),
    "oding": ("overdose",),
    "oded": ("overdose",),
    # sourcing slang
    "ket": ("ketamine",),
    "ketamin": ("ketamine",),
    "keta": ("ketamine",),
    "hmu": ("hit me up",),
    "wtb": ("want to buy",),
    "wts": ("want to sell",),
    "wtt": ("want to trade",),
    "lfs": ("looking for",),
    "lf": ("looking for",),
}
# two- and three-word slang: (words...) -> readings; the words merge into one token
MULTI_SLANG: dict[tuple[str, ...], tuple[str, ...]] = {
    ("sewer", "slide"): ("suicide",),
    ("self", "delete"): ("suicide", "kill myself"),
    ("self", "deleting"): ("suicide", "kill myself"),
    ("self", "deleted"): ("suicide", "kill myself"),
    ("self", "unalive"): ("suicide", "kill myself"),
    ("un", "alive"): ("kill",),
    ("k", "word"): ("ketamine",),
    ("special", "k"): ("ketamine",),
    ("vitamin", "k"): ("ketamine",),
    ("horse", "tranq"): ("ketamine",),
    ("horse", "tranquilizer"): ("ketamine",),
    ("cat", "valium"): ("ketamine",),
    ("k", "hole"): ("khole",),
    ("horseface", "tranq"): ("ketamine",),
    ("horse", "tranquilizers"): ("ketamine",),
}
ARTICLES = frozenset({"a", "an", "the"})
# Where simplemma's English dictionary gives a surprising lemma, or none.
LEMMA_FIXES = {
    "i": "i",
    "me": "me",
    "my": "my",
    "mine": "mine",
    "myself": "myself",
    "you": "you",
    "your": "your",
    "yours": "yours",
    "yourself": "yourself",
    "we": "we",
    "us": "us",
    "our": "our",
    "he": "he",
    "him": "him",
    "his": "his",
    "she": "she",
    "her": "her",
    "they": "they",
    "them": "them",
    "their": "their",
    "it": "it",
    "its": "its",
    "thinking": "think",
    "gone": "go",
    "felt": "feel",
    "dying": "die",
    "lying": "lie",
    "better": "better",
    "worse": "worse",
    "best": "best",
    "worst": "worst",
    "left": "left",
    "saw": "see",
    "leaves": "leave",
    "does": "do",
    "did": "do",
    "done": "do",
    "doing": "do",
    "was": "be",
    "were": "be",
    "been": "be",
    "being": "be",
    "am": "be",
    "is": "be",
    "are": "be",
    "has": "have",
    "had": "have",
    "having": "have",
    "kms": "kms",
    "ending": "end",
    "hanging": "hang",
    "cutting": "cut",
    "selling": "sell",
    "buying": "buy",
    "writing": "write",
    "feeling": "feel",
    "feelings": "feeling",
    "ketamine": "ketamine",
}
UNITS = frozenset({"kms", "km", "mg", "mgs", "ml"})  # after a number these are units: no slang reading

# Emoji become their names (folding: "🔪" -> "kitchenknife"); some stand for a word.
EMOJI_READINGS: dict[str, tuple[str, ...]] = {
    "kitchenknife": ("knife", "kill", "stab", "cut"),
    "dagger": ("knife", "kill", "stab"),
    "pill": ("pill",),
    "syringe": ("syringe", "needle", "inject"),
    "headstone": ("grave", "die", "dead"),
    "coffin": ("coffin", "die", "dead"),
    "funeralurn": ("urn", "die", "dead"),
    "skull": ("skull", "die", "dead"),
    "skullandcrossbones": ("skull", "die", "dead", "poison"),
    "pistol": ("gun", "shoot"),
    "waterpistol": ("gun", "shoot"),
    "bomb": ("bomb",),
    "bridgeatnight": ("bridge",),
    "knot": ("rope", "noose"),
    "locomotive": ("train",),
    "train": ("train",),
    "highspeedtrain": ("train",),
    "railwaytrack": ("train",),
    "dropofblood": ("blood", "bleed"),
    "horse": ("horse",),
    "horseface": ("horse",),
    "electricplug": ("plug",),
    "moneybag": ("money", "cash"),
    "dollarbanknote": ("money", "cash"),
    "moneywithwings": ("money", "cash"),
    "snowflake": ("snow",),
    "wavinghand": ("goodbye",),
}

MAX_LEMMA_WORD = 30  # no dictionary word is longer; a 50,000-letter "word" is not looked up
_CACHE: dict[str, tuple[str, ...]] = {}
_CACHE_LIMIT = 200_000


def squeeze(word: str) -> str:
    return SQUEEZE.sub(r"\1", word)


def lemma(word: str) -> str:
    """The dictionary form of one lowercase word (unsqueezed), or the word."""
    if not word.isalpha() or len(word) > MAX_LEMMA_WORD:
        return word
    fixed = LEMMA_FIXES.get(word)
    if fixed is not None:
        return fixed
    out = simplemma.lemmatize(word, lang="en").lower()
    if out != word:
        return out
    if len(word) > 5 and word.endswith("ing"):  # "ending", "hanging", "cutting", "writing"
        stem = word[:-3]
        for base in (stem, stem + "e", stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] else None):
            if base and simplemma.is_known(base, lang="en"):
                return base
    elif len(word) > 4 and word.endswith("in") and not simplemma.is_known(word, lang="en"):  # "endin", "killin"
        return lemma(word + "g")
    return word


def is_known(word: str) -> bool:
    return simplemma.is_known(word, lang="en")


def glue(left: str, right: str) -> str:
    """Two squeezed keys glued, squeezed again where they meet."""
    if left and right and left[-1] == right[0] and right[0].isalpha():
        return left + right[1:]
    return left + right


def phrase_canonical(words: list[str]) -> str:
    """The canonical key of a sequence of folded words (a rule pattern).  Articles
    inside the phrase are optional; one at either end is kept as written."""
    out = ""
    last = len(words) - 1
    for index, word in enumerate(words):
        keys = analyse(word)
        out = glue(out, keys[0] if word in ARTICLES and index in (0, last) else keys[1])
    return out


def phrase_canonical_steps(words: list[str]) -> tuple[str, ...]:
    """``phrase_canonical`` word by word: the canonical key after each word."""
    out = ""
    steps = []
    last = len(words) - 1
    for index, word in enumerate(words):
        keys = analyse(word)
        out = glue(out, keys[0] if word in ARTICLES and index in (0, last) else keys[1])
        steps.append(out)
    return tuple(steps)


def _reading_key(reading: str) -> str:
    out = ""
    for word in reading.split():
        out = glue(out, squeeze(lemma(word)))
    return out


def analyse(word: str) -> tuple[str, ...]:
    """``(surface, canonical, *more)`` keys of one folded word (see the module docstring)."""
    found = _CACHE.get(word)
    if found is not None:
        return found
    surface = squeeze(word)
    more: tuple[str, ...] = ()
    if word in ARTICLES:
        canon = ""
    elif word in SLANG:
        canon, *rest = (_reading_key(r) for r in SLANG[word])
        more = tuple(rest)
    elif word in EMOJI_READINGS:
        canon, more = surface, tuple(_reading_key(r) for r in EMOJI_READINGS[word])
    else:
        canon = squeeze(lemma(word))
    out = (surface, canon, *(k for k in dict.fromkeys(more) if k not in (surface, canon)))
    if len(_CACHE) < _CACHE_LIMIT:
        _CACHE[word] = out
    return out


_STARTS: dict[str, tuple[str, ...]] = {}


def inner_starts(word: str) -> tuple[str, ...]:
    """Keys a phrase may start with inside a word's multi-word reading: "dont"
    reads "do not", so a phrase "not wake up" may start at its "not"."""
    found = _STARTS.get(word)
    if found is None:
        readings = SLANG.get(word, ())
        found = tuple(
            dict.fromkeys(
                _reading_key(" ".join(parts[k:]))
                for parts in (r.split() for r in readings)
                for k in range(1, len(parts))
            )
        )
        if len(_STARTS) < _CACHE_LIMIT:
            _STARTS[word] = found
    return found


def canonical(word: str) -> str:
    return analyse(word)[1]


def multi_readings(words: tuple[str, ...]) -> tuple[str, ...] | None:
    readings = MULTI_SLANG.get(words)
    if readings is None:
        return None
    return tuple(_reading_key(r) for r in readings)


SLANG_WORDS = frozenset(word for word, readings in SLANG.items() if any(" " in r for r in readings))
INNER_STARTS: dict[str, tuple[str, ...]] = {}  # filled below, once: the slang table is fixed
SPECIAL_WORDS = UNITS | SLANG_WORDS | frozenset(words[0] for words in MULTI_SLANG)
MULTI_FIRST = frozenset(words[0] for words in MULTI_SLANG)
MULTI_LENGTHS = sorted({len(words) for words in MULTI_SLANG}, reverse=True)


def _fill_inner_starts() -> None:
    for word in SLANG_WORDS:
        INNER_STARTS[word] = inner_starts(word)


def warm_up() -> None:
    """Load the lemma dictionary now (about 0.2 s), not on the first message --
    and not in two threads at once."""
    lemma("warming")
    if not INNER_STARTS:
        _fill_inner_starts()
