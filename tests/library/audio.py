"""Tiny recordings for the tests, built by hand: each container's real header."""

import io
import struct
import wave


def webm(size: int = 2048) -> bytes:
    """An EBML header with doctype "webm" (what MediaRecorder writes first)."""
    header = (
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
        b"\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02"
    )
    return header + bytes(range(256)) * (size // 256)


def matroska() -> bytes:
    return webm().replace(b"\x42\x82\x84webm", b"\x42\x82\x88matroska")


def ogg_opus() -> bytes:
    return b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x13OpusHead\x01\x01" + b"\x00" * 512


def mp4_audio() -> bytes:
    return b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00isomM4A " + b"\x00" * 512


def mp3() -> bytes:
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 512


def wav(seconds: float, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(rate)
        w.writeframes(b"\x80" * int(seconds * rate))
    return out.getvalue()


PNG = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + b"\x00" * 64
HTML = b"<html><script>alert(document.cookie)</script></html>"
