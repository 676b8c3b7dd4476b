"""Rendering is safe under concurrency (issue 8).

Sends of different circles are stored in parallel worker threads, so
``chat.text.render`` runs in many threads at once.  Every output must be exactly
what a single-threaded render of the same input gives: never empty, never a
crash, never another message's text.
"""

import logging
import random
import threading

import bleach
import pytest
from channels.db import database_sync_to_async as dsa

from chat import text

from .helpers import message_count, stored

THREADS = 8
PER_THREAD = 3000


def _bodies(seed: int, n: int) -> list[str]:
    """Distinct bodies that exercise every part of the pipeline: Markdown,
    escaped HTML, bare links to linkify, Markdown links, lists, entities."""
    rng = random.Random(seed)
    words = ["calm", "breath", "ocean", "session", "integration", "music", "tree", "river", "light", "k-hole"]
    shapes = [
        "**{w}** and *{v}* number {n}",
        "see https://example.org/{w}/{n} about {v}",
        "[{w} notes](https://example.com/{n}) for {v}",
        "- {w} {n}\n- {v}\n- done",
        "1. {w}\n2. {v} {n}",
        "<script>alert({n})</script> {w} & {v} &amp; <b>{n}</b>",
        "line {w}\nline {v}\n\nparagraph {n} www.{w}.example.net",
        "{w} {n} ftp://no.link/{v} mailto:x@y.z",
    ]
    out = []
    for i in range(n):
        shape = shapes[i % len(shapes)]
        out.append(shape.format(w=rng.choice(words), v=rng.choice(words), n=f"{seed}-{i}"))
    return out


def test_render_from_many_threads_matches_single_threaded_render():
    inputs = [_bodies(t, PER_THREAD) for t in range(THREADS)]
    expected = [[text.render(body) for body in bodies] for bodies in inputs]
    assert all(out for outs in expected for out in outs)

    wrong: list[tuple[int, int, str]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def work(t: int) -> None:
        barrier.wait()
        for i, body in enumerate(inputs[t]):
            try:
                got = text.render(body)
            except BaseException as exc:
                errors.append(exc)
                continue
            if got != expected[t][i]:
                wrong.append((t, i, got))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, f"{len(errors)} renders raised, e.g. {errors[0]!r}"
    assert not wrong, f"{len(wrong)} of {THREADS * PER_THREAD} renders differ, e.g. {wrong[:3]}"


def test_markdown_that_draws_nothing_shows_what_was_typed():
    """A list marker or a lone number alone renders no text as Markdown; the reader
    sees the characters typed instead of an empty bubble."""
    for body in ("-", "1.", "*", "+", "- \n-", "2)"):
        html = text.render(body)
        assert text.visible_text(html), (body, html)
        assert text.render_for_storage(body) == html


# --- the invariant at the storing step, through the live room ------------------
# The faults are injected into bleach (a library, not our code) to stand for what
# the race did: a crash inside the HTML parser, or HTML with nothing in it.


@pytest.fixture
def cleaner_fault(monkeypatch):
    """``cleaner_fault(kind)``: from now on bleach's Cleaner raises ("raise") or
    returns blank HTML ("blank", "<p></p>") for every clean."""

    def install(kind: str) -> None:
        def clean(self, html):
            if kind == "raise":
                raise IndexError("pop from empty list")
            return kind

        monkeypatch.setattr(bleach.sanitizer.Cleaner, "clean", clean)

    return install


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fault", ["raise", "", "<p></p>", "<p> <br> </p>"])
async def test_send_whose_rendering_fails_is_refused_and_not_stored(
    connect, circle, people, cleaner_fault, caplog, fault
):
    [(user, _m)] = await dsa(people)(circle)
    room = await connect(user, circle)
    cleaner_fault(fault)
    caplog.set_level(logging.ERROR, logger="chat.text")
    secret = "my words must not reach a log 4471"
    await room.send(type="send", client_id="r-1", body=secret)
    err = await room.error("render_failed")
    assert "not posted" in err["message"]
    assert await dsa(message_count)(circle) == 0
    assert any(r.name == "chat.text" and r.levelno >= logging.ERROR for r in caplog.records)
    assert all(secret not in r.getMessage() and secret not in (r.exc_text or "") for r in caplog.records)
    assert await room.nothing(0.2)
    await room.close()


@pytest.mark.django_db(transaction=True)
async def test_edit_whose_rendering_fails_keeps_the_message(connect, circle, people, cleaner_fault):
    [(user, _m)] = await dsa(people)(circle)
    room = await connect(user, circle)
    await room.send(type="send", client_id="e-1", body="the first words")
    ack = await room.sent()
    cleaner_fault("<p></p>")
    await room.send(type="edit", message=ack["id"], body="new words")
    await room.error("render_failed")
    message = await dsa(stored)(circle, ack["id"])
    assert (message.body, message.html) == ("the first words", "<p>the first words</p>")
    await room.close()
