"""Where blocking work runs: a bounded render pool, plain I/O threads, and single-flight.

Rendering holds at most `workers` threads (libvips releases the GIL, so they run in
parallel); identical concurrent requests share one render instead of stampeding.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar, TypeVarTuple

import anyio
import anyio.to_thread

T = TypeVar("T")
Args = TypeVarTuple("Args")


class RenderPool:
    """At most `workers` renders at a time; more requests wait their turn in anyio's queue."""

    def __init__(self, workers: int) -> None:
        self.limiter = anyio.CapacityLimiter(workers)

    async def run(self, func: Callable[[*Args], T], *args: *Args) -> T:
        return await anyio.to_thread.run_sync(func, *args, limiter=self.limiter)


async def run_io(func: Callable[[*Args], T], *args: *Args) -> T:
    """Short blocking file or database I/O, off the event loop (anyio's default threads)."""
    return await anyio.to_thread.run_sync(func, *args)


class _Flight(Generic[T]):
    def __init__(self) -> None:
        self.done = anyio.Event()
        self.value: tuple[T] | None = None  # boxed: a result may itself be None
        self.error: BaseException | None = None


class SingleFlight(Generic[T]):
    """Runs one call per key at a time; callers arriving meanwhile await its outcome."""

    def __init__(self) -> None:
        self._flights: dict[str, _Flight[T]] = {}

    async def run(self, key: str, call: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """The call's result and whether it was shared from another caller's flight."""
        while (flight := self._flights.get(key)) is not None:
            await flight.done.wait()
            if not isinstance(flight.error, anyio.get_cancelled_exc_class()):
                return _outcome(flight), True
            # The leader was cancelled (client gone): not our failure, so try again.
        return await self._lead(key, call), False

    async def _lead(self, key: str, call: Callable[[], Awaitable[T]]) -> T:
        flight: _Flight[T] = _Flight()
        self._flights[key] = flight
        try:
            result = await call()
            flight.value = (result,)
            return result
        except BaseException as error:
            flight.error = error
            raise
        finally:
            del self._flights[key]
            flight.done.set()


def _outcome(flight: _Flight[T]) -> T:
    if flight.value is None:
        raise flight.error or RuntimeError("single-flight call ended without a result")
    return flight.value[0]
