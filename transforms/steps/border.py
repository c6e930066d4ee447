"""Border: `bo_<w>px_solid_<colour>` around the image, following `r_` corners when given."""

from __future__ import annotations

import pyvips

from transforms.model import Border, Radius
from transforms.steps.corners import apply_mask, mask


def add_border(image: pyvips.Image, border: Border, radius: Radius | None) -> pyvips.Image:
    """A canvas `2 * width` larger, filled with the border colour, the image on top."""
    width = border.width
    if width == 0:
        return image
    size = (image.width + 2 * width, image.height + 2 * width)
    frame = _solid(size, border.colour.rgba)
    if radius is not None:
        frame = apply_mask(frame, mask(_grown(radius, width), size))
    return frame.composite2(_with_alpha(image), "over", x=width, y=width).cast("uchar")


def _solid(size: tuple[int, int], rgba: tuple[int, int, int, int]) -> pyvips.Image:
    return (
        (pyvips.Image.black(*size, bands=4) + list(rgba)).cast("uchar").copy(interpretation="srgb")
    )


def _grown(radius: Radius, width: int) -> Radius:
    if radius.maximum:
        return radius
    return Radius(tuple(r + width for r in radius.corners))


def _with_alpha(image: pyvips.Image) -> pyvips.Image:
    return image if image.hasalpha() else image.bandjoin(255)
