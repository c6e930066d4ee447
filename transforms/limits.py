"""Limit checks shared by the server's early guards and the render: each a clear 4xx.

Also the render's deadline: the caller sets it for the current context (`deadline`), long
work checks it between steps (`check_deadline`), and libvips work running when it passes
is killed (`stopping_at_deadline`), so a timed-out render frees its thread at once.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import pyvips

from transforms.errors import BadRequest, GatewayTimeout, PayloadTooLarge
from transforms.model import Limits, Step

# time.monotonic() after which the current request's work is pointless; None = no deadline.
_DEADLINE: ContextVar[float | None] = ContextVar("pixcast_deadline", default=None)
_STOPPED = "The request took longer than its deadline and was stopped"


def check_steps(steps: tuple[Step, ...], limits: Limits) -> None:
    """Components (after named transformations expand, a layer's included) and dpr,
    before any I/O (400)."""
    steps = tuple(_components(steps))
    if len(steps) > limits.max_components:
        raise BadRequest(
            f"Too many chained transformations: {len(steps)} components "
            f"(at most {limits.max_components}, counting expanded named transformations)"
        )
    for step in steps:
        if step.dpr is not None and step.dpr > limits.max_dpr:
            raise BadRequest(
                f"Invalid dpr in transformation: {step.dpr:g} (at most {limits.max_dpr:g})"
            )


def _components(steps: tuple[Step, ...]) -> Iterator[Step]:
    for step in steps:
        yield from step.layer.components if step.layer is not None else (step,)


def check_source_bytes(size: int, limits: Limits) -> None:
    """The encoded original's size in bytes (413)."""
    if size > limits.max_source_bytes:
        raise PayloadTooLarge(
            f"The original is {size} bytes (the limit is {limits.max_source_bytes} bytes)"
        )


@contextmanager
def deadline(seconds: float) -> Iterator[float]:
    """Set the current context's deadline `seconds` from now (never later than one set
    already); yields it as a time.monotonic() value."""
    at = time.monotonic() + seconds
    outer = _DEADLINE.get()
    token = _DEADLINE.set(at if outer is None else min(at, outer))
    try:
        yield at
    finally:
        _DEADLINE.reset(token)


def check_deadline() -> None:
    """Raise GatewayTimeout (504) when the current context's deadline has passed."""
    at = _DEADLINE.get()
    if at is not None and time.monotonic() > at:
        raise GatewayTimeout(_STOPPED)


def check_output_pixels(fmt: str, width: int, height: int, frames: int, limits: Limits) -> None:
    """A GIF (palette quantisation is slow per pixel) or animated render of `frames` frames
    of `width` x `height`: within `max_animation_pixels` in all (400). Checked on the
    steps' results and the output before their pixels are computed."""
    pixels = width * height * frames
    if pixels > limits.max_animation_pixels:
        raise BadRequest(
            f"A {fmt.upper()} render of {width}x{height}"
            f"{f' x {frames} frames' if frames > 1 else ''} = {pixels / 1e6:.1f} megapixels "
            f"is over the limit for GIF and animated outputs "
            f"({limits.max_animation_pixels / 1e6:g} megapixels, max_animation_megapixels)"
        )


class _Watchdog:
    """One daemon thread that kills the libvips computations whose deadline has passed.

    A watched image is held only while it is watched: `unwatch` drops it, and its heap
    entry (a time and a number) is skipped when it comes up.
    """

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._due: list[tuple[float, int]] = []
        self._watched: dict[int, pyvips.Image] = {}
        self._numbers = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, at: float, image: pyvips.Image) -> int:
        with self._wake:
            number = next(self._numbers)
            self._watched[number] = image
            heapq.heappush(self._due, (at, number))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="pixcast-deadlines",
                                                daemon=True)  # fmt: skip
                self._thread.start()
            self._wake.notify()
        return number

    def unwatch(self, number: int) -> None:
        with self._wake:
            self._watched.pop(number, None)

    def _run(self) -> None:
        while True:
            with self._wake:
                image = self._next_due()
            if image is not None:
                image.set_kill(True)  # libvips stops at its next tile and raises

    def _next_due(self) -> pyvips.Image | None:
        """Wait (holding the condition) for the first deadline; its image if still watched."""
        while not self._due:
            self._wake.wait()
        at, number = self._due[0]
        if number not in self._watched:
            heapq.heappop(self._due)
            return None
        left = at - time.monotonic()
        if left > 0:
            self._wake.wait(left)
            return None
        heapq.heappop(self._due)
        return self._watched.pop(number)


_WATCHDOG = _Watchdog()


@contextmanager
def stopping_at_deadline(image: pyvips.Image) -> Iterator[None]:
    """Compute `image` in the block; if the current deadline passes meanwhile, libvips is
    told to kill the computation, and the block raises GatewayTimeout (504)."""
    at = _DEADLINE.get()
    if at is None:
        yield
        return
    number = _WATCHDOG.watch(at, image)
    try:
        yield
    except pyvips.Error:
        if time.monotonic() >= at:
            raise GatewayTimeout(_STOPPED) from None
        raise
    finally:
        _WATCHDOG.unwatch(number)
