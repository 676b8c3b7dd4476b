"""What the library accepts as input (library.text): plain one-line fields, the
Markdown-subset body, http(s) links, track lists, prompts, tags."""

import pytest

from core.errors import DomainError, ErrorCode
from library import text


def refused(call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert caught.value.message
    return caught.value


@pytest.mark.parametrize(
    "value",
    [
        "<script>alert(1)</script>",
        "Breathing</p><p>",
        "<img src=x onerror=alert(1)>",
        "<!-- hidden -->",
        "click javascript:alert(1)",
    ],
)
def test_markup_in_a_title_is_refused_with_the_field(value):
    """A title is plain text: HTML or a script link is refused, naming the field."""
    err = refused(text.line, value, field="title", label="The title", max_len=120)
    assert err.code in (ErrorCode.INVALID, ErrorCode.BAD_LINK)
    assert err.extra["field"] == "title"


@pytest.mark.parametrize(
    "value", ["I <3 this", "a < b and 5 > 3", "<= 10 minutes", "< script> is shown as text", "Box (4 · 4)"]
)
def test_plain_text_with_angle_brackets_is_kept(value):
    assert text.line(value, field="title", label="The title", max_len=120) == value


def test_a_title_is_one_clean_line_within_its_bound():
    assert text.line("  Slow\n breathing\u202e  ", field="t", label="T", max_len=120) == "Slow breathing"
    assert refused(text.line, "x" * 121, field="t", label="T", max_len=120).code == ErrorCode.TOO_LARGE
    assert refused(text.line, "   ", field="t", label="T", max_len=120).code == ErrorCode.INVALID


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>",
        "see [this](javascript:alert(1))",
        "see [this](data:text/html;base64,PHNjcmlwdD4=)",
        "see [this](/accounts/delete/)",
        "vbscript:msgbox",
    ],
)
def test_script_or_non_web_links_in_a_body_are_refused(body):
    err = refused(text.body, body, field="body")
    assert err.code in (ErrorCode.INVALID, ErrorCode.BAD_LINK)
    assert err.extra["field"] == "body"


def test_a_body_renders_the_markdown_subset_and_never_an_image():
    body = text.body("**Breathe** slowly.\n\n- in\n- out\n\n![a cat](https://example.org/cat.png)")
    html = text.render(body)
    assert "<strong>Breathe</strong>" in html and "<li>in</li>" in html
    assert "<img" not in html


def test_an_oversize_body_is_refused_with_its_limit():
    err = refused(text.body, "a" * (text.BODY_MAX + 1))
    assert err.code == ErrorCode.TOO_LARGE and err.extra["limit"] == text.BODY_MAX


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
        "ftp://example.org/file",
        "//example.org/x",
        "example.org",
        "https://user:secret@example.org/",
        'https://example.org/"onmouseover="x',
        "https://example.org/a b",
        "https://localhost/",
        "https:///nohost",
        "https://example.org:99999/",
    ],
)
def test_a_link_that_is_not_a_plain_http_address_is_refused(url):
    err = refused(text.link, url)
    assert err.code in (ErrorCode.BAD_LINK, ErrorCode.TOO_LARGE)


@pytest.mark.parametrize("url", ["https://988lifeline.org", "http://example.org/a?b=c#d", "https://ex.org/ü"])
def test_web_links_are_kept_as_typed(url):
    assert text.link(url) == url


def test_tracks_are_read_line_by_line_with_their_lengths():
    tracks = text.tracks(
        "Low tide | Any ambient artist | 6:30\n\nLong | | 1:02:03 | https://example.org/t\nShort | x | 6 min"
    )
    assert [(t.title, t.artist, t.seconds, t.link) for t in tracks] == [
        ("Low tide", "Any ambient artist", 390, ""),
        ("Long", "", 3723, "https://example.org/t"),
        ("Short", "x", 360, ""),
    ]
    assert text.tracks_text(tracks).splitlines()[1] == "Long |  | 1:02:03 | https://example.org/t"


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("Just a title", "title | artist | length"),
        ("A | B | soon", "length"),
        ("A | B | 4:75", "length"),
        ("<b>A</b> | B | 4:00", "HTML"),
        ("A | <script> | 4:00", "HTML"),
        ("A | B | 4:00 | javascript:alert(1)", "https://"),
        ("A | B | 4:00 | ftp://x.org/a", "https://"),
        ("A | B | 4:00:00", "3 hours"),
    ],
)
def test_a_bad_track_line_is_refused_naming_the_track(line, says):
    err = refused(text.tracks, "Fine | Artist | 3:00\n" + line)
    assert "Track 2" in err.message and says in err.message
    assert err.extra["field"] == "tracks"


def test_prompts_and_tags_are_bounded_plain_text():
    assert text.prompts("What do I hope for?\n\n  What helps me feel safe?  ") == [
        "What do I hope for?",
        "What helps me feel safe?",
    ]
    assert refused(text.prompts, "fine\n<script>x</script>").extra["field"] == "prompts"
    assert text.tags("#Gratitude, body,  dream , body") == ["gratitude", "body", "dream"]
    assert refused(text.tags, "ok, <b>").code == ErrorCode.INVALID
    assert refused(text.tags, ",".join(f"t{n}" for n in range(11))).code == ErrorCode.TOO_LARGE


@pytest.mark.parametrize(("seconds", "shown"), [(59, "0:59"), (270, "4:30"), (3723, "1:02:03")])
def test_lengths_read_back_as_typed(seconds, shown):
    assert text.format_length(seconds) == shown
    assert text.parse_length(shown) == seconds
