"""The result cache: rendered variants on disk (diskcache), bounded in size.

A key names one variant of one version of one original, so a changed original (new mtime,
size or inode) simply misses. The cache is an optimisation: when it fails, the request
renders anyway and the failure is logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import diskcache

from server.origins import SourceIdentity
from transforms.formats import accept_bucket
from transforms.grammar import canonical
from transforms.model import Rendered, Transformation

logger = logging.getLogger(__name__)

# Bump when the stored layout or the rendering changes incompatibly: old entries then miss
# and age out by size instead of being served.
KEY_SCHEMA = 1
_SEPARATOR = b"\0"


def result_key(
    t: Transformation,
    source: SourceIdentity,
    accept: str | None,
    layers: list[object] | None = None,
) -> str:
    """sha256 over the canonical transformation, the source version, the Accept bucket
    and the versions of the layers' sources (server.layers.LocatedLayers.key).

    The bucket is part of the key only when the format is negotiated (`f_auto`), so other
    URLs share one entry whatever the client accepts.
    """
    bucket = accept_bucket(accept) if t.negotiates_format else None
    parts = [KEY_SCHEMA, canonical(t), source_part(source), bucket]
    if layers:  # only with layers, so every other key stays what it was
        parts.append(layers)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def source_part(source: SourceIdentity) -> object:
    """The source version in a key. A remote original is its URL and the digest of its
    bytes, so every replica that fetched the same bytes computes the same key (the time
    it first saw them differs); a local file is its full identity."""
    if source.digest:
        return {"path": source.path, "digest": source.digest}
    return asdict(source)


class ResultCache:
    """Rendered results by key, stored as a JSON header + NUL + the encoded bytes."""

    def __init__(self, directory: Path, size_limit_mb: int) -> None:
        # The default eviction (least recently stored) keeps reads free of writes.
        self._cache = diskcache.Cache(str(directory), size_limit=size_limit_mb * 1024 * 1024)

    def get(self, key: str) -> Rendered | None:
        """The cached result, or None on a miss or when the entry cannot be read."""
        try:
            value = self._cache.get(key, default=None, retry=True)
            return None if value is None else decode(value)
        except Exception:  # a broken cache must never break delivery
            logger.exception("result cache read failed for key %s", key)
            return None

    def put(self, key: str, rendered: Rendered) -> None:
        """Store a result; a failure (disk full, locked database) is logged, not raised."""
        try:
            self._cache.set(key, encode(rendered), retry=True)
        except Exception:  # a broken cache must never break delivery
            logger.exception("result cache write failed for key %s", key)

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
