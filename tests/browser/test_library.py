"""The library and the private tools in a real browser against a live Daphne:
suggesting a resource and a moderator approving it, sharing one into a live
room, recording and playing back a voice note (Chromium's fake microphone),
and every page readable and accessible on a phone and a desktop."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from community.apps import MODERATORS_GROUP
from community.models import Membership
from library import resources
from library.models import JournalEntry, Prompt, ResourcePost, Track, VoiceNote
from library.private import journal, voice
from library.starter import install
from tests.browser.conftest import AXE, CHROMIUM_ARGS, PHONE, SCREENSHOTS, assert_accessible, page_for, shot
from tests.library.conftest import PLAYLIST, resource_input

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


def off_thread(call, *args, **kwargs):
    """Run a service off this thread (Playwright's event loop lives here)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call, *args, **kwargs).result()


@pytest.fixture
def starter(transactional_db):
    """The starter library (migrate installs it; a transactional test's flush does not keep it)."""
    off_thread(install, ResourcePost, Track, Prompt)


@pytest.fixture
def private_server(daphne_factory, tmp_path, settings):
    """A Daphne whose private data folder is this test's own (and this process's too)."""
    settings.PRIVATE_DATA_DIR = tmp_path / "private"
    return daphne_factory(PRIVATE_DATA_DIR=str(tmp_path / "private"))


def fits(page, what: str) -> None:
    """Nothing is wider than the viewport."""
    wide = page.evaluate(
        """() => {
          const w = document.documentElement.clientWidth;
          const over = [...document.querySelectorAll('body *')].filter(e => {
            const r = e.getBoundingClientRect();
            return r.width > 0 && r.right > w + 1;
          }).map(e => e.tagName + '.' + e.className);
          return {scroll: document.documentElement.scrollWidth, width: w, over: over.slice(0, 5)};
        }"""
    )
    assert wide["scroll"] <= wide["width"] and not wide["over"], f"{what}: {wide}"


def section_accessible(page, selector: str, what: str) -> None:
    """No serious or critical axe-core violation inside ``selector``."""
    page.evaluate(AXE.read_text() + "\n;0")  # evaluated: the page's CSP refuses inline scripts
    result = page.evaluate("async (sel) => await axe.run(sel, {resultTypes: ['violations']})", selector)
    problems = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not problems, f"{what}: {problems}"


def check_page(page, name: str, *, scope: str | None = None) -> None:
    if scope is None:
        assert_accessible(page, name)
    else:
        section_accessible(page, scope, name)
    fits(page, name)
    shot(page, name)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-top.png"))  # what the screen shows first


def moderator(make_user, handle: str):
    user = make_user(handle)
    user.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    return user


def test_a_member_suggests_a_resource_and_a_moderator_approves_it(daphne_server, make_user, circle, join, chromium):
    member = join(make_user("lib-member"), circle)
    mod = moderator(make_user, "lib-mod")
    queue = page_for(chromium, daphne_server, mod, "/moderation/")
    expect(queue.locator("#queue-status")).to_have_attribute("data-state", "live")

    page = page_for(chromium, daphne_server, member.user, f"/library/new/?circle={circle.slug}", PHONE)
    expect(page.get_by_role("heading", name="Post or suggest a resource")).to_be_visible()
    page.get_by_label("Kind").select_option("playlist")
    expect(page.locator("fieldset[data-for=playlist]")).to_be_visible()
    expect(page.get_by_label("Prompts (worksheets and journaling prompts)")).to_be_hidden()
    check_page(page, "library-suggest-phone")
    page.get_by_label("Title").fill("Rain for the morning after")
    page.get_by_label("For which phase").select_option("integration")
    page.get_by_label("Description").fill("Soft rain and piano, *no words*, for journaling.")
    page.get_by_label("Link (optional)").fill("javascript:alert(1)")
    page.get_by_label("Tracks (playlists)").fill(PLAYLIST)
    page.get_by_role("button", name="Post").click()
    expect(page.locator(".error[data-field=link]")).to_contain_text("https://")
    assert not ResourcePost.objects.filter(title="Rain for the morning after").exists()

    page.get_by_label("Link (optional)").fill("https://example.org/rain")
    page.get_by_role("button", name="Post").click()
    expect(page.locator(".flash")).to_contain_text("A moderator will look at it")
    expect(page.locator(".lib-pending")).to_be_visible()
    shot(page, "library-suggested-phone")

    item = queue.locator("li.queue-item", has_text="Rain for the morning after")
    expect(item).to_contain_text("Library suggestion")
    expect(item).to_contain_text(member.alias)
    assert "lib-member" not in queue.content()
    check_page(queue, "library-queue-suggestion")
    item.get_by_label("Decision").select_option("approve")
    item.get_by_label("Reason (kept in the audit log)").fill("A kind, useful playlist")
    item.get_by_role("button", name="Apply decision").click()
    expect(queue.locator("li.queue-item", has_text="Rain for the morning after")).to_have_count(0)

    page.reload()
    expect(page.locator(".lib-pending")).to_have_count(0)
    expect(page.locator("#verified")).to_contain_text("Moderators")
    expect(page.locator(".lib-tracks li")).to_have_count(2)
    other = join(make_user("lib-reader"), circle)
    reader = page_for(chromium, daphne_server, other.user, f"/library/?circle={circle.slug}")
    expect(reader.locator(".lib-item", has_text="Rain for the morning after")).to_be_visible()


def test_a_facilitator_shares_a_resource_into_the_live_room(daphne_server, make_user, circle, join, chromium):
    facilitator = join(make_user("lib-guide"), circle, Membership.Role.FACILITATOR)
    member = join(make_user("lib-listener"), circle)
    off_thread(
        resources.post_resource,
        user=facilitator.user,
        circle=circle,
        data=resource_input(title="Box breathing together", kind="breathwork", phase="session"),
    )
    room = page_for(chromium, daphne_server, member.user, circle.get_absolute_url(), PHONE)
    expect(room.locator("#room-status")).to_have_attribute("data-state", "live")
    guide = page_for(chromium, daphne_server, facilitator.user, circle.get_absolute_url())
    expect(guide.locator("#room-status")).to_have_attribute("data-state", "live")

    form = guide.locator("#share-form")
    form.get_by_label("Share a resource in the live room").select_option(label="Box breathing together")
    form.get_by_label("Pin it for the session").check()
    form.get_by_role("button", name="Share in the room").click()
    expect(form.locator(".lib-share-status")).to_contain_text("Shared in the live room")

    card = room.locator("li.message .resource-card")
    expect(card).to_contain_text("Box breathing together")
    expect(card).to_contain_text("Breathwork")
    expect(room.locator("#pinned .resource-card")).to_contain_text("Box breathing together")
    expect(room.locator("li.message", has_text="From the library").locator(".alias")).to_contain_text(facilitator.alias)
    # The room page itself is the room engineer's (its <ol role="log"> trips axe's
    # listitem rule before any card is added); the card must fit the phone.
    fits(room, "room with a shared resource")
    shot(room, "library-shared-in-room-phone")
    card.click()
    expect(room.get_by_role("heading", name="Box breathing together")).to_be_visible()


@pytest.fixture
def media_chromium():
    """Chromium with a fake microphone that needs no permission prompt."""
    from playwright.sync_api import sync_playwright

    args = [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        "--autoplay-policy=no-user-gesture-required",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=args)
        yield browser
        browser.close()


def test_a_member_records_a_voice_note_and_plays_it_back(private_server, make_user, circle, join, media_chromium):
    member = join(make_user("lib-voice"), circle)
    page = page_for(media_chromium, private_server, member.user, "/library/journal/new/", PHONE)
    page.context.grant_permissions(["microphone"])
    expect(page.locator("#recorder")).to_be_visible()
    check_page(page, "journal-new-phone")
    page.get_by_label("What is with you today?").fill("After today's session: **warmth** in my chest.")
    page.get_by_label("Tags (optional)").fill("warmth, body")
    page.get_by_role("button", name="Record", exact=True).click()
    expect(page.locator("#recorder")).to_have_attribute("data-state", "recording")
    expect(page.locator("#record-status")).to_contain_text("Recording… 0:02", timeout=5000)
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.locator("#recorder")).to_have_attribute("data-state", "recorded")
    expect(page.locator("#record-preview")).to_be_visible()
    shot(page, "journal-recorded-phone")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".flash")).to_contain_text("Only you can read it")
    note = VoiceNote.objects.get()
    assert note.content_type == "audio/webm" and note.size > 1000 and 1 <= (note.seconds or 0) <= 5
    assert voice.path_of(note.storage_name).is_file()
    player = page.locator("#voice-player")
    expect(player).to_be_visible()
    played = page.evaluate(
        """async () => {
          const a = document.getElementById('voice-player');
          await a.play();
          await new Promise(r => setTimeout(r, 700));
          const r = await fetch(a.src);
          return {time: a.currentTime, status: r.status, type: r.headers.get('content-type'),
                  cache: r.headers.get('cache-control'), size: (await r.arrayBuffer()).byteLength};
        }"""
    )
    assert played["time"] > 0 and played["status"] == 200 and played["type"] == "audio/webm"
    assert played["cache"] == "private, no-store" and played["size"] == note.size
    shot(page, "journal-saved-phone")
    page.reload()  # without the flash message (base.html's <ul role="status"> trips axe's listitem rule)
    check_page(page, "journal-entry-phone")

    stranger = page_for(media_chromium, private_server, make_user("lib-stranger"), "/library/journal/")
    response = stranger.request.get(f"/library/journal/{note.entry_id}/voice/")
    assert response.status == 404
    assert stranger.goto(f"/library/journal/{note.entry_id}/").status == 404


def test_library_pages_read_well_on_a_phone_and_a_desktop(private_server, starter, make_user, circle, join, chromium):
    """Each page: no serious accessibility problem, nothing wider than the screen."""
    facilitator = join(make_user("lib-pages-guide"), circle, Membership.Role.FACILITATOR)
    member = join(make_user("lib-pages-member"), circle)
    off_thread(
        resources.post_resource,
        user=facilitator.user,
        circle=circle,
        data=resource_input(
            title="A playlist with a very long title to see how it wraps on a small phone screen",
            kind="playlist",
            phase="preparation",
            mood="Slow and wordless",
            tracks=PLAYLIST + "\n" + "An extraordinarily long track title without spaces" * 2 + " | artist | 3:00",
            link="https://example.org/" + "a-very-long-path/" * 6,
        ),
    )
    worksheet = ResourcePost.objects.get(starter_key="worksheet-intention")
    off_thread(journal.save_entry, member.user, journal.EntryInput(body="A first entry.\n\n- one\n- two", tags="rest"))
    entry = JournalEntry.objects.get()
    playlist = ResourcePost.objects.get(kind="playlist", circle=circle)
    mod = moderator(make_user, "lib-pages-mod")
    ResourcePost.objects.filter(starter_key="crisis-988").update(verified_at="2020-01-01T00:00:00Z")
    pages = [
        (member.user, "/library/", "library-index"),
        (member.user, "/library/?q=breathing&phase=preparation", "library-search"),
        (member.user, playlist.get_absolute_url(), "library-playlist"),
        (member.user, ResourcePost.objects.get(starter_key="crisis-988").get_absolute_url(), "library-crisis-stale"),
        (member.user, f"/library/r/{worksheet.pk}/fill/", "worksheet-fill"),
        (member.user, "/library/journal/", "journal-timeline"),
        (member.user, f"/library/journal/{entry.pk}/", "journal-entry"),
        # the circle page: its library section (the room above it is the room engineer's)
        (facilitator.user, circle.get_absolute_url(), "circle-with-library", "#library"),
        (facilitator.user, "/library/new/", "library-new"),
        (mod, "/library/recheck/", "library-recheck"),
    ]
    for user, path, name, *scope in pages:
        for size, viewport in VIEWPORTS.items():
            page = page_for(chromium, private_server, user, path, viewport)
            expect(page.locator("main h1").first).to_be_visible()
            check_page(page, f"{name}-{size}", scope=scope[0] if scope else None)
            page.context.close()
