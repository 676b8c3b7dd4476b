"""Helpers for the room page's browser tests: a member's page on a desktop or a
phone (touch), and the layout checks every state must pass."""

from concurrent.futures import ThreadPoolExecutor

from playwright.sync_api import expect

from chat import services as chat_services
from tests.browser.conftest import PHONE, SCREENSHOTS, assert_accessible, shot
from tests.conftest import session_cookie_for

DESK = {"width": 1280, "height": 800}
# A phone is a touch screen: Enter makes a new line there, the Send button sends.
DEVICES = {"desktop": (DESK, False), "phone": (PHONE, True)}


def open_room(browser, server, user, circle, device: str = "desktop", *, wait: bool = True):
    """``user``'s circle page on ``device``, live (unless ``wait`` is false)."""
    viewport, touch = DEVICES[device]
    context = browser.new_context(base_url=server.url, viewport=viewport, has_touch=touch, is_mobile=touch)
    context.add_cookies([{"name": "sessionid", "value": session_cookie_for(user), "url": server.url}])
    page = context.new_page()
    page.goto(circle.get_absolute_url())
    if wait:
        expect(page.locator("#room-status")).to_have_attribute("data-state", "live")
    return page


def say(page, text: str) -> None:
    """Write and send with the Send button (what works on every device)."""
    page.locator("#composer-body").fill(text)
    page.locator("#composer-send").click()


def in_viewport(page, locator) -> bool:
    """The whole element is on screen (not merely in the page)."""
    box = locator.bounding_box()
    size = page.viewport_size
    return (
        box is not None
        and box["x"] >= -0.5
        and box["y"] >= -0.5
        and box["x"] + box["width"] <= size["width"] + 0.5
        and box["y"] + box["height"] <= size["height"] + 0.5
    )


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


def newest_and_box_together(page) -> bool:
    """The newest message and the message box are both on screen."""
    newest = page.locator("#messages li.message").last
    return in_viewport(page, newest) and in_viewport(page, page.locator("#composer-body"))


def check_state(page, name: str, *, messages: bool = True, layout: bool = True) -> None:
    """One state of the room page: no serious axe violation, nothing wider than
    the screen, the newest message and the message box on screen together, and
    screenshots (data/screenshots/<name>.png, the whole page, and
    <name>-viewport.png, what the screen shows)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(150)  # let a notice or card settle before the audit
    page.screenshot(path=str(SCREENSHOTS / f"{name}-viewport.png"))
    assert_accessible(page, name)
    assert no_sideways_scroll(page), f"{name}: wider than the screen"
    if not layout:
        pass
    elif messages:
        assert newest_and_box_together(page), f"{name}: newest message and message box not both on screen"
    else:
        assert in_viewport(page, page.locator("#composer-body")), f"{name}: message box not on screen"
    # A full-page capture stretches the viewport to the page for a moment: put
    # the window and the list back where the reader had them.
    where = page.evaluate("[scrollY, document.getElementById('messages-scroll').scrollTop]")
    shot(page, name)
    page.evaluate(
        "([y, top]) => { document.getElementById('messages-scroll').scrollTop = top; scrollTo(0, y); }",
        where,
    )


def ctx_of(membership):
    return chat_services.RoomContext(
        membership.user_id, membership.circle_id, membership.pk, membership.alias, membership.role
    )


def off_thread(fn, *args, **kwargs):
    """Run a service off this thread (Playwright's event loop lives here), so its
    events go out as another process's would."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args, **kwargs).result()
