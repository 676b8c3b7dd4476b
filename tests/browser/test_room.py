"""The live room in a real browser against a real Daphne process."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from chat import services as chat_services
from community.models import Membership
from tests.browser.conftest import PHONE, page_for, shot
from tests.browser.roomkit import in_viewport

pytestmark = pytest.mark.browser


def open_room(browser, server, user, circle, viewport=None):
    page = page_for(browser, server, user, circle.get_absolute_url(), viewport)
    # Every question is an in-page dialog: a native one would be a bug.
    page.on("dialog", lambda dialog: pytest.fail(f"native {dialog.type} dialog: {dialog.message}"))
    expect(page.locator("#room-status")).to_have_attribute("data-state", "live")
    return page


def test_two_members_chat_live_and_a_removal_disappears(daphne_server, make_user, circle, join, chromium):
    """Two members see each other's messages live; a facilitator removes one and it
    disappears from the other member's screen."""
    a_user, b_user, f_user = make_user("river-a"), make_user("river-b"), make_user("river-guide")
    a, b = join(a_user, circle), join(b_user, circle)
    join(f_user, circle, Membership.Role.FACILITATOR)

    page_a = open_room(chromium, daphne_server, a_user, circle)
    page_b = open_room(chromium, daphne_server, b_user, circle, viewport=PHONE)
    page_f = open_room(chromium, daphne_server, f_user, circle)
    expect(page_a.locator("#messages-empty")).to_be_visible()

    page_a.get_by_label("Your message").fill("Something **shifted** for me today.")
    page_a.get_by_label("Your message").press("Enter")
    from_a = page_b.locator("li.message", has_text="shifted for me today")
    expect(from_a).to_be_visible()
    expect(from_a.locator("strong", has_text="shifted")).to_be_visible()
    expect(from_a.locator(".alias")).to_have_text(a.alias)

    page_b.get_by_label("Your message").fill("Thank you for sharing that.")
    page_b.get_by_role("button", name="Send").click()
    expect(page_a.locator("li.message", has_text="Thank you for sharing")).to_be_visible()
    expect(page_a.locator("li.message", has_text="Thank you for sharing").locator(".alias")).to_have_text(b.alias)

    # Presence shows both aliases, never a handle.
    expect(page_a.locator("#presence-list")).to_contain_text(b.alias)
    assert "river-b" not in page_a.content()

    # Facilitator controls are shown to the facilitator only.
    expect(page_f.locator("#facilitator-controls")).to_be_visible()
    expect(page_b.locator("#facilitator-controls")).to_have_count(0)

    page_f.locator("li.message", has_text="shifted for me today").get_by_role("button", name="More actions").click()
    page_f.locator("#actions-dialog").get_by_role("button", name="Remove for everyone…").click()
    page_f.locator("#remove-dialog").get_by_label("Reason (kept in the audit log)").fill("off topic")
    page_f.locator("#remove-dialog").get_by_role("button", name="Remove message").click()
    expect(page_b.locator("li.message", has_text="shifted for me today")).to_have_count(0)
    expect(page_a.locator("li.message", has_text="shifted for me today")).to_have_count(0)
    shot(page_b, "room-phone")


def test_page_shows_reconnecting_and_resumes_after_a_restart(daphne_factory, make_user, circle, join, chromium):
    """When Daphne stops, the page says it is reconnecting; when Daphne is back it
    resumes and shows what was posted meanwhile."""
    server = daphne_factory()
    a_user, b_user = make_user("tide-a"), make_user("tide-b")
    join(a_user, circle)
    b = join(b_user, circle)
    page = open_room(chromium, server, a_user, circle)
    page.get_by_label("Your message").fill("before the restart")
    page.get_by_label("Your message").press("Enter")
    expect(page.locator("li.message:not(.pending)", has_text="before the restart")).to_be_visible()

    server.stop()  # SIGTERM: the server says goodbye with 1012 (restarting)
    expect(page.locator("#room-status")).to_have_attribute("data-state", "reconnecting")
    expect(page.locator("#room-status")).to_contain_text("Reconnecting")
    expect(page.locator("#connection-note")).to_contain_text("The room is restarting.")
    # Another member posts while this page is disconnected (stored in the database;
    # run off this thread, where Playwright's event loop lives).
    with ThreadPoolExecutor(1) as pool:
        pool.submit(chat_services.post_message, _ctx(b), client_id="during", body="posted while you were away").result()

    # Written while disconnected: kept, and said so beside the message box.
    page.get_by_label("Your message").fill("written while offline")
    page.get_by_label("Your message").press("Enter")
    waiting = page.locator("#composer-pending")
    expect(waiting).to_contain_text("1 message waiting to send")
    assert in_viewport(page, waiting) and in_viewport(page, page.locator("#connection-note"))

    daphne_factory(port=server.port)  # back on the same address
    expect(page.locator("li.message", has_text="posted while you were away")).to_be_visible(timeout=40_000)
    expect(page.locator("#room-status")).to_have_attribute("data-state", "live")
    assert page.locator("li.message", has_text="before the restart").count() == 1
    expect(page.locator("li.message:not(.pending)", has_text="written while offline")).to_have_count(1)
    expect(waiting).to_be_hidden()


@pytest.mark.services
def test_a_message_the_server_cannot_store_stays_waiting_and_goes_when_the_database_returns(
    daphne_factory, make_user, circle, join, chromium
):
    """The database cut under a running Daphne: the send is refused with
    ``unavailable``; the page keeps the words waiting (not given back as an
    error), says when it tries again, and stores them once the database returns."""
    from chat.models import Message
    from tests.conftest import _database_url
    from tests.live.outages import DatabaseCut

    cut = DatabaseCut(_database_url())
    try:
        server = daphne_factory(DATABASE_URL=cut.url)
        user = make_user("cut-writer")
        join(user, circle)
        page = open_room(chromium, server, user, circle)
        cut.cut(6)
        page.get_by_label("Your message").fill("written while the database is away")
        page.get_by_label("Your message").press("Enter")
        note = page.locator("#notices .notice[data-code=unavailable]")
        expect(note).to_contain_text("kept here and sent again in")
        expect(page.locator("li.message.pending", has_text="database is away")).to_have_count(1)
        expect(page.locator("#composer-body")).to_have_value("")
        stored = page.locator("li.message:not(.pending)", has_text="written while the database is away")
        expect(stored).to_have_count(1, timeout=60_000)
        expect(note).to_have_count(0)
    finally:
        cut.stop()
    assert Message.objects.filter(circle=circle, body="written while the database is away").count() == 1


def _ctx(membership):
    return chat_services.RoomContext(
        membership.user_id, membership.circle_id, membership.pk, membership.alias, membership.role
    )


def test_closing_the_room_makes_it_read_only_for_members_live(daphne_server, make_user, circle, join, chromium):
    """The facilitator closes the room: the member's composer and reactions are
    disabled at once with a calm note; reopening enables them again."""
    a_user, f_user = make_user("shore-a"), make_user("shore-guide")
    join(a_user, circle)
    join(f_user, circle, Membership.Role.FACILITATOR)
    page_f = open_room(chromium, daphne_server, f_user, circle)
    page_a = open_room(chromium, daphne_server, a_user, circle, viewport=PHONE)
    page_f.get_by_label("Your message").fill("Welcome, everyone.")
    page_f.get_by_label("Your message").press("Enter")
    heart = page_a.locator("li.message", has_text="Welcome, everyone").locator("button.reaction").first
    expect(heart).to_be_enabled()

    page_f.locator("#facilitator-controls summary").click()
    page_f.get_by_role("button", name="Close the room").click()
    page_f.locator("#confirm-dialog").get_by_role("button", name="Close the room").click()
    expect(page_a.locator("#room-closed")).to_be_visible()
    expect(page_a.get_by_label("Your message")).to_be_disabled()
    expect(heart).to_be_disabled()
    expect(page_f.locator("li.message", has_text="Welcome").locator("button.reaction").first).to_be_enabled()
    shot(page_a, "room-closed-phone")

    page_f.get_by_role("button", name="Reopen the room").click()
    expect(page_a.locator("#room-closed")).to_be_hidden()
    expect(heart).to_be_enabled()
    expect(page_a.get_by_label("Your message")).to_be_enabled()
