"""The room page as people use it, in Chromium against a live Daphne: every state
passes axe-core and fits a desktop (1280x800) and a phone (390x844, touch); the
list follows new messages only at its end; what needs the eye sits beside the
message box."""

import re

import pytest
from django.conf import settings
from django.test import override_settings
from playwright.sync_api import expect, sync_playwright

from chat import services as chat_services
from chat.models import Seat
from community.models import Membership
from moderation import services as moderation_services
from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.roomkit import check_state, ctx_of, in_viewport, off_thread, open_room, say

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_every_state_of_the_room_is_accessible_and_fits(daphne_factory, make_user, circle, join, chromium, device):
    """Member and facilitator, empty room, room with messages, crisis card and
    staff alert, muted, closed, reconnecting: each passes axe (no serious or
    critical violation), nothing is wider than the screen, the newest message
    and the message box are on screen together, and each is photographed."""
    server = daphne_factory()
    moderation_services.save_rule(user=None, pattern="end my life", kind="phrase", category="crisis", action="crisis")
    member = join(make_user(f"state-member-{device}"), circle)
    other = join(make_user(f"state-other-{device}"), circle)
    guide = join(make_user(f"state-guide-{device}"), circle, Membership.Role.FACILITATOR)

    page = open_room(chromium, server, member.user, circle, device)
    expect(page.locator("#messages-empty")).to_be_visible()
    check_state(page, f"room-empty-{device}", messages=False)

    # Stored by the services (in the embedded setup this process's channel layer
    # is not Daphne's, so the page learns of them on reload).
    off_thread(chat_services.post_message, ctx_of(guide), client_id="g1", body="Welcome. Listening is enough.")
    for n in range(9):
        who = other if n % 3 else member
        body = f"Share {n}: the week was *gentler* than I feared, and I slept a little better."
        off_thread(chat_services.post_message, ctx_of(who), client_id=f"s{n}", body=body)
    page.reload()
    expect(page.locator("#room-status")).to_have_attribute("data-state", "live")
    badge = page.locator("li.message", has_text="Listening is enough").locator(".role-badge")
    expect(badge).to_have_text("Facilitator")
    check_state(page, f"room-messages-{device}")

    staff = open_room(chromium, server, guide.user, circle, device)
    check_state(staff, f"room-facilitator-{device}")
    staff.locator("#facilitator-controls summary").click()
    expect(staff.get_by_role("button", name="Close the room")).to_be_visible()
    check_state(staff, f"room-facilitator-controls-{device}", layout=False)
    staff.evaluate("document.getElementById('room-frame').scrollIntoView({block: 'end'})")

    # A crisis: the author's card and the facilitator's alert, each beside the
    # message box and on screen.
    say(page, "some nights I want to end my life")
    card = page.locator(".crisis-card")
    expect(card).to_contain_text("988")
    assert in_viewport(page, card), "crisis card off screen"
    check_state(page, f"room-crisis-{device}", messages=False)
    alert = staff.locator(".alert-card")
    expect(alert).to_contain_text(member.alias)
    assert in_viewport(staff, alert), "staff alert off screen"
    check_state(staff, f"room-alert-{device}", messages=False)
    card.get_by_role("button", name=re.compile("^Close")).click()
    expect(card).to_have_count(0)

    # The facilitator pauses the member's posting, through the page's dialog.
    staff.locator("li.message", has_text="Share 0").get_by_role("button", name="More actions").click()
    staff.get_by_role("button", name=re.compile("^Pause")).click()
    staff.locator("#mute-minutes").fill("5")
    staff.locator("#mute-reason").fill("A pause to breathe")
    staff.get_by_role("button", name="Mute for 5 minutes").click()
    expect(staff.locator("#mute-dialog")).to_be_hidden()
    muted = page.locator("#notices .notice[data-code=muted]")
    expect(muted).to_contain_text("paused until")
    assert in_viewport(page, muted)
    expect(page.locator("#composer-send")).to_be_disabled()
    check_state(page, f"room-muted-{device}")

    staff.get_by_role("button", name="Close the room").click()
    staff.locator("#confirm-dialog").get_by_role("button", name="Close the room").click()
    expect(page.locator("#room-closed")).to_be_visible()
    assert in_viewport(page, page.locator("#room-closed"))
    check_state(page, f"room-closed-{device}")

    server.stop()
    expect(page.locator("#room-status")).to_have_attribute("data-state", "reconnecting")
    note = page.locator("#connection-note")
    expect(note).to_contain_text("Reconnecting")
    assert in_viewport(page, note), "the connection state is not beside the message box"
    check_state(page, f"room-reconnecting-{device}")


def _scene(chromium, server, make_user, join, circle, messages: int = 24):
    """A reader and a writer, and ``messages`` earlier messages (by three others:
    each member may send ten messages in ten seconds)."""
    reader = join(make_user("follow-reader"), circle)
    writer = join(make_user("follow-writer"), circle)
    others = [join(make_user(f"follow-other-{n}"), circle) for n in range(3)]
    for n in range(messages):
        body = f"Earlier message {n}, a longer line or two."
        off_thread(chat_services.post_message, ctx_of(others[n % 3]), client_id=f"p{n}", body=body)
    return reader, writer


def test_the_list_follows_new_messages_only_at_its_end(daphne_server, make_user, circle, join, chromium):
    """On entry the list shows its newest message; scrolled up (the list's own
    scroll, not the window's), new messages wait behind an "N new messages"
    button that jumps down; at the end, new messages are followed."""
    reader, writer = _scene(chromium, daphne_server, make_user, join, circle)
    page = open_room(chromium, daphne_server, reader.user, circle)
    newest = page.locator("li.message", has_text="Earlier message 23")
    expect(newest).to_be_visible()
    assert in_viewport(page, newest)

    page.locator("#messages-scroll").evaluate("s => { s.scrollTop = 0; }")
    window_y = page.evaluate("window.scrollY")
    other = open_room(chromium, daphne_server, writer.user, circle)
    for n in range(2):
        say(other, f"Fresh words {n}")
        expect(other.locator("li.message:not(.pending)", has_text=f"Fresh words {n}")).to_be_visible()
    jump = page.locator("#jump-new")
    expect(jump).to_have_text(re.compile(r"^2 new messages"))
    assert not in_viewport(page, page.locator("li.message", has_text="Fresh words 1"))
    assert page.locator("#messages-scroll").evaluate("s => s.scrollTop") == 0
    assert page.evaluate("window.scrollY") == window_y

    jump.click()
    expect(jump).to_be_hidden()
    assert in_viewport(page, page.locator("li.message", has_text="Fresh words 1"))
    say(other, "Followed at once")
    followed = page.locator("li.message", has_text="Followed at once")
    expect(followed).to_be_visible()
    page.wait_for_timeout(100)
    assert in_viewport(page, followed)
    expect(jump).to_be_hidden()


def test_reactions_read_mark_and_draft_survive_a_reload(daphne_server, make_user, circle, join, chromium, client):
    """Your reactions, where you stopped reading (a "New since you were here"
    line, the circle list's count) and an unsent draft are all there after a
    reload; sending clears the draft."""
    reader, writer = _scene(chromium, daphne_server, make_user, join, circle, messages=5)
    page = open_room(chromium, daphne_server, reader.user, circle)
    hug = page.locator("li.message", has_text="Earlier message 4").locator("button.reaction[data-kind=hug]")
    hug.click()
    expect(hug).to_have_attribute("aria-pressed", "true")
    expect(hug).to_contain_text("1")
    page.locator("#composer-body").fill("A thought I am not ready to send")
    # The read mark reaches the server while the list is at its end.
    deadline_ok = False
    for _ in range(40):
        if Seat.objects.filter(membership=reader, last_read=5).exists():
            deadline_ok = True
            break
        page.wait_for_timeout(250)
    assert deadline_ok, "the read mark was not stored"
    browser_context = page.context
    page.close()

    for n in range(3):
        off_thread(chat_services.post_message, ctx_of(writer), client_id=f"away{n}", body=f"While you were away {n}")
    client.force_login(reader.user)
    assert "3 new messages" in client.get("/").content.decode()

    page = browser_context.new_page()  # the same browser: its drafts are kept on this device
    page.goto(circle.get_absolute_url())
    expect(page.locator("#room-status")).to_have_attribute("data-state", "live")
    hug = page.locator("li.message", has_text="Earlier message 4").locator("button.reaction[data-kind=hug]")
    expect(hug).to_have_attribute("aria-pressed", "true")
    divider = page.locator("#messages li.divider")
    expect(divider).to_have_text("New since you were here")
    assert divider.evaluate("d => d.nextElementSibling.textContent").count("While you were away 0") == 1
    expect(page.locator("#composer-body")).to_have_value("A thought I am not ready to send")
    page.locator("#composer-send").click()
    expect(page.locator("li.message:not(.pending)", has_text="not ready to send")).to_be_visible()
    page.reload()
    expect(page.locator("#room-status")).to_have_attribute("data-state", "live")
    expect(page.locator("#composer-body")).to_have_value("")


STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


@pytest.fixture
def chromium_for_csp():
    """Chromium that lets a page whose response the test rewrote (Playwright's
    route.fulfill) open a socket to 127.0.0.1: such a page counts as "public"
    to the local-network checks, which would refuse it."""
    with sync_playwright() as playwright:
        args = [*CHROMIUM_ARGS, "--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessChecks"]
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=args)
        yield browser
        browser.close()


def test_the_room_runs_under_a_strict_content_security_policy(daphne_server, make_user, circle, join, chromium_for_csp):
    """With script-src 'self' and style-src 'self' (no inline script or style),
    the room connects, shows messages, opens its dialogs and cards, and nothing
    it draws is refused (the footer's own inline style is base.html's)."""
    moderation_services.save_rule(user=None, pattern="end my life", kind="phrase", category="crisis", action="crisis")
    member = join(make_user("csp-member"), circle)
    off_thread(chat_services.post_message, ctx_of(member), client_id="c0", body="Some *calm* words")
    page = open_room(chromium_for_csp, daphne_server, member.user, circle, wait=False)
    page.context.add_init_script(
        """window.__violations = [];
        document.addEventListener('securitypolicyviolation', e => {
          const where = e.target && e.target.closest ? e.target.closest('.site-footer') : null;
          if (!where) window.__violations.push([e.violatedDirective, e.blockedURI, e.sample, e.lineNumber]);
        }, true);"""
    )

    def strict(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})

    page.route(re.compile(r".*/circles/.*"), strict)
    page.reload()
    expect(page.locator("#room-status")).to_have_attribute("data-state", "live")
    say(page, "some nights I want to end my life")
    expect(page.locator(".crisis-card")).to_contain_text("988")
    page.locator("li.message", has_text="Some calm words").get_by_role("button", name="More actions").click()
    expect(page.locator("#actions-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Leave this circle").click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    assert page.evaluate("window.__violations") == []


@override_settings(CHAT_RATE_LIMITS={**settings.CHAT_RATE_LIMITS, "send": (10_000, 10)})
def test_a_link_to_an_older_message_pages_back_and_shows_it(daphne_factory, make_user, circle, join, chromium):
    """The review queue links to /circles/<slug>/#m-<id>: a message older than the
    first screenful is fetched page by page, scrolled into view and marked; a link
    to a message that is not in the room says so."""
    server = daphne_factory()
    writer = join(make_user("anchor-writer"), circle)
    reader = join(make_user("anchor-reader"), circle)
    for n in range(130):  # more than hello (50) and one history page (50)
        off_thread(chat_services.post_message, ctx_of(writer), client_id=f"a{n}", body=f"Line {n} of the week")
    page = open_room(chromium, server, reader.user, circle, wait=False)
    page.goto(f"{circle.get_absolute_url()}#m-5")
    sought = page.locator("#m-5")
    expect(sought).to_contain_text("Line 4 of the week")
    expect(sought).to_have_class(re.compile(r"\bsought\b"))
    assert in_viewport(page, sought), "the linked message is not on screen"
    page.goto(f"{circle.get_absolute_url()}#m-9999")
    page.reload()
    expect(page.locator("#notices .notice[data-code=gone]")).to_contain_text("no longer in the room")
