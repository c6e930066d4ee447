"""Tone effects: brightness, contrast, gamma, automatic levels, improve, fill light, vignette."""

from __future__ import annotations

import math

import pyvips

from transforms.effects.params import Choice, Int, Values
from transforms.effects.pixels import Change, Curve, blend, curve, luminance, on_colour, srgb
from transforms.effects.registry import EffectInput, effect


@effect("brightness", Int("level", 80, low=-99, high=100))
def brightness(source: EffectInput, values: Values) -> pyvips.Image:
    return on_colour(source.image, lambda c: c.linear(1 + values.number("level") / 100, 0))


@effect("brightness_hsb", Int("level", 80, low=-99, high=100))
def brightness_hsb(source: EffectInput, values: Values) -> pyvips.Image:
    # Scales V of HSV: hue and saturation stay as they are.
    gain = 1 + values.number("level") / 100
    return on_colour(source.image, lambda c: _scale_value(c, gain))


def _scale_value(colour: pyvips.Image, gain: float) -> pyvips.Image:
    hsv = colour.colourspace("hsv").linear([1, 1, gain], [0, 0, 0])
    return srgb(hsv).copy(interpretation="hsv").colourspace("srgb")


@effect(
    "contrast",
    Int("level", 0, low=-100, high=100, by=("type", {"linear": (1, 200, 100)})),
    Choice("type", "sigmoidal", options=("sigmoidal", "linear")),
)
def contrast(source: EffectInput, values: Values) -> pyvips.Image:
    level = values.number("level")
    if values.word("type") == "linear":
        gain = level / 100  # 100 leaves the image as it is
        return on_colour(source.image, lambda c: c.linear(gain, 127.5 * (1 - gain)))
    return on_colour(source.image, lambda c: curve(c, sigmoid(level / 8)))


def sigmoid(steepness: float) -> Curve:
    """ImageMagick's sigmoidal contrast around mid-grey; a negative steepness undoes it."""
    if abs(steepness) < 1e-3:
        return lambda u: u
    a = abs(steepness)
    low, high = _logistic(-a / 2), _logistic(a / 2)
    if steepness > 0:
        return lambda u: (_logistic(a * (u - 0.5)) - low) / (high - low)

    def inverse(u: float) -> float:
        y = min(max(low + u * (high - low), 1e-9), 1 - 1e-9)
        return 0.5 + math.log(y / (1 - y)) / a

    return inverse


def _logistic(x: float) -> float:
    return 1 / (1 + math.exp(-x))


@effect("gamma", Int("level", 0, low=-50, high=150))
def gamma(source: EffectInput, values: Values) -> pyvips.Image:
    # Gamma 1 + level/100: above 0 lifts the mid-tones; black and white stay.
    exponent = 1 / (1 + values.number("level") / 100)
    return on_colour(source.image, lambda c: curve(c, lambda u: u**exponent))


# --- automatic adjustments ---------------------------------------------------------------


def _blended(source: EffectInput, values: Values, change: Change) -> pyvips.Image:
    amount = values.number("blend") / 100
    return on_colour(source.image, lambda c: blend(c, srgb(change(c)), amount))


@effect("auto_brightness", Int("blend", 100, low=0, high=100))
def auto_brightness(source: EffectInput, values: Values) -> pyvips.Image:
    return _blended(source, values, lift_mean)


def lift_mean(colour: pyvips.Image) -> pyvips.Image:
    """A gamma curve that brings the mean brightness to mid-grey."""
    mean = min(max(luminance(colour).avg() / 255, 0.02), 0.98)
    exponent = min(max(math.log(0.5) / math.log(mean), 0.33), 3.0)
    return curve(colour, lambda u: u**exponent)


@effect("auto_contrast", Int("blend", 100, low=0, high=100))
def auto_contrast(source: EffectInput, values: Values) -> pyvips.Image:
    return _blended(source, values, stretch_levels)


def stretch_levels(colour: pyvips.Image) -> pyvips.Image:
    """Stretch brightness so its 1st and 99th percentiles reach black and white."""
    brightness = luminance(colour)
    low, high = brightness.percent(1), brightness.percent(99)
    if high - low < 2:
        return colour
    gain = 255 / (high - low)
    return colour.linear(gain, -low * gain)


@effect("auto_color", Int("blend", 100, low=0, high=100))
def auto_color(source: EffectInput, values: Values) -> pyvips.Image:
    return _blended(source, values, balance_channels)


def balance_channels(colour: pyvips.Image) -> pyvips.Image:
    """Stretch each channel to its own percentiles: a colour cast goes away."""
    bands = [colour.extract_band(i) for i in range(colour.bands)]
    ranges = [(band.percent(1), max(band.percent(99), band.percent(1) + 2)) for band in bands]
    gains = [255 / (high - low) for low, high in ranges]
    offsets = [-low * gain for (low, _), gain in zip(ranges, gains, strict=True)]
    return colour.linear(gains, offsets)


@effect(
    "improve",
    Choice("mode", "outdoor", options=("indoor", "outdoor")),
    Int("blend", 100, low=0, high=100),
)
def improve(source: EffectInput, values: Values) -> pyvips.Image:
    # Outdoor: balance colours, then stretch contrast. Indoor photos are usually dim:
    # balance colours, then lift the mean brightness.
    second = lift_mean if values.word("mode") == "indoor" else stretch_levels
    return _blended(source, values, lambda c: second(srgb(balance_channels(c))))


@effect("fill_light", Int("blend", 100, low=0, high=100), Int("bias", 0, low=-100, high=100))
def fill_light(source: EffectInput, values: Values) -> pyvips.Image:
    """Lift the shadows: u + u(1-u)^p; bias 100 lifts the mid-tones too (p = 1), bias -100
    only the deep shadows (p = 3). Black and white stay."""
    power = 2 - values.number("bias") / 100
    return _blended(source, values, lambda c: curve(c, lambda u: u + u * (1 - u) ** power))


# --- vignette ----------------------------------------------------------------------------


@effect("vignette", Int("level", 20, low=0, high=100))
def vignette(source: EffectInput, values: Values) -> pyvips.Image:
    """Darken towards the corners: from the centre, dark starts at 1 - level/100 of the
    way to the corners and reaches black at the corners themselves."""
    start = 1 - values.number("level") / 100
    if start >= 1:
        return source.image
    image = source.image
    factor = _falloff(image.width, image.height, start)
    return on_colour(image, lambda c: c * factor)


def _falloff(width: int, height: int, start: float) -> pyvips.Image:
    xy = pyvips.Image.xyz(width, height).cast("float")
    dx = (xy.extract_band(0) + 0.5 - width / 2) / (width / 2)
    dy = (xy.extract_band(1) + 0.5 - height / 2) / (height / 2)
    distance = ((dx * dx + dy * dy) / 2) ** 0.5
    t = (distance - start) / (1 - start)
    t = (t < 0).ifthenelse(0, (t > 1).ifthenelse(1, t))
    return 1 - t * t * (3 - t * 2)
