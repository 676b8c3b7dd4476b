"""What every page must be, checked in the browser: no Content-Security-Policy
violation, no serious or critical axe-core finding, nothing wider than the
screen, touch targets of at least 44 px on a phone, a visible keyboard focus;
and a screenshot to look at (``data/screenshots``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.browser.conftest import DESKTOP, PHONE, axe, shot

# Collects violations from the first script on: the policy refuses inline
# scripts, so the listener must come from Playwright, not the page.
CSP_LISTENER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(
    e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || "") + ":" + e.lineNumber
  );
});
"""
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": PHONE}
MIN_TARGET = 44

TARGETS_JS = """
(min) => {
  const out = [];
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]';
  for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!r.width || !r.height || style.visibility === 'hidden' || r.right <= 0 || r.bottom <= 0) continue;
    if (el.closest('[hidden], dialog:not([open])')) continue;
    // A link inside a sentence is exempt (WCAG 2.5.8, "inline"): its block holds more text than the link.
    if (el.tagName === 'A' && style.display === 'inline') {
      const block = el.parentElement.closest('p, li, dd, td, th, span, label') || el.parentElement;
      if (block.textContent.trim().length > el.textContent.trim().length + 1) continue;
    }
    // A checkbox or radio is measured with its label (the label is part of the target).
    let h = r.height, w = r.width;
    if ((el.type === 'checkbox' || el.type === 'radio') && el.labels && el.labels[0]) {
      const lr = el.labels[0].getBoundingClientRect();
      h = Math.max(h, lr.height); w = w + lr.width;
    }
    if (h < min - 0.5 || w < min - 0.5) {
      const what = (el.textContent || el.value || el.name || '').trim().slice(0, 40);
      const tag = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '');
      out.push(`${tag} "${what}" ${Math.round(w)}x${Math.round(h)}`);
    }
  }
  return out;
}
"""

WIDE_JS = """
(width) => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > width + 1 && !el.closest('dialog:not([open])')) {
      const cls = typeof el.className === 'string' && el.className ? '.' + el.className.split(' ').join('.') : '';
      out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls} right=${Math.round(r.right)}`);
    }
  }
  return out.slice(0, 10);
}
"""


@dataclass
class Watched:
    """Console and CSP trouble seen on a page."""

    console: list[str] = field(default_factory=list)

    def csp(self, page) -> list[str]:
        events = page.evaluate("window.__csp || []")
        return events + [c for c in self.console if "Content Security Policy" in c or "Refused to" in c]


def watch(page) -> Watched:
    """Listen for CSP violations and page errors from the very first script."""
    seen = Watched()
    page.add_init_script(CSP_LISTENER)
    page.on("console", lambda m: seen.console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: seen.console.append(f"pageerror: {e}"))
    return seen


def new_page(browser, server, viewport: str, cookie: str | None = None, storage_state=None):
    """A page at ``viewport`` ("desktop" or "phone"), signed in with ``cookie`` if given, watched."""
    context = browser.new_context(base_url=server.url, viewport=VIEWPORTS[viewport], storage_state=storage_state)
    if cookie:
        context.add_cookies([{"name": "sessionid", "value": cookie, "url": server.url}])
    page = context.new_page()
    return page, watch(page)


def focus_is_visible(page) -> bool:
    """Tab to the first control: it shows an outline (the site's focus ring)."""
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past "Skip to content"
    return page.evaluate(
        """() => { const el = document.activeElement; if (!el || el === document.body) return false;
        const s = getComputedStyle(el); return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }"""
    )


def check_page(page, seen: Watched, name: str, viewport: str, *, screenshot: bool = True) -> list[str]:
    """Every problem of the page as it stands, as sentences (empty: all good)."""
    problems: list[str] = []
    width = VIEWPORTS[viewport]["width"]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll > width:
        problems.append(f"{name}: {scroll} px wide on a {width} px screen: {page.evaluate(WIDE_JS, width)}")
    if viewport == "phone":
        small = page.evaluate(TARGETS_JS, MIN_TARGET)
        if small:
            problems.append(f"{name}: touch targets under {MIN_TARGET} px: {small}")
    found = axe(page)
    if found:
        problems.append(f"{name}: axe {found}")
    csp = seen.csp(page)
    if csp:
        problems.append(f"{name}: CSP {csp}")
    errors = [c for c in seen.console if c.startswith("pageerror")]
    if errors:
        problems.append(f"{name}: script errors {errors}")
    if screenshot:
        shot(page, f"{name}-{viewport}")
    return problems


__all__ = ["DESKTOP", "PHONE", "VIEWPORTS", "check_page", "focus_is_visible", "new_page", "watch"]
