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


async def store(
    cache: ResultCache,
    shared: SharedStore | None,
    key: str,
    r: Rendered,
    public_id: str = "",
    started: float | None = None,
) -> None:
    """Keep a render locally and, whole, in the shared storage; neither when `public_id`
    was purged after the render began at `started` (time.time())."""
    stored = await run_io(cache.put, key, r, public_id, started)
    if shared is None or (
        not stored and started is not None and await _purged(cache, public_id, started)
    ):
        return
    await shared.put(result_path(key), encode(r))


async def _purged(cache: ResultCache, public_id: str, started: float) -> bool:
    try:
        return await run_io(cache.purged_since, public_id, started)
    except Exception:  # an unreadable local cache says nothing about purges
        return False
