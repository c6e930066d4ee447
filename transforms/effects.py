"""The effect registry: every `e_` effect with its parameters, ranges and defaults.

Each effect declares its parameters once; the same declaration drives URL parsing
(`parse_effect`), validation and the call (`apply_effect`). Effects take and return an
sRGB uchar image, with or without an alpha band, and leave alpha untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyvips

from transforms.errors import BadRequest
from transforms.model import Effect


@dataclass(frozen=True)
class Param:
    """An integer parameter with its inclusive range; default None means "derived"."""

    name: str
    low: int
    high: int
    default: int | None


EffectFunction = Callable[[pyvips.Image, tuple[int | None, ...]], pyvips.Image]


@dataclass(frozen=True)
class EffectSpec:
    name: str
    params: tuple[Param, ...]
    function: EffectFunction


REGISTRY: dict[str, EffectSpec] = {}


def effect(name: str, *params: Param) -> Callable[[EffectFunction], EffectFunction]:
    def register(function: EffectFunction) -> EffectFunction:
        REGISTRY[name] = EffectSpec(name, params, function)
        return function

    return register


def parse_effect(text: str) -> Effect:
    """`sepia:50` → Effect('sepia', ('50',)); unknown names and bad values are 400s."""
    name, *arguments = text.split(":")
    spec = REGISTRY.get(name)
    if spec is None:
        raise BadRequest(f"Invalid effect: {name} (known effects: {', '.join(sorted(REGISTRY))})")
    if len(arguments) > len(spec.params):
        raise BadRequest(f"Too many values for effect {name}: {text}")
    values = [_check(spec, param, raw) for param, raw in zip(spec.params, arguments, strict=False)]
    return Effect(name, tuple(str(v) for v in values))


def _check(spec: EffectSpec, param: Param, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not param.low <= value <= param.high or len(raw) > 6:
        raise BadRequest(
            f"Invalid {param.name} for effect {spec.name}: {raw} "
            f"(expected an integer from {param.low} to {param.high})"
        )
    return value


def apply_effect(image: pyvips.Image, chosen: Effect) -> pyvips.Image:
    spec = REGISTRY[chosen.name]
    given = [int(a) for a in chosen.arguments]
    values = tuple(given + [p.default for p in spec.params[len(given) :]])
    return spec.function(image, values)


def split_alpha(image: pyvips.Image) -> tuple[pyvips.Image, pyvips.Image | None]:
    if image.hasalpha():
        return image.extract_band(0, n=image.bands - 1), image.extract_band(image.bands - 1)
    return image, None


def on_colour(image: pyvips.Image, change: Callable[[pyvips.Image], pyvips.Image]) -> pyvips.Image:
    """Apply `change` to the colour bands only, clip to uchar, and put alpha back."""
    colour, alpha = split_alpha(image)
    changed = change(colour).cast("uchar")
    return changed if alpha is None else changed.bandjoin(alpha)


def _level(values: tuple[int | None, ...]) -> int:
    value = values[0]
    assert value is not None, "every effect parameter read here has a default"
    return value


@effect("grayscale")
def grayscale(image: pyvips.Image, values: tuple[int | None, ...]) -> pyvips.Image:
    return on_colour(image, lambda c: c.colourspace("b-w").colourspace("srgb"))


@effect("negate")
def negate(image: pyvips.Image, values: tuple[int | None, ...]) -> pyvips.Image:
    return on_colour(image, lambda c: c.linear([-1, -1, -1], [255, 255, 255]))


_SEPIA = [[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]]


@effect("sepia", Param("level", 1, 100, 80))
def sepia(image: pyvips.Image, values: tuple[int | None, ...]) -> pyvips.Image:
    amount = _level(values) / 100
    return on_colour(image, lambda c: c.recomb(_SEPIA) * amount + c * (1 - amount))


@effect("blur", Param("strength", 1, 2000, 100))
def blur(image: pyvips.Image, values: tuple[int | None, ...]) -> pyvips.Image:
    # Strength 100 (the default) is a gentle blur of sigma 2 px; 2000 reaches sigma 40.
    return on_colour(
        image, lambda c: c.gaussblur(_level(values) / 50, min_ampl=0.05, precision="approximate")
    )


@effect("sharpen", Param("strength", 1, 2000, 100))
def sharpen(image: pyvips.Image, values: tuple[int | None, ...]) -> pyvips.Image:
    slope = _level(values) / 50
    return on_colour(
        image, lambda c: c.sharpen(sigma=1.0, m1=slope / 2, m2=slope).colourspace("srgb")
    )


@effect("brightness", Param("level", -99, 100, 80))
def brightness(image: pyvips.Image, values: tuple[int | None, ...]) -> pyvips.Image:
    return on_colour(image, lambda c: c.linear(1 + _level(values) / 100, 0))


@effect("contrast", Param("level", -100, 100, 0))
def contrast(image: pyvips.Image, values: tuple[int | None, ...]) -> pyvips.Image:
    gain = 1 + _level(values) / 100
    return on_colour(image, lambda c: c.linear(gain, 128 * (1 - gain)))


@effect("saturation", Param("level", -100, 100, 80))
def saturation(image: pyvips.Image, values: tuple[int | None, ...]) -> pyvips.Image:
    gain = 1 + _level(values) / 100
    return on_colour(image, lambda c: _scale_chroma(c, gain))


def _scale_chroma(colour: pyvips.Image, gain: float) -> pyvips.Image:
    lch = colour.colourspace("lch")
    return lch.linear([1, gain, 1], [0, 0, 0]).colourspace("srgb")


@effect("pixelate", Param("size", 1, 200, None))
def pixelate(image: pyvips.Image, values: tuple[int | None, ...]) -> pyvips.Image:
    # Without a size, squares are about 1/40 of the long side, so faces stay unreadable.
    size = values[0] or max(2, round(max(image.width, image.height) / 40))
    size = min(size, image.width, image.height)
    small = image.shrink(size, size)
    big = small.zoom(size, size)
    return big.embed(0, 0, image.width, image.height, extend="copy")
