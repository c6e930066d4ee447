"""Load: read the header cheaply, check limits, decode with shrink-on-load, make sRGB.
SVG originals are read (header) and rasterised (decode) at the requested density.

Plain JPEGs (YCbCr, no colour profile) shrunk on load are decoded by libjpeg-turbo
through simplejpeg and handed to libvips as memory: the same scaled IDCT, without
libvips' per-scanline overhead (measured ~10% of the CPU of a 12 MP thumbnail).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import pyvips
import simplejpeg

from transforms.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType
from transforms.formats import sniff
from transforms.limits import check_source_bytes
from transforms.model import Limits
from transforms.vector import DEFAULT_DPI

# The libvips loader (`vips-loader`, e.g. jpegload_buffer) each sniffed format must open with.
_LOADERS = {"jpg": "jpeg", "avif": "heif", "heic": "heif"}
# EXIF orientations 5-8 swap width and height.
_TRANSPOSED = {5, 6, 7, 8}


@dataclass(frozen=True)
class Header:
    """What the original's header says, read without decoding pixels."""

    format: str
    width: int
    height: int
    orientation: int
    pages: int
    # A JPEG in YCbCr with no embedded colour profile: simplejpeg can decode it.
    plain_jpeg: bool = False
    resolution: tuple[float, float] = (1.0, 1.0)  # pixels per millimetre, as libvips has it
    dpi: int = DEFAULT_DPI  # an SVG's density: its size above, and its decode, are at it

    def upright(self, ignore_orientation: bool) -> tuple[int, int]:
        if self.orientation in _TRANSPOSED and not ignore_orientation:
            return (self.height, self.width)
        return (self.width, self.height)


def read_header(source: bytes, limits: Limits, dpi: int = DEFAULT_DPI) -> Header:
    """Sniff and open the original lazily; refuse non-images (415), unreadable headers
    (422), oversized ones and ones with too many frames or pages (413). An SVG's size is
    the one it declares at `dpi`: a huge one is refused here, never rasterised."""
    check_source_bytes(len(source), limits)
    fmt, image = open_original(source, dpi)
    header = Header(fmt, image.width, image.height, _int_field(image, "orientation", 1),
                    _int_field(image, "n-pages", 1), _plain_jpeg(fmt, image),
                    (image.xres, image.yres), dpi)  # fmt: skip
    _check_pages(header, limits)
    _check_pixels(header, limits)
    return header


def open_original(source: bytes, dpi: int = DEFAULT_DPI) -> tuple[str, pyvips.Image]:
    """The format (from the magic bytes) and the lazily opened image: only the header is
    read, no pixel is decoded (an SVG is parsed at `dpi`, not rasterised). 415 for what
    is not an image (PDF included), 422 when the header cannot be read as that format."""
    fmt = sniff(source)
    if fmt is None:
        raise UnsupportedMediaType("The original is not an image pixcast can read")
    try:
        # Sequential access: the header is all that is read, and libvips opens a JPEG for
        # it in a fifth of the time random access takes (0.4 ms against 2.3 ms, 12 MP).
        image = pyvips.Image.new_from_buffer(source, "", access="sequential", **_density(fmt, dpi))
    except pyvips.Error:
        raise Unprocessable(f"The original {fmt} image could not be decoded") from None
    loader = str(image.get("vips-loader")) if image.get_typeof("vips-loader") else ""
    if not loader.startswith(_LOADERS.get(fmt, fmt)):
        raise Unprocessable(f"The original {fmt} image could not be decoded as {fmt}")
    return fmt, image


def _density(fmt: str, dpi: int) -> dict[str, object]:
    """The loader option that sets an SVG's density (other formats have none)."""
    return {"dpi": dpi} if fmt == "svg" else {}


def _check_pages(header: Header, limits: Limits) -> None:
    if header.pages > limits.max_source_pages:
        raise PayloadTooLarge(
            f"The original has {header.pages} frames or pages "
            f"(the limit is {limits.max_source_pages})"
        )


def _plain_jpeg(fmt: str, image: pyvips.Image) -> bool:
    return (
        fmt == "jpg"
        and image.bands == 3
        and image.interpretation == "srgb"
        and not image.get_typeof("icc-profile-data")
    )


def _int_field(image: pyvips.Image, name: str, default: int) -> int:
    return int(image.get(name)) if image.get_typeof(name) else default


def _check_pixels(header: Header, limits: Limits) -> None:
    pixels = header.width * header.height * max(1, header.pages)
    if pixels > limits.max_source_pixels:
        raise PayloadTooLarge(
            f"The original has {pixels / 1e6:.1f} megapixels "
            f"(the limit is {limits.max_source_pixels / 1e6:g})"
        )


def shrink_factor(header: Header, reduction: float) -> int:
    """The loader's shrink: the largest power of two no bigger than the reduction.

    JPEG decodes at 1/2, 1/4 or 1/8 in the DCT; WebP scales while decoding. Leaving no
    margin (unlike libvips' thumbnail, which keeps 2x) is what makes pixcast's big
    downscales fast; the final resize still filters with lanczos3.
    """
    if header.format not in ("jpg", "webp"):
        return 1
    return next((n for n in (8, 4, 2) if reduction >= n), 1)


def load(
    source: bytes,
    header: Header,
    shrink: int,
    ignore_orientation: bool,
    streaming: bool = False,
    frames: dict[str, int] | None = None,
    metadata: bool = False,
) -> pyvips.Image:
    """Decode (shrunk by `shrink`), apply EXIF orientation, convert to sRGB uchar.

    `streaming` decodes top to bottom on demand (libvips' sequential access): a crop then
    stops decoding below its last row and never holds the whole image in memory. It is
    only used when no rotation has to read the image out of order. `frames` picks frames
    of a multi-frame original: `{"page": 2}` (the third) or `{"n": -1}` (all, stacked).
    `metadata` keeps the original's metadata on the image (for outputs that keep it).
    """
    if shrink > 1 and header.plain_jpeg and frames is None and not metadata:
        fast = _turbo_decode(source, header, shrink)
        if fast is not None:
            return _oriented(fast, header, ignore_orientation)
    options: dict[str, object] = dict(frames or {}) | _density(header.format, header.dpi)
    if shrink > 1:
        options |= {"shrink": shrink} if header.format == "jpg" else {"scale": 1 / shrink}
    if streaming and (ignore_orientation or header.orientation in (0, 1)):
        options["access"] = "sequential"
    # A truncated file fails here instead of rendering (and caching) a grey lower half.
    image = pyvips.Image.new_from_buffer(source, "", fail_on="truncated", **options)
    return to_srgb(_oriented(image, header, ignore_orientation))


def _oriented(image: pyvips.Image, header: Header, ignore_orientation: bool) -> pyvips.Image:
    if ignore_orientation:
        # The pixels stay as stored, so a kept EXIF tag must not rotate them in viewers.
        image = image.copy()
        image.remove("orientation")
        return image
    if header.orientation in (0, 1):
        return image
    if not image.get_typeof("orientation"):  # decoded without its metadata
        image = image.copy()
        image.set_type(pyvips.GValue.gint_type, "orientation", header.orientation)
    return image.autorot()


def _turbo_decode(source: bytes, header: Header, shrink: int) -> pyvips.Image | None:
    """libjpeg-turbo's decode at 1/`shrink` as an sRGB image in memory, without the
    original's metadata; None when it reports any problem (libvips then decodes it and
    reports it its way, e.g. a truncated file)."""
    least = (-(-header.width // shrink), -(-header.height // shrink))  # libjpeg's 1/shrink
    try:
        pixels = simplejpeg.decode_jpeg(
            source, "RGB", min_width=least[0], min_height=least[1], strict=True
        )
    except ValueError:
        return None
    height, width, bands = pixels.shape
    image = pyvips.Image.new_from_memory(np.ascontiguousarray(pixels).data, width, height,
                                         bands, "uchar")  # fmt: skip
    xres, yres = header.resolution  # the density PNG and TIFF outputs carry on
    return image.copy(interpretation="srgb", xres=xres, yres=yres)


class Decoder:
    """Decodes one original for a render, reusing a decode made for the detectors' probe
    when it is at least as sharp as the render needs."""

    def __init__(
        self,
        source: bytes,
        header: Header,
        ignore_orientation: bool,
        page: int | None = None,
        metadata: bool = False,
    ) -> None:
        self.source = source
        self.metadata = metadata
        self.header = header
        self.ignore_orientation = ignore_orientation
        # pg_1 of a one-page image is that page (JPEG's loader takes no page argument).
        chosen = page is not None and header.pages > 1
        self.frames = {"page": page - 1} if chosen and page is not None else None
        self._kept: tuple[int, pyvips.Image] | None = None

    def kept(self, shrink: int) -> pyvips.Image:
        """A decode held in memory (for the probe), also offered to the render."""
        image = self._load(shrink, streaming=False).copy_memory()
        self._kept = (shrink, image)
        return image

    def decode(self, shrink: int, streaming: bool) -> pyvips.Image:
        if self._kept is not None and self._kept[0] <= shrink:
            return self._kept[1]
        return self._load(shrink, streaming)

    def all_frames(self) -> pyvips.Image:
        """Every frame of an animation, stacked top to bottom."""
        return load(self.source, self.header, 1, True, frames={"n": -1})

    def _load(self, shrink: int, streaming: bool) -> pyvips.Image:
        return load(self.source, self.header, shrink, self.ignore_orientation, streaming,
                    self.frames, self.metadata)  # fmt: skip


def to_srgb(image: pyvips.Image) -> pyvips.Image:
    """Embedded profiles (and CMYK) become sRGB pixels; 16-bit becomes 8-bit."""
    cmyk = image.interpretation == "cmyk"
    if cmyk or image.get_typeof("icc-profile-data"):
        # A broken profile falls back to the plain colourspace conversion below.
        with contextlib.suppress(pyvips.Error):
            image = image.icc_transform(
                "srgb", embedded=True, input_profile="cmyk" if cmyk else "srgb"
            )
    if image.interpretation != "srgb" or image.format != "uchar":
        image = image.colourspace("srgb")
    return image if image.format == "uchar" else image.cast("uchar")
