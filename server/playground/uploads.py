"""The uploads area: images people drop on the playground, kept apart from the originals.

An upload is checked before it is stored: its size in bytes (refused up front from
Content-Length, and again while the body streams in), its format from the magic bytes,
and its pixel count from the header, without decoding. Files are written atomically and
named by content, so a repeated upload is stored once; the oldest go beyond a count.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pyvips

from transforms import formats
from transforms.errors import BadRequest, PayloadTooLarge, Unprocessable, UnsupportedMediaType

MEGABYTE = 1024 * 1024
_UNSAFE = re.compile(r"[^a-z0-9]+")
READABLE = "JPEG, PNG, WebP, AVIF, GIF, TIFF or HEIC"


@dataclass(frozen=True)
class UploadLimits:
    """Bytes per file, pixels per image (width x height), and files kept in the area."""

    max_bytes: int
    max_pixels: int = 50_000_000
    max_files: int = 200


@dataclass(frozen=True)
class Stored:
    """A stored upload: `name` is its file name in the area (public id + extension)."""

    name: str
    width: int
    height: int
    format: str
    bytes: int


def too_large(size: int | None, limit: int) -> PayloadTooLarge:
    got = f"The file is {size / MEGABYTE:.1f} MB" if size else "The file is larger than that"
    return PayloadTooLarge(f"{got}; the playground accepts uploads up to {limit // MEGABYTE} MB")


def check_declared(content_length: str | None, limits: UploadLimits) -> None:
    """Refuse a body whose declared size is already too large, before reading any of it."""
    if content_length is None:
        return
    if not content_length.strip().isdigit():
        raise BadRequest(f"Invalid Content-Length: {content_length}")
    if int(content_length) > limits.max_bytes:
        raise too_large(int(content_length), limits.max_bytes)


async def read_capped(chunks: AsyncIterator[bytes], limits: UploadLimits) -> bytes:
    """The body, but never more than the limit in memory (the declared size may lie)."""
    received = bytearray()
    async for chunk in chunks:
        received += chunk
        if len(received) > limits.max_bytes:
            raise too_large(None, limits.max_bytes)
    if not received:
        raise BadRequest("The upload is empty: drop an image file")
    return bytes(received)


def inspect(data: bytes, limits: UploadLimits) -> tuple[str, int, int]:
    """(format, width, height) from the magic bytes and the header; refuses non-images."""
    found = formats.sniff(data)
    if found is None:
        raise UnsupportedMediaType(
            f"That file is not an image pixcast can read (expected {READABLE})"
        )
    try:
        header = pyvips.Image.new_from_buffer(data, "", access="sequential")
        width, height = int(header.width), int(header.height)
    except pyvips.Error:
        raise Unprocessable(
            f"That {found.upper()} file is damaged: its header does not decode"
        ) from None
    if width * height > limits.max_pixels:
        raise PayloadTooLarge(
            f"The image is {width}x{height} ({width * height / 1e6:.0f} megapixels); "
            f"the playground accepts at most {limits.max_pixels / 1e6:.0f} megapixels"
        )
    return found, width, height


def public_name(filename: str, data: bytes) -> str:
    """A safe, readable public id: the file's name in ASCII plus 8 hex of its content."""
    stem = Path(filename or "upload").stem
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = _UNSAFE.sub("-", ascii_stem.lower()).strip("-")[:40] or "upload"
    return f"{slug}-{hashlib.sha256(data).hexdigest()[:8]}"


def store(area: Path, filename: str, data: bytes, limits: UploadLimits) -> Stored:
    """Check and store one upload in `area`; blocking (run it off the event loop)."""
    found, width, height = inspect(data, limits)
    area.mkdir(parents=True, exist_ok=True)
    name = f"{public_name(filename, data)}.{found}"
    final = area / name
    if not final.is_file():
        _write_atomically(area, final, data)
    else:
        os.utime(final)  # stored again: it counts as the newest
    prune(area, limits.max_files)
    return Stored(name, width, height, found, len(data))


def _write_atomically(area: Path, final: Path, data: bytes) -> None:
    with tempfile.NamedTemporaryFile(dir=area, prefix=".upload-", delete=False) as partial:
        partial.write(data)
    try:
        os.chmod(partial.name, 0o644)
        os.replace(partial.name, final)
    finally:
        Path(partial.name).unlink(missing_ok=True)


def prune(area: Path, keep: int) -> None:
    """Delete the oldest uploads beyond `keep` files."""
    files = sorted(
        (entry for entry in os.scandir(area) if entry.is_file() and not entry.name.startswith(".")),
        key=lambda entry: entry.stat().st_mtime_ns,
        reverse=True,
    )
    for entry in files[keep:]:
        Path(entry.path).unlink(missing_ok=True)
