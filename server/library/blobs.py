"""Uploaded bytes in the originals directory, where delivery reads them: whole-file put
(temporary name → checked → renamed into place), get and delete, by key
(`<folder>/<public id>.<format>`, below the originals root).

One of the library's `Originals` (server/library/originals.py); S3 buckets are the other.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from server.handlers import source_key
from server.origins import SourceIdentity, check_public_id
from transforms.errors import NotFound

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
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"Resource not found - {key} (not in the originals)") from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def put(self, key: str, data: bytes, check: Callable[[], None] | None = None) -> str:
        """Write `data` under a temporary name, run `check` (it raises to refuse the bytes),
        then rename it to `key`; the detection store's key for the placed file. Nothing is
        left behind when anything fails."""
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
                check()
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(partial, final)
            _sync_directory(final.parent)
        finally:
            partial.unlink(missing_ok=True)
        return stored_source_key(final)

    def delete(self, key: str) -> None:
        """Remove the file; a missing one is not an error."""
        path = self.path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        _sync_directory(path.parent)

    def move(self, old: str, new: str, commit: Callable[[], None]) -> None:
        """Copy to `new` (atomically, as any put), commit, then remove `old`: the row that
        `commit` switches names a file that exists at every moment."""
        self.put(new, self.get(old))
        commit()
        self.delete(old)

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


def stored_source_key(final: Path) -> str:
    """The detection store's key for the file as delivery will read it."""
    resolved = final.resolve()
    return source_key(SourceIdentity.of(resolved, os.stat(resolved)))
