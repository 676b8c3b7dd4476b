"""The moderation pages in a real browser against a live Daphne: the queue (urgent,
check-in, reported, held, already removed), its filters, the rules list and the
rule form's "Try this rule", the audit log, the facilitator's queue and the
explanation page; live reports and "I am on it".  Each page, with and without
data, at 1280x800 and 390x844: axe-core, CSP, width, touch targets, screenshots."""

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from chat import services as chat_services
from community.apps import MODERATORS_GROUP
from community.models import Membership
from moderation import screening
from moderation import services as moderation_services
from moderation.models import Flag
from tests.browser.pagecheck import check_page, focus_is_visible, new_page
from tests.conftest import session_cookie_for

pytestmark = pytest.mark.browser
AFTER_POST = 15_000  # ms: a form post, a redirect and a page, on a busy shared machine


def ctx(m):
    return chat_services.RoomContext(m.user_id, m.circle_id, m.pk, m.alias, m.role)


def rule(pattern, **fields):
    fields.setdefault("kind", "word")
    moderation_services.save_rule(user=None, pattern=pattern, **fields)
    screening.forget_compiled_rules()


def moderator(make_user, handle="site-mod-pages"):
    user = make_user(handle)
    user.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    return user


def busy_queue(circle, join, make_user):
    """Every kind of item, in one circle: urgent, check-in, reported (with reasons),
    held, flagged, and one a facilitator already removed in the room."""
    rule(
        "end my life",
        kind="phrase",
        category="crisis",
        action="crisis",
        note="First-person suicidal intent; also catches spaced-out spellings.",
    )
    rule(
        "no point anymore", kind="phrase", category="crisis", action="concern", note="Hopelessness: a gentle check-in."
    )
    rule("plug", category="sourcing", action="hold", note="Asking where to buy.")
    rule("idiot", category="harassment", action="flag")
    rule(
        r"\b(?:venmo|cash ?app|paypal)\s*(?:me|@)\s*[a-z0-9_.-]{3,}\b(?:\s+for\s+(?:some|a few|the)\s+\w+)?",
        kind="regex",
        category="sourcing",
        action="hold",
        note="A payment handle offered for something: a sale in the making.",
    )
    rule("skill", category="spam", action="flag", shadow=True, note="Trying out: does it catch anything?")
    facilitator = join(make_user("pages-facilitator"), circle, Membership.Role.FACILITATOR)
    authors = [join(make_user(f"pages-author-{n}"), circle) for n in range(3)]
    a, b, c = authors
    chat_services.post_message(ctx(a), client_id="p0", body="Good evening, everyone. Glad to be here.")
    chat_services.post_message(ctx(b), client_id="p1", body="some days there is no point anymore, honestly")
    chat_services.post_message(ctx(c), client_id="p2", body="does anyone know a plug near the station")
    rude = chat_services.post_message(ctx(a), client_id="p3", body="only an idiot would say that " + "really " * 30)
    reported = chat_services.post_message(ctx(b), client_id="p4", body="you should all just stop your treatment")
    for n, reason in enumerate(["Medical advice that could hurt someone", "Felt pushy and unkind"]):
        reporter = join(make_user(f"pages-reporter-{n}"), circle)
        chat_services.report_message(ctx(reporter), message_id=reported.id, reason=reason)
    chat_services.post_message(ctx(c), client_id="p5", body="tonight I just want to end my life")
    chat_services.remove_message(ctx(facilitator), message_id=rude.id, reason="Unkind")
    return facilitator


def test_moderator_pages_empty_then_full(daphne_server, make_user, circle, join, chromium):
    mod = moderator(make_user)
    cookie = session_cookie_for(mod)
    problems: list[str] = []
    for viewport in ("desktop", "phone"):
        page, seen = new_page(chromium, daphne_server, viewport, cookie)
        page.goto("/moderation/")
        expect(page.locator("#queue-empty")).to_be_visible()
        expect(page.locator("#queue-status")).to_have_attribute("data-state", "live")
        problems += check_page(page, seen, "queue-empty", viewport)
        page.goto("/moderation/rules/")
        expect(page.locator("#rules-empty")).to_be_visible()
        problems += check_page(page, seen, "rules-empty", viewport)
        page.goto("/moderation/audit/")
        expect(page.locator("#audit-empty")).to_be_visible()
        problems += check_page(page, seen, "audit-empty", viewport)
        page.context.close()

    busy_queue(circle, join, make_user)
    decided = Flag.objects.get(message__body__startswith="does anyone know a plug")
    for viewport in ("desktop", "phone"):
        page, seen = new_page(chromium, daphne_server, viewport, cookie)
        page.goto("/moderation/")
        expect(page.locator(".alert-banner")).to_contain_text("Crisis alert")
        expect(page.locator("li.queue-item.urgent")).to_be_visible()
        expect(page.locator("li.queue-item.check-in")).to_contain_text("may be having a hard time")
        expect(page.locator("li.queue-item", has_text="only an idiot")).to_contain_text(
            "Already removed by a facilitator"
        )
        problems += check_page(page, seen, "queue-urgent", viewport)
        assert focus_is_visible(page), "keyboard focus must show on the queue"
        page.goto("/moderation/?kind=report&q=treatment")
        expect(page.locator("li.queue-item")).to_have_count(1)
        expect(page.locator("details.more-filters")).to_have_attribute("open", "")
        problems += check_page(page, seen, "queue-filtered", viewport)
        page.goto("/moderation/rules/")
        problems += check_page(page, seen, "rules", viewport)
        # Every column is on screen at 1280 px; on a phone each rule is a card.
        state = page.locator("tr", has_text="venmo").locator("td[data-label='State']")
        assert state.bounding_box()["x"] + state.bounding_box()["width"] <= page.viewport_size["width"]
        page.goto(f"/moderation/rules/{Flag.objects.filter(rule__isnull=False).first().rule_id}/")
        page.get_by_label("Sample text").fill("I want to END my l1fe, honestly")
        page.get_by_role("button", name="Try this rule").click()
        expect(page.locator("#try-result")).to_contain_text("Matched")
        problems += check_page(page, seen, "rule-try", viewport)
        page.context.close()

    moderation_services.review_flag(user=mod, flag_id=decided.pk, action="remove", reason="Sourcing request")
    for viewport in ("desktop", "phone"):
        page, seen = new_page(chromium, daphne_server, viewport, cookie)
        page.goto("/moderation/?status=decided")
        expect(page.locator("li.queue-item.decided")).to_have_count(1)
        problems += check_page(page, seen, "queue-decided", viewport)
        page.goto("/moderation/audit/")
        expect(page.locator(".audit-entry").first).to_be_visible()
        problems += check_page(page, seen, "audit", viewport)
        page.context.close()
    assert not problems, "\n".join(problems)


def test_facilitator_sees_their_items_and_a_calm_explanation(daphne_server, make_user, circle, join, chromium):
    facilitator = busy_queue(circle, join, make_user)
    cookie = session_cookie_for(facilitator.user)
    problems: list[str] = []
    for viewport in ("desktop", "phone"):
        page, seen = new_page(chromium, daphne_server, viewport, cookie)
        page.goto("/")
        page.get_by_role("link", name="Review queue").click()
        expect(page.locator("#queue-status")).to_have_attribute("data-state", "polling")
        item = page.locator("li.queue-item.check-in")
        expect(item).to_be_visible()
        options = item.get_by_label("Decision").locator("option").all_inner_texts()
        assert options[1].startswith("I checked in with them")
        assert not any(o.startswith(("Approve", "Remove and warn", "Remove and ban")) for o in options)
        problems += check_page(page, seen, "queue-facilitator", viewport)
        page.goto("/moderation/rules/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("kept by site moderators")
        expect(page.get_by_role("link", name="Go to the review queue")).to_be_visible()
        problems += check_page(page, seen, "not-for-you", viewport)
        page.context.close()

    page, _seen = new_page(chromium, daphne_server, "phone", cookie)
    page.goto("/moderation/")
    item = page.locator("li.queue-item.check-in")
    item.get_by_label("Decision").select_option("checked_in")
    item.get_by_label("Reason (kept in the audit log)").fill("Said hello in the room; they are OK")
    item.get_by_role("button", name="Apply decision").click()
    expect(page.get_by_role("status").first).to_contain_text("Done", timeout=AFTER_POST)
    expect(page.locator("li.queue-item.check-in")).to_have_count(0)
    assert not problems, "\n".join(problems)


def test_a_ban_asks_first_in_the_page_and_escape_cancels(daphne_server, make_user, circle, join, chromium):
    busy_queue(circle, join, make_user)
    page, _seen = new_page(chromium, daphne_server, "desktop", session_cookie_for(moderator(make_user)))
    page.on("dialog", lambda d: pytest.fail(f"a browser dialog was used: {d.message}"))
    page.goto("/moderation/?kind=report")
    expect(page.locator("#queue-status")).to_have_attribute("data-state", "live")
    item = page.locator("li.queue-item")
    item.get_by_label("Decision").select_option("ban")
    item.get_by_label("Reason (kept in the audit log)").fill("Repeated pressure to stop treatment")
    item.get_by_role("button", name="Apply decision").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Ban ")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert Flag.objects.get(report_count=2).status == "open"
    item.get_by_role("button", name="Apply decision").click()
    page.get_by_role("dialog").get_by_role("button", name="Ban and remove").click()
    expect(page.get_by_role("status").first).to_contain_text("Done", timeout=AFTER_POST)
    assert Flag.objects.get(report_count=2).resolution == "ban"


def _room(chromium, server, membership, viewport="desktop"):
    page, _seen = new_page(chromium, server, viewport, session_cookie_for(membership.user))
    page.goto(membership.circle.get_absolute_url())
    expect(page.locator("#room-status")).to_have_attribute("data-state", "live")
    return page


def test_reports_appear_live_and_i_am_on_it_clears_every_screen(daphne_server, make_user, circle, join, chromium):
    """A member's report shows in the queue without a reload; a crisis banner
    acknowledged by one moderator leaves the other's screen."""
    rule("end my life", kind="phrase", category="crisis", action="crisis")
    first, first_seen = new_page(chromium, daphne_server, "desktop", session_cookie_for(moderator(make_user, "mod-a")))
    second, _second_seen = new_page(chromium, daphne_server, "phone", session_cookie_for(moderator(make_user, "mod-b")))
    for page in (first, second):
        page.goto("/moderation/")
        expect(page.locator("#queue-status")).to_have_attribute("data-state", "live")
    author, reader = join(make_user("live-author"), circle), join(make_user("live-reader"), circle)
    author_page, reader_page = _room(chromium, daphne_server, author, "phone"), _room(chromium, daphne_server, reader)

    author_page.get_by_label("Your message").fill("you all are wrong about this")
    author_page.get_by_label("Your message").press("Enter")
    message = reader_page.locator("li.message", has_text="you all are wrong")
    message.get_by_role("button", name="More actions").click()
    reader_page.locator("#actions-dialog").get_by_role("button", name=re.compile("Report")).click()
    reader_page.get_by_label("What is wrong?").fill("Dismissive of everyone")
    reader_page.get_by_role("button", name="Send report").click()
    expect(first.locator("li.queue-item", has_text="you all are wrong")).to_contain_text("Dismissive of everyone")
    expect(second.locator("li.queue-item", has_text="you all are wrong")).to_be_visible()

    author_page.get_by_label("Your message").fill("tonight I just want to end my life")
    author_page.get_by_label("Your message").press("Enter")
    for page in (first, second):
        expect(page.locator(".alert-banner")).to_contain_text(author.alias)
    problems: list[str] = []
    first.locator(".alert-banner").get_by_role("button", name="I am on it").click()
    expect(first.locator(".alert-banner")).to_have_count(0)
    expect(second.locator(".alert-banner")).to_have_count(0)
    expect(second.locator("li.queue-item.urgent")).to_contain_text("someone is on it")
    assert Flag.objects.get(urgent=True).acknowledged_at is not None
    problems += check_page(first, first_seen, "queue-live", "desktop")
    assert not problems, "\n".join(problems)
