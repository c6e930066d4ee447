"""Where originals come from: a local directory, origin mappings (HTTP or S3 storages) and
fetch URLs.

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
from urllib.parse import quote, unquote

from server.cachelayout import REMOTE_ORIGINALS, store_dir
from server.concurrency import run_io
from server.netguard import AddressGuard
from server.remote import FetchHosts, RemoteClient, build_client
from server.remote_originals import Remote, RemoteOriginals
from server.settings import Settings
from server.storage.base import Original, SourceIdentity, Storage
from server.storage.http import HttpStorage
from server.storage.s3 import S3Location, S3Storage
from transforms.errors import BadRequest, Forbidden, NotFound, ServiceUnavailable
from transforms.formats import IMAGE_EXTENSIONS
from transforms.limits import check_source_bytes
from transforms.model import Delivery, Limits, Step, Transformation

__all__ = ["LocalOrigin", "Original", "Origins", "SourceIdentity"]


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
        mapping: Mapping[str, Storage],
        fetch: HttpStorage,
        limits: Limits,
    ) -> None:
        self.local = local
        self.remote = remote
        # prefix → the storage holding it, longest prefix first (Settings orders them).
        self.mapping = dict(mapping)
        self.fetch = fetch  # fetch URLs: the HTTP backend with the fetch allow-list
        self.limits = limits

    @property
    def fetch_hosts(self) -> FetchHosts:
        return self.fetch.hosts or FetchHosts()

    async def aclose(self) -> None:
        await self.fetch.client.aclose()
        self.remote.close()

    def with_local(self, local: LocalOrigin) -> Origins:
        """The same origins with another local directory (the playground's uploads)."""
        return Origins(local, self.remote, self.mapping, self.fetch, self.limits)

    async def resolve(
        self, t: Transformation, confirmed_after: float | None = None
    ) -> tuple[Transformation, SourceIdentity]:
        """The transformation to render and its original. When the original is missing
        and `d_` names a placeholder, the placeholder's, with `substitute_for` set.
        `confirmed_after` (seconds since the epoch): a remote original's copy that its
        storage last confirmed before then is revalidated, however fresh remote_ttl says."""
        default = t.default_image
        t = without_default(t)
        try:
            return t, await self.locate(t, confirmed_after)
        except NotFound as missing:
            if default is None:
                raise
            try:
                want = placeholder_wanted(default)
                return placeholder(t, want, missing.message), await self._locate(want)
            except NotFound:
                raise missing from None

    async def locate(
        self, t: Transformation, confirmed_after: float | None = None
    ) -> SourceIdentity:
        if t.delivery is Delivery.FETCH:
            return await self.locate_fetch(t.public_id)
        return await self._locate(wanted(t), confirmed_after)

    async def locate_fetch(self, url: str) -> SourceIdentity:
        """A fetch URL's original (the allow-list applies to every hop)."""
        return await self.remote.locate(Remote(self.fetch, url, url))

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
            remote = self._remote_at(source.path)
            found = await self.remote.read(await self.remote.locate(remote))
        if found is None:
            raise ServiceUnavailable("The original was evicted while being read; retry")
        return found

    async def _locate(self, want: Wanted, confirmed_after: float | None = None) -> SourceIdentity:
        check_public_id(want.path)
        remote = self.mapped(want)
        if remote is not None:
            return await self.remote.locate(remote, confirmed_after)
        try:
            source = await run_io(self.local.locate, want.path)
        except NotFound:
            raise NotFound(f"Resource not found - {want.public_id}") from None
        check_source_bytes(source.size, self.limits)
        return source

    def mapped(self, want: Wanted) -> Remote | None:
        """`media/cat` + `.jpg` with `media/` → `https://cdn/assets/` is `cat.jpg` there
        (percent-encoded for HTTP; an S3 key is the plain path)."""
        found = self.mapping_of(want.path)
        if found is None:
            return None
        prefix, storage = found
        rest = want.path[len(prefix) :]
        if isinstance(storage, HttpStorage):
            rest = quote(rest, safe="/")
        key = rest + (f".{want.suffix}" if want.suffix else "")
        return Remote(storage, key, want.public_id)

    def mapping_of(self, path: str) -> tuple[str, Storage] | None:
        """The `origins` prefix that holds `path` (a delivery path) and its storage."""
        for prefix, storage in self.mapping.items():
            if path.startswith(prefix):
                return prefix, storage
        return None

    def _remote_at(self, url: str) -> Remote:
        """The storage and key behind a remote identity's URL (to fetch it again)."""
        for storage in self.mapping.values():
            base = storage.url("")
            if url.startswith(base):
                return Remote(storage, url[len(base) :], url)
        return Remote(self.fetch, url, url)


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
    guard = AddressGuard(settings.allow_private_networks)
    client = RemoteClient(
        build_client(guard, settings.request_timeout),
        guard,
        settings.max_source_bytes,
        settings.request_timeout,
    )
    remote = RemoteOriginals(
        store_dir(settings.cache_dir, REMOTE_ORIGINALS),
        settings.remote_cache_size_mb,
        settings.remote_ttl,
    )
    local = LocalOrigin(settings.originals, IMAGE_EXTENSIONS)
    fetch = HttpStorage(client, "", FetchHosts(settings.fetch_allowed_hosts))
    mapping = {
        prefix: origin_storage(base, client, settings) for prefix, base in settings.origins.items()
    }
    return Origins(local, remote, mapping, fetch, limits)


def origin_storage(base: str, client: RemoteClient, settings: Settings) -> Storage:
    """An `origins` entry's backend: S3 for `s3://`, else HTTP through the guarded client."""
    if base.startswith("s3://"):
        location = S3Location.parse(base)
        return S3Storage(location, settings.request_timeout, settings.max_source_bytes)
    return HttpStorage(client, base)
