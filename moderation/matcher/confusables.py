"""Look-alike characters -> ASCII, for the plain form (see ``folding``).

Data only: ``CHAR_MAP`` maps one code point to its ASCII reading.
"""

# confusables.txt): every single non-ASCII character listed as confusable with an
# ASCII letter, minus those that compatibility decomposition + accent stripping
# already turn into that letter (fullwidth, most mathematical letters), minus
# decimal digits of other scripts (made ASCII digits instead); capital letters
# that look like "l" are taken as "i" (they are capital I look-alikes).
_CONFUSABLE_BY_LETTER = {
    "a": "ɑΑαАаᎪᗅ⍺ꓮ\U000102a0\U00016f40\U0001d6a8\U0001d6c2\U0001d6e2\U0001d6fc\U0001d71c\U0001d736\U0001d756"
    "\U0001d770\U0001d790\U0001d7aa",
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
    "t": "ΤТᎢ⊤⟙Ⲧꓔ\U00010297\U000102b1\U00010315\U000118bc\U00016f0a\U0001d6bb\U0001d6f5\U0001d72f\U0001d769\U0001d7a3"
    "\U0001f768",
    "u": "ʋυՍսሀᑌᴜ∪⋃ꓴꞟꭎꭒ\U000104ce\U000104f6\U000118b8\U000118d8\U00016f42\U0001d6d6\U0001d710\U0001d74a\U0001d784"
    "\U0001d7be",
    "v": "νѴѵᏙᐯᴠ∨⋁ⴸꓦꛟꮩ\U0001051d\U00011706\U000118a0\U000118c0\U00016f08\U0001d20d\U0001d6ce\U0001d708\U0001d742"
    "\U0001d77c\U0001d7b6",
    "w": "ɯѡԜԝաᎳᏔᴡꓪꮃ\U0001170a\U0001170e\U0001170f\U000118ef",
    "x": "×ΧХхᕁᕽ᙭\u166eᚷ╳⤫⤬⨯ⲬⵝꓫꞳ\U00010290\U000102b4\U00010317\U00010322\U00010527\U000118ec\U0001d6be\U0001d6f8"
    "\U0001d732\U0001d76c\U0001d7a6",
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
    "ĸ": "k",
    "қ": "k",
    "Қ": "k",
    "ҝ": "k",
    "Ҝ": "k",
    "ҡ": "k",
    "Ҡ": "k",
    "ӄ": "k",
    "ƙ": "k",
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

CHAR_MAP: dict[str, str] = dict(_EXTRA)
for _letter, _chars in _CONFUSABLE_BY_LETTER.items():
    for _ch in _chars:
        CHAR_MAP.setdefault(_ch, _letter)
del _letter, _chars, _ch
