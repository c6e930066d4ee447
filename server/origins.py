"""Where originals come from: for now one local directory, addressed by public id.

`locate` only stats the file (cheap: enough for a cache lookup); `read` loads the bytes.
Both refuse public ids that could reach outside the directory.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from transforms.errors import BadRequest, Forbidden, NotFound


@dataclass(frozen=True)
class SourceIdentity:
    """What makes one version of an original distinct: a change here means new bytes."""

    path: str
    mtime_ns: int
    size: int
    inode: int

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


class LocalOrigin:
    """Originals in one directory: `<root>/<public_id>.<ext>` or `<root>/<public_id>`."""

    def __init__(self, root: Path, extensions: Iterable[str]) -> None:
        self.root = root.resolve(strict=True)
        self.extensions = _both_cases(extensions)

    def locate(self, public_id: str) -> SourceIdentity:
        """The first existing candidate file; 400 for hostile ids, 404 when none exists."""
        check_public_id(public_id)
        for candidate in self._candidates(public_id):
            info = _stat_file(candidate)
            if info is not None:
                return SourceIdentity.of(self._inside(candidate, public_id), info)
        raise NotFound(f"Resource not found - {public_id}")

    def read(self, source: SourceIdentity) -> Original:
        """The bytes of a located file, with the identity of what was actually read."""
        try:
            with open(source.path, "rb") as handle:
                # fstat on the open file: the identity matches these bytes even if the
                # file is replaced between locate() and here.
                identity = SourceIdentity.of(Path(source.path), os.fstat(handle.fileno()))
                return Original(handle.read(), identity)
        except FileNotFoundError:
            raise NotFound(f"Resource not found - {Path(source.path).stem}") from None
        except PermissionError:
            raise Forbidden("Resource not readable by the server") from None

    def load(self, public_id: str) -> Original:
        return self.read(self.locate(public_id))

    def _candidates(self, public_id: str) -> Iterator[Path]:
        base = self.root / public_id
        for extension in self.extensions:
            yield base.with_name(f"{base.name}.{extension}")
        yield base

    def _inside(self, candidate: Path, public_id: str) -> Path:
        # resolve() follows symlinks: a link that points out of the directory is refused.
        resolved = candidate.resolve()
        if not resolved.is_relative_to(self.root):
            raise BadRequest(f"Invalid public id: {public_id} (resolves outside the originals)")
        return resolved


def _both_cases(extensions: Iterable[str]) -> tuple[str, ...]:
    """Each extension in lower then upper case (cameras write `IMG_0001.JPG`), no repeats."""
    ordered: dict[str, None] = {}
    for extension in extensions:
        ordered.setdefault(extension.lower())
        ordered.setdefault(extension.upper())
    return tuple(ordered)


def check_public_id(public_id: str) -> None:
    """Refuse ids that are not a plain relative path below the originals directory."""
    reason = _hostile_reason(public_id)
    if reason:
        raise BadRequest(f"Invalid public id: {public_id} ({reason})")


def _hostile_reason(public_id: str) -> str | None:
    if not public_id:
        return "empty"
    if "\0" in public_id or "\\" in public_id:
        return "NUL and backslash are not allowed"
    if public_id.startswith("/") or Path(public_id).is_absolute():
        return "absolute paths are not allowed"
    if any(part in ("", ".", "..") for part in public_id.split("/")):
        return "empty, '.' and '..' path segments are not allowed"
    try:
        os.fsencode(public_id)
    except UnicodeEncodeError:
        return "not encodable as a file name"
    return None


_REFUSED = {errno.ENAMETOOLONG: "too long for a file name", errno.ELOOP: "a symlink loop"}


def _stat_file(candidate: Path) -> os.stat_result | None:
    """The candidate's stat when it is a regular file (following symlinks), else None."""
    try:
        info = candidate.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except PermissionError:
        raise Forbidden("Resource not readable by the server") from None
    except OSError as error:
        if error.errno in _REFUSED:
            raise BadRequest(f"Invalid public id: {_REFUSED[error.errno]}") from None
        raise
    return info if stat.S_ISREG(info.st_mode) else None
