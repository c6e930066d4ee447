"""Effects on transparency: make a colour transparent, binarise alpha, fade an edge."""

from __future__ import annotations

import pyvips

from transforms.effects.params import Choice, Int, Values
from transforms.effects.pixels import (
    alpha_of,
    corner_colour,
    lab,
    replace_alpha,
    solid,
    split_alpha,
)
from transforms.effects.registry import EffectInput, effect
from transforms.errors import BadRequest
from transforms.steps.tone import flatten


@effect("make_transparent", Int("tolerance", 10, low=0, high=100))
def make_transparent(source: EffectInput, values: Values) -> pyvips.Image:
    """Every pixel within `tolerance` (Lab distance) of `co_` becomes transparent; without
    `co_`, the colour of the top-left corner."""
    colour, _ = split_alpha(source.image)
    target = lab(source.colour) if source.colour else _lab_of_pixel(corner_colour(colour))
    image_lab = colour.colourspace("lab")
    keep = image_lab.dE76(image_lab.new_from_image(target)) > values.number("tolerance")
    return replace_alpha(source.image, (keep & alpha_of(source.image)).cast("uchar"))


def _lab_of_pixel(rgb: list[float]) -> list[float]:
    return [float(v) for v in solid(1, 1, rgb).colourspace("lab").getpoint(0, 0)]


@effect("opacity_threshold", Int("level", 50, low=1, high=100))
def opacity_threshold(source: EffectInput, values: Values) -> pyvips.Image:
    """Alpha below `level`% becomes 0, the rest 255; images without alpha stay as they are."""
    image = source.image
    if not image.hasalpha():
        return image
    opaque = alpha_of(image) >= values.number("level") * 2.55
    return replace_alpha(image, opaque)


@effect(
    "gradient_fade",
    Choice("mode", options=("symmetric", "symmetric_pad")),
    Int("strength", 20, low=0, high=100),
)
def gradient_fade(source: EffectInput, values: Values) -> pyvips.Image:
    """Fade to transparent from an edge over |x| or |y| pixels (decimals: a share of the
    side; positive from the left/top, negative from the right/bottom; default y_0.5).
    `symmetric` fades both edges; `symmetric_pad` also lays the result on `b_`. The
    ramp is t^(strength/20): 20 is linear, higher fades harder, 0 does nothing."""
    image = source.image
    power = values.number("strength") / 20
    mode = values.word("mode")
    y = source.y if source.x is not None or source.y is not None else image.height / 2
    xy = pyvips.Image.xyz(image.width, image.height).cast("float") + 0.5
    ramp = _ramp(xy, 0, image.width, source.x, mode, power)
    ramp = ramp * _ramp(xy, 1, image.height, y, mode, power)
    faded = replace_alpha(image, alpha_of(image) * ramp)
    if mode == "symmetric_pad" and source.background is not None:
        return flatten(faded, source.background)
    return faded


def _ramp(
    xy: pyvips.Image, axis: int, side: int, reach: float | None, mode: str | None, power: float
) -> pyvips.Image | float:
    """The factor (0-1) to multiply alpha by along one axis of pixel centres `xy`."""
    if reach is None or round(reach) == 0 or power == 0:
        return 1.0
    position = xy.extract_band(axis)
    from_start = position / abs(reach)
    from_end = (position * -1 + side) / abs(reach)
    if mode is not None:
        distance = (from_start < from_end).ifthenelse(from_start, from_end)
    else:
        distance = from_start if reach > 0 else from_end
    distance = (distance > 1).ifthenelse(1.0, distance)
    return distance**power


@effect("background_removal")
def background_removal(source: EffectInput, values: Values) -> pyvips.Image:
    # The matte comes from the detectors (people segmented, or the border colour): what it
    # calls background turns transparent; existing transparency stays.
    if source.matte is None:
        raise BadRequest("Effect background_removal needs the detectors, which are not enabled")
    colour, alpha = split_alpha(source.image)
    kept = source.matte if alpha is None else (alpha * source.matte / 255.0).cast("uchar")
    return colour.bandjoin(kept)
