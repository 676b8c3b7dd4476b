"""Alerts where the eye is (issue 10 item 9): the author's crisis card and the
facilitators' crisis alert appear beside the message box, on screen at 1280x800
and at 390x844, announced, and stay until they are dealt with."""

import re

import pytest
from playwright.sync_api import expect

from community.models import Membership
from moderation import services as moderation_services
from moderation.models import Flag
from tests.browser.roomkit import in_viewport, open_room, say

pytestmark = pytest.mark.browser


@pytest.fixture
def rules(transactional_db):
    moderation_services.save_rule(user=None, pattern="end my life", kind="phrase", category="crisis", action="crisis")
    moderation_services.save_rule(
        user=None, pattern="feel hopeless", kind="phrase", category="crisis", action="concern"
    )


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_crisis_card_beside_the_box_keeps_the_draft_and_survives_a_reload(
    daphne_server, make_user, circle, join, chromium, rules, device
):
    """The author's card is on screen, announced at once (role alert), with
    tappable call and text links; it leaves what they are typing alone, is still
    there after a reload, and goes only when they close it."""
    member = join(make_user(f"card-{device}"), circle)
    page = open_room(chromium, daphne_server, member.user, circle, device)
    say(page, "tonight I want to end my life")
    card = page.locator(".crisis-card")
    expect(card).to_contain_text("You are not alone")
    assert in_viewport(page, card)
    assert in_viewport(page, page.locator("#composer-body"))
    assert card.get_attribute("role") == "alert" and card.get_attribute("aria-live") == "assertive"
    hrefs = card.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert {"tel:988", "sms:988", "tel:+16234737433"} <= set(hrefs)
    assert all(re.match(r"^(tel|sms|https):", h) for h in hrefs)
    assert all(b["height"] >= 44 for b in (link.bounding_box() for link in card.locator("a").all()))

    page.locator("#composer-body").fill("I am still here")
    page.reload()
    expect(page.locator("#room-status")).to_have_attribute("data-state", "live")
    expect(card).to_contain_text("You are not alone")
    assert in_viewport(page, card)
    expect(page.locator("#composer-body")).to_have_value("I am still here")
    card.get_by_role("button", name=re.compile("Close")).click()
    expect(card).to_have_count(0)
    expect(page.locator("#composer-body")).to_have_value("I am still here")
    page.reload()
    expect(page.locator("#room-status")).to_have_attribute("data-state", "live")
    expect(page.locator(".crisis-card")).to_have_count(0)


def test_concern_card_is_gentler_and_polite(daphne_server, make_user, circle, join, chromium, rules):
    """A concern brings the gentler card, announced politely (role status)."""
    member = join(make_user("concern-card"), circle)
    page = open_room(chromium, daphne_server, member.user, circle, "phone")
    say(page, "lately I feel hopeless about it all")
    card = page.locator(".crisis-card[data-tier=concern]")
    expect(card).to_contain_text("If things feel heavy")
    assert card.get_attribute("role") == "status" and card.get_attribute("aria-live") == "polite"
    assert in_viewport(page, card)


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_staff_alert_beside_the_box_leads_to_the_message_and_clears_everywhere(
    daphne_server, make_user, circle, join, chromium, rules, device
):
    """Each facilitator in the room sees the alert on screen; "Show the message"
    brings the message into view; "I am on it" acknowledges, and the alert
    leaves the other facilitator's screen too, naming who is on it."""
    first = join(make_user(f"alert-first-{device}"), circle, Membership.Role.FACILITATOR)
    second = join(make_user(f"alert-second-{device}"), circle, Membership.Role.FACILITATOR)
    member = join(make_user(f"alert-member-{device}"), circle)
    staff = open_room(chromium, daphne_server, first.user, circle, device)
    other = open_room(chromium, daphne_server, second.user, circle, "desktop")
    room = open_room(chromium, daphne_server, member.user, circle)
    for n in range(5):  # (a member may send ten messages in ten seconds)
        say(staff, f"Grounding note {n}, a longer line so that the list has something to scroll through")
    say(room, "I want to end my life")
    for n in range(5, 8):
        say(staff, f"Grounding note {n}, a longer line so that the list has something to scroll through")

    alert = staff.locator(".alert-card")
    expect(alert).to_contain_text(member.alias)
    expect(alert).to_contain_text("I want to end my life")
    assert alert.get_attribute("role") == "alert"
    assert in_viewport(staff, alert)
    assert in_viewport(staff, staff.locator("#composer-body"))
    expect(room.locator(".alert-card")).to_have_count(0)

    staff.locator("#messages-scroll").evaluate("s => { s.scrollTop = 0; }")
    alert.get_by_role("button", name="Show the message").click()
    message = staff.locator("li.message", has_text="I want to end my life")
    expect(message).to_be_focused()
    assert in_viewport(staff, message)

    alert.get_by_role("button", name="I am on it").click()
    expect(alert).to_contain_text("You are with")
    expect(other.locator(".alert-card")).to_contain_text(f"{first.alias} is with {member.alias}")
    flag = Flag.objects.get()
    assert flag.acknowledged_by_id == first.user_id
    staff.reload()
    expect(staff.locator("#room-status")).to_have_attribute("data-state", "live")
    expect(staff.locator(".alert-card")).to_have_count(0)
