"""Voice notes: what a recording is (by its bytes, never its name), where it is
kept, and how it leaves.

A note is stored under ``PRIVATE_DATA_DIR/voice/`` (outside every static and
web-served path) by a random name, with mode 0600, and served only through the
owner-checked view.  Its file is deleted when its row is (the entry, all
entries, or the account), once that deletion commits.  Nothing here logs a
name, a size or a byte of it.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import struct
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db import transaction
from django.db.models.signals import post_delete

from core.errors import DomainError, ErrorCode

# The container types a browser records (MediaRecorder: WebM/Opus in Chromium
# and Firefox, MP4/AAC in Safari) or a phone's recorder saves.
EXTENSIONS = {
    "audio/webm": "webm",
    "audio/ogg": "ogg",
    "audio/mp4": "m4a",
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
}
_NAME = re.compile(r"^[0-9a-f]{32}$")
# ISO BMFF brands of audio (and the generic ones recorders write).
_MP4_BRANDS = {b"M4A ", b"M4B ", b"mp41", b"mp42", b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"dash", b"3gp4"}


def sniff(head: bytes) -> str | None:
    """The audio type ``head`` (a file's first bytes, 64 or more) is, by its
    magic bytes; None for anything else, whatever the file is called."""
    if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: Matroska or WebM; the doctype says which
        return "audio/webm" if b"\x42\x82\x84webm" in head[:64] or b"\x42\x82\x88webm" in head[:64] else None
    if head[:4] == b"OggS":
        page = head[:200]
        return "audio/ogg" if any(codec in page for codec in (b"OpusHead", b"\x01vorbis", b"\x7fFLAC")) else None
    if head[4:8] == b"ftyp":
        return "audio/mp4" if head[8:12] in _MP4_BRANDS else None
    if head[:3] == b"ID3":
        return "audio/mpeg"
    if len(head) >= 3 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        layer, bitrate = (head[1] >> 1) & 3, head[2] >> 4
        if layer == 1 and bitrate not in (0, 15):  # MPEG audio layer III with a real bitrate
            return "audio/mpeg"
        return None
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    return None


def wav_seconds(data: bytes) -> int | None:
    """A WAV file's length from its header (byte rate and data size), if readable."""
    pos, byte_rate, size = 12, None, None
    while pos + 8 <= len(data) and (byte_rate is None or size is None):
        chunk, length = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if chunk == b"fmt " and pos + 20 <= len(data):
            byte_rate = struct.unpack("<I", data[pos + 16 : pos + 20])[0]
        elif chunk == b"data":
            size = length
        pos += 8 + length + (length & 1)
    if not byte_rate or size is None:
        return None
    return round(size / byte_rate)


def check(data: bytes, *, declared_seconds: int | None = None) -> tuple[str, int | None]:
    """(content type, seconds) of an acceptable recording, else BAD_AUDIO or
    TOO_LARGE.  The length is read from a WAV header; other containers are
    bounded by their size (the page's recorder stops at the limit)."""
    limit, max_seconds = settings.VOICE_NOTE_MAX_BYTES, settings.VOICE_NOTE_MAX_SECONDS
    if not data:
        raise DomainError(ErrorCode.BAD_AUDIO, "That recording is empty.", field="voice")
    if len(data) > limit:
        raise DomainError(
            ErrorCode.TOO_LARGE,
            f"Voice notes can be at most {limit // (1024 * 1024)} MiB (about {max_seconds // 60} minutes).",
            field="voice",
            limit=limit,
        )
    kind = sniff(data[:256])
    if kind is None:
        raise DomainError(
            ErrorCode.BAD_AUDIO,
            "That file is not a recording we can keep. Voice notes can be WebM, Ogg, MP4/M4A, MP3 or WAV audio.",
            field="voice",
        )
    seconds = wav_seconds(data) if kind == "audio/wav" else declared_seconds
    if seconds is not None and seconds > max_seconds + 2:  # a recorder's timer may run a moment over
        raise DomainError(
            ErrorCode.INVALID,
            f"Voice notes can be at most {max_seconds // 60} minutes long.",
            field="voice",
            limit=max_seconds,
        )
    return kind, seconds


def folder() -> Path:
    path = Path(settings.PRIVATE_DATA_DIR) / "voice"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def path_of(name: str) -> Path:
    if not _NAME.match(name):
        raise ValueError("not a voice note name")
    return folder() / name


def store(data: bytes) -> str:
    """Write ``data`` to a new private file (mode 0600); its random name."""
    name = secrets.token_hex(16)
    fd = os.open(path_of(name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return name


def delete_file(name: str) -> None:
    with contextlib.suppress(FileNotFoundError, ValueError):
        path_of(name).unlink()


def _on_delete(sender, instance, **kwargs) -> None:
    name = instance.storage_name
    transaction.on_commit(lambda: delete_file(name))


def connect_signals() -> None:
    """Delete a note's file whenever its row is deleted, however: one entry, all
    of them, or the account (a cascade), once the deletion commits."""
    from ..models import VoiceNote

    post_delete.connect(_on_delete, sender=VoiceNote, dispatch_uid="library-voice-file")


class BoundedUploadHandler(FileUploadHandler):
    """Keeps an upload in memory and stops reading it past the voice-note limit,
    so an oversize file is refused without ever being written to disk (Django's
    default would spool it into the temporary folder)."""

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.limit = settings.VOICE_NOTE_MAX_BYTES
        self.chunks: list[bytes] = []
        self.size = 0
        self.too_large = False

    def receive_data_chunk(self, raw_data, start):
        self.size += len(raw_data)
        if self.size > self.limit:
            self.too_large = True
            self.chunks = []
            raise StopUpload(connection_reset=False)
        self.chunks.append(raw_data)
        return None

    def file_complete(self, file_size):
        data = io.BytesIO(b"".join(self.chunks))
        self.chunks = []
        return InMemoryUploadedFile(
            data, self.field_name, "voice", self.content_type, len(data.getvalue()), self.charset
        )
