"""The per-author window (a sentence split over several messages) screens only
the seam between the author's last texts and the new one: what a rule can span."""

import pytest

from moderation import screening

pytestmark = pytest.mark.django_db


@pytest.fixture
def crisis_rule(make_rule):
    make_rule("end my life", kind="phrase", category="crisis", action="crisis")
    make_rule("kill myself", kind="phrase", category="crisis", action="crisis")
    screening.forget_compiled_rules()
    screening.recent.forget()
    yield
    screening.recent.forget()


def _urgent(text: str, author=(1, 7)) -> bool:
    return screening.screen(None, text, author=author).decision.verdict.value == "crisis"


def test_a_phrase_split_after_a_long_message_is_still_caught(crisis_rule):
    """The earlier message is long (far beyond the seam); its last words and the
    new message's first words still make the sentence."""
    assert not _urgent("ok " * 400 + "and some nights I really want to end")
    assert _urgent("my life, if I am honest, and then the morning comes " + "quietly " * 300)


def test_three_short_messages_make_one_sentence(crisis_rule):
    assert not _urgent("some nights")
    assert not _urgent("I want to end")
    assert _urgent("my life")


def test_the_seam_is_whole_words_and_a_prefix_of_the_new_text():
    """The earlier side keeps whole words only (a word cut by the character bound
    is dropped, not read as a shorter word: 'hello' cut to 'lo'); the new side
    is a prefix of the text, so hit positions stay positions in the text."""
    before = "hello " + "z" * 197  # the 200-character bound falls inside "hello"
    tail, head = screening._seam(before, "one two three")
    assert tail == "z" * 197
    tail, head = screening._seam(" ".join(f"w{n}" for n in range(40)), "  a b c " + "d " * 30)
    assert tail.split() == [f"w{n}" for n in range(40 - screening.SEAM_WORDS, 40)]
    assert head == ("  a b c " + "d " * 30)[: len(head)] and len(head.split()) == screening.SEAM_WORDS


def test_the_hit_points_into_the_new_text_only(crisis_rule):
    assert not _urgent("I want to end")
    screened = screening.screen(None, "my life and then some", author=(1, 7))
    [hit] = [h for h in screened.hits if h.category == "crisis"]
    assert (hit.start, hit.end) == (0, len("my life"))
    assert hit.matched == "my life"
