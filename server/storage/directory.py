"""The directory backend: objects as files under one root (a local disk, or a share that
several hosts mount). Writes go to a temporary file renamed into place, so a reader sees the
old bytes or the new; keys that would leave the root are refused."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from contextlib import suppress
from email.utils import formatdate
from pathlib import Path
from typing import TypeVar, TypeVarTuple

from server.concurrency import run_io
from server.storage.base import Blob, StorageError, Version

T = TypeVar("T")
Args = TypeVarTuple("Args")


class DirectoryStorage:
    """Objects at `root`/key; the version is the file's size and modification time."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def url(self, key: str) -> str:
        return str(self.path(key))

    def path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or key.startswith("/") or {"", ".", ".."} & set(parts) or "\0" in key:
            raise StorageError(f"Invalid storage key: {key[:200]!r}")
        return self.root.joinpath(*parts)

    async def get(
        self, key: str, since: Version | None = None, name: str | None = None
    ) -> Blob | None:
        return await self._io(self._get, key, since)

    async def put(self, key: str, data: bytes) -> Version:
        return await self._io(self._put, key, data, False)

    async def create(self, key: str, data: bytes) -> bool:
        """Store `data` only if `key` does not exist yet; whether it was stored."""
        try:
            await self._io(self._put, key, data, True)
        except FileExistsError:
            return False
        return True

    async def delete(self, key: str) -> None:
        await self._io(self._delete, key)

    async def stat(self, key: str) -> Version | None:
        return await self._io(self._stat, key)

    async def _io(self, work: Callable[[*Args], T], *args: *Args) -> T:
        """`work` in a thread; an OS failure (disk full, permissions) is a StorageError."""
        try:
            return await run_io(work, *args)
        except FileExistsError:
            raise
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise StorageError(f"Storage directory {self.root} failed: {reason}") from None

    def _get(self, key: str, since: Version | None) -> Blob | None:
        try:
            with open(self.path(key), "rb") as handle:
                version = _version(os.fstat(handle.fileno()))
                if since is not None and since.etag == version.etag:
                    return Blob(None, version)
                return Blob(handle.read(), version)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def _put(self, key: str, data: bytes, exclusive: bool) -> Version:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            if exclusive:
                os.link(temporary, target)  # fails if the key exists: no overwrite race
            else:
                os.replace(temporary, target)
            return _version(os.stat(target))
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    def _delete(self, key: str) -> None:
        with suppress(FileNotFoundError):
            os.unlink(self.path(key))

    def _stat(self, key: str) -> Version | None:
        try:
            return _version(os.stat(self.path(key)))
        except (FileNotFoundError, NotADirectoryError):
            return None


def _version(info: os.stat_result) -> Version:
    etag = f'"{info.st_size:x}-{info.st_mtime_ns:x}"'
    return Version(etag, formatdate(info.st_mtime, usegmt=True), info.st_size)
