"""Locks across replicas as lease objects in the shared storage: created by a conditional
PUT (`If-None-Match: *`), deleted by the holder, taken over once expired (a dead holder).
Waiters poll; a storage that cannot answer means no lock: the render goes ahead."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Protocol

import anyio

from server.keylocks import Locks
from server.storage.shared import lock_path
from transforms.errors import PixcastError

log = logging.getLogger("pixcast.storage")
FIRST_POLL = 0.02
LAST_POLL = 0.25


class Creating(Protocol):
    """A storage with a conditional create (S3's If-None-Match, a directory's O_EXCL)."""

    async def create(self, key: str, data: bytes) -> bool: ...

    async def get(self, key: str) -> object: ...

    async def delete(self, key: str) -> None: ...


class LeaseLocks:
    """Exclusive locks by name in a shared storage, each a lease of `lease` seconds."""

    def __init__(
        self, storage: Creating, lease: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.storage = storage
        self.lease = lease
        self.clock = clock
        self.owner = uuid.uuid4().hex

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[bool]:
        """Hold `key`'s lease for the block. Yields True ("look before you work") even when
        the lease was free at once: another replica may have finished and released it
        between this one's lookup and its lease, and one lookup is cheaper than a render."""
        path = lock_path(hashlib.sha256(key.encode()).hexdigest()[:40])
        held = await self._acquire(path)
        try:
            yield True
        finally:
            if held:
                with anyio.CancelScope(shield=True):
                    await self._release(path)

    async def _acquire(self, path: str) -> bool:
        """Whether the lease was taken (False: waited a whole lease, or no storage)."""
        pause = FIRST_POLL
        give_up = self.clock() + self.lease
        try:
            while not await self.storage.create(path, self._claim()):
                if self.clock() > give_up:
                    return False
                if await self._expired(path):
                    await self.storage.delete(path)  # its holder died: take it over
                    continue
                await anyio.sleep(pause)
                pause = min(pause * 2, LAST_POLL)
        except PixcastError as error:
            log.warning("shared lock %s unavailable (%s): rendering without it", path, error)
            return False
        return True

    async def _expired(self, path: str) -> bool:
        blob = await self.storage.get(path)
        data = getattr(blob, "data", None)
        if not isinstance(data, bytes):
            return False  # gone already (the next create takes it), or unreadable
        try:
            expires = float(json.loads(data)["expires"])
        except (ValueError, KeyError, TypeError):
            return True  # not a lease pixcast wrote: nothing holds it
        return expires < self.clock()

    def _claim(self) -> bytes:
        return json.dumps({"owner": self.owner, "expires": self.clock() + self.lease}).encode()

    async def _release(self, path: str) -> None:
        try:
            await self.storage.delete(path)
        except PixcastError as error:  # it expires on its own
            log.warning("releasing shared lock %s failed: %s", path, error)


class ChainedLocks:
    """This machine's lock, then the replicas' lease: one holder per key everywhere."""

    def __init__(self, first: Locks, second: Locks) -> None:
        self.first = first
        self.second = second

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[bool]:
        async with self.first.hold(key) as waited_here, self.second.hold(key) as waited_there:
            yield waited_here or waited_there
