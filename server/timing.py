"""Per-request timings for the `Server-Timing` header (milliseconds, as the spec wants)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from time import perf_counter


class Timings:
    """Named spans of one request; `total` runs from construction to `header()`."""

    def __init__(self) -> None:
        self._start = perf_counter()
        self._spans: dict[str, float] = {}

    @contextmanager
    def measure(self, name: str) -> Iterator[None]:
        start = perf_counter()
        try:
            yield
        finally:
            self._spans[name] = self._spans.get(name, 0.0) + perf_counter() - start

    def header(self) -> str:
        spans = {**self._spans, "total": perf_counter() - self._start}
        return ", ".join(f"{name};dur={seconds * 1000:.1f}" for name, seconds in spans.items())
