"""Locks by key shared by every process on one machine: one `flock`ed file per key.

Processes that share a cache directory (`pixcast serve --workers N`, or several servers
on one host) take the lock around work whose result they all store, so the first does
the work and the others wait, then find its result. The kernel drops a lock when its
holder dies, so a crashed worker never leaves a key locked. When no lock file can be made
(disk full, read-only), the work goes ahead unlocked: duplicate work beats failing.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path

import anyio

log = logging.getLogger(__name__)

# Waiting polls the lock (non-blocking flock) instead of parking a thread in flock():
# the wait stays cancellable (deadlines, clients that leave) and costs no thread.
FIRST_POLL = 0.002
LAST_POLL = 0.05
WARN_SECONDS = 60.0


class KeyLocks:
    """Exclusive locks named by any string, as files under `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.directory / (hashlib.sha256(key.encode()).hexdigest()[:40] + ".lock")

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[bool]:
        """Hold `key`'s lock for the block; yields whether another holder was waited for."""
        path = self.path(key)
        fd, waited = await self._acquire(path)
        try:
            yield waited
        finally:
            _release(fd, path)

    @contextmanager
    def hold_blocking(self, key: str, patience: float) -> Iterator[bool]:
        """`hold` for a worker thread: waits at most `patience` seconds, then goes ahead
        without the lock (its holder is stuck; doing the work twice is the lesser harm)."""
        path = self.path(key)
        give_up = time.monotonic() + patience
        fd, busy = _lock_once(path)
        waited = busy
        pause = FIRST_POLL
        while fd is None and busy and time.monotonic() < give_up:
            time.sleep(pause)
            pause = min(pause * 2, LAST_POLL)
            fd, busy = _lock_once(path)
        try:
            yield waited
        finally:
            _release(fd, path)

    async def _acquire(self, path: Path) -> tuple[int | None, bool]:
        waited = False
        pause = FIRST_POLL
        while True:
            fd, busy = _lock_once(path)
            if fd is not None or not busy:
                return fd, waited
            waited = True
            await anyio.sleep(pause)
            pause = min(pause * 2, LAST_POLL)


def _lock_once(path: Path) -> tuple[int | None, bool]:
    """One try: (descriptor, False) when locked; (None, True) while another holds it;
    (None, False) when no lock file can be made, so the caller goes ahead unlocked."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as error:
        _warn_unlocked(path, error)
        return None, False
    try:
        locked = _try_lock(fd)
    except BaseException:
        os.close(fd)
        raise
    if locked and _current(fd, path):
        return fd, False
    os.close(fd)  # busy, or locked a file its holder had already unlinked: try again
    return None, True


_warned = [-WARN_SECONDS]  # when the last "working without the lock" line was logged


def _warn_unlocked(path: Path, error: OSError) -> None:
    """Once a minute at most: a full or read-only disk would otherwise log every request."""
    now = time.monotonic()
    if now - _warned[0] >= WARN_SECONDS:
        _warned[0] = now
        log.warning("cannot make lock file %s (%s); working without the lock", path, error)


def _release(fd: int | None, path: Path) -> None:
    if fd is None:
        return
    # Unlink while still holding the lock: a process that opened the old file sees it
    # was replaced (_current) and takes the lock on a fresh one.
    with suppress(OSError):
        os.unlink(path)
    os.close(fd)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return False
        raise
    return True


def _current(fd: int, path: Path) -> bool:
    """Whether the locked descriptor is still the file at `path`."""
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (on_disk.st_dev, on_disk.st_ino)
