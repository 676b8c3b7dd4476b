"""The account pages in a real browser (Debian's chromium, Playwright) against a
live Daphne: sign-up with its handle rule and recovery codes, log-in, recovery,
the account page, notifications; each page checked for accessibility (axe-core),
CSP violations, width and touch targets, at 1280x800 and 390x844."""

import re

import pytest
from playwright.sync_api import expect

from chat import services as chat_services
from community import accounts, notifications
from community.models import Notification
from tests.browser.pagecheck import check_page, focus_is_visible, new_page
from tests.conftest import PASSWORD, session_cookie_for

pytestmark = pytest.mark.browser
AFTER_POST = 15_000  # ms: a form post, a redirect and a page, on a busy shared machine
NEW = "a new lantern by the door"


def ctx(m):
    return chat_services.RoomContext(m.user_id, m.circle_id, m.pk, m.alias, m.role)


def test_anonymous_pages_are_calm_accessible_and_csp_clean(daphne_server, make_circle, chromium):
    """Directory, sign-up, log-in and recovery, empty and with an error shown."""
    problems: list[str] = []
    for viewport in ("desktop", "phone"):
        page, seen = new_page(chromium, daphne_server, viewport)
        page.goto("/")
        expect(page.locator("#main .empty")).to_be_visible()  # no circles yet: the empty state
        problems += check_page(page, seen, "anon-directory-empty", viewport)
        page.context.close()
    make_circle(name="Evening Circle", slug="evening", topic="Gentle sharing after a session")
    make_circle(name="Morning Integration", slug="morning-integration", access="invite", invite_code="dawn")
    for viewport in ("desktop", "phone"):
        page, seen = new_page(chromium, daphne_server, viewport)
        page.goto("/")
        problems += check_page(page, seen, "anon-directory", viewport)
        assert focus_is_visible(page)

        page.goto("/accounts/signup/")
        expect(page.get_by_text("cannot be reset by e-mail")).to_be_visible()
        problems += check_page(page, seen, "signup", viewport)
        page.get_by_label("Handle").fill("has a space")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Create my account").click()
        expect(page.locator("#id_handle_error")).to_contain_text("a space")
        expect(page.get_by_label("Handle")).to_have_value("has a space")
        expect(page.locator("#password-not-kept")).to_be_visible()
        problems += check_page(page, seen, "signup-error", viewport)

        page.goto("/accounts/login/")
        expect(page.get_by_label("Handle")).to_be_visible()
        expect(page.get_by_label(re.compile("Stay signed in"))).not_to_be_checked()
        problems += check_page(page, seen, "login", viewport)
        page.get_by_label("Handle").fill("nobody-here")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("#form-errors")).to_contain_text("That handle and password do not match")
        problems += check_page(page, seen, "login-error", viewport)

        page.goto("/accounts/recover/")
        problems += check_page(page, seen, "recover", viewport)
        page.get_by_role("button", name="Set my new password").click()
        expect(page.locator("#id_code_error")).to_contain_text("recovery codes")
        problems += check_page(page, seen, "recover-error", viewport)
        page.context.close()
    assert not problems, "\n".join(problems)


def test_sign_up_refuses_a_long_handle_then_issues_codes_that_recover_the_account(daphne_server, chromium):
    """A 200-character handle is refused beside the field, not cut; then a real
    sign-up shows 8 codes once, "I have saved them" leads to the circles, and one
    code later sets a new password."""
    page, seen = new_page(chromium, daphne_server, "phone")
    page.goto("/accounts/signup/")
    handle = page.get_by_label("Handle")
    handle.fill("b" * 200)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.locator("#id_handle_error")).to_have_text("A handle is 3 to 30 characters long; this one has 200.")
    assert len(handle.input_value()) == 200
    expect(page.get_by_label("Password", exact=True)).to_have_value("")

    handle.fill("lantern-keeper")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    codes = page.locator("#codes code").all_inner_texts()
    assert len(codes) == 8 and all(re.fullmatch(r"[2-9A-Z]{4}(-[2-9A-Z]{4}){3}", c) for c in codes)
    expect(page.get_by_role("button", name="Download as a text file")).to_be_visible()
    problems = check_page(page, seen, "recovery-codes", "phone")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as a text file").click()
    assert download.value.suggested_filename == "recovery-codes.txt"
    page.get_by_role("button", name="I have saved them").click()
    expect(page.get_by_role("status")).to_contain_text("Welcome", timeout=AFTER_POST)
    expect(page).to_have_url(daphne_server.url + "/")

    page.get_by_role("button", name="Log out").click()
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Use a recovery code").click()
    page.get_by_label("Handle").fill("lantern-keeper")
    page.get_by_label("One recovery code").fill(codes[5].lower().replace("-", " "))
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("New password again").fill(NEW)
    page.get_by_role("button", name="Set my new password").click()
    expect(page).to_have_url(daphne_server.url + "/accounts/")
    expect(page.get_by_role("status")).to_contain_text("You have 7 recovery codes left", timeout=AFTER_POST)
    expect(page.get_by_text("7 of 8")).to_be_visible()
    assert not problems, "\n".join(problems)


def _member(make_user, join, circle, make_circle):
    """A member of two circles whose recovery codes are saved."""
    user = make_user("account-person")
    member = join(user, circle)
    join(user, make_circle(name="Tuesday Integration", slug="tuesday"))
    accounts.issue_recovery_codes(user=user)
    accounts.mark_codes_saved(user=user)
    return member


def test_member_pages_with_and_without_data(daphne_server, make_user, join, circle, make_circle, chromium):
    """Account, notifications (empty, then three), reports, new codes, password
    change and deletion, on both screens; marking read updates the header count."""
    member = _member(make_user, join, circle, make_circle)
    problems: list[str] = []
    for viewport in ("desktop", "phone"):
        page, seen = new_page(chromium, daphne_server, viewport, session_cookie_for(member.user))
        page.goto("/accounts/notifications/")
        expect(page.locator("#notes-empty")).to_be_visible()
        problems += check_page(page, seen, "notifications-empty", viewport)
        page.goto("/accounts/reports/")
        expect(page.locator("#reports-empty")).to_be_visible()
        problems += check_page(page, seen, "reports-empty", viewport)
        page.context.close()

    for kind, text in [
        (Notification.Kind.REPORT_DECIDED, "A moderator looked at a message you reported."),
        (Notification.Kind.REMINDER, "Your circle meets tomorrow at 18:00."),
        (Notification.Kind.WAITLIST, "A seat freed up in Tuesday Integration."),
    ]:
        notifications.notify(user=member.user, kind=kind, text=text, link=circle.get_absolute_url())
    other = join(make_user("someone-else"), circle)
    posted = chat_services.post_message(ctx(other), client_id="x1", body="a sharp remark")
    chat_services.report_message(ctx(member), message_id=posted.id, reason="It felt unkind to a newcomer")

    for viewport in ("desktop", "phone"):
        page, seen = new_page(chromium, daphne_server, viewport, session_cookie_for(member.user))
        page.goto("/")
        expect(page.locator(".circle-list")).to_contain_text(member.alias)
        problems += check_page(page, seen, "member-directory", viewport)
        page.goto("/accounts/")
        expect(page.get_by_role("link", name=circle.name)).to_be_visible()
        expect(page.get_by_text(member.alias)).to_be_visible()
        expect(page.get_by_text("This device")).to_be_visible()
        problems += check_page(page, seen, "account", viewport)
        page.goto("/accounts/notifications/")
        problems += check_page(page, seen, "notifications", viewport)
        page.goto("/accounts/reports/")
        expect(page.get_by_text("Waiting for a moderator")).to_be_visible()
        problems += check_page(page, seen, "reports", viewport)
        page.goto("/accounts/recovery-codes/")
        problems += check_page(page, seen, "new-codes", viewport)
        page.goto("/accounts/password/")
        problems += check_page(page, seen, "password-change", viewport)
        page.goto("/accounts/delete/")
        problems += check_page(page, seen, "delete-account", viewport)
        page.context.close()

    page, _seen = new_page(chromium, daphne_server, "phone", session_cookie_for(member.user))
    page.goto("/accounts/notifications/")
    badge = page.locator("#header-unread")
    expect(badge).to_contain_text("3")
    page.locator(".note").first.get_by_role("button", name=re.compile("Mark as read")).click()
    expect(page.locator("#header-unread")).to_contain_text("2")
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.locator("#header-unread")).to_be_hidden()
    expect(page.get_by_text("All caught up.")).to_be_visible()
    assert not problems, "\n".join(problems)


def test_confirmations_are_in_page_dialogs_that_escape_closes(daphne_server, make_user, chromium):
    """ "Sign out everywhere else" asks in a dialog: Escape closes it and nothing
    happens; confirming signs the other device out."""
    user = make_user("two-devices")
    other_device = session_cookie_for(user)
    page, seen = new_page(chromium, daphne_server, "phone", session_cookie_for(user))
    page.on("dialog", lambda d: pytest.fail(f"a browser dialog was used: {d.message}"))
    page.goto("/accounts/")
    expect(page.get_by_text("Another device")).to_be_visible()
    page.get_by_role("button", name="Sign out everywhere else").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Every other device")
    expect(page.locator("#confirm-cancel")).to_be_focused()
    problems = check_page(page, seen, "confirm-dialog", "phone")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Sign out everywhere else")).to_be_focused()
    expect(page.get_by_text("Another device")).to_be_visible()
    page.get_by_role("button", name="Sign out everywhere else").click()
    page.get_by_role("dialog").get_by_role("button", name="Sign out everywhere else").click()
    expect(page.get_by_role("status")).to_contain_text("Signed out on 1 other session", timeout=AFTER_POST)
    expect(page.get_by_text("Another device")).to_have_count(0)
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=other_device).exists()
    assert not problems, "\n".join(problems)
