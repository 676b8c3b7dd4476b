"""Browser tests: Debian's chromium driven by Playwright against a live Daphne."""

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import ROOT, session_cookie_for

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = ROOT / "data" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(autouse=True)
def allow_orm_beside_playwright(monkeypatch):
    """Playwright's sync API keeps an event loop marked as running in this thread, so
    Django would refuse the test's own (synchronous) queries; allow them here only."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def chromium():
    """Debian's chromium, headless, driven by Playwright (no browser download)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def page_for(browser, server, user, path, viewport=None):
    """A page of ``user`` (logged in through a real session cookie) at ``path``."""
    context = browser.new_context(base_url=server.url, viewport=viewport or DESKTOP)
    context.add_cookies([{"name": "sessionid", "value": session_cookie_for(user), "url": server.url}])
    page = context.new_page()
    page.goto(path)
    return page


AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def axe(page, *, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core (npm, injected by Playwright) on the page; the violations of
    the given impacts, each with its rule id, help text and offending nodes."""
    if not AXE.exists():
        raise RuntimeError("axe-core is missing: run `npm ci` (scripts/test does)")
    # Evaluated, not added as a <script>: the pages' Content-Security-Policy
    # refuses inline scripts, and would report axe itself as a violation.
    page.evaluate(AXE.read_text() + "\n;0")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def assert_accessible(page, what: str) -> None:
    """No serious or critical axe-core violation on the page."""
    problems = axe(page)
    assert not problems, f"{what}: {problems}"


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
