"""Limit checks shared by the server's early guards and the render: each a clear 4xx.

Also the render's deadline: the caller sets it for the current context (`deadline`), and
long work checks it between steps (`check_deadline`) so a timed-out render stops early.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from transforms.errors import BadRequest, GatewayTimeout, PayloadTooLarge
from transforms.model import Limits, Step

# time.monotonic() after which the current request's work is pointless; None = no deadline.
_DEADLINE: ContextVar[float | None] = ContextVar("pixcast_deadline", default=None)


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
        raise GatewayTimeout("The request took longer than its deadline and was stopped")
