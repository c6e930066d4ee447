"""Locks by key shared by every process on one machine: one `flock`ed file per key.

Processes that share a cache directory (`pixcast serve --workers N`, or several servers
on one host) take the lock around work whose result they all store, so the first does
the work and the others wait, then find its result. The kernel drops a lock when its
holder dies, so a crashed worker never leaves a key locked.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from pathlib import Path
from typing import Protocol

import anyio

# Waiting polls the lock (non-blocking flock) instead of parking a thread in flock():
# the wait stays cancellable (deadlines, clients that leave) and costs no thread.
FIRST_POLL = 0.002
LAST_POLL = 0.05


class Locks(Protocol):
    """Exclusive locks by key; `hold` yields whether another holder was waited for."""

    def hold(self, key: str) -> AbstractAsyncContextManager[bool]: ...


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
            # Unlink while still holding the lock: a process that opened the old file
            # sees it was replaced (_current) and takes the lock on a fresh one.
            with suppress(FileNotFoundError):
                os.unlink(path)
            os.close(fd)

    async def _acquire(self, path: Path) -> tuple[int, bool]:
        waited = False
        pause = FIRST_POLL
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                while not _try_lock(fd):
                    waited = True
                    await anyio.sleep(pause)
                    pause = min(pause * 2, LAST_POLL)
            except BaseException:
                os.close(fd)
                raise
            if _current(fd, path):
                return fd, waited
            os.close(fd)  # locked a file its holder had already unlinked: start again


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
