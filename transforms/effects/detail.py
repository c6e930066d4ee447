"""Detail effects: blur, sharpening, pixelation, oil paint and cartoon."""

from __future__ import annotations

import pyvips

from transforms.effects.colour import scale_chroma
from transforms.effects.params import Choice, Int, Values
from transforms.effects.pixels import Curve, curve, luminance, on_colour, srgb
from transforms.effects.registry import EffectInput, effect


@effect("blur", Int("strength", 100, low=1, high=2000))
def blur(source: EffectInput, values: Values) -> pyvips.Image:
    return blurred(source.image, values.number("strength"))


def blurred(image: pyvips.Image, strength: int) -> pyvips.Image:
    # Strength 100 (the default) is a gentle blur of sigma 2 px; 2000 reaches sigma 40.
    sigma = strength / 50
    return on_colour(image, lambda c: c.gaussblur(sigma, min_ampl=0.05, precision="approximate"))


@effect("sharpen", Int("strength", 100, low=1, high=2000))
def sharpen(source: EffectInput, values: Values) -> pyvips.Image:
    slope = values.number("strength") / 50
    return on_colour(
        source.image, lambda c: c.sharpen(sigma=1.0, m1=slope / 2, m2=slope).colourspace("srgb")
    )


@effect("unsharp_mask", Int("strength", 100, low=1, high=2000))
def unsharp_mask(source: EffectInput, values: Values) -> pyvips.Image:
    # The classic mask on RGB: add `strength`% of (image - blurred image, sigma 1.5 px).
    amount = values.number("strength") / 100
    return on_colour(source.image, lambda c: c + (c - c.gaussblur(1.5)) * amount)


@effect("pixelate", Int("size", low=1, high=200))
def pixelate(source: EffectInput, values: Values) -> pyvips.Image:
    return pixelated(source.image, values.optional_number("size"))


def pixelated(image: pyvips.Image, size: int | None) -> pyvips.Image:
    """Squares of `size` pixels; without a size, about 1/40 of the long side, so faces
    stay unreadable."""
    size = size or max(2, round(max(image.width, image.height) / 40))
    size = min(size, image.width, image.height)
    small = image.shrink(size, size)
    big = small.zoom(size, size)
    return big.embed(0, 0, image.width, image.height, extend="copy")


@effect("oil_paint", Int("strength", 30, low=0, high=100))
def oil_paint(source: EffectInput, values: Values) -> pyvips.Image:
    # A median filter: flat patches of paint with the edges kept (ImageMagick paints with
    # the most frequent colour of the neighbourhood, which the median approximates).
    radius = -(-values.number("strength") // 15)
    if radius == 0:
        return source.image
    window = 2 * radius + 1
    return on_colour(source.image, lambda c: c.rank(window, window, window * window // 2))


@effect(
    "cartoonify",
    Int("line", 50, low=0, high=100),
    Int("reduction", low=0, high=100),
    Choice("bw", options=("bw",)),
)
def cartoonify(source: EffectInput, values: Values) -> pyvips.Image:
    """Median-smoothed, posterized colours (fewer as `reduction` grows, with a saturation
    boost) and black lines where the edges are strong (more as `line` grows)."""
    line = values.number("line")
    reduction = values.optional_number("reduction")
    reduction = line if reduction is None else reduction
    mono = values.word("bw") is not None
    return on_colour(source.image, lambda c: _cartoon(c, line, reduction, mono))


def _cartoon(colour: pyvips.Image, line: int, reduction: int, mono: bool) -> pyvips.Image:
    smooth = colour.rank(5, 5, 12)
    if mono:
        smooth = smooth.colourspace("b-w").colourspace("srgb")
    else:
        smooth = srgb(scale_chroma(smooth, 1 + reduction / 200))
    flat = curve(smooth, posterize(round(16 - reduction * 0.14)))
    if line == 0:
        return flat
    edges = luminance(smooth).sobel()
    return (edges > 10 + (100 - line) * 1.2).ifthenelse([0, 0, 0], flat)


def posterize(levels: int) -> Curve:
    step = 1 / (levels - 1)
    return lambda u: round(u / step) * step
