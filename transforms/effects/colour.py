"""Colour effects: grey, sepia, negative, saturation, hue, channels, colorize, tint, replace."""

from __future__ import annotations

import math

import numpy as np
import pyvips

from transforms.effects.params import Choice, ColourValue, Int, Values, repeated
from transforms.effects.pixels import (
    blend,
    grey,
    lab,
    luminance,
    on_colour,
    split_alpha,
    srgb,
)
from transforms.effects.registry import EffectInput, effect
from transforms.model import Colour


@effect("grayscale")
def grayscale(source: EffectInput, values: Values) -> pyvips.Image:
    return on_colour(source.image, lambda c: c.colourspace("b-w").colourspace("srgb"))


@effect("blackwhite", Int("threshold", 50, low=0, high=100))
def blackwhite(source: EffectInput, values: Values) -> pyvips.Image:
    # Threshold 0 makes everything white, 100 everything black (Cloudinary's balance).
    limit = values.number("threshold") * 2.55
    return on_colour(source.image, lambda c: _three(luminance(c) > limit))


def _three(band: pyvips.Image) -> pyvips.Image:
    return band.bandjoin([band, band])


@effect("negate")
def negate(source: EffectInput, values: Values) -> pyvips.Image:
    return on_colour(source.image, lambda c: c.linear([-1, -1, -1], [255, 255, 255]))


_SEPIA = [[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]]


# The SDKs' own tests write `e_sepia:-10`: levels down to -100 read as the lowest, 1.
@effect("sepia", Int("level", 80, low=1, high=100, floor=-100))
def sepia(source: EffectInput, values: Values) -> pyvips.Image:
    amount = values.number("level") / 100
    return on_colour(source.image, lambda c: c.recomb(_SEPIA) * amount + c * (1 - amount))


@effect("saturation", Int("level", 80, low=-100, high=100))
def saturation(source: EffectInput, values: Values) -> pyvips.Image:
    gain = 1 + values.number("level") / 100
    return on_colour(source.image, lambda c: scale_chroma(c, gain))


def scale_chroma(colour: pyvips.Image, gain: float) -> pyvips.Image:
    lch = colour.colourspace("lch")
    return lch.linear([1, gain, 1], [0, 0, 0]).colourspace("srgb")


@effect("vibrance", Int("strength", 20, low=-100, high=100))
def vibrance(source: EffectInput, values: Values) -> pyvips.Image:
    # Like saturation, but dull colours gain more than already vivid ones.
    strength = values.number("strength") / 100
    return on_colour(source.image, lambda c: _vibrance(c, strength))


def _vibrance(colour: pyvips.Image, strength: float) -> pyvips.Image:
    lch = colour.colourspace("lch")
    chroma = lch.extract_band(1)
    vividness = (chroma > 100).ifthenelse(1.0, chroma / 100)
    gain = (vividness * -strength + (1 + strength)).cast("float")
    return (
        lch.extract_band(0)
        .bandjoin([chroma * gain, lch.extract_band(2)])
        .copy(interpretation="lch")
        .colourspace("srgb")
    )


@effect("hue", Int("level", 80, low=-100, high=100))
def hue(source: EffectInput, values: Values) -> pyvips.Image:
    # Level ±100 turns the hue half way round (±180°), as ImageMagick's modulate does.
    shift = round(values.number("level") * 1.8 / 360 * 256) % 256
    return on_colour(source.image, lambda c: _rotate_hue(c, shift))


def _rotate_hue(colour: pyvips.Image, shift: int) -> pyvips.Image:
    hsv = colour.colourspace("hsv")
    turned = ((hsv.extract_band(0) + shift) % 256).cast("uchar")
    rest = hsv.extract_band(1, n=2)
    return turned.bandjoin(rest).copy(interpretation="hsv").colourspace("srgb")


@effect("red", Int("level", 0, low=-100, high=100))
def red(source: EffectInput, values: Values) -> pyvips.Image:
    return _gain(source, values, 0)


@effect("green", Int("level", 0, low=-100, high=100))
def green(source: EffectInput, values: Values) -> pyvips.Image:
    return _gain(source, values, 1)


@effect("blue", Int("level", 0, low=-100, high=100))
def blue(source: EffectInput, values: Values) -> pyvips.Image:
    return _gain(source, values, 2)


def _gain(source: EffectInput, values: Values, band: int) -> pyvips.Image:
    gains = [1.0, 1.0, 1.0]
    gains[band] += values.number("level") / 100
    return on_colour(source.image, lambda c: c.linear(gains, [0, 0, 0]))


@effect("colorize", Int("level", 100, low=0, high=100))
def colorize(source: EffectInput, values: Values) -> pyvips.Image:
    # ImageMagick's colorize: a straight blend towards `co_` (grey by default).
    amount = values.number("level") / 100
    target = (source.colour or grey()).rgba[:3]
    offsets = [amount * v for v in target]
    return on_colour(source.image, lambda c: c.linear(1 - amount, offsets))


# --- tint --------------------------------------------------------------------------------


@effect(
    "tint",
    Choice("equalize", options=("equalize",)),
    Int("amount", 60, low=0, high=100),
    *repeated(10, ColourValue("color", Colour(255, 0, 0, 255, "red")),
              Int("position", suffix="p", low=0, high=100)),
)  # fmt: skip
def tint(source: EffectInput, values: Values) -> pyvips.Image:
    """Map brightness onto a gradient through the colours (black and white at the ends
    unless a colour sits there), then blend `amount` of it over the image."""
    stops = _stops(values)
    amount = values.number("amount") / 100
    equalize = values.word("equalize") is not None
    return on_colour(source.image, lambda c: blend(c, _gradient_map(c, stops, equalize), amount))


def _stops(values: Values) -> list[tuple[float, tuple[int, ...]]]:
    colours = [values.colour(f"color{i}") for i in range(1, 11)]
    chosen = [(i, c) for i, c in enumerate(colours, 1) if c is not None]
    count = len(chosen)
    stops: list[tuple[float, tuple[int, ...]]] = []
    for order, (index, colour) in enumerate(chosen):
        evenly = 50.0 if count == 1 else order * 100 / (count - 1)
        position = values.optional_number(f"position{index}")
        stops.append((evenly if position is None else float(position), colour.rgba[:3]))
    stops.sort(key=lambda stop: stop[0])
    if stops[0][0] > 0:
        stops.insert(0, (0.0, (0, 0, 0)))
    if stops[-1][0] < 100:
        stops.append((100.0, (255, 255, 255)))
    return stops


def _gradient_map(
    colour: pyvips.Image, stops: list[tuple[float, tuple[int, ...]]], equalize: bool
) -> pyvips.Image:
    brightness = luminance(colour)
    if equalize:
        brightness = brightness.hist_equal()
    levels = np.arange(256) / 255 * 100
    positions = [p for p, _ in stops]
    table = np.stack(
        [np.interp(levels, positions, [c[band] for _, c in stops]) for band in range(3)], axis=1
    )
    lut = pyvips.Image.new_from_memory(
        np.ascontiguousarray(table.round().astype(np.uint8)).tobytes(), 256, 1, 3, "uchar"
    )
    return brightness.maplut(lut).copy(interpretation="srgb")


# --- replace_color -----------------------------------------------------------------------


@effect(
    "replace_color",
    ColourValue("to_color", required=True),
    Int("tolerance", 50, low=0, high=100),
    ColourValue("from_color"),
)
def replace_color(source: EffectInput, values: Values) -> pyvips.Image:
    """Shift colours within `tolerance` (Lab distance) of `from` by the Lab difference
    between `to` and `from`, so shading survives; `from` defaults to the most prominent
    saturated colour."""
    colour, _ = split_alpha(source.image)
    target = values.colour("to_color")
    assert target is not None
    given = values.colour("from_color")
    start = lab(given) if given is not None else prominent(colour)
    if start is None:
        return source.image
    tolerance = values.number("tolerance")
    return on_colour(source.image, lambda c: _shift(c, start, lab(target), tolerance))


def _shift(
    colour: pyvips.Image, start: list[float], end: list[float], tolerance: float
) -> pyvips.Image:
    image_lab = colour.colourspace("lab")
    weight = _closeness(image_lab, start, tolerance) * _vividness(image_lab, start)
    difference = [e - s for s, e in zip(start, end, strict=True)]
    moved = image_lab + weight.bandjoin([weight, weight]) * difference
    return srgb(moved.copy(interpretation="lab").colourspace("srgb"))


def _closeness(image_lab: pyvips.Image, start: list[float], tolerance: float) -> pyvips.Image:
    """1 within half the tolerance (Lab distance) of `start`, fading to 0 at the tolerance."""
    distance = image_lab.dE76(image_lab.new_from_image(start))
    weight = 1 - (distance - tolerance / 2) / max(tolerance / 2, 0.5)
    return (weight > 1).ifthenelse(1.0, (weight < 0).ifthenelse(0.0, weight))


def _vividness(image_lab: pyvips.Image, start: list[float]) -> pyvips.Image | float:
    """Greys near a saturated `start` colour change less: weight = chroma / (half the
    start's chroma), up to 1, so darker and paler shades of the colour still change fully."""
    reference = math.hypot(start[1], start[2]) / 2
    if reference < 5:
        return 1.0
    a, b = image_lab.extract_band(1), image_lab.extract_band(2)
    ratio = (a * a + b * b) ** 0.5 / reference
    return (ratio > 1).ifthenelse(1.0, ratio)


def prominent(colour: pyvips.Image) -> list[float] | None:
    """Lab of the most common saturated hue, measured on a small thumbnail."""
    small = colour.thumbnail_image(64).colourspace("lab").cast("float")
    pixels = np.frombuffer(small.write_to_memory(), dtype=np.float32).reshape(-1, 3)
    chroma = np.hypot(pixels[:, 1], pixels[:, 2])
    vivid = pixels[chroma > 20]
    if len(vivid) == 0:
        return None
    hues = np.degrees(np.arctan2(vivid[:, 2], vivid[:, 1])) % 360
    bins = (hues // 15).astype(int)
    chosen = vivid[bins == np.bincount(bins).argmax()]
    return [float(v) for v in chosen.mean(axis=0)]
