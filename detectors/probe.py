"""The probe: the small upright sRGB 8-bit RGB copy of a source that every detector reads,
made once per source with shrink-on-load so detection never touches the full image."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyvips

PROBE_SIZE = 640
"""Long side of the probe in pixels; smaller sources are not enlarged."""

WHITE = [255.0, 255.0, 255.0]


Detail = Callable[[int], pyvips.Image]
"""A long side in pixels -> the upright picture with at least that many (or all it has)."""


@dataclass(frozen=True, eq=False)
class Probe:
    """`image` and `pixels` hold the same picture: upright (EXIF orientation applied), sRGB,
    8-bit, 3 bands, alpha flattened on white. `pixels` is (height, width, 3) uint8 RGB."""

    image: pyvips.Image
    pixels: npt.NDArray[np.uint8]
    detail: Detail | None = None
    """Where a sharper view of the same picture comes from, when there is one: a detector
    that needs more pixels (text) reads it through `larger`."""

    def larger(self, size: int) -> Probe:
        """A probe of the same picture with a long side of up to `size` (never enlarged);
        this probe when there is no more detail to be had."""
        if self.detail is None:
            return self
        sharper = self.detail(size)
        if max(sharper.width, sharper.height) <= max(self.width, self.height):
            return self
        return _finish(sharper.thumbnail_image(size, height=size, size="down"))

    def smaller(self, size: int) -> Probe:
        """The same picture with a long side of at most `size`; this probe when it is no
        larger. A detector whose cost grows with its input (text) looks at this view."""
        if max(self.width, self.height) <= size:
            return self
        return _finish(self.image.thumbnail_image(size, height=size, size="down"), self.detail)

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def probe_from_bytes(data: bytes, size: int = PROBE_SIZE) -> Probe:
    """Probe an encoded image (any format libvips reads); JPEG and WebP shrink while they
    decode, so a 4000x3000 photo is never decoded at full size."""
    image = pyvips.Image.thumbnail_buffer(data, size, height=size, size="down")
    return _finish(image)


def probe_from_image(image: pyvips.Image, size: int = PROBE_SIZE) -> Probe:
    """Probe an image that is already open (not yet rotated upright)."""
    upright = image.autorot()
    thumb = upright.thumbnail_image(size, height=size, size="down")
    return _finish(thumb, lambda _: upright)


def _finish(image: pyvips.Image, detail: Detail | None = None) -> Probe:
    rgb = _three_bands(_srgb8(image))
    # One copy into memory: detectors then read it in any order, and the numpy view shares it.
    rgb = rgb.copy_memory()
    return Probe(rgb, to_array(rgb), detail)


def _srgb8(image: pyvips.Image) -> pyvips.Image:
    if image.interpretation != "srgb":
        image = image.colourspace("srgb")
    if image.hasalpha():
        image = image.flatten(background=WHITE, max_alpha=_max_alpha(image))
    return image.cast("uchar") if image.format != "uchar" else image


def _max_alpha(image: pyvips.Image) -> float:
    # 16-bit sources keep 65535 as opaque until they are cast to 8 bits.
    return 65535.0 if image.format in ("ushort", "short") else 255.0


def _three_bands(image: pyvips.Image) -> pyvips.Image:
    if image.bands == 1:
        return image.bandjoin([image, image])
    return image.extract_band(0, n=3) if image.bands > 3 else image


def to_array(image: pyvips.Image) -> npt.NDArray[np.uint8]:
    """An 8-bit 3-band pyvips image as a (height, width, 3) uint8 array."""
    return np.ndarray(
        buffer=image.write_to_memory(), dtype=np.uint8, shape=(image.height, image.width, 3)
    )
