"""Tone: `o_` opacity and `b_` background, both working on the alpha band."""

from __future__ import annotations

import pyvips

from transforms.model import Colour

WHITE = Colour(255, 255, 255, 255, "white")


def set_opacity(image: pyvips.Image, opacity: int) -> pyvips.Image:
    """Scale alpha by opacity/100 (adding an opaque alpha band first when missing)."""
    if not image.hasalpha():
        image = image.bandjoin(255)
    colour = image.extract_band(0, n=image.bands - 1)
    alpha = (image.extract_band(image.bands - 1) * (opacity / 100)).cast("uchar")
    return colour.bandjoin(alpha)


def flatten(image: pyvips.Image, colour: Colour) -> pyvips.Image:
    """Put the image over a background colour; the result keeps alpha only if the colour has it."""
    if not image.hasalpha():
        return image
    if colour.opaque:
        return image.flatten(background=list(colour.rgba[:3])).cast("uchar")
    base = (pyvips.Image.black(image.width, image.height, bands=4) + list(colour.rgba)).cast(
        "uchar"
    )
    return base.copy(interpretation="srgb").composite2(image, "over").cast("uchar")
