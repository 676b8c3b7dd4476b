"""Every member and facilitator action through in-page dialogs (no window.prompt,
confirm or alert), and the keyboard and touch ways through the room."""

import re

import pytest
from playwright.sync_api import expect

from chat import services as chat_services
from community.models import Membership
from moderation.models import AuditEntry
from tests.browser.roomkit import ctx_of, off_thread, open_room, say

pytestmark = pytest.mark.browser


def _no_native_dialogs(page):
    """Fail the test if the page ever opens window.alert/confirm/prompt."""
    opened = []
    page.on("dialog", lambda d: (opened.append(d.type), d.dismiss()))
    return opened


def _more(page, text: str):
    """Open the ⋯ sheet of the message containing ``text``; returns the sheet."""
    page.locator("li.message", has_text=text).get_by_role("button", name="More actions").click()
    sheet = page.locator("#actions-dialog")
    expect(sheet).to_be_visible()
    return sheet


def _focused(page) -> dict:
    return page.evaluate(
        """() => { const a = document.activeElement;
        return {id: a.id, label: a.getAttribute('aria-label') || '', tag: a.tagName,
                text: a.textContent.trim().slice(0, 60), inDialog: !!a.closest('dialog'),
                li: (a.closest('li.message') || {}).textContent || ''}; }"""
    )


def test_member_actions_use_dialogs(daphne_server, make_user, circle, join, chromium):
    """Report (a reason, "already reported" beside the message), edit from your
    own Markdown, delete (confirmed), hide a member (with an undo, kept across a
    reload, never told to them) and leave (confirmed, naming what is lost): all
    in dialogs where Escape closes, focus stays inside and comes back."""
    a, b = join(make_user("dlg-a"), circle), join(make_user("dlg-b"), circle)
    off_thread(chat_services.post_message, ctx_of(b), client_id="b1", body="A first word from b")
    page = open_room(chromium, daphne_server, a.user, circle)
    other = open_room(chromium, daphne_server, b.user, circle)
    native = _no_native_dialogs(page) + _no_native_dialogs(other)

    # Report: a reason is needed; Escape closes and gives focus back.
    sheet = _more(page, "A first word from b")
    sheet.get_by_role("button", name=re.compile("^Report")).click()
    report = page.locator("#report-dialog")
    expect(report).to_be_visible()
    report.get_by_role("button", name="Send report").click()
    expect(report.locator(".dialog-error")).to_contain_text("what is wrong")
    for _ in range(8):  # focus stays inside the open dialog
        page.keyboard.press("Tab")
        assert _focused(page)["inDialog"], _focused(page)
    page.keyboard.press("Escape")
    expect(report).to_be_hidden()
    focus = _focused(page)
    assert focus["label"] == "More actions for this message" and "A first word from b" in focus["li"], focus

    _more(page, "A first word from b").get_by_role("button", name=re.compile("^Report")).click()
    page.get_by_label("What is wrong?").fill("It felt dismissive")
    report.get_by_role("button", name="Send report").click()
    expect(report).to_be_hidden()
    status = page.locator("li.message", has_text="A first word from b").locator(".message-status")
    expect(status).to_contain_text("Reported")
    _more(page, "A first word from b").get_by_role("button", name=re.compile("^Report")).click()
    page.get_by_label("What is wrong?").fill("Again")
    report.get_by_role("button", name="Send report").click()
    expect(status).to_contain_text("already reported")
    expect(page.locator("#composer-error")).to_be_hidden()

    # Edit starts from the Markdown source (only its author gets it).
    say(other, "I felt **held** today")
    mine = other.locator("li.message:not(.pending)", has_text="I felt held today")
    expect(mine).to_be_visible()
    mine.get_by_role("button", name="Edit").click()
    expect(other.get_by_label("Edit your message")).to_have_value("I felt **held** today")
    other.get_by_label("Edit your message").fill("I felt **really** held today")
    other.get_by_role("button", name="Save").click()
    edited = page.locator("li.message", has_text="I felt really held today")
    expect(edited.locator("strong", has_text="really")).to_be_visible()
    expect(edited).to_contain_text("edited")

    # Delete asks first.
    _more(other, "really held").get_by_role("button", name=re.compile("^Delete")).click()
    confirm = other.locator("#confirm-dialog")
    expect(confirm).to_contain_text("cannot be undone")
    confirm.get_by_role("button", name="Cancel").click()
    expect(page.locator("li.message", has_text="really held")).to_have_count(1)
    _more(other, "really held").get_by_role("button", name=re.compile("^Delete")).click()
    confirm.get_by_role("button", name="Delete message").click()
    expect(page.locator("li.message", has_text="really held")).to_have_count(0)

    # Hide a member: folded for you alone, with an undo; kept across a reload.
    _more(page, "A first word from b").get_by_role("button", name=re.compile("^Stop seeing")).click()
    page.locator("#confirm-dialog").get_by_role("button", name="Stop seeing them").click()
    folded = page.locator("li.message.folded")
    expect(folded).to_contain_text(f"A message from {b.alias}, whom you chose not to see")
    expect(folded).not_to_contain_text("A first word from b")
    page.locator(f'.notice[data-code="hid:{b.alias}"]').get_by_role("button", name="Undo").click()
    expect(page.locator("li.message.folded")).to_have_count(0)
    _more(page, "A first word from b").get_by_role("button", name=re.compile("^Stop seeing")).click()
    page.locator("#confirm-dialog").get_by_role("button", name="Stop seeing them").click()
    expect(folded).to_have_count(1)
    page.reload()
    expect(page.locator("#room-status")).to_have_attribute("data-state", "live")
    expect(page.locator("li.message.folded")).to_have_count(1)
    folded.get_by_role("button", name="Show this one").click()
    expect(page.locator("li.message", has_text="A first word from b")).to_be_visible()
    page.locator("#hidden-members summary").click()
    page.locator("#hidden-list").get_by_role("button", name="Show their messages again").click()
    expect(page.locator("#hidden-members")).to_be_hidden()
    expect(other.locator("#notices .notice")).to_have_count(0)  # b is never told

    # Leave: a clear question, naming the alias lost for good.
    page.get_by_role("button", name="Leave this circle").click()
    confirm = page.locator("#confirm-dialog")
    expect(confirm).to_contain_text(a.alias)
    expect(confirm).to_contain_text("for good")
    page.keyboard.press("Escape")
    expect(confirm).to_be_hidden()
    assert Membership.objects.get(pk=a.pk).left_at is None
    page.get_by_role("button", name="Leave this circle").click()
    confirm.get_by_role("button", name="Leave the circle").click()
    expect(page).to_have_url(daphne_server.url + "/")
    assert Membership.objects.get(pk=a.pk).left_at is not None
    assert native == []


def test_facilitator_actions_use_dialogs(daphne_server, make_user, circle, join, chromium):
    """Remove (a reason required, kept in the audit log), mute (whole minutes 1 to
    1440, "1 minute" said right), slow mode (its refusal under the message box
    clears when slow mode ends), close (confirmed) and reopen, pin and unpin."""
    guide = join(make_user("dlg-guide"), circle, Membership.Role.FACILITATOR)
    a, c = join(make_user("dlg-member-a"), circle), join(make_user("dlg-member-c"), circle)
    for n in range(2):
        off_thread(chat_services.post_message, ctx_of(a), client_id=f"a{n}", body=f"Member words {n}")
    staff = open_room(chromium, daphne_server, guide.user, circle)
    page = open_room(chromium, daphne_server, a.user, circle, "phone")
    third = open_room(chromium, daphne_server, c.user, circle)
    native = _no_native_dialogs(staff) + _no_native_dialogs(page)

    say(staff, "Welcome, take your time.")
    expect(page.locator("li.message", has_text="Welcome, take").locator(".role-badge")).to_have_text("Facilitator")

    # Remove: a reason is required.
    _more(staff, "Member words 0").get_by_role("button", name=re.compile("^Remove")).click()
    remove = staff.locator("#remove-dialog")
    remove.get_by_role("button", name="Remove message").click()
    expect(remove.locator(".dialog-error")).to_contain_text("Please give a reason")
    expect(page.locator("li.message", has_text="Member words 0")).to_have_count(1)
    remove.get_by_label("Reason (kept in the audit log)").fill("Shares a phone number")
    remove.get_by_role("button", name="Remove message").click()
    expect(page.locator("li.message", has_text="Member words 0")).to_have_count(0)
    assert AuditEntry.objects.get(action="remove").reason == "Shares a phone number"

    # Mute: whole minutes from 1 to 1440, and a reason.
    _more(staff, "Member words 1").get_by_role("button", name=re.compile("^Pause")).click()
    mute = staff.locator("#mute-dialog")
    minutes = mute.get_by_label(re.compile("For how many minutes"))
    for bad in ("", "0", "1441", "2.5"):
        minutes.fill(bad)
        mute.get_by_label("Reason (kept in the audit log)").fill("cool down")
        mute.get_by_role("button", name=re.compile("^Mute")).click()
        expect(mute.locator(".dialog-error")).to_contain_text("1 to 1440")
    minutes.fill("1")
    expect(mute.locator("#mute-summary")).to_contain_text("for 1 minute,")
    mute.get_by_role("button", name="Mute for 1 minute").click()
    expect(mute).to_be_hidden()
    expect(page.locator(".notice[data-code=muted]")).to_contain_text("paused until")
    expect(page.locator("#composer-send")).to_be_disabled()
    assert Membership.objects.get(pk=a.pk).muted_until is not None

    # Slow mode: the refusal under the message box goes when slow mode ends.
    staff.get_by_text("Facilitator controls").click()
    staff.get_by_role("button", name="Slow mode: off").click()
    staff.locator("#slow-dialog").get_by_label("1 minute").check()
    staff.locator("#slow-dialog").get_by_role("button", name="Apply").click()
    expect(third.locator("#slow-mode")).to_contain_text("one message every 1 minute")
    say(third, "first under slow mode")
    expect(third.locator("li.message:not(.pending)", has_text="first under slow mode")).to_be_visible()
    say(third, "second too soon")
    error = third.locator("#composer-error")
    expect(error).to_contain_text("Slow mode: you can send your next message in")
    expect(third.locator("#composer-body")).to_have_value("second too soon")  # the words are given back
    staff.get_by_role("button", name="Slow mode: 1 minute").click()
    staff.locator("#slow-dialog").get_by_label("Off").check()
    staff.locator("#slow-dialog").get_by_role("button", name="Apply").click()
    expect(error).to_be_hidden()

    # Close asks first; reopening does not.
    staff.get_by_role("button", name="Close the room").click()
    staff.locator("#confirm-dialog").get_by_role("button", name="Cancel").click()
    expect(third.locator("#room-closed")).to_be_hidden()
    staff.get_by_role("button", name="Close the room").click()
    expect(staff.locator("#confirm-dialog")).to_contain_text("cannot write or react")
    staff.locator("#confirm-dialog").get_by_role("button", name="Close the room").click()
    expect(third.locator("#room-closed")).to_be_visible()
    staff.get_by_role("button", name="Reopen the room").click()
    expect(third.locator("#room-closed")).to_be_hidden()

    # Pin and unpin, each confirmed.
    _more(staff, "Member words 1").get_by_role("button", name="Pin for everyone…").click()
    staff.locator("#confirm-dialog").get_by_role("button", name="Pin it").click()
    expect(third.locator("#pinned")).to_contain_text("Member words 1")
    staff.locator("#pinned").get_by_role("button", name="Unpin").click()
    staff.locator("#confirm-dialog").get_by_role("button", name="Unpin").click()
    expect(third.locator("#pinned")).to_be_hidden()
    assert native == []


def test_keyboard_and_touch(daphne_server, make_user, circle, join, chromium):
    """A skip link reaches the message box; the list is two tab stops however
    long (Up/Down between messages, Left/Right in a message's toolbar), with a
    visible focus ring; on a phone Enter is a new line and Send sends, message
    actions are at least 44 px; at a keyboard Enter sends."""
    a, b = join(make_user("keys-a"), circle), join(make_user("keys-b"), circle)
    for n in range(12):
        off_thread(chat_services.post_message, ctx_of(b if n % 2 else a), client_id=f"k{n}", body=f"Line {n}")
    page = open_room(chromium, daphne_server, a.user, circle)

    page.locator("#skip-to-composer").focus()
    page.keyboard.press("Enter")
    assert _focused(page)["id"] == "composer-body"

    # Backwards from the message box: the focused message's toolbar, the message,
    # then whatever is before the list: two stops for twelve messages.
    page.keyboard.press("Shift+Tab")
    tool = _focused(page)
    assert tool["tag"] == "BUTTON" and "Line 11" in tool["li"], tool
    page.keyboard.press("Shift+Tab")
    message = _focused(page)
    assert message["tag"] == "LI" and "Line 11" in message["li"], message
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), "no visible focus on the message"
    page.keyboard.press("Shift+Tab")
    assert "Line" not in _focused(page)["li"]

    page.keyboard.press("Tab")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert "Line 9" in _focused(page)["li"]
    page.keyboard.press("Tab")
    first_tool = _focused(page)
    page.keyboard.press("ArrowRight")
    second_tool = _focused(page)
    assert "Line 9" in second_tool["li"] and second_tool["label"] != first_tool["label"]
    page.keyboard.press("Enter")  # the hug reaction
    expect(page.locator("li.message", has_text="Line 9").locator("button[data-kind=hug]")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.keyboard.press("Tab")
    assert _focused(page)["id"] == "composer-body"

    page.keyboard.type("first line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    assert page.locator("#composer-body").input_value() == "first line\nsecond line"
    page.keyboard.press("Enter")
    expect(page.locator("li.message[data-id]", has_text="second line")).to_be_visible()
    expect(page.locator("li.message.pending")).to_have_count(0)

    phone = open_room(chromium, daphne_server, b.user, circle, "phone")
    expect(phone.locator("#composer-keys")).to_contain_text("tap Send")
    phone.locator("#composer-body").fill("on a phone")
    phone.locator("#composer-body").press("Enter")
    phone.keyboard.type("a second line")
    assert phone.locator("#composer-body").input_value() == "on a phone\na second line"
    expect(phone.locator("li.message.pending")).to_have_count(0)
    phone.locator("#composer-send").click()
    expect(page.locator("li.message[data-id]", has_text="a second line")).to_be_visible()
    boxes = phone.locator("#messages li.message .message-tools button").evaluate_all(
        "bs => bs.filter(b => b.offsetParent)"
        ".map(b => { const r = b.getBoundingClientRect(); return [r.width, r.height]; })"
    )
    assert boxes and all(w >= 44 and h >= 44 for w, h in boxes), boxes
