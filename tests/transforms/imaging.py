"""Helpers for image-level tests: make small images, decode results, compare pixels.

Every image the tests need is generated here with pyvips (sRGB, uchar), so a test reads
as "this source, this URL, these pixels" without binary fixtures.
"""

from __future__ import annotations

import colorsys
import struct
import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyvips

from transforms.grammar import parse_url
from transforms.model import Limits, Rendered
from transforms.pipeline import render

Pixels = npt.NDArray[np.uint8]
Colour = tuple[int, ...]

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
YELLOW = (255, 255, 0)
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
GREY = (128, 128, 128)


# --- making images -----------------------------------------------------------------------


def solid(width: int, height: int, colour: Sequence[int]) -> pyvips.Image:
    """A flat sRGB image; four values give it an alpha band."""
    image = pyvips.Image.black(width, height, bands=len(colour)) + list(colour)
    return image.cast("uchar").copy(interpretation="srgb")


def quadrants(width: int, height: int, colours: Sequence[Sequence[int]]) -> pyvips.Image:
    """Four flat quadrants: top-left, top-right, bottom-left, bottom-right."""
    half_w, half_h = width // 2, height // 2
    image = solid(width, height, colours[0])
    image = image.draw_rect(list(colours[1]), half_w, 0, width - half_w, half_h, fill=True)
    image = image.draw_rect(list(colours[2]), 0, half_h, half_w, height - half_h, fill=True)
    return image.draw_rect(
        list(colours[3]), half_w, half_h, width - half_w, height - half_h, fill=True
    )


def marked(width: int, height: int, mark: int = 20) -> pyvips.Image:
    """A blue image with a red `mark`-pixel square in its top-left corner."""
    return solid(width, height, BLUE).draw_rect(list(RED), 0, 0, mark, mark, fill=True)


def coordinates(width: int, height: int) -> pyvips.Image:
    """Each pixel says where it is: red = x mod 256, green = y mod 256, blue = 0."""
    xy = pyvips.Image.xyz(width, height)
    return (
        (xy.extract_band(0).bandjoin([xy.extract_band(1), 0]) % 256)
        .cast("uchar")
        .copy(interpretation="srgb")
    )


def noise(width: int, height: int, seed: int = 1, bands: int = 3) -> pyvips.Image:
    """Uniform random pixels (reproducible)."""
    values = np.random.default_rng(seed).integers(0, 256, (height, width, bands), dtype=np.uint8)
    return from_array(values)


def soft_edge(width: int, height: int, sigma: float = 3.0) -> pyvips.Image:
    """Dark left half, light right half, with a vertical edge blurred by `sigma` pixels."""
    image = solid(width, height, (60, 60, 60))
    image = image.draw_rect([200, 200, 200], width // 2, 0, width - width // 2, height, fill=True)
    return image.gaussblur(sigma).cast("uchar").copy(interpretation="srgb")


def from_array(values: Pixels) -> pyvips.Image:
    height, width, bands = values.shape
    image = pyvips.Image.new_from_memory(values.tobytes(), width, height, bands, "uchar")
    return image.copy(interpretation="srgb" if bands >= 3 else "b-w")


def with_orientation(image: pyvips.Image, orientation: int) -> pyvips.Image:
    tagged = image.copy()
    tagged.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    return tagged


def jpeg(image: pyvips.Image, quality: int = 95, keep: str = "all") -> bytes:
    return bytes(image.jpegsave_buffer(Q=quality, keep=keep, subsample_mode="off"))


def png(image: pyvips.Image) -> bytes:
    return bytes(image.pngsave_buffer(keep="all"))


def png_declaring(width: int, height: int) -> bytes:
    """A 1x1 PNG whose IHDR is patched to claim `width` x `height` (with a correct CRC)."""
    data = bytearray(pyvips.Image.black(1, 1).cast("uchar").pngsave_buffer(keep="none"))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small baseline JPEG whose SOF0 segment is patched to claim `width` x `height`."""
    data = bytearray(solid(16, 16, (128, 128, 128)).jpegsave_buffer(keep="none"))
    position = 2
    while data[position + 1] != 0xC0:
        position += 2 + struct.unpack(">H", data[position + 2 : position + 4])[0]
    # FF C0, length (2), precision (1), then height and width.
    data[position + 5 : position + 9] = struct.pack(">HH", height, width)
    return bytes(data)


# --- rendering and decoding ----------------------------------------------------------------


def run(
    url: str, source: bytes, accept: str | None = None, limits: Limits | None = None
) -> Rendered:
    return render(parse_url(url), source, accept, limits)


def decode(data: bytes) -> pyvips.Image:
    """The image in `data`, fully decoded in memory (so it can be read many times)."""
    return pyvips.Image.new_from_buffer(data, "").copy_memory()


def pixels(image: pyvips.Image) -> Pixels:
    """Height x width x bands uchar array."""
    image = image if image.format == "uchar" else image.cast("uchar")
    flat = np.frombuffer(image.write_to_memory(), dtype=np.uint8)
    return flat.reshape(image.height, image.width, image.bands)


def rendered_pixels(url: str, source: bytes, accept: str | None = None) -> Pixels:
    return pixels(decode(run(url, source, accept).data))


def pixel_at(image: pyvips.Image, x: int, y: int) -> Colour:
    return tuple(int(v) for v in pixels(image)[y, x])


def mean_colour(values: Pixels) -> tuple[float, ...]:
    return tuple(float(v) for v in values.reshape(-1, values.shape[-1]).mean(axis=0))


def close(actual: Sequence[float], expected: Sequence[float], tolerance: float) -> bool:
    """Every channel of `actual` within `tolerance` of `expected` (lengths may differ)."""
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=False))


def mean_error(a: Pixels, b: Pixels) -> float:
    assert a.shape == b.shape, f"{a.shape} != {b.shape}"
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean())


def psnr(a: Pixels, b: Pixels) -> float:
    assert a.shape == b.shape, f"{a.shape} != {b.shape}"
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return float("inf") if mse == 0 else 10 * float(np.log10(255**2 / mse))


def average_hash(image: pyvips.Image, size: int = 8) -> int:
    """A perceptual hash: `size` x `size` grey thumbnail, one bit per pixel above the mean."""
    grey = image.colourspace("b-w").extract_band(0)
    small = pixels(grey.resize(size / grey.width, vscale=size / grey.height, kernel="linear"))
    bits = (small[..., 0] > small.mean()).flatten()
    return sum(1 << index for index, bit in enumerate(bits) if bit)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def hue_degrees(colour: Sequence[float]) -> float:
    hue, _, _ = colorsys.rgb_to_hsv(*(c / 255 for c in colour[:3]))
    return hue * 360


# --- looking inside files ------------------------------------------------------------------

MAGIC: dict[str, tuple[int, bytes]] = {
    "jpg": (0, b"\xff\xd8\xff"),
    "png": (0, b"\x89PNG\r\n\x1a\n"),
    "gif": (0, b"GIF8"),
    "webp": (8, b"WEBP"),
    "avif": (4, b"ftypavif"),
    "tiff": (0, b"II*\x00"),
}


def format_of(data: bytes) -> str | None:
    """The format from the magic bytes (never from what the renderer says)."""
    for name, (offset, magic) in MAGIC.items():
        if data[offset : offset + len(magic)] == magic:
            return name
    if data[:4] == b"MM\x00*":
        return "tiff"
    return None


def jpeg_markers(data: bytes) -> list[int]:
    """The marker codes of a JPEG's header segments, up to and including the first SOS."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    markers, position = [], 2
    while position + 4 <= len(data):
        assert data[position] == 0xFF, f"lost sync at byte {position}"
        marker = data[position + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        position += 2 + length
    return markers
