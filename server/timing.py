"""Per-request timings: the phases of `Server-Timing`, the access log and /metrics.

Phases (seconds inside, milliseconds in the header as the spec wants):
queue (waiting for a render thread), origin (finding and reading the original), cache
(result-cache lookup and store), detect (detectors), render (pixel work outside the other
phases) and encode (the encoder; libvips is lazy, so it includes the streamed steps).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from time import perf_counter

from transforms import phases

PHASES = ("queue", "origin", "cache", "detect", "render", "encode")
# Measured inside the handler's `render` span (the render thread), so taken out of it.
_INSIDE_RENDER = ("detect", "encode")


class Timings:
    """Named spans of one request; `total` runs from construction to `header()`.

    Spans may be added from the render thread (through transforms.phases), so adding
    is locked. `notes` carries facts for the access log, such as `coalesced`.
    """

    def __init__(self) -> None:
        self._start = perf_counter()
        self._spans: dict[str, float] = {}
        self._lock = threading.Lock()
        self.notes: dict[str, object] = {}

    @classmethod
    def current(cls) -> Timings:
        """The request's Timings installed by the observing middleware, else a new one."""
        found = phases.current()
        return found if isinstance(found, Timings) else cls()

    @contextmanager
    def measure(self, name: str) -> Iterator[None]:
        start = perf_counter()
        try:
            yield
        finally:
            self.record(name, perf_counter() - start)

    def record(self, name: str, seconds: float) -> None:
        with self._lock:
            self._spans[name] = self._spans.get(name, 0.0) + seconds

    def elapsed(self) -> float:
        return perf_counter() - self._start

    def phases(self) -> dict[str, float]:
        """The phases that happened, in seconds, disjoint: `render` excludes detection
        and encoding, which are phases of their own."""
        with self._lock:
            spans = dict(self._spans)
        if "render" in spans:
            inside = sum(spans.get(name, 0.0) for name in _INSIDE_RENDER)
            spans["render"] = max(0.0, spans["render"] - inside)
        ordered = {name: spans.pop(name) for name in PHASES if name in spans}
        return ordered | spans

    def header(self) -> str:
        spans = {**self.phases(), "total": self.elapsed()}
        return ", ".join(f"{name};dur={seconds * 1000:.1f}" for name, seconds in spans.items())
