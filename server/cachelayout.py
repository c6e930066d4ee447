"""Where each store lives under the cache root: one directory per store, none at the root.

Each store is its own diskcache (or, for locks, plain files), so maintenance of one
(`pixcast cache verify --fix`, a purge) can never reach into another's files.
"""

from __future__ import annotations

from pathlib import Path

RESULTS = "results"  # rendered variants (server.cache)
DETECTIONS = "detections"  # detectors' regions by source (server.detections)
REMOTE_ORIGINALS = "remote-originals"  # fetched and HTTP-origin originals (server.remote_originals)
LOCKS = "locks"  # one flock'ed file per key being worked on (server.keylocks)
STORES = (RESULTS, DETECTIONS, REMOTE_ORIGINALS)


def store_dir(root: Path, store: str) -> Path:
    """The directory of one store under the cache root `root`."""
    return root / store
