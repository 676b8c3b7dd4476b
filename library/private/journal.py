"""A member's journal: entries (Markdown subset, tags, an optional voice note,
optional links to one of their worksheets, a session or a treatment date), the
timeline, and deleting one entry or all of them.

Every function takes the acting user and reads or writes only their rows; an
id that is not theirs is NOT_FOUND (``community.permissions.check_owner``).
Nothing is screened, recorded or logged; a text that reads as a crisis or a
concern only makes the page offer the help lines to its writer
(``moderation.screening.care_for``, which keeps nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from community.permissions import check_owner
from core.errors import DomainError, ErrorCode
from moderation import screening
from moderation.verdicts import Risk

from .. import schedule_links, text
from ..models import FilledWorksheet, JournalEntry, VoiceNote
from . import voice


@dataclass(frozen=True)
class EntryInput:
    body: str = ""
    tags: str = ""
    worksheet: int | None = None
    occurrence: int | None = None
    treatment_date: int | None = None
    voice: bytes | None = None  # a new recording
    voice_seconds: int | None = None
    drop_voice: bool = False


@dataclass(frozen=True)
class EntrySaved:
    entry: JournalEntry
    care: str = ""  # "crisis" or "concern": the page offers the help lines


def timeline(user, *, tag: str = "") -> list[JournalEntry]:
    """The member's entries, newest first (with their voice notes); with
    ``tag``, those carrying it."""
    check_owner(user, getattr(user, "pk", None))
    entries = JournalEntry.objects.filter(user=user).select_related("voice", "worksheet").order_by("-created_at", "-id")
    if not tag:
        return list(entries)
    if connection.vendor == "postgresql":
        return list(entries.filter(tags__contains=[tag]))
    return [e for e in entries if tag in (e.tags or [])]  # SQLite: no JSON containment lookup


def all_tags(user) -> list[str]:
    seen: dict[str, int] = {}
    for tags in JournalEntry.objects.filter(user=user).values_list("tags", flat=True):
        for tag in tags or []:
            seen[tag] = seen.get(tag, 0) + 1
    return sorted(seen, key=lambda t: (-seen[t], t))


@dataclass
class Month:
    label: str
    entries: list[JournalEntry] = field(default_factory=list)


def by_month(entries) -> list[Month]:
    """Entries grouped by the month they were written, in the order given."""
    months: list[Month] = []
    for entry in entries:
        label = timezone.localtime(entry.created_at).strftime("%B %Y")
        if not months or months[-1].label != label:
            months.append(Month(label))
        months[-1].entries.append(entry)
    return months


def own_entry(user, pk: int) -> JournalEntry:
    """The member's entry ``pk``, else NOT_FOUND (whoever asks)."""
    entry = JournalEntry.objects.select_related("voice", "worksheet").filter(pk=pk).first()
    check_owner(user, entry.user_id if entry is not None else None)
    assert entry is not None  # noqa: S101 - check_owner refused a missing entry
    return entry


def _links(user, data: EntryInput) -> tuple[FilledWorksheet | None, int | None, int | None]:
    worksheet = None
    if data.worksheet is not None:
        worksheet = FilledWorksheet.objects.filter(pk=data.worksheet, user=user).first()
        if worksheet is None:
            raise DomainError(ErrorCode.NOT_FOUND, "That worksheet is not one of yours.", field="worksheet")
    occurrence = None
    if data.occurrence is not None:
        session = schedule_links.session(data.occurrence)
        if session is None:
            raise DomainError(ErrorCode.NOT_FOUND, "That session is not on the schedule.", field="occurrence")
        occurrence = session.id
    treatment = None
    if data.treatment_date is not None:
        found = schedule_links.treatment_date(user, data.treatment_date)
        if found is None:
            raise DomainError(ErrorCode.NOT_FOUND, "That treatment date is not one of yours.", field="treatment_date")
        treatment = found.id
    return worksheet, occurrence, treatment


def _care(body: str) -> str:
    if not body:
        return ""
    risk = screening.care_for(body)
    return risk.value if isinstance(risk, Risk) else ""


def save_entry(user, data: EntryInput, *, pk: int | None = None) -> EntrySaved:
    """Write a new entry (``pk`` None) or change one of the member's own.  An
    entry needs words or a voice note.  Every field is checked (and a recording
    by its bytes) before anything is written; a refused save changes nothing."""
    check_owner(user, getattr(user, "pk", None))
    entry = own_entry(user, pk) if pk is not None else None
    body = text.body(
        data.body,
        field="body",
        label="Your entry",
        max_len=text.JOURNAL_MAX,
        max_lines=text.JOURNAL_MAX_LINES,
        required=False,
    )
    html = text.render(body)
    tags = text.tags(data.tags)
    worksheet, occurrence, treatment = _links(user, data)
    audio = voice.check(data.voice, declared_seconds=data.voice_seconds) if data.voice else None
    keeps_voice = entry is not None and hasattr(entry, "voice") and not data.drop_voice
    if not body and audio is None and not keeps_voice:
        raise DomainError(ErrorCode.EMPTY_BODY, "Write something, or record a voice note.", field="body")
    stored_name = voice.store(data.voice) if audio is not None and data.voice else None
    try:
        with transaction.atomic():
            now = timezone.now()
            if entry is None:
                entry = JournalEntry(user=user, created_at=now)
            entry.body, entry.html, entry.tags = body, html, tags
            entry.worksheet, entry.occurrence_id, entry.treatment_date_id = worksheet, occurrence, treatment
            entry.updated_at = now
            entry.save()
            if (data.drop_voice or stored_name) and pk is not None:
                VoiceNote.objects.filter(entry=entry).delete()  # its file goes on commit
            if stored_name is not None and audio is not None:
                kind, seconds = audio
                VoiceNote.objects.create(
                    entry=entry,
                    user=user,
                    storage_name=stored_name,
                    content_type=kind,
                    size=len(data.voice or b""),
                    seconds=seconds,
                )
    except BaseException:
        if stored_name is not None:
            voice.delete_file(stored_name)
        raise
    return EntrySaved(own_entry(user, entry.pk), _care(body))


def delete_entry(user, pk: int) -> None:
    """Delete one of the member's entries and its voice note, file included."""
    entry = own_entry(user, pk)
    with transaction.atomic():
        entry.delete()


def delete_voice(user, pk: int) -> None:
    """Delete an entry's voice note (the entry stays if it has words)."""
    entry = own_entry(user, pk)
    with transaction.atomic():
        VoiceNote.objects.filter(entry=entry).delete()
        if not entry.body:
            entry.delete()


def erase_all(user) -> int:
    """Delete every entry, voice note and filled worksheet of the member; how many rows went."""
    with transaction.atomic():
        entries = JournalEntry.objects.filter(user=user).delete()[0]
        sheets = FilledWorksheet.objects.filter(user=user).delete()[0]
        VoiceNote.objects.filter(user=user).delete()  # none should be left; belt and braces
    return entries + sheets


def voice_note(user, pk: int) -> VoiceNote:
    """The voice note of the member's entry ``pk``, else NOT_FOUND."""
    entry = own_entry(user, pk)
    note = VoiceNote.objects.filter(entry=entry, user=user).first()
    if note is None:
        raise DomainError(ErrorCode.NOT_FOUND, "There is nothing here.")
    return note


def day_of(entry: JournalEntry) -> date:
    return timezone.localtime(entry.created_at).date()
