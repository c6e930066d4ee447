"""Resize: carry out a geometry Plan (crop box → resize → pad onto a canvas)."""

from __future__ import annotations

import pyvips

from transforms.geometry import Plan
from transforms.model import Colour


def execute(
    image: pyvips.Image, plan: Plan, background: Colour | None, ratio: tuple[float, float]
) -> pyvips.Image:
    """Apply `plan`, whose coordinates are `ratio` times this image's (after shrink-on-load)."""
    image = _crop(image, plan, ratio)
    image = resize_to(image, plan.size)
    if plan.canvas != plan.size:
        image = pad(image, plan, background)
    return image


def _crop(image: pyvips.Image, plan: Plan, ratio: tuple[float, float]) -> pyvips.Image:
    box = plan.box
    left = min(max(0, round(box.left / ratio[0])), image.width - 1)
    top = min(max(0, round(box.top / ratio[1])), image.height - 1)
    width = max(1, min(round(box.width / ratio[0]), image.width - left))
    height = max(1, min(round(box.height / ratio[1]), image.height - top))
    if (left, top, width, height) == (0, 0, image.width, image.height):
        return image
    return image.crop(left, top, width, height)


def resize_to(image: pyvips.Image, size: tuple[int, int]) -> pyvips.Image:
    """Resize to exactly `size`, premultiplying alpha so edges do not darken."""
    if (image.width, image.height) == size:
        return image
    alpha = image.hasalpha()
    work = image.premultiply() if alpha else image
    work = work.resize(size[0] / image.width, vscale=size[1] / image.height, kernel="lanczos3")
    if alpha:
        work = work.unpremultiply().cast("uchar")
    return _exact(work, size)


def _exact(image: pyvips.Image, size: tuple[int, int]) -> pyvips.Image:
    # libvips rounds output sizes; a one-pixel difference is corrected here.
    if (image.width, image.height) == size:
        return image
    image = image.crop(0, 0, min(image.width, size[0]), min(image.height, size[1]))
    return image.embed(0, 0, size[0], size[1], extend="copy")


def pad(image: pyvips.Image, plan: Plan, background: Colour | None) -> pyvips.Image:
    """Place the image on the canvas; the padding is `b_`, else transparent or white."""
    colour = _padding_colour(image, background)
    if colour[3] < 255 and not image.hasalpha():
        image = image.bandjoin(255)
    values = colour if image.hasalpha() else colour[:3]
    left, top = plan.offset
    return image.embed(left, top, plan.canvas[0], plan.canvas[1], extend="background",
                       background=list(values))  # fmt: skip


def _padding_colour(image: pyvips.Image, background: Colour | None) -> tuple[int, ...]:
    if background is not None:
        return background.rgba
    return (0, 0, 0, 0) if image.hasalpha() else (255, 255, 255, 255)
