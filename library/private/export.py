"""A member's own copy of their private tools: everything as JSON (for the
account download, ``community.memberdata``) and as a zip of Markdown, JSON and
the voice notes' audio files (the journal page's export).  Built for the
member who asks, from their rows only; the zip is assembled in a temporary file
under the private data folder and streamed to them."""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils import timezone

from ..models import FilledWorksheet, JournalEntry
from . import voice


def _when(value) -> str:
    return timezone.localtime(value).isoformat(timespec="minutes")


def _audio_name(entry: JournalEntry) -> str:
    note = entry.voice
    stamp = timezone.localtime(entry.created_at).strftime("%Y-%m-%d-%H%M")
    return f"voice/{stamp}-entry-{entry.pk}.{voice.EXTENSIONS.get(note.content_type, 'audio')}"


def data(user) -> dict[str, Any]:
    """The member's worksheets and journal, JSON-ready (voice notes by their
    file name in the zip export, not their bytes)."""
    sheets = FilledWorksheet.objects.filter(user=user).order_by("created_at", "id")
    entries = JournalEntry.objects.filter(user=user).select_related("voice").order_by("created_at", "id")
    return {
        "worksheets": [
            {
                "id": s.pk,
                "title": s.title,
                "answers": s.answers,
                "session": s.occurrence_id,
                "treatment_date": s.treatment_date_id,
                "created_at": _when(s.created_at),
                "updated_at": _when(s.updated_at),
            }
            for s in sheets
        ],
        "journal": [
            {
                "id": e.pk,
                "text": e.body,
                "tags": e.tags,
                "worksheet": e.worksheet_id,
                "session": e.occurrence_id,
                "treatment_date": e.treatment_date_id,
                "created_at": _when(e.created_at),
                "updated_at": _when(e.updated_at),
                "voice_note": (
                    {"file": _audio_name(e), "type": e.voice.content_type, "seconds": e.voice.seconds}
                    if hasattr(e, "voice")
                    else None
                ),
            }
            for e in entries
        ],
    }


def markdown(user, exported: dict[str, Any]) -> str:
    """The same, as one readable Markdown document."""
    lines = ["# My integration journal", "", f"Exported {_when(timezone.now())}.", ""]
    if exported["worksheets"]:
        lines += ["## Intention worksheets", ""]
        for sheet in exported["worksheets"]:
            lines += [f"### {sheet['title']} ({sheet['created_at']})", ""]
            for item in sheet["answers"]:
                lines += [f"**{item.get('prompt', '')}**", "", item.get("answer", "") or "_(no answer)_", ""]
    lines += ["## Journal", ""]
    for entry in exported["journal"]:
        lines += [f"### {entry['created_at']}", ""]
        if entry["tags"]:
            lines += ["Tags: " + ", ".join(entry["tags"]), ""]
        if entry["text"]:
            lines += [entry["text"], ""]
        if entry["voice_note"]:
            lines += [f"Voice note: [{entry['voice_note']['file']}]({entry['voice_note']['file']})", ""]
    return "\n".join(lines).rstrip() + "\n"


def zip_file(user) -> IO[bytes]:
    """The member's export as a zip in an anonymous temporary file (no name on
    disk; gone when closed), rewound for reading."""
    exported = data(user)
    tmp_dir = Path(settings.PRIVATE_DATA_DIR) / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    out = tempfile.TemporaryFile(dir=tmp_dir)  # noqa: SIM115 - handed to the response, which closes it
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("journal.json", json.dumps(exported, indent=2, ensure_ascii=False))
        archive.writestr("journal.md", markdown(user, exported))
        for entry in JournalEntry.objects.filter(user=user).select_related("voice").exclude(voice=None):
            try:
                archive.write(voice.path_of(entry.voice.storage_name), _audio_name(entry))
            except (FileNotFoundError, ValueError):
                continue  # a file lost to a restore: the rest of the export still comes
    out.seek(0)
    return out
