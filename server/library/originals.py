"""Where an uploaded asset's bytes live: the S3 bucket an `origins` prefix maps its delivery
path to, else the originals directory. `LibraryOriginals` picks per key, so uploads,
destroy and rename never care which; keys are `<folder>/<public id>.<format>` (files.key).

Every call blocks: the library runs them on a worker thread (run_io), never on the loop.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Protocol

from server.handlers import source_key
from server.library.blobs import OriginalsDirectory
from server.origins import Origins, SourceIdentity, Wanted, check_public_id
from server.remote_originals import RemoteOriginals
from server.storage.s3 import S3Storage
from transforms.errors import BadRequest, NotFound


class Originals(Protocol):
    """Whole objects by key. `put` runs `check` (it raises to refuse the bytes) before they
    become visible, writes them whole, and returns the detection store's key for them as
    delivery will compute it. `move` copies, runs `commit` once both keys hold the bytes,
    then removes the old key: a crash leaves the old key, or both, never neither."""

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def put(self, key: str, data: bytes, check: Callable[[], None] | None = None) -> str: ...

    def delete(self, key: str) -> None: ...

    def move(self, old: str, new: str, commit: Callable[[], None]) -> None: ...


class BucketOriginals:
    """Assets under one S3 origin (`origins` prefix → `s3://bucket/prefix/`). Each write
    forgets the key in this host's remote originals store, so the next delivery here reads
    the bucket again. Other hosts revalidate an overwritten object at once (the library's
    newer version says so: server.library.versions), a deleted one after remote_ttl."""

    def __init__(self, storage: S3Storage, remote: RemoteOriginals | None) -> None:
        self.storage = storage
        self.bucket = storage.blocking
        self.remote = remote

    def get(self, key: str) -> bytes:
        data = self.bucket.get(key)
        if data is None:
            raise NotFound(f"Resource not found - {key} (not in bucket {self.storage.bucket})")
        return data

    def exists(self, key: str) -> bool:
        return self.bucket.exists(key)

    def put(self, key: str, data: bytes, check: Callable[[], None] | None = None) -> str:
        if check is not None:
            check()
        self.bucket.put(key, data)  # one PUT: a failure leaves the old object
        self._forget(key)
        digest = hashlib.sha256(data).hexdigest()
        return source_key(SourceIdentity(self.storage.url(key), 0, len(data), 0, digest))

    def delete(self, key: str) -> None:
        self.bucket.delete(key)
        self._forget(key)

    def move(self, old: str, new: str, commit: Callable[[], None]) -> None:
        """Copy inside the bucket, commit, delete: two keys, so not atomic, but ordered."""
        self.bucket.copy(old, new)
        self._forget(new)
        commit()
        self.delete(old)

    def _forget(self, key: str) -> None:
        if self.remote is not None:
            self.remote.forget_now(self.storage.url(key))


class LibraryOriginals:
    """The library's one `Originals`: each key goes where delivery will read its public id
    (the `private/` and `authenticated/` folders included, as `origins.wanted` builds it)."""

    def __init__(self, directory: OriginalsDirectory, origins: Origins | None = None) -> None:
        self.directory = directory
        self.origins = origins
        mapping = {} if origins is None else origins.mapping
        remote = None if origins is None else origins.remote
        self.buckets = {
            prefix: BucketOriginals(storage, remote)
            for prefix, storage in mapping.items()
            if isinstance(storage, S3Storage)
        }

    def route(self, key: str, writing: bool = False) -> tuple[Originals, str]:
        """The backend holding `key`, and the key there. Writing under a read-only (HTTP)
        origin is a 400; reading or deleting there looks in the directory, where the asset
        was put if the prefix was mapped after its upload."""
        check_public_id(key)
        path, _, suffix = key.rpartition(".")
        found = None if self.origins is None else self.origins.mapping_of(path)
        if found is None or self.origins is None:
            return self.directory, key
        prefix, storage = found
        if not isinstance(storage, S3Storage):
            if not writing:
                return self.directory, key
            raise BadRequest(
                f"Invalid public id: {path} is in {prefix}, which is mapped to an HTTP origin "
                "(read-only); upload it to another folder"
            )
        remote = self.origins.mapped(Wanted(path, suffix, path))
        assert remote is not None  # mapping_of found its prefix
        return self.buckets[prefix], remote.key

    def get(self, key: str) -> bytes:
        backend, there = self.route(key)
        return backend.get(there)

    def exists(self, key: str) -> bool:
        backend, there = self.route(key)
        return backend.exists(there)

    def put(self, key: str, data: bytes, check: Callable[[], None] | None = None) -> str:
        backend, there = self.route(key, writing=True)
        return backend.put(there, data, check)

    def delete(self, key: str) -> None:
        backend, there = self.route(key)
        backend.delete(there)

    def move(self, old: str, new: str, commit: Callable[[], None]) -> None:
        if old == new:
            commit()
            return
        source, old_there = self.route(old)
        target, new_there = self.route(new, writing=True)
        if source is target:
            source.move(old_there, new_there, commit)
            return
        target.put(new_there, source.get(old_there))  # between backends: copy the bytes
        commit()
        source.delete(old_there)

    def sweep(self, now: float | None = None) -> int:
        """Partial files of crashed uploads (a PUT leaves none: it is whole or nothing)."""
        return self.directory.sweep(now)
