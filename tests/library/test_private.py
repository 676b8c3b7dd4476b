"""The private tools through their pages: a member's journal, voice notes and
worksheets are theirs alone (404 for anyone else, moderators included), checked
by content, kept outside any public path, exported and erased by them, and
never screened, logged or listed for staff."""

import io
import json
import logging
import os
import stat
import zipfile

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from community import memberdata
from community import services as community_services
from core.errors import DomainError, ErrorCode
from library.models import FilledWorksheet, JournalEntry, ResourcePost, VoiceNote
from library.private import journal, voice
from moderation.models import AuditEntry, Flag, RuleHit
from tests.library import audio

pytestmark = pytest.mark.django_db

SECRET = "the river said my grandmothers name 8812"


@pytest.fixture
def owner(member):
    return member.user


@pytest.fixture
def me(client_for, owner) -> Client:
    return client_for(owner)


@pytest.fixture
def stranger(make_user, client_for) -> Client:
    return client_for(make_user("stranger"))


def upload(data: bytes, name: str = "voice-note.webm", kind: str = "audio/webm") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=kind)


def new_entry(client, **fields):
    fields.setdefault("body", SECRET)
    return client.post("/library/journal/new/", fields)


def files(private_dir) -> list[str]:
    folder = private_dir / "voice"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_member_writes_an_entry_and_sees_it_on_their_timeline(me, owner):
    response = new_entry(me, tags="gratitude, Body")
    entry = JournalEntry.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/library/journal/{entry.pk}/"
    assert (entry.user, entry.body, entry.tags) == (owner, SECRET, ["gratitude", "body"])
    page = me.get("/library/journal/")
    assert SECRET in page.content.decode() and "#gratitude" in page.content.decode()
    assert page["Cache-Control"] == "private, no-store"
    assert SECRET not in me.get("/library/journal/?tag=dream").content.decode()


def test_another_member_or_a_moderator_gets_404_for_every_private_page(me, stranger, client_for, site_moderator):
    new_entry(me, voice=upload(audio.webm()))
    entry = JournalEntry.objects.get()
    moderator = client_for(site_moderator)
    for client in (stranger, moderator):
        for path in (f"/library/journal/{entry.pk}/", f"/library/journal/{entry.pk}/edit/",
                     f"/library/journal/{entry.pk}/voice/"):  # fmt: skip
            response = client.get(path)
            assert response.status_code == 404, path
            assert SECRET not in response.content.decode()
        assert client.post(f"/library/journal/{entry.pk}/delete/").status_code == 404
        assert client.post(f"/library/journal/{entry.pk}/edit/", {"body": "mine now"}).status_code == 404
        assert client.post(f"/library/journal/{entry.pk}/voice/delete/").status_code == 404
        assert SECRET not in client.get("/library/journal/").content.decode()
    entry.refresh_from_db()
    assert entry.body == SECRET and VoiceNote.objects.count() == 1


def test_an_id_that_does_not_exist_looks_the_same_as_someone_elses(me, stranger):
    new_entry(me)
    entry = JournalEntry.objects.get()
    theirs, missing = stranger.get(f"/library/journal/{entry.pk}/"), stranger.get("/library/journal/999999/")
    assert theirs.status_code == missing.status_code == 404
    said = [r.content.decode().split('role="alert"', 1)[-1].split("</p>", 1)[0] for r in (theirs, missing)]
    assert said[0] == said[1]


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (audio.webm(), "audio/webm"),
        (audio.ogg_opus(), "audio/ogg"),
        (audio.mp4_audio(), "audio/mp4"),
        (audio.mp3(), "audio/mpeg"),
        (audio.wav(2), "audio/wav"),
    ],
)
def test_a_voice_note_is_kept_privately_and_played_back_to_its_owner(me, private_dir, data, kind):
    """Recognised by its bytes (the name says .webm for all of them), stored
    0600 under the private folder by a random name, served inline as audio,
    never cached."""
    response = new_entry(me, body="", voice=upload(data), voice_seconds="2")
    assert response.status_code == 302, response.content
    note = VoiceNote.objects.get()
    assert note.content_type == kind and note.size == len(data) and note.seconds == 2
    path = voice.path_of(note.storage_name)
    assert path.parent == private_dir / "voice" and path.read_bytes() == data
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "voice-note" not in note.storage_name
    played = me.get(f"/library/journal/{note.entry_id}/voice/")
    assert played.status_code == 200 and b"".join(played.streaming_content) == data
    assert played["Content-Type"] == kind
    assert played["Content-Disposition"].startswith("inline;")
    assert played["Cache-Control"] == "private, no-store" and played["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "data", [audio.PNG, audio.HTML, audio.matroska(), b"OggS" + b"\x00" * 200, b"RIFF\x00\x00\x00\x00AVI "]
)
def test_a_file_that_is_not_a_recording_is_refused_whatever_its_name(me, private_dir, data):
    response = new_entry(me, voice=upload(data, "voice-note.webm", "audio/webm"))
    assert response.status_code == 400
    assert "not a recording we can keep" in response.content.decode()
    assert not JournalEntry.objects.exists() and files(private_dir) == []


def test_an_oversize_recording_is_refused_and_nothing_is_written(me, private_dir, settings):
    settings.VOICE_NOTE_MAX_BYTES = 4096
    response = new_entry(me, voice=upload(audio.webm(8192)))
    assert response.status_code == 413
    assert "at most" in response.content.decode()
    assert not JournalEntry.objects.exists() and files(private_dir) == []


def test_a_request_far_over_the_bound_is_refused_before_it_is_read(me, private_dir, settings):
    settings.VOICE_NOTE_MAX_BYTES = 1024
    response = new_entry(me, voice=upload(audio.webm(512 * 1024)))
    assert response.status_code == 413 and not JournalEntry.objects.exists() and files(private_dir) == []


def test_a_recording_longer_than_the_limit_is_refused(me, settings):
    settings.VOICE_NOTE_MAX_SECONDS = 3
    assert new_entry(me, voice=upload(audio.wav(6), "a.wav", "audio/wav")).status_code == 400
    assert new_entry(me, voice=upload(audio.webm()), voice_seconds="400").status_code == 400
    assert not JournalEntry.objects.exists()


def test_an_entry_needs_words_or_a_recording(me):
    response = new_entry(me, body="   ")
    assert response.status_code == 400 and "Write something" in response.content.decode()


def test_bad_text_is_refused_and_nothing_is_stored(me):
    assert new_entry(me, body="<script>alert(1)</script>").status_code == 400
    assert new_entry(me, body="x" * 20_001).status_code == 400
    assert new_entry(me, tags="<b>bold</b>").status_code == 400
    assert not JournalEntry.objects.exists()


def test_deleting_an_entry_deletes_its_recording(me, private_dir, django_capture_on_commit_callbacks):
    new_entry(me, voice=upload(audio.webm()))
    entry = JournalEntry.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert me.post(f"/library/journal/{entry.pk}/delete/").status_code == 302
    assert not JournalEntry.objects.exists() and not VoiceNote.objects.exists() and files(private_dir) == []


def test_replacing_or_dropping_a_recording_deletes_the_old_file(me, private_dir, django_capture_on_commit_callbacks):
    new_entry(me, voice=upload(audio.webm()))
    entry = JournalEntry.objects.get()
    first = VoiceNote.objects.get().storage_name
    with django_capture_on_commit_callbacks(execute=True):
        me.post(f"/library/journal/{entry.pk}/edit/", {"body": SECRET, "voice": upload(audio.ogg_opus(), "b.ogg")})
    assert files(private_dir) == [VoiceNote.objects.get().storage_name] != [first]
    with django_capture_on_commit_callbacks(execute=True):
        me.post(f"/library/journal/{entry.pk}/edit/", {"body": SECRET, "drop_voice": "on"})
    assert files(private_dir) == [] and JournalEntry.objects.get().body == SECRET


def test_deleting_the_account_deletes_every_private_thing(owner, me, private_dir, django_capture_on_commit_callbacks):
    new_entry(me, voice=upload(audio.webm()))
    sheet_resource = ResourcePost.objects.get(starter_key="worksheet-intention")
    me.post(f"/library/r/{sheet_resource.pk}/fill/", {"answer-1": "to rest"})
    with django_capture_on_commit_callbacks(execute=True):
        community_services.delete_account(user=owner)
    assert not JournalEntry.objects.exists() and not FilledWorksheet.objects.exists()
    assert not VoiceNote.objects.exists() and files(private_dir) == []


def test_the_member_exports_everything_as_markdown_json_and_audio(me, stranger):
    recording = audio.webm()
    new_entry(me, tags="river", voice=upload(recording), voice_seconds="3")
    new_entry(stranger, body="not yours to take")
    response = me.get("/library/journal/export/")
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    data = json.loads(archive.read("journal.json"))
    assert [e["text"] for e in data["journal"]] == [SECRET]
    assert SECRET in archive.read("journal.md").decode()
    audio_name = data["journal"][0]["voice_note"]["file"]
    assert audio_name in names and audio_name.endswith(".webm") and archive.read(audio_name) == recording
    assert "not yours" not in json.dumps(data)


def test_the_account_download_carries_the_private_tools_to_their_owner_only(owner, me, stranger):
    new_entry(me)
    assert memberdata.export(owner)["private_tools"]["journal"][0]["text"] == SECRET
    assert SECRET not in json.dumps(memberdata.export(User.objects.get(username="stranger")))


def test_erasing_everything_needs_a_confirmation(me, private_dir, django_capture_on_commit_callbacks):
    new_entry(me, voice=upload(audio.webm()))
    assert me.post("/library/journal/erase/", {}).status_code == 400
    assert JournalEntry.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert me.post("/library/journal/erase/", {"confirm": "on"}).status_code == 302
    assert not JournalEntry.objects.exists() and files(private_dir) == []


def test_nothing_private_is_screened_recorded_or_logged(me, make_rule, caplog):
    """A rule that matches the text: no hit, no queue item, no audit entry, no
    log line; only the writer is offered the help lines."""
    make_rule("end my life", kind="phrase", action="crisis", category="crisis")
    caplog.set_level(logging.DEBUG)
    response = new_entry(me, body=f"{SECRET}. Some days I want to end my life.", voice=upload(audio.webm()))
    assert response.status_code == 200 and "You are not alone" in response.content.decode()
    assert not RuleHit.objects.exists() and not Flag.objects.exists()
    assert not AuditEntry.objects.exclude(action="rule_change").exists()
    name = VoiceNote.objects.get().storage_name
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert SECRET not in text and name not in text


def test_no_staff_listing_shows_the_private_tools():
    registered = {model._meta.label for model in admin.site._registry}
    assert not registered & {"library.JournalEntry", "library.VoiceNote", "library.FilledWorksheet"}
    assert "library.ResourcePost" in registered
    assert str(JournalEntry(body=SECRET)) == "journal entry"


def test_a_worksheet_is_filled_in_privately_and_linked_beside_the_journal(me, stranger, owner):
    resource = ResourcePost.objects.get(starter_key="worksheet-intention")
    page = me.get(f"/library/r/{resource.pk}/fill/")
    assert page.status_code == 200 and "What am I hoping for" in page.content.decode()
    response = me.post(f"/library/r/{resource.pk}/fill/", {"answer-1": "To rest", "answer-6": SECRET})
    sheet = FilledWorksheet.objects.get()
    assert response["Location"] == f"/library/worksheets/{sheet.pk}/"
    assert sheet.user == owner and sheet.answers[0] == {
        "prompt": "What am I hoping for from this session, in my own words?",
        "answer": "To rest",
    }
    assert stranger.get(f"/library/worksheets/{sheet.pk}/").status_code == 404
    assert stranger.post(f"/library/worksheets/{sheet.pk}/delete/").status_code == 404
    new_entry(me, worksheet=str(sheet.pk))
    assert JournalEntry.objects.get().worksheet == sheet
    assert SECRET in me.get(f"/library/worksheets/{sheet.pk}/").content.decode()
    # someone else's worksheet cannot be linked to: not offered, and refused by the service
    new_entry(stranger, worksheet=str(sheet.pk))
    assert JournalEntry.objects.exclude(user=owner).get().worksheet is None
    other = User.objects.get(username="stranger")
    with pytest.raises(DomainError) as caught:
        journal.save_entry(other, journal.EntryInput(body="x", worksheet=sheet.pk))
    assert caught.value.code == ErrorCode.NOT_FOUND and caught.value.extra["field"] == "worksheet"


def test_an_empty_worksheet_is_refused_and_a_session_link_needs_a_schedule(me):
    resource = ResourcePost.objects.get(starter_key="worksheet-intention")
    assert me.post(f"/library/r/{resource.pk}/fill/", {}).status_code == 400
    assert not FilledWorksheet.objects.exists()
    assert me.post("/library/journal/new/", {"body": "x", "occurrence": "1"}).status_code in (200, 302, 400)
