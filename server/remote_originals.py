"""Remote originals (any `Storage`: HTTP, S3) kept on disk (diskcache), revalidated after
a TTL.

Per URL (the storage's address of the key) a small record (digest, validators, when last
checked); bodies by digest, stored whole and only after every check passed (magic bytes
included), so no partial download is ever kept. After `ttl` seconds a conditional get
(the stored `Version`: ETag, Last-Modified) revalidates: unchanged keeps the copy; a failed
revalidation (5xx, unreachable, timeout) serves the copy and tries again a minute later; a
missing key forgets it. Concurrent reads of one URL fetch it once, across processes too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from email.utils import parsedate_to_datetime
from pathlib import Path

import diskcache

from server.cachelayout import LOCKS, store_dir
from server.concurrency import SingleFlight, run_io
from server.keylocks import KeyLocks
from server.storage.base import Blob, Original, SourceIdentity, Storage, Version
from transforms.errors import BadGateway, GatewayTimeout, NotFound, UnsupportedMediaType
from transforms.formats import sniff

logger = logging.getLogger(__name__)

# After a failed revalidation, the stale copy is served this long before trying again.
RETRY_AFTER = 60.0


@dataclass(frozen=True)
class Record:
    """What is known about one URL. Times are seconds since the epoch."""

    digest: str
    size: int
    etag: str | None
    last_modified: str | None
    modified: float  # the upstream's Last-Modified, else when these bytes first arrived
    checked: float  # when the upstream last confirmed these bytes

    def version(self) -> Version:
        return Version(self.etag, self.last_modified, self.size)

    def identity(self, url: str) -> SourceIdentity:
        return SourceIdentity(url, int(self.modified * 1e9), self.size, 0, self.digest)


@dataclass(frozen=True)
class Remote:
    """One remote original: the storage holding it, its key there, and the id errors name."""

    storage: Storage
    key: str
    public_id: str

    @property
    def url(self) -> str:
        return self.storage.url(self.key)


class RemoteOriginals:
    """Remote originals by URL: `locate` (cheap while fresh) then `read` (the bytes)."""

    def __init__(
        self,
        directory: Path,
        size_limit_mb: int,
        ttl: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self._store = diskcache.Cache(str(directory), size_limit=size_limit_mb * 1024 * 1024)
        # One fetch per URL at a time, across the processes sharing the cache too.
        self._flights: SingleFlight[SourceIdentity] = SingleFlight(
            KeyLocks(store_dir(directory.parent, LOCKS))
        )

    async def locate(self, remote: Remote, confirmed_after: float | None = None) -> SourceIdentity:
        """The identity of the current bytes of `remote`, fetching or revalidating if due:
        after remote_ttl, or when the copy was last confirmed before `confirmed_after`
        (the library knows of newer bytes, uploaded through another replica)."""
        url = remote.url
        record = await run_io(self._record, url)
        current = self._current(url, record, confirmed_after)
        if current is not None:
            return current
        identity, _shared = await self._flights.run(
            url,
            lambda: self._refresh(remote, record),
            lambda _waited: self._fresh(url, confirmed_after),
        )
        return identity

    async def _fresh(self, url: str, confirmed_after: float | None) -> SourceIdentity | None:
        """What another process stored before this one took the URL's lock."""
        return self._current(url, await run_io(self._record, url), confirmed_after)

    def _current(
        self, url: str, record: Record | None, confirmed_after: float | None
    ) -> SourceIdentity | None:
        """The record's identity while it needs no revalidation, else None."""
        if record is None or self.clock() - record.checked >= self.ttl:
            return None
        if confirmed_after is not None and record.checked < confirmed_after:
            return None
        return record.identity(url)

    async def read(self, source: SourceIdentity) -> Original | None:
        """The bytes of a located original; None when the store has dropped them since."""
        data = await run_io(self._body, source.digest)
        return None if data is None else Original(data, source)

    async def forget(self, url: str) -> None:
        await run_io(self.forget_now, url)

    def forget_now(self, url: str) -> None:
        """Drop what is known about `url` (blocking): the next locate fetches it again."""
        self._store.delete(_record_key(url), retry=True)

    def close(self) -> None:
        self._store.close()

    async def _refresh(self, remote: Remote, record: Record | None) -> SourceIdentity:
        url = remote.url
        since = record.version() if record is not None else None
        try:
            blob = await remote.storage.get(remote.key, since, remote.public_id)
        except (BadGateway, GatewayTimeout) as error:
            if record is None:
                raise
            return await self._serve_stale(url, record, error)
        if blob is None:
            await self.forget(url)
            raise NotFound(f"Resource not found - {remote.public_id}")
        if blob.data is None and record is not None:  # 304: the copy is still current
            record = replace(record, checked=self.clock())
        else:
            record = await self._keep(blob, record, remote.public_id)
        await run_io(self._put_record, url, record)
        return record.identity(url)

    async def _serve_stale(
        self, url: str, record: Record, error: BadGateway | GatewayTimeout
    ) -> SourceIdentity:
        logger.warning("revalidating %s failed (%s); serving the cached copy", url, error)
        # The next request must not wait for the same failure: retry after RETRY_AFTER.
        retry = self.clock() - self.ttl + RETRY_AFTER
        await run_io(self._put_record, url, replace(record, checked=retry))
        return record.identity(url)

    async def _keep(self, blob: Blob, previous: Record | None, public_id: str) -> Record:
        data = blob.data
        if data is None or sniff(data) is None:  # what a backend sent must be an image
            raise UnsupportedMediaType(f"Unsupported image format: {public_id} is not an image")
        digest = hashlib.sha256(data).hexdigest()
        now = self.clock()
        same = previous is not None and previous.digest == digest
        version = blob.version
        modified = _http_time(version.last_modified)
        if modified is None:
            modified = previous.modified if same and previous is not None else now
        # The body first: a record never points at bytes that are not stored.
        await run_io(self._put_body, digest, data)
        return Record(digest, len(data), version.etag, version.last_modified, modified, now)

    # --- the store (blocking; called through run_io) -------------------------------------

    def _record(self, url: str) -> Record | None:
        raw = self._store.get(_record_key(url), default=None, retry=True)
        if not isinstance(raw, str):
            return None
        record = Record(**json.loads(raw))
        # A body dropped by the size bound makes the record useless (and unsafe to
        # revalidate with: a 304 would confirm bytes that are gone).
        return record if _body_key(record.digest) in self._store else None

    def _body(self, digest: str) -> bytes | None:
        data = self._store.get(_body_key(digest), default=None, retry=True)
        return data if isinstance(data, bytes) else None

    def _put_record(self, url: str, record: Record) -> None:
        self._store.set(_record_key(url), json.dumps(asdict(record)), retry=True)

    def _put_body(self, digest: str, data: bytes) -> None:
        self._store.set(_body_key(digest), data, retry=True)


def _record_key(url: str) -> str:
    return "record:" + url


def _body_key(digest: str) -> str:
    return "body:" + digest


def _http_time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
