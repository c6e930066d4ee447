"""The storage interface and the values it trades in: a stored object's `Version` (what
revalidation compares), a `Blob` (bytes and version), and an original's `SourceIdentity`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from transforms.errors import BadGateway

# Identities whose path starts with one of these name a remote original (not a local file).
REMOTE_SCHEMES = ("http://", "https://", "s3://")


class StorageError(BadGateway):
    """A backend could not do what was asked (unreachable, refused, read-only): a 502 whose
    message names the storage, never a credential."""


@dataclass(frozen=True)
class Version:
    """What identifies one version of a stored object: compared on revalidation."""

    etag: str | None = None
    last_modified: str | None = None  # an HTTP date, as the backend sent it
    size: int | None = None


@dataclass(frozen=True)
class Blob:
    """An object's bytes with their version; `data` is None when `get(since=...)` found the
    object unchanged (a 304), and the version is then the one that still holds."""

    data: bytes | None
    version: Version


class Storage(Protocol):
    """Bytes by key. `get` returns None for a missing key; `put` writes whole (a reader sees
    the old bytes or the new, never a part); backends raise StorageError or a PixcastError
    (502, 504, 413, 415) when they cannot answer."""

    def url(self, key: str) -> str:
        """The object's address (`s3://bucket/key`, a URL, a path): names it in identities."""
        ...

    async def get(
        self, key: str, since: Version | None = None, name: str | None = None
    ) -> Blob | None:
        """The bytes at `key` (None if missing), or `Blob(None, ...)` if `since` still holds.
        `name` is what error messages call the object (default: the key)."""
        ...

    async def put(self, key: str, data: bytes) -> Version:
        """Store `data` whole at `key`, replacing what was there."""
        ...

    async def delete(self, key: str) -> None:
        """Remove `key`; removing a missing key is not an error."""
        ...

    async def stat(self, key: str) -> Version | None:
        """The version at `key` without its bytes, or None if missing."""
        ...


@dataclass(frozen=True)
class SourceIdentity:
    """What makes one version of an original distinct: a change here means new bytes."""

    path: str  # a file's path, or a remote original's URL (http(s):// or s3://)
    mtime_ns: int
    size: int
    inode: int
    digest: str = ""  # sha256 of a remote original's bytes (local files have their inode)

    @property
    def remote(self) -> bool:
        return self.path.startswith(REMOTE_SCHEMES)

    @classmethod
    def of(cls, path: Path, info: os.stat_result) -> SourceIdentity:
        return cls(str(path), info.st_mtime_ns, info.st_size, info.st_ino)

    @property
    def mtime(self) -> float:
        """Seconds since the epoch, for Last-Modified."""
        return self.mtime_ns / 1e9


@dataclass(frozen=True)
class Original:
    """An original's bytes and the identity of exactly the version that was read."""

    data: bytes
    identity: SourceIdentity
