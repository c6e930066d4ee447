"""Client hints for responsive images: `w_auto[:step][:fallback]`, the breakpoints form and
`dpr_auto`, filled from `Sec-CH-Width`/`Width`, `Sec-CH-Viewport-Width`/`Viewport-Width`
and `Sec-CH-DPR`/`DPR` before the cache key is made, so the key holds the value used.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from transforms.errors import BadRequest
from transforms.model import AutoWidth, Length, Limits, Step, Transformation, Unit

WIDTH_HINTS = ("sec-ch-width", "width")
VIEWPORT_HINTS = ("sec-ch-viewport-width", "viewport-width")
DPR_HINTS = ("sec-ch-dpr", "dpr")
# What a response to a URL with w_auto or dpr_auto asks browsers to send.
ACCEPT_CH = "Sec-CH-DPR, Sec-CH-Width, Sec-CH-Viewport-Width, DPR, Width, Viewport-Width"
SPELLING = {
    "sec-ch-width": "Sec-CH-Width",
    "width": "Width",
    "sec-ch-viewport-width": "Sec-CH-Viewport-Width",
    "viewport-width": "Viewport-Width",
    "sec-ch-dpr": "Sec-CH-DPR",
    "dpr": "DPR",
}
DEFAULT_STEP = 100
# Cloudinary's breakpoint defaults: 50 to 1000 pixels, 20 KB apart, at most 20 widths.
BREAKPOINTS = (50, 1000, 20, 20)
_NUMBER = re.compile(r"^\d{1,5}(?:\.\d{1,6})?$")


# --- grammar -----------------------------------------------------------------------------


def _whole(text: str, what: str, low: int = 1, high: int = 100000) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise BadRequest(
            f"Invalid width in transformation: auto ({what} {text!r} is not {low}-{high})"
        )
    return int(text)


def parse_auto_width(text: str) -> AutoWidth:
    """`auto`, `auto:50`, `auto:50:400`, `auto:breakpoints[_50_1000_20_20][:400]`."""
    parts = text.split(":")[1:]
    if parts and parts[0].startswith("breakpoints"):
        return _breakpoints(text, parts)
    if len(parts) > 2:
        raise BadRequest(
            f"Invalid width in transformation: {text} (expected auto[:step][:fallback])"
        )
    step = _whole(parts[0], "step") if parts and parts[0] else DEFAULT_STEP
    fallback = _whole(parts[1], "fallback") if len(parts) == 2 else None
    return AutoWidth(text, step, fallback)


def _breakpoints(text: str, parts: list[str]) -> AutoWidth:
    if parts[-1] == "json":
        raise BadRequest(
            f"Invalid width in transformation: {text} (pixcast does not answer breakpoints "
            "as JSON; it renders the image at the chosen breakpoint)"
        )
    numbers = parts[0].split("_")[1:]
    if numbers and len(numbers) != 4:
        raise BadRequest(
            f"Invalid width in transformation: {text} (expected breakpoints_<min>_<max>_<kb>_<n>)"
        )
    low, high, kb, count = (_whole(n, "breakpoint") for n in numbers) if numbers else BREAKPOINTS
    if low > high:
        raise BadRequest(f"Invalid width in transformation: {text} (min is above max)")
    fallback = _whole(parts[1], "fallback") if len(parts) > 1 else None
    return AutoWidth(text, DEFAULT_STEP, fallback, (low, high, kb, count))


# --- hints -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chosen:
    """A value read from a hint, and the headers that were consulted for it."""

    value: float | None
    consulted: tuple[str, ...]


def _read(headers: Mapping[str, str], names: tuple[str, ...]) -> Chosen:
    """The first of `names` that holds a positive number; the ones looked at on the way
    (an absent preferred hint was consulted too, so it belongs in Vary)."""
    for index, name in enumerate(names):
        text = (headers.get(name) or "").strip()
        if _NUMBER.match(text) and float(text) > 0:
            return Chosen(float(text), names[: index + 1])
    return Chosen(None, names)


def apply_hints(
    t: Transformation, headers: Mapping[str, str], limits: Limits
) -> tuple[Transformation, tuple[str, ...]]:
    """`t` with every w_auto and dpr_auto replaced by the value used, and the hint
    headers consulted (for Vary), in their usual spelling. Unchanged when none is used."""
    for layer in t.layers:
        if any(s.auto_width is not None or s.auto_dpr for s in layer.components):
            raise BadRequest(
                "Invalid transformation: w_auto and dpr_auto size the delivered image; "
                "inside a layer use a width in pixels or a decimal (fl_relative)"
            )
    if not any(s.auto_width is not None or s.auto_dpr for s in t.steps):
        return t, ()
    consulted: list[str] = []
    steps = tuple(_hinted(step, headers, limits, consulted) for step in t.steps)
    names = tuple(SPELLING[n] for n in dict.fromkeys(consulted))
    return replace(t, steps=steps), names


def _hinted(step: Step, headers: Mapping[str, str], limits: Limits, consulted: list[str]) -> Step:
    dpr = step.dpr
    if step.auto_dpr:
        chosen = _read(headers, DPR_HINTS)
        consulted += chosen.consulted
        dpr = min(float(math.ceil(chosen.value or 1.0)), limits.max_dpr)
        step = replace(step, dpr=dpr, auto_dpr=False)
    if step.auto_width is None:
        return step
    width, from_hint = _width(step.auto_width, headers, limits, consulted)
    # A width hint is already in device pixels: a dpr beside it would count twice.
    return replace(step, width=width, auto_width=None, dpr=None if from_hint else dpr)


def _width(
    auto: AutoWidth, headers: Mapping[str, str], limits: Limits, consulted: list[str]
) -> tuple[Length, bool]:
    chosen = _read(headers, WIDTH_HINTS)
    consulted += chosen.consulted
    hinted = chosen.value
    if hinted is None:
        viewport = _read(headers, VIEWPORT_HINTS)
        consulted += viewport.consulted
        hinted = viewport.value
    if hinted is None:
        return _fallback(auto, limits), False
    return Length(min(_rounded(auto, hinted), limits.max_output_side)), True


def _rounded(auto: AutoWidth, hinted: float) -> int:
    if auto.breakpoints is None:
        return int(math.ceil(hinted / auto.step) * auto.step)
    return breakpoint_for(hinted, auto.breakpoints)


def breakpoint_for(width: float, breakpoints: tuple[int, int, int, int]) -> int:
    """The smallest of `count` widths evenly spaced from min to max that covers `width`."""
    low, high, _, count = breakpoints
    gap = (high - low) / max(1, count - 1)
    ladder = [round(low + gap * index) for index in range(max(1, count))]
    return next((w for w in ladder if w >= width), high)


def _fallback(auto: AutoWidth, limits: Limits) -> Length:
    """No hint: the URL's fallback width, else the original's width (the breakpoints
    form: its largest breakpoint)."""
    if auto.fallback is not None:
        return Length(min(auto.fallback, limits.max_output_side))
    if auto.breakpoints is not None:
        return Length(auto.breakpoints[1])
    return Length(1.0, Unit.INITIAL_WIDTH)
