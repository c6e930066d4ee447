"""Where a render spends its time, reported without the library knowing who listens.

The server installs a recorder for the current context (`recording`); the render's thread
inherits it (context variables travel into the render pool), and the pipeline and the
detectors wrap their phases in `phase("encode")`, `phase("detect")`. Without a recorder
`phase` costs one context-variable read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from time import perf_counter
from typing import Protocol


class Recorder(Protocol):
    def record(self, name: str, seconds: float) -> None:
        """Add `seconds` (wall time) to the phase `name`; called from any thread."""


_RECORDER: ContextVar[Recorder | None] = ContextVar("pixcast_phase_recorder", default=None)


@contextmanager
def recording(recorder: Recorder) -> Iterator[None]:
    """Send the phases measured in this context (and threads it starts) to `recorder`."""
    token = _RECORDER.set(recorder)
    try:
        yield
    finally:
        _RECORDER.reset(token)


def current() -> Recorder | None:
    return _RECORDER.get()


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Measure the enclosed block as phase `name` for the current recorder, if any."""
    recorder = _RECORDER.get()
    if recorder is None:
        yield
        return
    start = perf_counter()
    try:
        yield
    finally:
        recorder.record(name, perf_counter() - start)
