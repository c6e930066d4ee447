"""Images for the layer tests, made with pyvips, and a render that decodes its result."""

from __future__ import annotations

from collections.abc import Mapping

import pyvips

from detectors.service import RegionService
from transforms.context import LayerSources
from transforms.fonts import FontBook, font_book
from transforms.grammar import parse_url
from transforms.model import Limits
from transforms.pipeline import render

RED = (255, 0, 0, 255)
BLUE = (0, 0, 255, 255)
GREEN = (0, 255, 0, 255)
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)


def solid(width: int, height: int, rgba: tuple[int, int, int, int]) -> pyvips.Image:
    """An RGBA image of one colour."""
    image = pyvips.Image.black(width, height, bands=4) + list(rgba)
    return image.cast("uchar").copy(interpretation="srgb")


def opaque(width: int, height: int, rgb: tuple[int, int, int, int]) -> pyvips.Image:
    """An RGB image (no alpha band) of one colour."""
    return solid(width, height, rgb).extract_band(0, n=3)


def png(image: pyvips.Image) -> bytes:
    return bytes(image.pngsave_buffer())


def render_url(
    url: str,
    base: pyvips.Image | bytes,
    images: Mapping[str, pyvips.Image] | None = None,
    fonts: FontBook | None = None,
    detection: RegionService | None = None,
) -> pyvips.Image:
    """Render a delivery path on `base` (a PNG unless `base` is bytes) and decode it."""
    data = base if isinstance(base, bytes) else png(base)
    sources = LayerSources(
        {name: png(image) for name, image in (images or {}).items()}, fonts or font_book(None)
    )
    rendered = render(parse_url(url), data, None, Limits(), detection, None, sources)
    return pyvips.Image.new_from_buffer(rendered.data, "")


def pixel(image: pyvips.Image, x: int, y: int) -> tuple[int, ...]:
    return tuple(int(value) for value in image(x, y))


def close(found: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 2) -> bool:
    """Pixel values equal within `tolerance` (channels beyond `found`'s are ignored)."""
    return all(abs(a - b) <= tolerance for a, b in zip(found, expected, strict=False))
