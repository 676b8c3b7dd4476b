"""Message text (chat.text): normalising a body, rendering the Markdown subset to the
only HTML that reaches a screen, and the storing step's invariant."""

import unicodedata
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat import text
from core.errors import DomainError, ErrorCode
from realtime.protocol import MAX_BODY_CHARS


def refused(body) -> DomainError:
    with pytest.raises(DomainError) as caught:
        text.normalise(body)
    return caught.value


# --- normalise -------------------------------------------------------------------------


def test_normalise_composes_characters_to_nfc():
    """A letter followed by a combining accent becomes the one composed character."""
    assert text.normalise("cafe\u0301 A\u030a") == "caf\u00e9 \u00c5"


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b", "\x0b", "\x0c"])
def test_normalise_strips_control_characters(char):
    """C0 and C1 control characters (tab and newline aside) are removed."""
    assert text.normalise(f"a{char}b") == "ab"


@pytest.mark.parametrize(
    "char",
    [
        "\u202a",  # left-to-right embedding
        "\u202b",  # right-to-left embedding
        "\u202c",  # pop directional formatting
        "\u202d",  # left-to-right override
        "\u202e",  # right-to-left override
        "\u2066",  # left-to-right isolate
        "\u2067",  # right-to-left isolate
        "\u2068",  # first strong isolate
        "\u2069",  # pop directional isolate
        "\u200e",  # left-to-right mark
        "\u200f",  # right-to-left mark
        "\u061c",  # Arabic letter mark
        "\u200b",  # zero-width space
        "\u2060",  # word joiner
        "\ufeff",  # byte order mark
        "\u00ad",  # soft hyphen
    ],
)
def test_normalise_strips_format_characters_including_bidi_controls(char):
    """Format characters can disguise text (a reversed file name, an invisible word)."""
    assert text.normalise(f"invoice{char}gpj.exe") == "invoicegpj.exe"


@pytest.mark.parametrize(
    "emoji",
    [
        "\N{MAN}\u200d\N{WOMAN}\u200d\N{GIRL}",  # a family: zero-width joiners
        "\N{WAVING WHITE FLAG}\ufe0f\u200d\N{RAINBOW}",  # a rainbow flag: a variation selector too
    ],
)
def test_normalise_keeps_zero_width_joiner_sequences_whole(emoji):
    """The zero-width joiner, a format character, is kept: emoji sequences need it."""
    assert text.normalise(f"hello {emoji}") == f"hello {emoji}"


def test_normalise_turns_a_tab_into_a_space():
    """A tab becomes one space."""
    assert text.normalise("a\tb") == "a b"


def test_normalise_unifies_line_endings():
    """CR LF and a lone CR become LF."""
    assert text.normalise("one\r\ntwo\rthree\nfour") == "one\ntwo\nthree\nfour"


def test_normalise_squeezes_runs_of_blank_lines_to_one():
    """Three or more line breaks in a row become two: at most one blank line."""
    assert text.normalise("a\n\n\n\n\nb\r\n\r\n\r\nc\n\nd") == "a\n\nb\n\nc\n\nd"


def test_normalise_trims_whitespace_around_the_text():
    """Whitespace and blank lines before and after the text are removed."""
    assert text.normalise("  \n\t hello there \n\n ") == "hello there"


@pytest.mark.parametrize("body", ["", "   ", "\n\n\t\r\n", "\u202e\u200b\ufeff", "\x00\x01 \x7f", "\u3000\u00a0"])
def test_normalise_refuses_a_body_with_nothing_left_as_empty_body(body):
    """A body of nothing but whitespace, control or format characters is EMPTY_BODY."""
    assert refused(body).code == ErrorCode.EMPTY_BODY


def test_normalise_accepts_a_body_of_exactly_the_length_limit():
    """A body of exactly MAX_BODY_CHARS characters is accepted whole."""
    assert len(text.normalise("a" * MAX_BODY_CHARS)) == MAX_BODY_CHARS


def test_normalise_refuses_a_body_over_the_length_limit_as_too_large_with_the_limit():
    """One character over is TOO_LARGE, with the limit."""
    err = refused("a" * (MAX_BODY_CHARS + 1))
    assert (err.code, err.extra) == (ErrorCode.TOO_LARGE, {"limit": MAX_BODY_CHARS})


def test_normalise_counts_the_length_after_normalising():
    """What was stripped or composed does not count: 8,000 code points that compose
    to 4,000 characters, and invisible characters around them, are within bounds."""
    assert text.normalise("e\u0301" * MAX_BODY_CHARS) == "\u00e9" * MAX_BODY_CHARS
    assert text.normalise("\u200b" * 50 + "a" * MAX_BODY_CHARS + "\x00" * 50) == "a" * MAX_BODY_CHARS


def test_normalise_accepts_exactly_the_line_limit():
    """A body of exactly MAX_BODY_LINES lines is accepted."""
    body = "\n".join(["line"] * text.MAX_BODY_LINES)
    assert text.normalise(body) == body


def test_normalise_refuses_one_line_over_the_limit_as_too_large():
    """One line more is TOO_LARGE."""
    assert refused("\n".join(["line"] * (text.MAX_BODY_LINES + 1))).code == ErrorCode.TOO_LARGE


def test_normalise_counts_lines_after_squeezing_blank_ones():
    """Thirty paragraphs apart by many blank lines are 59 lines once squeezed."""
    body = "\n\n\n\n".join(["para"] * 30)
    assert text.normalise(body).count("\n") == 58


@pytest.mark.parametrize("body", [None, b"hello", 5, ["hello"], {"text": "hello"}])
def test_normalise_refuses_a_body_that_is_not_text_as_bad_frame(body):
    """A body that is not a string (null, bytes, a number, a list, an object) is BAD_FRAME."""
    assert refused(body).code == ErrorCode.BAD_FRAME


@pytest.mark.parametrize("body", ["e\u200b\u0301", "e\u202e\u0301", "a\u00ad\u0308"])
def test_normalised_text_is_nfc_and_normalising_again_changes_nothing(body):
    """The result is in NFC even when a stripped character stood between a letter and
    its accent, so normalising it again gives the same text."""
    once = text.normalise(body)
    assert unicodedata.is_normalized("NFC", once)
    assert text.normalise(once) == once


# --- render: the allowed subset --------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "html"),
    [
        ("**calm**", "<p><strong>calm</strong></p>"),
        ("*calm*", "<p><em>calm</em></p>"),
        ("_calm_", "<p><em>calm</em></p>"),
        ("**bold *and italic* too**", "<p><strong>bold <em>and italic</em> too</strong></p>"),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("1. one\n2. two", "<ol>\n<li>one</li>\n<li>two</li>\n</ol>"),
        ("one\ntwo", "<p>one<br>\ntwo</p>"),
        ("one\n\ntwo", "<p>one</p>\n<p>two</p>"),
        ("a & b < c", "<p>a &amp; b &lt; c</p>"),
    ],
)
def test_render_draws_the_markdown_subset(body, html):
    """Bold, italic, bulleted and numbered lists, line breaks and paragraphs become
    their HTML; ``&`` and ``<`` are escaped."""
    assert text.render(body) == html


def test_render_gives_a_markdown_link_nofollow_noopener():
    """A Markdown link to an http(s) address keeps it, with rel="nofollow noopener"."""
    assert text.render("[notes](https://example.org/notes)") == (
        '<p><a href="https://example.org/notes" rel="nofollow noopener">notes</a></p>'
    )


@pytest.mark.parametrize(
    ("body", "html"),
    [
        (
            "see https://example.org/a?b=1&c=2 now",
            '<p>see <a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener">'
            "https://example.org/a?b=1&amp;c=2</a> now</p>",
        ),
        ("www.example.net", '<p><a href="http://www.example.net" rel="nofollow noopener">www.example.net</a></p>'),
    ],
)
def test_render_links_a_bare_url(body, html):
    """A bare http(s) or www address becomes a link (www ones to http), nofollow noopener."""
    assert text.render(body) == html


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("[x](javascript:alert(1))", "[x](javascript:alert(1))"),
        ("[x](data:text/html;base64,PGI+)", "[x](data:text/html;base64,PGI+)"),
        ("[x](ftp://example.org/file)", "[x](ftp://example.org/file)"),
        ("[x](mailto:a@example.org)", "[x](mailto:a@example.org)"),
        ("[x](//example.org)", "[x](//example.org)"),
        ("[x](/relative/path)", "[x](/relative/path)"),
        ("write to a@example.org", "write to a@example.org"),
        ("mailto:a@example.org", "mailto:a@example.org"),
    ],
)
def test_render_shows_a_link_that_is_not_http_as_typed(body, shown):
    """A link to anything but an absolute http(s) address (javascript:, data:, ftp:,
    mailto:, protocol-relative, relative) shows as the text typed; e-mail addresses
    are not linked."""
    html = text.render(body)
    assert "<a" not in html
    assert text.visible_text(html) == shown


@pytest.mark.parametrize(
    ("body", "html"),
    [
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("<b>loud</b>", "<p>&lt;b&gt;loud&lt;/b&gt;</p>"),
        ("<img src=x onerror=alert(1)>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>"),
        ("<!-- hidden -->", "<p>&lt;!-- hidden --&gt;</p>"),
    ],
)
def test_render_escapes_raw_html(body, html):
    """Raw HTML, including comments, is shown as the text typed."""
    assert text.render(body) == html


@pytest.mark.parametrize(
    ("body", "html"),
    [
        ("# Title", "<p># Title</p>"),
        ("`code`", "<p>`code`</p>"),
        ("```\ncode\n```", "<p>```<br>\ncode<br>\n```</p>"),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "<p>| a | b |<br>\n|---|---|<br>\n| 1 | 2 |</p>"),
        ("> quoted", "<p>&gt; quoted</p>"),
        ("---", "<p>---</p>"),
    ],
)
def test_render_shows_headings_code_tables_quotes_and_rules_as_text(body, html):
    """Markdown outside the subset (headings, code, tables, quotes, rules) is shown as typed."""
    assert text.render(body) == html


def test_render_shows_an_image_as_a_link_never_an_img():
    """Image syntax is not enabled: it shows as "!" and a link to the image, never an <img>."""
    assert text.render("![a cat](https://example.org/cat.png)") == (
        '<p>!<a href="https://example.org/cat.png" rel="nofollow noopener">a cat</a></p>'
    )


@pytest.mark.parametrize("body", ["a &lt;b&gt; c", "AT&amp;T", "abc&#x202e;fed", "&nbsp;", "hi&#8203;"])
def test_render_shows_a_typed_entity_as_typed(body):
    """What looks like an HTML entity is text like any other: ``&#x202e;`` must not
    become the bidi override normalise strips, nor ``&nbsp;`` a blank message."""
    assert text.visible_text(text.render(body)) == body


# --- visible_text and the storing step -------------------------------------------------


@pytest.mark.parametrize(
    ("html", "visible"),
    [
        ("<p>a &amp; b</p>", "a & b"),
        ('<p><a href="https://e.org" rel="nofollow noopener">link</a></p>', "link"),
        ("<ul>\n<li>one</li>\n</ul>", "one"),
        ("<p></p>", ""),
        ("<p> <br>\n </p>", ""),
        ("", ""),
    ],
)
def test_visible_text_is_what_a_reader_sees(html, visible):
    """``visible_text`` is the HTML's text without tags, entities decoded, trimmed."""
    assert text.visible_text(html) == visible


def test_render_for_storage_of_ordinary_text_is_its_rendering():
    """For ordinary text the storing step stores exactly what ``render`` gives."""
    body = "**thank you** for [this](https://example.org)"
    assert text.render_for_storage(body) == text.render(body)


@pytest.mark.parametrize("body", ["-", "1.", "- \n-", "[](https://example.org)"])
def test_render_for_storage_of_markdown_that_draws_nothing_shows_what_was_typed(body):
    """An empty list item or an empty link draws nothing as Markdown: the characters
    typed are shown instead, so the message is never an empty bubble."""
    html = text.render_for_storage(body)
    assert text.visible_text(html) == body
    assert html.startswith("<p>")


# --- properties --------------------------------------------------------------------------

_TOKENS = [
    "**",
    "*",
    "_",
    "__",
    "- ",
    "1. ",
    "2) ",
    "+ ",
    "[",
    "]",
    "(",
    ")",
    "](",
    "![",
    "https://example.org/p?q=1&r=2",
    "http://x.io",
    "www.example.net",
    "javascript:alert(1)",
    "ftp://f.example",
    "mailto:a@b.example",
    '"',
    "'",
    "<",
    ">",
    '<a href="https://e.org" onclick="x()">',
    "</a>",
    "<script>",
    "<img src=x onerror=alert(1)>",
    "`",
    "#",
    "|",
    "\\",
    "\n",
    "\n\n",
    " ",
    "\t",
    "\u202e",
    "\u200d",
    "\u00e9",
    "\N{SEEDLING}",
    "word",
]
# Any character but a surrogate (the parser refuses those before normalise sees them).
_CHARS = st.integers(min_value=0, max_value=0x10FFFF).filter(lambda n: not 0xD800 <= n <= 0xDFFF).map(chr)
_BODIES = st.lists(st.sampled_from(_TOKENS) | st.text(_CHARS, max_size=3), max_size=30).map("".join)


class _Tags(HTMLParser):
    """Every start tag with its attributes, and anything that is not a tag or text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.other: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_comment(self, data):
        self.other.append(f"comment {data!r}")

    def handle_decl(self, decl):
        self.other.append(f"declaration {decl!r}")

    def handle_pi(self, data):
        self.other.append(f"processing instruction {data!r}")


def _normalised(body: str) -> str | None:
    try:
        return text.normalise(body)
    except DomainError:
        return None


@given(_BODIES)
def test_render_of_any_text_has_only_allowed_tags_and_attributes(body):
    """Whatever a member types, the HTML has only the allowed tags and attributes, no
    comments or declarations, and every link is http(s) with rel="nofollow noopener"."""
    clean = _normalised(body)
    if clean is None:
        return
    parser = _Tags()
    parser.feed(text.render(clean))
    parser.close()
    assert parser.other == []
    for tag, attrs in parser.tags:
        assert tag in text.ALLOWED_TAGS, tag
        assert set(attrs) <= set(text.ALLOWED_ATTRIBUTES.get(tag, [])), (tag, attrs)
        if tag == "a":
            assert (attrs.get("href") or "").startswith(("http://", "https://")), attrs
            assert attrs.get("rel") == "nofollow noopener", attrs


@given(_BODIES)
def test_render_of_any_text_that_normalises_shows_something(body):
    """The storing step's invariant: a body left non-empty by normalise renders to
    HTML with visible text (Markdown that draws nothing shows what was typed).
    Bodies with '&' are left to test_render_shows_a_typed_entity_as_typed above."""
    clean = _normalised(body.replace("&", "+"))
    if clean is None:
        return
    html = text.render(clean)
    assert text.visible_text(html)
    assert text.render_for_storage(clean) == html
