"""Uploaded bytes in the originals directory, where delivery reads them: whole-file put
(temporary name → checked → renamed into place), get and delete, by key
(`<folder>/<public id>.<format>`, below the originals root).

Shaped as the storage interface's get/put/delete, so an S3 backend can stand in later.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from server.origins import check_public_id

# Partial uploads wait here, on the originals' file system, so the rename is atomic.
INCOMING = ".pixcast-incoming"
# A partial file this old belongs to no upload still running (request_timeout is ≤ 1 h).
STALE_SECONDS = 3600


class OriginalsDirectory:
    """Whole files below `root`; every put is atomic and durable once it returns."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve(strict=True)
        self.incoming = self.root / INCOMING

    def path(self, key: str) -> Path:
        check_public_id(key)
        return self.root / key

    def get(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def put(self, key: str, data: bytes, check: Callable[[Path], None] | None = None) -> Path:
        """Write `data` under a temporary name, let `check` read that file (it raises to
        refuse it), then rename it to `key`. Nothing is left behind when anything fails."""
        final = self.path(key)
        self.incoming.mkdir(exist_ok=True)
        handle, name = tempfile.mkstemp(dir=self.incoming, prefix="upload-")
        partial = Path(name)
        try:
            with os.fdopen(handle, "wb") as output:
                output.write(data)
                output.flush()
                os.fsync(output.fileno())
            os.chmod(partial, 0o644)
            if check is not None:
                check(partial)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(partial, final)
            _sync_directory(final.parent)
        finally:
            partial.unlink(missing_ok=True)
        return final

    def delete(self, key: str) -> bool:
        """Remove the file; False when there was none."""
        path = self.path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        _sync_directory(path.parent)
        return True

    def move(self, old: str, new: str) -> None:
        """Rename one file to another key (same file system: atomic)."""
        target = self.path(new)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path(old), target)
        _sync_directory(target.parent)

    def sweep(self, now: float | None = None) -> int:
        """Delete partial files left by a crashed upload; how many were removed."""
        if not self.incoming.is_dir():
            return 0
        limit = (time.time() if now is None else now) - STALE_SECONDS
        removed = 0
        for entry in os.scandir(self.incoming):
            with contextlib.suppress(FileNotFoundError):
                if entry.is_file() and entry.stat().st_mtime < limit:
                    os.unlink(entry.path)
                    removed += 1
        return removed


def _sync_directory(folder: Path) -> None:
    """fsync the folder, so the rename itself survives a crash."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
