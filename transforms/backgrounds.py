"""Padding made from the image itself: `b_auto` (border or predominant colour, their
contrasting colours and gradients) and `b_blurred` (a blurred, enlarged copy).

`parse_auto_background` reads the URL value; `padded` draws a pad step's canvas.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyvips

from transforms.colours import parse_colour
from transforms.errors import BadRequest
from transforms.geometry import Plan
from transforms.model import AutoBackground, Colour

MODES = (
    "border",
    "predominant",
    "border_contrast",
    "predominant_contrast",
    "border_gradient",
    "predominant_gradient",
    "border_gradient_contrast",
    "predominant_gradient_contrast",
)
DIRECTIONS = ("horizontal", "vertical", "diagonal_desc", "diagonal_asc")
RGB = tuple[int, int, int]


# --- grammar -----------------------------------------------------------------------------


def parse_auto_background(text: str) -> AutoBackground:
    """`auto[:mode][:2|4][:direction][:palette_...]`, `blurred[:intensity][:brightness]`."""
    head, _, rest = text.partition(":")
    if head == "gen_fill":
        raise BadRequest(
            "Invalid background in transformation: gen_fill (generative fill needs a "
            "generative model; pixcast has none)"
        )
    if head == "blurred":
        return _blurred(text, rest)
    parts = rest.split(":") if rest else []
    mode = parts.pop(0) if parts and parts[0] in MODES else "border"
    count = int(parts.pop(0)) if parts and parts[0] in ("2", "4") else 2
    direction = parts.pop(0) if parts and parts[0] in DIRECTIONS else "horizontal"
    palette = _palette(parts.pop(0), text) if parts and parts[0].startswith("palette_") else ()
    if parts or head != "auto":
        raise BadRequest(
            f"Invalid background in transformation: {text} (expected auto[:<mode>][:2|4]"
            f"[:<direction>][:palette_<colours>] with a mode of {', '.join(MODES)})"
        )
    return AutoBackground(text, mode, count, direction, palette)


def _palette(text: str, whole: str) -> tuple[Colour, ...]:
    names = [n for n in text.removeprefix("palette_").split("_") if n]
    if not names:
        raise BadRequest(f"Invalid background in transformation: {whole} (empty palette)")
    return tuple(parse_colour(n if not _is_hex(n) else f"rgb:{n}", "background") for n in names)


def _is_hex(name: str) -> bool:
    return len(name) in (3, 6) and all(c in "0123456789abcdefABCDEF" for c in name)


def _blurred(text: str, rest: str) -> AutoBackground:
    parts = rest.split(":") if rest else []
    try:
        intensity = int(parts[0]) if parts and parts[0] else 100
        brightness = int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        intensity = -1
        brightness = 0
    if len(parts) > 2 or not 1 <= intensity <= 2000 or not -300 <= brightness <= 100:
        raise BadRequest(
            f"Invalid background in transformation: {text} "
            "(expected blurred[:<intensity 1-2000>][:<brightness -300-100>])"
        )
    return AutoBackground(text, "blurred", intensity=intensity, brightness=brightness)


# --- colours -----------------------------------------------------------------------------


def _rgb(image: pyvips.Image) -> npt.NDArray[np.float64]:
    """The image's colour pixels as an (n, 3) float array (alpha dropped)."""
    bands = image.extract_band(0, n=3) if image.bands >= 3 else image.bandjoin([image, image])
    array = np.ndarray(
        buffer=bands.cast("uchar").write_to_memory(),
        dtype=np.uint8,
        shape=(image.height, image.width, 3),
    )
    return array.astype(np.float64)


def _small(image: pyvips.Image) -> pyvips.Image:
    longest = max(image.width, image.height)
    return image.resize(min(1.0, 200 / longest)) if longest > 200 else image


def border_colours(image: pyvips.Image, count: int = 1) -> list[RGB]:
    """Mean colours of the image's edge: the whole frame, or `count` sides (left, right,
    top, bottom) for gradients."""
    pixels = _rgb(_small(image))
    edge = max(1, min(pixels.shape[0], pixels.shape[1]) // 20)
    sides = [pixels[:, :edge], pixels[:, -edge:], pixels[:edge, :], pixels[-edge:, :]]
    if count == 1:
        frame = np.concatenate([side.reshape(-1, 3) for side in sides])
        return [_as_rgb(frame.mean(axis=0))]
    return [_as_rgb(side.reshape(-1, 3).mean(axis=0)) for side in sides[:count]]


def predominant_colours(image: pyvips.Image, count: int = 1) -> list[RGB]:
    """The most common colours: pixels binned 4 bits per channel, each colour the mean of
    its bin, the fullest bins first."""
    pixels = _rgb(_small(image)).reshape(-1, 3)
    bins = (pixels // 16).astype(np.int64)
    keys = bins[:, 0] * 256 + bins[:, 1] * 16 + bins[:, 2]
    _, inverse, sizes = np.unique(keys, return_inverse=True, return_counts=True)
    order = np.argsort(-sizes)[:count]
    colours = [_as_rgb(pixels[inverse.ravel() == index].mean(axis=0)) for index in order]
    return colours + colours[-1:] * (count - len(colours))


def _as_rgb(values: npt.NDArray[np.float64]) -> RGB:
    red, green, blue = (round(float(v)) for v in values[:3])
    return (red, green, blue)


def contrasting(colour: RGB) -> RGB:
    """Black or white, whichever stands out more against `colour` (by luminance)."""
    luminance = 0.2126 * colour[0] + 0.7152 * colour[1] + 0.0722 * colour[2]
    return (0, 0, 0) if luminance > 128 else (255, 255, 255)


def nearest_in(palette: tuple[Colour, ...], colour: RGB) -> RGB:
    def distance(candidate: Colour) -> int:
        return sum((a - b) ** 2 for a, b in zip(candidate.rgba[:3], colour, strict=True))

    best = min(palette, key=distance)
    return (best.red, best.green, best.blue)


def chosen_colours(image: pyvips.Image, background: AutoBackground) -> list[RGB]:
    """The colours of a b_auto canvas: one for solid modes, `count` for gradients."""
    count = background.count if "gradient" in background.mode else 1
    if background.mode.startswith("predominant"):
        colours = predominant_colours(image, count)
    else:
        colours = border_colours(image, count if count > 1 else 1)
    if background.palette:
        colours = [nearest_in(background.palette, c) for c in colours]
    if background.mode.endswith("contrast"):
        colours = [contrasting(c) for c in colours]
    return colours


# --- canvases ----------------------------------------------------------------------------


def _solid(size: tuple[int, int], colour: RGB) -> pyvips.Image:
    return (pyvips.Image.black(size[0], size[1], bands=3) + list(colour)).cast("uchar")


def _gradient(size: tuple[int, int], colours: list[RGB], direction: str) -> pyvips.Image:
    """A linear blend through `colours` in order along `direction`."""
    width, height = size
    xyz = pyvips.Image.xyz(width, height)
    x = xyz[0] / max(1, width - 1)
    y = xyz[1] / max(1, height - 1)
    position = {
        "horizontal": x,
        "vertical": y,
        "diagonal_desc": (x + y) / 2,
        "diagonal_asc": (x + (1 - y)) / 2,
    }[direction]
    stops = len(colours) - 1
    lut = np.zeros((1, 256, 3), dtype=np.uint8)
    for index in range(256):
        where = index / 255 * stops
        low = min(int(where), stops - 1)
        mix = where - low
        for band in range(3):
            lut[0, index, band] = round(
                colours[low][band] * (1 - mix) + colours[low + 1][band] * mix
            )
    table = pyvips.Image.new_from_memory(lut.tobytes(), 256, 1, 3, "uchar")
    return (position * 255).cast("uchar").maplut(table)


def _blurred_canvas(image: pyvips.Image, size: tuple[int, int], bg: AutoBackground) -> pyvips.Image:
    """The image enlarged to cover the canvas, blurred and brightened or darkened."""
    colour = image.extract_band(0, n=3) if image.bands >= 3 else image
    scale = max(size[0] / colour.width, size[1] / colour.height)
    cover = colour.resize(scale)
    left = max(0, (cover.width - size[0]) // 2)
    top = max(0, (cover.height - size[1]) // 2)
    cover = cover.crop(left, top, min(size[0], cover.width), min(size[1], cover.height))
    cover = cover.embed(0, 0, size[0], size[1], extend="copy")
    sigma = bg.intensity / 100 * max(size) / 40
    blurred = cover.gaussblur(max(0.5, sigma)) if sigma > 0 else cover
    return (blurred * (1 + bg.brightness / 100)).cast("uchar")


def canvas(image: pyvips.Image, size: tuple[int, int], bg: AutoBackground) -> pyvips.Image:
    """The padding canvas for `image` (the resized content) on a `size` canvas."""
    if bg.mode == "blurred":
        return _blurred_canvas(image, size, bg)
    colours = chosen_colours(image, bg)
    if len(colours) == 1:
        return _solid(size, colours[0])
    return _gradient(size, colours, bg.direction)


def padded(content: pyvips.Image, plan: Plan, bg: AutoBackground) -> pyvips.Image:
    """`content` (already cropped and resized to plan.size) placed on its canvas."""
    base = canvas(content, plan.canvas, bg).copy(interpretation="srgb")
    left, top = plan.offset
    if content.hasalpha():
        return base.composite2(content, "over", x=left, y=top).extract_band(0, n=3).cast("uchar")
    return base.insert(content.extract_band(0, n=3), left, top)
