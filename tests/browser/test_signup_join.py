"""A newcomer's first visit in a real browser (Debian's chromium, driven by Playwright)
against a real Daphne process: sign up, find a circle, join, be greeted by an alias."""

import pytest
from playwright.sync_api import expect

from community.models import Membership
from tests.browser.conftest import DESKTOP, PHONE, shot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def crisis_numbers_on_one_line(page) -> bool:
    """Each crisis number in the footer sits on a single line (never split at its hyphen)."""
    rects = page.locator(".site-footer a.nowrap").evaluate_all("els => els.map(e => e.getClientRects().length)")
    return bool(rects) and all(n == 1 for n in rects)


# ``chromium`` comes from tests/browser/conftest.py (Debian's chromium, headless).
def test_newcomer_signs_up_joins_a_circle_and_sees_their_alias(daphne_server, make_circle, chromium):
    """A newcomer signs up, sees the directory, opens a circle, joins and is greeted by the alias stored for them."""
    circle = make_circle(
        name="Evening Integration Circle",
        slug="evening-integration",
        topic="Gentle, open sharing after a session",
        description="A calm space to put words to what came up in your sessions. Listen more than you advise.",
        capacity=40,
    )
    anonymous_phone = chromium.new_context(base_url=daphne_server.url, viewport=PHONE)
    phone_page = anonymous_phone.new_page()
    phone_page.goto("/accounts/signup/")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert crisis_numbers_on_one_line(phone_page)
    shot(phone_page, "signup-phone")
    anonymous_phone.close()

    context = chromium.new_context(base_url=daphne_server.url, viewport=DESKTOP)
    page = context.new_page()

    page.goto("/accounts/signup/")
    shot(page, "signup-desktop")
    page.get_by_label("Handle").fill("morning-walker")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    # The recovery codes come first, shown once; then the circles.
    expect(page.locator("#codes code")).to_have_count(8)
    page.get_by_role("button", name="I have saved them").click()

    expect(page).to_have_url(daphne_server.url + "/")
    expect(page.get_by_role("status")).to_contain_text("Welcome. Your account is ready: choose a circle to join.")
    page.get_by_role("link", name="Evening Integration Circle").click()

    expect(page).to_have_url(daphne_server.url + circle.get_absolute_url())
    expect(page.get_by_text(circle.description)).to_be_visible()
    page.get_by_role("button", name="Join this circle").click()

    alias_on_page = page.get_by_test_id("alias")
    expect(alias_on_page).to_be_visible()
    alias = alias_on_page.inner_text()
    stored = Membership.objects.get(user__username="morning-walker", circle=circle)
    assert alias == stored.alias
    expect(page.locator(".alias-line")).to_contain_text(f"Here you are {stored.alias}")
    expect(page.get_by_role("status").first).to_contain_text(f"Here you are {stored.alias}.")
    assert "morning-walker" not in page.content()
    assert crisis_numbers_on_one_line(page)
    shot(page, "circle-desktop")

    phone = chromium.new_context(base_url=daphne_server.url, viewport=PHONE, storage_state=context.storage_state())
    phone_page = phone.new_page()
    for name, path in (("directory-phone", "/"), ("circle-phone", circle.get_absolute_url())):
        phone_page.goto(path)
        expect(phone_page.get_by_role("heading", level=1)).to_be_visible()
        # Nothing wider than the phone's screen: no sideways scrolling.
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
        assert crisis_numbers_on_one_line(phone_page), name
        shot(phone_page, name)
    phone.close()
    context.close()
