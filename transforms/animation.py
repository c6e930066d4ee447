"""Animation: animated GIF and WebP keep every frame, their delays and loop count through
resizes, crops and effects; other outputs take the first frame (or the `pg_` frame)."""

from __future__ import annotations

from dataclasses import dataclass

import pyvips

from transforms.errors import BadRequest
from transforms.model import Format, Transformation

ANIMATED_SOURCES = ("gif", "webp")
ANIMATED_OUTPUTS = (Format.GIF, Format.WEBP)
DEFAULT_DELAY_MS = 100


@dataclass(frozen=True)
class Timing:
    """Per-frame delays in milliseconds and the loop count (0 = forever)."""

    delays: tuple[int, ...]
    loop: int = 0

    def with_delay(self, delay: int | None) -> Timing:
        return self if delay is None else Timing((delay,) * len(self.delays), self.loop)


def chosen_page(t: Transformation) -> int | None:
    """`pg_N` of the last step that sets it (1-based), else None."""
    return next((s.page for s in reversed(t.steps) if s.page is not None), None)


def chosen_delay(t: Transformation) -> int | None:
    return next((s.delay for s in reversed(t.steps) if s.delay is not None), None)


def check_page(page: int | None, pages: int) -> None:
    if page is not None and page > pages:
        raise BadRequest(f"Invalid page in transformation: {page} (the image has {pages})")


def is_animated(fmt: str, pages: int, t: Transformation) -> bool:
    return fmt in ANIMATED_SOURCES and pages > 1 and chosen_page(t) is None


def split(strip: pyvips.Image, pages: int) -> tuple[list[pyvips.Image], Timing]:
    """A loaded strip (all frames stacked vertically) → frames and their timing."""
    height = strip.height // pages
    frames = [strip.crop(0, i * height, strip.width, height) for i in range(pages)]
    return frames, _timing(strip, pages)


def _timing(strip: pyvips.Image, pages: int) -> Timing:
    delays = list(strip.get("delay")) if strip.get_typeof("delay") else []
    delays = (delays + [DEFAULT_DELAY_MS] * pages)[:pages]
    loop = int(strip.get("loop")) if strip.get_typeof("loop") else 0
    return Timing(tuple(int(d) for d in delays), loop)


def join(frames: list[pyvips.Image], timing: Timing) -> pyvips.Image:
    """Frames (all the same size) → one strip carrying page-height, delays and loop."""
    strip = pyvips.Image.arrayjoin(frames, across=1).copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", frames[0].height)
    strip.set_type(pyvips.GValue.array_int_type, "delay", list(timing.delays))
    strip.set_type(pyvips.GValue.gint_type, "loop", timing.loop)
    return strip


def first_frame(strip: pyvips.Image) -> pyvips.Image:
    """The first frame of a strip, for outputs that cannot animate (JPEG, PNG, AVIF...)."""
    if not strip.get_typeof("page-height"):
        return strip
    return strip.crop(0, 0, strip.width, int(strip.get("page-height")))
