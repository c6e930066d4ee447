"""The result cache: rendered variants on disk (diskcache), bounded in size.

A key names one variant of one version of one original, so a changed original (new mtime,
size or inode) simply misses. The cache is an optimisation: when it fails (disk full,
read-only), the request renders anyway; the failure is counted and logged once a minute.
Entries are tagged with their public id, so `purge` can drop one original's variants; a
render that began before a purge never stores its result afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import diskcache

from server.origins import SourceIdentity
from transforms.formats import accept_bucket
from transforms.grammar import canonical
from transforms.model import Rendered, Transformation
from transforms.variables import SourceFacts

logger = logging.getLogger(__name__)

# Bump when the stored layout or the rendering changes incompatibly: old entries then miss
# and age out by size instead of being served.
KEY_SCHEMA = 1
_SEPARATOR = b"\0"
# A failing disk is reported at most once per this many seconds (and /readyz says so
# for as long after the last failure).
FAILURE_REPORT_SECONDS = 60.0
# Purge marks: when a public id (or everything) was last purged, kept longer than any
# render can run, so a render that began before the purge sees it when it stores.
_MARK = "pixcast:purged:"
_ALL = "*"
MARK_SECONDS = 24 * 3600.0


def result_key(
    t: Transformation,
    source: SourceIdentity,
    accept: str | None,
    layers: list[object] | None = None,
    facts: SourceFacts | None = None,
) -> str:
    """sha256 over the canonical transformation, the source version, the Accept bucket
    and the versions of the layers' sources (server.layers.LocatedLayers.key).

    The bucket is part of the key only when the format is negotiated (`f_auto`), so other
    URLs share one entry whatever the client accepts. `facts` (the original's stored tags,
    context and custom coordinates) are part of it only for transformations that read
    them, so a `tags` call never leaves `if_!sale!_in_tags` serving the old branch, nor an
    `explicit` call a g_custom crop of the old box.
    """
    bucket = accept_bucket(accept) if t.negotiates_format else None
    parts = [KEY_SCHEMA, canonical(t), source_part(source), bucket]
    if layers:  # only with layers, so every other key stays what it was
        parts.append(layers)
    if facts is not None:
        known: list[object] = [list(facts.tags), dict(facts.context), dict(facts.metadata)]
        if facts.coordinates:  # only then, so tag-condition keys stay what they were
            known.append([list(box) for box in facts.coordinates])
        parts.append(known)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class WholeFilesDisk(diskcache.Disk):  # type: ignore[misc]
    """diskcache's Disk, except that a value file whose write fails (disk full, file too
    large) is removed instead of being left behind, half written and unknown to the index."""

    def _write(self, full_path: str, iterator: Any, mode: str, encoding: str | None = None) -> int:
        try:
            size: int = super()._write(full_path, iterator, mode, encoding)
        except FileExistsError:  # not ours to remove
            raise
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(full_path)
            with contextlib.suppress(OSError):  # as diskcache removes a value: empty dirs too
                os.removedirs(os.path.dirname(full_path))
            raise
        return size


def source_part(source: SourceIdentity) -> object:
    """The source version in a key. A remote original is its URL and the digest of its
    bytes, so every replica that fetched the same bytes computes the same key (the time
    it first saw them differs); a local file is its full identity."""
    if source.digest:
        return {"path": source.path, "digest": source.digest}
    return asdict(source)


class ResultCache:
    """Rendered results by key, stored as a JSON header + NUL + the encoded bytes."""

    def __init__(
        self,
        directory: Path,
        size_limit_mb: int | None,
        on_write_failure: Callable[[], None] | None = None,
    ) -> None:
        """`size_limit_mb` None keeps the bound the cache was made with (maintenance)."""
        bound = {} if size_limit_mb is None else {"size_limit": size_limit_mb * 1024 * 1024}
        # The default eviction (least recently stored) keeps reads free of writes.
        self._cache = diskcache.Cache(str(directory), tag_index=True, disk=WholeFilesDisk, **bound)
        self._on_write_failure = on_write_failure
        self._failure: tuple[float, str] | None = None  # when and why a write last failed
        self._reported = -FAILURE_REPORT_SECONDS
        self._unreported = 0

    def get(self, key: str) -> Rendered | None:
        """The cached result, or None on a miss or when the entry cannot be read."""
        try:
            value = self._cache.get(key, default=None, retry=True)
            return None if value is None else decode(value)
        except Exception:  # a broken cache must never break delivery
            logger.exception("result cache read failed for key %s", key)
            return None

    def put(
        self, key: str, rendered: Rendered, public_id: str = "", started: float | None = None
    ) -> bool:
        """Store a result unless `public_id` (or everything) was purged since `started`
        (time.time() when the render began); whether it was stored. A failure (disk full,
        read-only, locked database) is counted and reported, never raised."""
        try:
            with self._cache.transact(retry=True):
                if started is not None and self.purged_since(public_id, started):
                    return False
                self._cache.set(key, encode(rendered), retry=True, tag=public_id or None)
        except Exception as error:  # a broken cache must never break delivery
            self._write_failed(key, error)
            return False
        return True

    def purged_since(self, public_id: str, started: float) -> bool:
        """Whether a purge of `public_id` or of everything happened at or after `started`."""
        for name in (public_id, _ALL):
            at = self._cache.get(_MARK + name, default=None, retry=True)
            if isinstance(at, float) and at >= started:
                return True
        return False

    def purge(self, public_id: str | None) -> int:
        """Drop one public id's variants (None: every variant); how many were dropped.
        Safe while servers use the cache: renders in flight will not store afterwards."""
        name = _ALL if public_id is None else public_id
        with self._cache.transact(retry=True):
            self._cache.set(_MARK + name, time.time(), expire=MARK_SECONDS, retry=True)
        if public_id is not None:
            return int(self._cache.evict(public_id, retry=True))
        dropped = 0
        for key in list(self._cache.iterkeys()):
            if not (isinstance(key, str) and key.startswith(_MARK)):
                dropped += bool(self._cache.delete(key, retry=True))
        return dropped

    def recent_failure(self) -> str | None:
        """Why the last write failed, if one failed in the last minute (small writes may
        still succeed on a full disk: the failure is reported all the same)."""
        failure = self._failure
        if failure is None or time.monotonic() - failure[0] > FAILURE_REPORT_SECONDS:
            return None
        return failure[1]

    def check_writable(self) -> None:
        """Store, read back and delete a small entry (for /readyz); raises when it cannot."""
        key = f"pixcast:readiness:{os.getpid()}"
        self._cache.set(key, b"ok", retry=True)
        found = self._cache.get(key, default=None, retry=True)
        self._cache.delete(key, retry=True)
        if found != b"ok":
            raise OSError("an entry read back differs from the one stored")

    def close(self) -> None:
        self._cache.close()

    def _write_failed(self, key: str, error: Exception) -> None:
        now = time.monotonic()
        self._failure = (now, f"{type(error).__name__}: {error}")
        if self._on_write_failure is not None:
            self._on_write_failure()
        if now - self._reported < FAILURE_REPORT_SECONDS:
            self._unreported += 1
            return
        logger.error(
            "result cache write failed for key %s (%s); serving without storing "
            "(%d more failures since the last report; next report in a minute at most)",
            key, self._failure[1], self._unreported,
        )  # fmt: skip
        self._reported, self._unreported = now, 0


def encode(rendered: Rendered) -> bytes:
    header = {
        "media_type": rendered.media_type,
        "format": rendered.format,
        "width": rendered.width,
        "height": rendered.height,
        "negotiated": rendered.negotiated,
        "info": rendered.info,
    }
    # json.dumps escapes control characters, so the header never contains a raw NUL.
    return json.dumps(header).encode() + _SEPARATOR + rendered.data


def decode(value: Any) -> Rendered:
    if not isinstance(value, bytes):
        raise TypeError(f"unexpected cache value of type {type(value).__name__}")
    header, _, data = value.partition(_SEPARATOR)
    fields = json.loads(header)
    return Rendered(data=data, **fields)
