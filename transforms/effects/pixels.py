"""Pixel helpers the effects share: alpha handling, tone curves, blending, colour values.

Images are sRGB uchar with 3 bands, or 4 when the last is alpha.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pyvips

from transforms.model import Colour

Curve = Callable[[float], float]
Change = Callable[[pyvips.Image], pyvips.Image]


def split_alpha(image: pyvips.Image) -> tuple[pyvips.Image, pyvips.Image | None]:
    if image.hasalpha():
        return image.extract_band(0, n=image.bands - 1), image.extract_band(image.bands - 1)
    return image, None


def on_colour(image: pyvips.Image, change: Change) -> pyvips.Image:
    """Apply `change` to the colour bands only, clip to uchar, and put alpha back."""
    colour, alpha = split_alpha(image)
    changed = srgb(change(colour))
    return changed if alpha is None else changed.bandjoin(alpha)


def srgb(image: pyvips.Image) -> pyvips.Image:
    """Clip to 0-255 and label as sRGB (libvips casts by truncation, so round first)."""
    if image.format != "uchar":
        image = (image + 0.5).cast("uchar") if image.format in ("float", "double") else image
        image = image.cast("uchar")
    return image.copy(interpretation="srgb")


def with_alpha(image: pyvips.Image) -> pyvips.Image:
    return image if image.hasalpha() else image.bandjoin(255)


def alpha_of(image: pyvips.Image) -> pyvips.Image:
    """The alpha band, or an opaque one for images without alpha."""
    _, alpha = split_alpha(image)
    return alpha if alpha is not None else image.extract_band(0).new_from_image(255)


def replace_alpha(image: pyvips.Image, alpha: pyvips.Image) -> pyvips.Image:
    colour, _ = split_alpha(image)
    return colour.bandjoin(alpha.cast("uchar")).copy(interpretation="srgb")


def curve(colour: pyvips.Image, function: Curve) -> pyvips.Image:
    """Map every value through `function` of [0, 1] → [0, 1] (a 256-entry lookup table)."""
    entries = [min(255, max(0, round(255 * function(i / 255)))) for i in range(256)]
    table = pyvips.Image.new_from_array([entries]).cast("uchar")
    return colour.maplut(table)


def blend(original: pyvips.Image, changed: pyvips.Image, amount: float) -> pyvips.Image:
    """`amount` (0-1) of `changed` over `original`; both the same size and bands."""
    if amount >= 1:
        return changed
    if amount <= 0:
        return original
    return srgb(original * (1 - amount) + changed * amount)


def luminance(colour: pyvips.Image) -> pyvips.Image:
    """One uchar band of perceived brightness."""
    return colour.colourspace("b-w").extract_band(0).cast("uchar")


def solid(width: int, height: int, values: Sequence[float]) -> pyvips.Image:
    image = pyvips.Image.black(width, height, bands=len(values)) + list(values)
    return image.cast("uchar").copy(interpretation="srgb")


def lab(colour: Colour) -> list[float]:
    """CIE Lab of an sRGB colour."""
    pixel = solid(1, 1, colour.rgba[:3]).colourspace("lab")
    return [float(v) for v in pixel.getpoint(0, 0)]


def corner_colour(colour: pyvips.Image) -> list[float]:
    """The top-left pixel: what Cloudinary calls the colour of the corners."""
    return [float(v) for v in colour.getpoint(0, 0)]


def grey(name: str = "gray") -> Colour:
    return Colour(128, 128, 128, 255, name)
