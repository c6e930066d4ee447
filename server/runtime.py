"""Process-wide settings made deliberately before serving: libvips's operation cache and
thread count, and glibc's malloc arenas. Both bound memory under load (README, "Under load").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

import pyvips

from server.settings import Settings

log = logging.getLogger("pixcast.runtime")

ARENA_ENV = "MALLOC_ARENA_MAX"
DEFAULT_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter number


def configure_vips(settings: Settings) -> None:
    """Every request decodes new bytes, and libvips's operation cache is keyed by its
    inputs, so it would never hit: it would only hold images in memory. It is off. One
    libvips worker thread per render: pixcast already runs `render_threads` renders side
    by side, and more threads per render add memory (one set of buffers each) without
    adding throughput (measured: shrink-on-load thumbnails are decode-bound)."""
    pyvips.cache_set_max(0)
    pyvips.cache_set_max_mem(0)
    pyvips.cache_set_max_files(0)
    pyvips.concurrency_set(settings.vips_concurrency)


def limit_malloc_arenas() -> int:
    """Cap glibc's malloc arenas (8 per core by default for threaded programs: freed image
    buffers spread over them keep the resident size high). MALLOC_ARENA_MAX is read when a
    process starts, so it is put in the environment for the processes pixcast starts, and
    mallopt applies it to this one. An operator's own value is kept. Returns the cap."""
    arenas = int(os.environ.setdefault(ARENA_ENV, str(DEFAULT_ARENAS)))
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        applied = bool(libc and libc.mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):  # not glibc: the variable alone does what it can
        applied = False
    if not applied:
        log.debug("mallopt(M_ARENA_MAX) not available; relying on %s", ARENA_ENV)
    return arenas
