"""The moderators' review queue in a real browser, live."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from community.apps import MODERATORS_GROUP
from moderation import services as moderation_services
from moderation.models import AuditEntry, Flag
from tests.browser.conftest import PHONE, page_for, shot

pytestmark = pytest.mark.browser


def test_crisis_alert_and_new_item_appear_live_and_a_removal_clears_them(
    daphne_server, make_user, circle, join, chromium
):
    """A crisis message raises a live alert on the queue page and an urgent item;
    the moderator removes it with a reason and it leaves the queue and the room."""
    moderation_services.save_rule(user=None, pattern="end my life", kind="phrase", category="crisis", action="crisis")
    moderator = make_user("queue-mod")
    moderator.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    author, reader = join(make_user("queue-author"), circle), join(make_user("queue-reader"), circle)

    queue = page_for(chromium, daphne_server, moderator, "/moderation/")
    expect(queue.locator("#queue-status")).to_have_attribute("data-state", "live")
    expect(queue.locator("#queue-empty")).to_be_visible()

    room = page_for(chromium, daphne_server, author.user, circle.get_absolute_url(), PHONE)
    other = page_for(chromium, daphne_server, reader.user, circle.get_absolute_url())
    expect(room.locator("#room-status")).to_have_attribute("data-state", "live")
    expect(other.locator("#room-status")).to_have_attribute("data-state", "live")
    room.get_by_label("Your message").fill("tonight I just want to end my life")
    room.get_by_label("Your message").press("Enter")

    # The author is supported privately, at once.
    expect(room.locator(".crisis-card")).to_contain_text("988")
    expect(other.locator(".crisis-card")).to_have_count(0)
    expect(other.locator("li.message", has_text="end my life")).to_be_visible()

    # The moderator sees the alert and the urgent item without reloading.
    expect(queue.locator(".alert-banner")).to_contain_text(author.alias)
    item = queue.locator("li.queue-item.urgent")
    expect(item).to_contain_text(author.alias)
    expect(item).to_contain_text(author.member_number)
    assert "queue-author" not in queue.content()
    shot(queue, "queue-alert")

    item.get_by_label("Decision").select_option("remove")
    item.get_by_label("Reason (kept in the audit log)").fill("Reached out privately; removing for their privacy")
    item.get_by_role("button", name="Apply decision").click()
    expect(queue.locator("li.queue-item")).to_have_count(0)
    expect(other.locator("li.message", has_text="end my life")).to_have_count(0)
    flag = Flag.objects.get()
    assert flag.resolution == "remove" and flag.handled_by == moderator
    assert AuditEntry.objects.filter(action="remove", actor=moderator).exists()
    shot(room, "room-crisis-phone")


def _moderator_queue(chromium, server, make_user, handle: str):
    """A site moderator's live queue page."""
    moderator = make_user(handle)
    moderator.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    queue = page_for(chromium, server, moderator, "/moderation/")
    expect(queue.locator("#queue-status")).to_have_attribute("data-state", "live")
    return moderator, queue


def _live_room(chromium, server, membership, viewport=None):
    page = page_for(chromium, server, membership.user, membership.circle.get_absolute_url(), viewport)
    expect(page.locator("#room-status")).to_have_attribute("data-state", "live")
    return page


def _decide(queue, decision: str, reason: str) -> None:
    item = queue.locator("li.queue-item")
    item.get_by_label("Decision").select_option(decision)
    item.get_by_label("Reason (kept in the audit log)").fill(reason)
    item.get_by_role("button", name="Apply decision").click()


def _held_scene(chromium, server, make_user, join, circle, tag: str):
    """A hold rule on "plug", a moderator's live queue, an author (on a phone)
    and a reader in the room: (queue, author, author's page, reader's page)."""
    moderation_services.save_rule(user=None, pattern="plug", kind="word", category="sourcing", action="hold")
    _moderator, queue = _moderator_queue(chromium, server, make_user, f"hold-mod-{tag}")
    author, reader = join(make_user(f"hold-author-{tag}"), circle), join(make_user(f"hold-reader-{tag}"), circle)
    return queue, author, _live_room(chromium, server, author, PHONE), _live_room(chromium, server, reader)


def _say(page, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.get_by_label("Your message").press("Enter")


def test_an_approved_held_message_replaces_its_placeholder_and_reaches_the_others(
    daphne_server, make_user, circle, join, chromium
):
    """A held message waits on its author's screen only; once a moderator approves
    it in the queue, everyone sees it once, and the author's placeholder is gone."""
    queue, author, room, other = _held_scene(chromium, daphne_server, make_user, join, circle, "1")
    _say(room, "does anyone have a plug for this")
    expect(room.locator("li.message.held")).to_contain_text("waiting for a moderator")
    expect(queue.locator("li.queue-item")).to_contain_text(author.alias)
    expect(other.locator("li.message", has_text="plug for this")).to_have_count(0)

    _decide(queue, "approve", "Asking about a phone charger plug")
    expect(other.locator("li.message", has_text="plug for this")).to_have_count(1)
    expect(room.locator("li.message", has_text="plug for this")).to_have_count(1)
    expect(room.locator("li.message.held")).to_have_count(0)
    expect(room.locator("li.message", has_text="plug for this").locator(".alias")).to_contain_text(author.alias)


def test_a_held_message_the_moderator_removes_leaves_its_author_a_gentle_notice(
    daphne_server, make_user, circle, join, chromium
):
    """Not published after review: the author's placeholder goes, with a calm notice."""
    moderation_services.save_rule(user=None, pattern="plug", kind="word", category="sourcing", action="hold")
    _moderator, queue = _moderator_queue(chromium, daphne_server, make_user, "hold-mod-2")
    room = _live_room(chromium, daphne_server, join(make_user("hold-author-2"), circle), PHONE)
    _say(room, "who has a plug in town")
    expect(room.locator("li.message.held")).to_be_visible()
    expect(queue.locator("li.queue-item")).to_have_count(1)

    _decide(queue, "remove", "Sourcing request")
    expect(room.locator("li.message.held")).to_have_count(0)
    expect(room.locator(".notice[data-code=not_published]")).to_contain_text("did not publish")
    shot(room, "room-held-removed-phone")


def test_a_held_message_still_waits_after_a_reload_and_is_shown_once_when_approved_meanwhile(
    daphne_server, make_user, circle, join, chromium
):
    """The author reloads: the "waiting" placeholder is still there. They leave;
    a moderator approves; when they come back the message is there once, as a
    normal message, with no placeholder left behind."""
    moderation_services.save_rule(user=None, pattern="plug", kind="word", category="sourcing", action="hold")
    _moderator, queue = _moderator_queue(chromium, daphne_server, make_user, "hold-mod-3")
    author = join(make_user("hold-author-3"), circle)
    room = _live_room(chromium, daphne_server, author, PHONE)
    _say(room, "is there a plug adapter here")
    expect(room.locator("li.message.held")).to_be_visible()
    room.reload()
    expect(room.locator("#room-status")).to_have_attribute("data-state", "live")
    expect(room.locator("li.message.held")).to_contain_text("plug adapter")
    expect(room.locator("li.message.held")).to_contain_text("waiting for a moderator")
    room.close()

    _decide(queue, "approve", "A travel adapter question")
    expect(queue.locator("li.queue-item")).to_have_count(0)
    back = _live_room(chromium, daphne_server, author, PHONE)
    expect(back.locator("li.message", has_text="plug adapter")).to_have_count(1)
    expect(back.locator("li.message.held")).to_have_count(0)


def test_an_edit_held_for_review_waits_on_its_authors_screen_and_returns_in_place(
    daphne_server, make_user, circle, join, chromium
):
    """A published message edited into something held: it leaves the other
    member's screen, stays on its author's marked "waiting", and once approved
    both see it once, in its place, marked edited."""
    queue, _author, room, other = _held_scene(chromium, daphne_server, make_user, join, circle, "4")
    _say(room, "good morning, circle")
    expect(other.locator("li.message", has_text="good morning, circle")).to_be_visible()

    mine = room.locator("li.message", has_text="good morning, circle")
    mine.get_by_role("button", name="Edit").click()
    room.get_by_label("Edit your message").fill("good morning, circle, does anyone have a plug adapter")
    room.get_by_role("button", name="Save").click()
    expect(other.locator("li.message", has_text="good morning")).to_have_count(0)
    waiting = room.locator("li.message.held")
    expect(waiting).to_contain_text("plug adapter")
    expect(waiting).to_contain_text("waiting for a moderator")

    _decide(queue, "approve", "A travel adapter")
    for page in (room, other):
        expect(page.locator("li.message", has_text="plug adapter")).to_have_count(1)
        expect(page.locator("li.message", has_text="plug adapter")).to_contain_text("edited")
    expect(room.locator("li.message.held")).to_have_count(0)
