"""Result lookups in tiers: this server's cache, then the shared result storage (a bucket
the replicas share), then a render. A render is stored in both, the shared copy as one
whole PUT after the render succeeded; a shared hit is copied into the local cache."""

from __future__ import annotations

import logging

from server.cache import ResultCache, decode, encode
from server.concurrency import run_io
from server.storage.shared import SharedStore, result_path
from transforms.model import Rendered

log = logging.getLogger("pixcast.storage")


async def lookup(cache: ResultCache, shared: SharedStore | None, key: str) -> Rendered | None:
    """The result for `key` from the local cache, else from the shared storage."""
    found = await run_io(cache.get, key)
    if found is not None or shared is None:
        return found
    data = await shared.get(result_path(key))
    if data is None:
        return None
    try:
        rendered = decode(data)
    except (TypeError, ValueError):  # a damaged object: render again and overwrite it
        log.warning("shared result %s does not decode; rendering again", key)
        return None
    await run_io(cache.put, key, rendered)
    return rendered


def keep(
    cache: ResultCache,
    key: str,
    r: Rendered,
    public_id: str,
    started: float | None,
    shared: bool,
) -> bool:
    """Keep a render in the local cache unless `public_id` was purged since `started`
    (time.time() when the render began). Blocking: the render thread calls it after its
    render. Whether the shared storage should have the render too: there is one
    (`shared`), and no purge came since `started`."""
    stored = cache.put(key, r, public_id, started)
    if not shared:
        return False
    return stored or started is None or not _purged(cache, public_id, started)


async def share(shared: SharedStore | None, key: str, r: Rendered) -> None:
    """The render, whole, in the shared storage (one PUT, after `keep`)."""
    if shared is not None:
        await shared.put(result_path(key), encode(r))


def _purged(cache: ResultCache, public_id: str, started: float) -> bool:
    try:
        return cache.purged_since(public_id, started)
    except Exception:  # an unreadable local cache says nothing about purges
        return False
