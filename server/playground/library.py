"""The searchable list of images: the originals directory and the uploads area.

Walking a directory of a media site's originals could take long, so a search stops after
a number of matches and after a number of files looked at, and says that it stopped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from transforms.formats import IMAGE_EXTENSIONS
from transforms.grammar import EXTENSIONS

MAX_SCANNED = 20_000
_IMAGE_SUFFIXES = {f".{extension}" for extension in IMAGE_EXTENSIONS}


@dataclass(frozen=True)
class Entry:
    """One image: `public_id` has no extension; `extension` is the one to deliver with."""

    public_id: str
    file: str
    bytes: int
    modified: float

    @property
    def extension(self) -> str:
        """The file's own extension when URLs can carry it, else jpg (e.g. for HEIC)."""
        suffix = Path(self.file).suffix.lower().lstrip(".")
        return suffix if suffix in EXTENSIONS else "jpg"


@dataclass(frozen=True)
class Listing:
    entries: tuple[Entry, ...]
    truncated: bool


def search(root: Path, query: str, limit: int, newest_first: bool = False) -> Listing:
    """Images below `root` whose path contains `query` (case-insensitive), sorted by path
    (or newest first); blocking."""
    needle = query.strip().casefold()
    found: list[Entry] = []
    truncated = False
    for scanned, entry in enumerate(_images(root)):
        if scanned >= MAX_SCANNED or len(found) >= limit:
            truncated = True
            break
        if needle in entry.public_id.casefold():
            found.append(entry)
    if newest_first:
        found.sort(key=lambda e: e.modified, reverse=True)
    else:
        found.sort(key=lambda e: e.public_id.casefold())
    return Listing(tuple(found), truncated)


def _images(root: Path) -> Iterator[Entry]:
    """Image files below `root`, depth first; hidden files and folders are skipped."""
    if not root.is_dir():
        return
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for item in entries:
            if item.name.startswith("."):
                continue
            if item.is_dir(follow_symlinks=False):
                pending.append(Path(item.path))
            elif item.is_file() and Path(item.name).suffix.lower() in _IMAGE_SUFFIXES:
                yield _entry(root, Path(item.path), item.stat())


def _entry(root: Path, path: Path, info: os.stat_result) -> Entry:
    relative = path.relative_to(root).as_posix()
    public_id = relative.rsplit(".", 1)[0]
    return Entry(public_id, relative, info.st_size, info.st_mtime)
