"""The storage replicas share what they compute in (results, detections, leases: one prefix
each). Like the local cache it is an optimisation: a failure is logged and reads as a miss,
and the storage is then left alone for `PAUSE` seconds, not asked on every request."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from server.storage.base import Storage
from transforms.errors import PixcastError

log = logging.getLogger("pixcast.storage")
T = TypeVar("T")
PAUSE = 5.0  # seconds a failed shared storage is skipped


class SharedStore:
    """A storage used as a shared cache: get/put by key, failures read as misses."""

    def __init__(self, storage: Storage, clock: Callable[[], float] = time.monotonic) -> None:
        self.storage = storage
        self.clock = clock
        self._paused_until = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The event loop the blocking calls (`get_now`, `put_now`) run their work on."""
        self._loop = loop

    async def get(self, key: str) -> bytes | None:
        blob = await self._guarded(lambda: self.storage.get(key), f"reading {key}")
        return None if blob is None else blob.data

    async def put(self, key: str, data: bytes) -> None:
        await self._guarded(lambda: self.storage.put(key, data), f"writing {key}")

    def get_now(self, key: str, timeout: float) -> bytes | None:
        """`get` from a thread outside the event loop (the render threads)."""
        return self._blocking(lambda: self.get(key), timeout)

    def put_now(self, key: str, data: bytes, timeout: float) -> None:
        self._blocking(lambda: self.put(key, data), timeout)

    async def _guarded(self, work: Callable[[], Awaitable[T]], doing: str) -> T | None:
        if self.clock() < self._paused_until:
            return None
        try:
            return await work()
        except PixcastError as error:
            self._paused_until = self.clock() + PAUSE
            log.warning("shared storage failed %s: %s (skipped for %ss)", doing, error, PAUSE)
            return None

    def _blocking(self, work: Callable[[], Awaitable[T | None]], timeout: float) -> T | None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return None
        future = asyncio.run_coroutine_threadsafe(_awaited(work), loop)
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            return None


async def _awaited(work: Callable[[], Awaitable[T]]) -> T:
    return await work()


def result_path(key: str) -> str:
    """Where a result key lives in the shared storage (fanned out by its first byte)."""
    return f"results/{key[:2]}/{key}"


def detection_path(fingerprint: str, key: str) -> str:
    return f"detections/{fingerprint}/{key}"


def lock_path(name: str) -> str:
    return f"locks/{name}"
