"""Where blocking work runs: a bounded render pool, plain I/O threads, and single-flight.

Rendering holds at most `render_threads` threads (libvips releases the GIL, so they run in
parallel) and at most `queue_limit` renders wait for one: past that a request is refused
at once (503, Retry-After). Identical concurrent requests share one render instead of
stampeding, across the processes sharing a cache directory too (server.keylocks).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from time import perf_counter
from typing import Any, Generic, Protocol, TypeVar, TypeVarTuple

import anyio
import anyio.to_thread

from server.keylocks import Locks
from transforms import phases
from transforms.errors import ServiceUnavailable

T = TypeVar("T")
Args = TypeVarTuple("Args")


class PoolObserver(Protocol):
    """What the pool reports (server.metrics counts it); called from any thread."""

    def queued(self, change: int) -> None: ...

    def started(self) -> None: ...

    def finished(self) -> None: ...

    def rejected(self) -> None: ...


class Overloaded(ServiceUnavailable):
    """Every render thread is busy and the queue is full (503 with Retry-After)."""


class RenderPool:
    """At most `workers` renders at a time; at most `queue_limit` more requests wait for
    a turn (None: no limit), and past that `slot` raises Overloaded at once.

    A request takes its turn (`slot`) before it reads its original, so the requests that
    wait hold no image bytes, then hands the render to one of the `workers` threads
    (`Slot.run`). A caller that gives up (its deadline passed, its client left) stops
    waiting at once; a render already running keeps its thread, and its turn, until it
    ends, so the bound holds for the work really running. The caller's context variables
    (the request deadline, its timings) travel with the call into the thread.
    """

    def __init__(
        self, workers: int, queue_limit: int | None = None, observer: PoolObserver | None = None
    ) -> None:
        self._executor = ThreadPoolExecutor(
            workers, thread_name_prefix="pixcast-render", initializer=_yield_to_requests
        )
        self._turns = asyncio.Semaphore(workers)
        self.capacity = None if queue_limit is None else workers + queue_limit
        self.observer = observer
        self._lock = threading.Lock()
        self.waiting = 0  # requests waiting for a turn
        self.holding = 0  # requests holding a turn (reading their original or rendering)
        self.running = 0  # renders in a thread (one whose caller gave up still counts)

    async def run(self, func: Callable[[*Args], T], *args: *Args) -> T:
        """Wait for a turn, then run `func(*args)` in a render thread."""
        async with self.slot() as turn:
            return await turn.run(func, *args)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """Hold one of the `workers` turns for the block (Overloaded when the queue is full)."""
        self._admit()
        waited = perf_counter()
        try:
            await self._turns.acquire()
        except BaseException:  # the caller gave up while waiting
            self._leave_queue(holding=False)
            raise
        self._leave_queue(holding=True)
        recorder = phases.current()
        if recorder is not None:
            recorder.record("queue", perf_counter() - waited)
        turn = Slot(self)
        try:
            yield turn
        finally:
            with self._lock:
                self.holding -= 1
            turn.release_when_done(self._turns.release)

    def _admit(self) -> None:
        with self._lock:
            taken = self.waiting + self.holding
            full = self.capacity is not None and taken >= self.capacity
            if not full:
                self.waiting += 1
        if full:
            if self.observer:
                self.observer.rejected()
            raise Overloaded("Server busy: every render thread is taken and the queue is full")
        if self.observer:
            self.observer.queued(1)

    def _leave_queue(self, holding: bool) -> None:
        with self._lock:
            self.waiting -= 1
            self.holding += holding
        if self.observer:
            self.observer.queued(-1)

    def _submit(self, work: Callable[[], T]) -> Future[T]:
        """`work` in a render thread, with the caller's context variables."""
        return self._executor.submit(contextvars.copy_context().run, self._call, work)

    def _call(self, work: Callable[[], T]) -> T:
        with self._lock:
            self.running += 1
        if self.observer:
            self.observer.started()
        try:
            return work()
        finally:
            with self._lock:
                self.running -= 1
            if self.observer:
                self.observer.finished()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class Slot:
    """One turn in the render pool: renders run through it, and the turn is given back
    when the block ends, or when its last render ends if that is later."""

    def __init__(self, pool: RenderPool) -> None:
        self._pool = pool
        self._pending: Future[Any] | None = None

    async def run(self, func: Callable[[*Args], T], *args: *Args) -> T:
        future = self._pool._submit(lambda: func(*args))
        self._pending = future
        return await asyncio.wrap_future(future)

    def release_when_done(self, release: Callable[[], None]) -> None:
        pending = self._pending
        if pending is None or pending.done():
            release()
            return
        loop = asyncio.get_running_loop()

        def give_back(_: Future[Any]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed first: nothing to free
                loop.call_soon_threadsafe(release)

        pending.add_done_callback(give_back)


# Render threads run at a lower CPU priority (a higher nice value; libvips's own threads
# inherit it), so on busy CPUs the event loop and the I/O threads that answer cache hits
# get the CPU first: renders take what is left, and warm requests stay fast under load.
RENDER_NICENESS = 10


def _yield_to_requests() -> None:
    with contextlib.suppress(OSError, AttributeError):  # not Linux, or not allowed
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), RENDER_NICENESS)


async def run_io(func: Callable[[*Args], T], *args: *Args) -> T:
    """Short blocking file or database I/O, off the event loop (anyio's default threads)."""
    return await anyio.to_thread.run_sync(func, *args)


class _Flight(Generic[T]):
    def __init__(self) -> None:
        self.done = anyio.Event()
        self.value: tuple[T] | None = None  # boxed: a result may itself be None
        self.error: BaseException | None = None


class SingleFlight(Generic[T]):
    """Runs one call per key at a time; callers arriving meanwhile await its outcome.

    With `locks`, the one caller per process also takes the key's cross-process lock and,
    holding it, first asks `lookup` for what another process stored, then calls only if
    there is nothing. `lookup` is told whether the lock was waited for. It is asked even
    when the lock was free: another process may have stored and released between this
    caller's own first look and its lock.
    """

    def __init__(self, locks: Locks | None = None) -> None:
        self._flights: dict[str, _Flight[T]] = {}
        self._locks = locks

    async def run(
        self,
        key: str,
        call: Callable[[], Awaitable[T]],
        lookup: Callable[[bool], Awaitable[T | None]] | None = None,
    ) -> tuple[T, bool]:
        """The call's result and whether it was shared from another caller's flight
        (in this process, or through `lookup` from another one)."""
        while (flight := self._flights.get(key)) is not None:
            await flight.done.wait()
            if not isinstance(flight.error, anyio.get_cancelled_exc_class()):
                return _outcome(flight), True
            # The leader was cancelled (client gone): not our failure, so try again.
        return await self._lead(key, call, lookup)

    async def _lead(
        self,
        key: str,
        call: Callable[[], Awaitable[T]],
        lookup: Callable[[bool], Awaitable[T | None]] | None,
    ) -> tuple[T, bool]:
        flight: _Flight[T] = _Flight()
        self._flights[key] = flight
        try:
            result, shared = await self._once(key, call, lookup)
            flight.value = (result,)
            return result, shared
        except BaseException as error:
            flight.error = error
            raise
        finally:
            del self._flights[key]
            flight.done.set()

    async def _once(
        self,
        key: str,
        call: Callable[[], Awaitable[T]],
        lookup: Callable[[bool], Awaitable[T | None]] | None,
    ) -> tuple[T, bool]:
        if self._locks is None:
            return await call(), False
        async with self._locks.hold(key) as waited:
            if lookup is not None:
                found = await lookup(waited)
                if found is not None:
                    return found, True
            return await call(), False


def _outcome(flight: _Flight[T]) -> T:
    if flight.value is None:
        raise flight.error or RuntimeError("single-flight call ended without a result")
    return flight.value[0]
