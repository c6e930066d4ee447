"""Where originals come from: a local directory, HTTP origin mappings and fetch URLs.

`Origins` picks the source for a request (and the `d_` placeholder when it is missing);
`locate` is cheap (a stat, or the remote store's record while it is fresh: enough for a
cache lookup); `read` loads the bytes. Public ids that could escape their root are refused.
`private/` and `authenticated/` folders hold those delivery types' originals, which
`upload` URLs cannot reach.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from server.cachelayout import REMOTE_ORIGINALS, store_dir
from server.concurrency import run_io
from server.netguard import AddressGuard
from server.remote import FetchHosts, RemoteClient, build_client
from server.settings import Settings
from transforms.errors import BadRequest, Forbidden, NotFound, ServiceUnavailable
from transforms.formats import IMAGE_EXTENSIONS
from transforms.limits import check_source_bytes
from transforms.model import Delivery, Limits, Step, Transformation

if TYPE_CHECKING:
    from server.remote_originals import RemoteOriginals


@dataclass(frozen=True)
class SourceIdentity:
    """What makes one version of an original distinct: a change here means new bytes."""

    path: str  # a file's path, or a remote original's URL
    mtime_ns: int
    size: int
    inode: int
    digest: str = ""  # sha256 of a remote original's bytes (local files have their inode)

    @property
    def remote(self) -> bool:
        return self.path.startswith(("http://", "https://"))

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


# --- choosing the source ------------------------------------------------------------------

# Delivery types whose originals live in a folder of their own name, out of upload's reach.
RESERVED = {Delivery.PRIVATE: "private", Delivery.AUTHENTICATED: "authenticated"}


@dataclass(frozen=True)
class Wanted:
    """An original as the origins look for it: its path below the roots (the delivery
    folder included), the file suffix an HTTP origin needs, and the id errors name."""

    path: str
    suffix: str
    public_id: str


class Origins:
    """Every request's original: fetch URLs, HTTP origin mappings, else the local directory."""

    def __init__(
        self,
        local: LocalOrigin,
        remote: RemoteOriginals,
        mapping: Mapping[str, str],
        fetch_hosts: FetchHosts,
        limits: Limits,
    ) -> None:
        self.local = local
        self.remote = remote
        # prefix → base URL, longest prefix first (Settings orders them).
        self.mapping = dict(mapping)
        self.fetch_hosts = fetch_hosts
        self.limits = limits

    async def aclose(self) -> None:
        await self.remote.client.aclose()
        self.remote.close()

    def with_local(self, local: LocalOrigin) -> Origins:
        """The same origins with another local directory (the playground's uploads)."""
        return Origins(local, self.remote, self.mapping, self.fetch_hosts, self.limits)

    async def resolve(self, t: Transformation) -> tuple[Transformation, SourceIdentity]:
        """The transformation to render and its original. When the original is missing
        and `d_` names a placeholder, the placeholder's, with `substitute_for` set."""
        default = t.default_image
        t = without_default(t)
        try:
            return t, await self.locate(t)
        except NotFound as missing:
            if default is None:
                raise
            try:
                want = placeholder_wanted(default)
                return placeholder(t, want, missing.message), await self._locate(want)
            except NotFound:
                raise missing from None

    async def locate(self, t: Transformation) -> SourceIdentity:
        if t.delivery is Delivery.FETCH:
            return await self.remote.locate(t.public_id, t.public_id, self.fetch_hosts)
        return await self._locate(wanted(t))

    async def locate_layer(self, public_id: str) -> SourceIdentity:
        """An `l_`/`u_` layer's image (`docs/logo` or `docs/logo.png`): an upload original,
        found as `d_` placeholders are (the signed folders are out of reach)."""
        return await self._locate(placeholder_wanted(public_id))

    async def read(self, source: SourceIdentity) -> Original:
        if not source.remote:
            return await run_io(self.local.read, source)
        found = await self.remote.read(source)
        if found is None:
            # The store dropped the bytes since locate(): fetch them again.
            await self.remote.forget(source.path)
            hosts = None if self._mapped(source.path) else self.fetch_hosts
            found = await self.remote.read(
                await self.remote.locate(source.path, source.path, hosts)
            )
        if found is None:
            raise ServiceUnavailable("The original was evicted while being read; retry")
        return found

    async def _locate(self, want: Wanted) -> SourceIdentity:
        check_public_id(want.path)
        url = self.mapped_url(want)
        if url is not None:
            return await self.remote.locate(url, want.public_id, None)
        try:
            source = await run_io(self.local.locate, want.path)
        except NotFound:
            raise NotFound(f"Resource not found - {want.public_id}") from None
        check_source_bytes(source.size, self.limits)
        return source

    def mapped_url(self, want: Wanted) -> str | None:
        """`media/cat` + `.jpg` with `media/` → `https://bucket/assets/` is that + `cat.jpg`."""
        for prefix, base in self.mapping.items():
            if want.path.startswith(prefix):
                rest = quote(want.path[len(prefix) :], safe="/")
                return base + rest + (f".{want.suffix}" if want.suffix else "")
        return None

    def _mapped(self, url: str) -> bool:
        return any(url.startswith(base) for base in self.mapping.values())


def wanted(t: Transformation) -> Wanted:
    """Where a request's original is: `private/` and `authenticated/` for those types."""
    folder = RESERVED.get(t.delivery)
    if folder is None and in_signed_folder(t.public_id):
        # Upload URLs must not reach the originals that need a signature.
        raise NotFound(f"Resource not found - {t.public_id}")
    path = f"{folder}/{t.public_id}" if folder else t.public_id
    return Wanted(path, url_suffix(t), t.public_id)


def in_signed_folder(path: str) -> bool:
    """`private/...` or `authenticated/...`, in any case (file systems may ignore it)."""
    folder, slash, _ = path.partition("/")
    return bool(slash) and folder.lower() in RESERVED.values()


def url_suffix(t: Transformation) -> str:
    """The file suffix as the URL wrote it (`jpeg`, not the format's `jpg`), if any."""
    if t.extension is None:
        return ""
    last = unquote(t.signed_part.rsplit("/", 1)[-1]) if t.signed_part else ""
    return last.rpartition(".")[2] or t.extension.value


def placeholder_wanted(default: str) -> Wanted:
    """`d_docs:avatar.png` → docs/avatar with suffix png (Cloudinary's `:` for folders).
    Placeholders are upload originals: the signed folders are out of reach (404)."""
    name = default.replace(":", "/")
    if in_signed_folder(name):
        raise NotFound(f"Resource not found - {name}")
    stem, dot, suffix = name.rpartition(".")
    if dot and stem and suffix.lower() in IMAGE_EXTENSIONS:
        return Wanted(stem, suffix, stem)
    return Wanted(name, "", name)


def without_default(t: Transformation) -> Transformation:
    """`t` without `d_`: it changes nothing in the render, so it stays out of the key."""
    if t.default_image is None:
        return t
    steps = tuple(replace(step, default_image=None) for step in t.steps)
    return replace(t, steps=tuple(step for step in steps if step != Step()))


def placeholder(t: Transformation, want: Wanted, message: str) -> Transformation:
    """The request's transformation applied to the placeholder, as an upload."""
    return replace(
        t,
        public_id=want.path,
        delivery=Delivery.UPLOAD,
        signature=None,
        substitute_for=message,
    )


def build_origins(settings: Settings, limits: Limits) -> Origins:
    """The app's origins, with its one HTTP client and remote store (closed by aclose)."""
    # Imported here: the remote store builds on this module's SourceIdentity and Original.
    from server.remote_originals import RemoteOriginals

    guard = AddressGuard(settings.allow_private_networks)
    client = build_client(guard, settings.request_timeout)
    remote = RemoteOriginals(
        RemoteClient(client, guard, settings.max_source_bytes, settings.request_timeout),
        store_dir(settings.cache_dir, REMOTE_ORIGINALS),
        settings.remote_cache_size_mb,
        settings.remote_ttl,
    )
    local = LocalOrigin(settings.originals, IMAGE_EXTENSIONS)
    hosts = FetchHosts(settings.fetch_allowed_hosts)
    return Origins(local, remote, settings.origins, hosts, limits)
