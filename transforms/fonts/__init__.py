"""Fonts for text layers: the font files of a directory (the `fonts_dir` setting), found by
name case-insensitively (`Arial` → `arial.ttf`, bold → `arialbd.ttf` or `Arial-Bold.ttf`),
and the bundled DejaVu Sans for every name not found there (PROVENANCE.md beside this).
"""

from __future__ import annotations

import functools
import logging
import re
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

BUNDLED = Path(__file__).resolve().parent
FONT_SUFFIXES = (".ttf", ".otf")
_BOLD_SUFFIXES = ("bold", "bd", "b")
_REGULAR_SUFFIXES = ("", "regular", "book", "roman")
_SEPARATORS = re.compile(r"[\s_-]+")


@dataclass(frozen=True)
class Font:
    """One font file and the family name Pango selects it by (read from the file)."""

    path: Path
    family: str
    identity: str  # path, modification time and size: changes when the file does


DEFAULT = Font(BUNDLED / "DejaVuSans.ttf", "DejaVu Sans", "bundled:DejaVuSans.ttf")
DEFAULT_BOLD = Font(BUNDLED / "DejaVuSans-Bold.ttf", "DejaVu Sans", "bundled:DejaVuSans-Bold.ttf")


def normalised(name: str) -> str:
    """`Open Sans-Bold` → `opensansbold`: how names and file stems are compared."""
    return _SEPARATORS.sub("", name).lower()


class FontBook:
    """The fonts of one directory (None: only the bundled one). The directory is listed
    again when its modification time changes, a file read again when it changes;
    thread-safe."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._listed: tuple[int, dict[str, Path]] | None = None
        self._read: dict[Path, tuple[str, Font | None]] = {}

    def find(self, name: str, bold: bool) -> Font:
        """The font file for `name`; the bundled DejaVu Sans when the name is unknown."""
        files = self._files()
        stem = normalised(name)
        regular = [stem + suffix for suffix in _REGULAR_SUFFIXES]
        heavy = [stem + suffix for suffix in _BOLD_SUFFIXES]
        for key in (heavy + regular) if bold else (regular + heavy):
            font = self._font(files[key]) if key in files else None
            if font is not None:
                return font
        return DEFAULT_BOLD if bold else DEFAULT

    def _files(self) -> dict[str, Path]:
        """Normalised file stem → font file, listed again when the directory changes."""
        if self.directory is None:
            return {}
        try:
            mtime = self.directory.stat().st_mtime_ns
        except OSError:
            return {}
        with self._lock:
            if self._listed is None or self._listed[0] != mtime:
                self._listed = (mtime, _list_directory(self.directory))
            return self._listed[1]

    def _font(self, path: Path) -> Font | None:
        """The file's Font, read again when its modification time or size changes."""
        try:
            info = path.stat()
        except OSError:
            return None
        identity = f"{path}:{info.st_mtime_ns}:{info.st_size}"
        with self._lock:
            known = self._read.get(path)
            if known is None or known[0] != identity:  # a broken file is not read again
                known = (identity, _read_font(path, identity))
                self._read[path] = known
            return known[1]


@functools.lru_cache(maxsize=8)
def font_book(directory: Path | None) -> FontBook:
    """One FontBook per directory for the whole process (it caches the listing)."""
    return FontBook(directory)


def _list_directory(directory: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() in FONT_SUFFIXES and path.is_file():
            found.setdefault(normalised(path.stem), path)
    return found


def _read_font(path: Path, identity: str) -> Font | None:
    try:
        data = path.read_bytes()
    except OSError as error:
        logger.warning("font %s cannot be read: %s", path, error)
        return None
    family = family_name(data)
    if family is None:
        logger.warning("font %s has no family name: not an OpenType font, skipped", path)
        return None
    return Font(path, family, identity)


def family_name(data: bytes) -> str | None:
    """The family a TrueType/OpenType file declares (`name` table, name 1; else the
    typographic family, name 16), or None when the data is not such a font."""
    try:
        base = struct.unpack_from(">I", data, 12)[0] if data[:4] == b"ttcf" else 0
        count = struct.unpack_from(">H", data, base + 4)[0]
        for index in range(count):
            tag, _, offset, length = struct.unpack_from(">4sIII", data, base + 12 + 16 * index)
            if tag == b"name":
                names = _names(data[offset : offset + length])
                return names.get(1) or names.get(16)
    except struct.error:
        return None
    return None


def _names(table: bytes) -> dict[int, str]:
    _, count, strings = struct.unpack_from(">HHH", table, 0)
    names: dict[int, str] = {}
    for index in range(count):
        platform, _, language, name_id, length, offset = struct.unpack_from(
            ">6H", table, 6 + 12 * index
        )
        raw = table[strings + offset : strings + offset + length]
        if name_id not in (1, 16) or not raw:
            continue
        # Windows and Unicode names are UTF-16; old Macintosh ones are Mac Roman.
        text = raw.decode("mac_roman" if platform == 1 else "utf-16-be", "replace").strip()
        english = language in (0, 0x409)
        if text and (english or name_id not in names):
            names[name_id] = text
    return names
