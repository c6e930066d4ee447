"""HEIC originals whose HEVC pixels this libvips cannot decode (the libvips bundled with
pyvips decodes AV1 only): pillow-heif (libheif with libde265) decodes them into a lossless
TIFF in memory, which the render then reads like any original. Optional: without
pillow-heif (`pip install 'pixcast[heic]'`), such an original is a clear 415."""

from __future__ import annotations

import functools
import io
from dataclasses import replace
from typing import Any

import numpy as np
import pyvips

from transforms.errors import Unprocessable, UnsupportedMediaType
from transforms.formats import sniff
from transforms.model import Limits
from transforms.steps.load import Header, read_header
from transforms.vector import DEFAULT_DPI

# A tiny HEVC image made once, to learn whether libvips itself decodes HEVC.
_PROBE_SIDE = 16


def read_source(source: bytes, limits: Limits, dpi: int = DEFAULT_DPI) -> tuple[bytes, Header]:
    """The bytes the render decodes and their header (a HEIC keeps "heic" as its format;
    an SVG is read at `dpi`)."""
    fmt = sniff(source)
    if fmt != "heic" or len(source) > limits.max_source_bytes or libvips_decodes_hevc():
        return source, read_header(source, limits, dpi)
    read_header(source, limits)  # the limits, from the HEIC's own header, before decoding
    decoded = decodable(source)
    return decoded, replace(read_header(decoded, limits), format="heic")


def decodable(source: bytes) -> bytes:
    """A HEIC's pixels (upright, as libheif applies its rotations) as an uncompressed TIFF."""
    heif = _pillow_heif()
    try:
        decoded = heif.open_heif(source, convert_hdr_to_8bit=True)
        bands = _bands(decoded.mode)
        width, height = decoded.size
        rows = np.frombuffer(decoded.data, np.uint8).reshape(height, decoded.stride)
        pixels = np.ascontiguousarray(rows[:, : width * bands])
    except (ValueError, RuntimeError, OSError) as error:
        raise Unprocessable(f"The original heic image could not be decoded ({error})") from None
    image = pyvips.Image.new_from_memory(pixels.data, width, height, bands, "uchar")
    image = _with_profile(image.copy(interpretation="srgb"), decoded.info.get("icc_profile"))
    return bytes(image.tiffsave_buffer(compression="none"))


@functools.cache
def libvips_decodes_hevc() -> bool:
    """Whether libvips decodes HEVC pixels (tried once, on a HEIC pillow-heif makes)."""
    try:
        heif = _pillow_heif()
    except UnsupportedMediaType:
        return False  # nothing to try with; and no fallback either
    from PIL import Image

    buffer = io.BytesIO()
    heif.from_pillow(Image.new("RGB", (_PROBE_SIDE, _PROBE_SIDE), "grey")).save(buffer)
    try:
        pyvips.Image.new_from_buffer(buffer.getvalue(), "").avg()
    except pyvips.Error:
        return False
    return True


def _pillow_heif() -> Any:
    try:
        import pillow_heif
    except ImportError:
        raise UnsupportedMediaType(
            "HEIC (HEVC) originals need pillow-heif on this pixcast server: "
            "pip install 'pixcast[heic]'"
        ) from None
    return pillow_heif


def _bands(mode: str) -> int:
    if mode not in ("RGB", "RGBA"):
        raise Unprocessable(f"The original heic image has an unsupported pixel mode {mode}")
    return len(mode)


def _with_profile(image: pyvips.Image, profile: object) -> pyvips.Image:
    if isinstance(profile, bytes) and profile:
        image = image.copy()
        image.set_type(pyvips.GValue.blob_type, "icc-profile-data", profile)
    return image
