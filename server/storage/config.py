"""Storages from settings, chosen by URL scheme: `s3://bucket/prefix` is S3, an absolute
path a directory. Also the shared result store and the render locks built on it."""

from __future__ import annotations

from pathlib import Path

from server.cachelayout import LOCKS, store_dir
from server.keylocks import KeyLocks, Locks
from server.settings import Settings, SettingsError
from server.storage.directory import DirectoryStorage
from server.storage.leases import ChainedLocks, LeaseLocks
from server.storage.s3 import S3Location, S3Storage
from server.storage.shared import SharedStore

# A lease outlives the longest render by this much (a render stops at request_timeout).
LEASE_MARGIN = 5.0
# The shared result storage is an optimisation: a request waits at most this long for it
# (then renders instead), however long request_timeout allows.
SHARED_TIMEOUT = 3.0


def open_storage(url: str, timeout: float) -> S3Storage | DirectoryStorage:
    """The writable backend for `url` (settings checked the form already)."""
    if url.startswith("s3://"):
        return S3Storage(S3Location.parse(url), timeout)
    return DirectoryStorage(Path(url))


def build_shared(settings: Settings) -> tuple[SharedStore | None, Locks]:
    """The shared result store (None without `result_storage`) and the render locks:
    this machine's file locks, chained with a lease in the shared storage if there is one."""
    local = KeyLocks(store_dir(settings.cache_dir, LOCKS))
    if not settings.result_storage:
        return None, local
    backend = open_storage(settings.result_storage, min(SHARED_TIMEOUT, settings.request_timeout))
    lease = LeaseLocks(backend, settings.request_timeout + LEASE_MARGIN)
    return SharedStore(backend), ChainedLocks(local, lease)


def check_storage_settings(settings: Settings) -> None:
    """Parse every s3:// URL now, so an unknown option stops start-up, not a request."""
    urls = [(f"origins {prefix!r}", base) for prefix, base in settings.origins.items()]
    urls.append(("result_storage", settings.result_storage))
    for name, url in urls:
        if url.startswith("s3://"):
            try:
                S3Location.parse(url)
            except ValueError as error:
                raise SettingsError(f"{name}: {error}") from None
