"""WebP output quality: pixcast's WebP encoder settings give the bytes and the visual
quality (SSIM) of libwebp's usual settings, as Pillow (thumbor's engine) writes them at
the same quality, so a faster setting cannot quietly cost bytes or quality."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import pyvips
from PIL import Image

from tests.transforms.imaging import decode, pixels
from transforms import pipeline
from transforms.formats import EncodeOptions, encode
from transforms.grammar import parse_url
from transforms.model import Format

PHOTOS = Path(__file__).resolve().parents[2] / "examples" / "images"


def grey(image: pyvips.Image) -> pyvips.Image:
    return image.colourspace("b-w").extract_band(0).cast("double")


def ssim(a: pyvips.Image, b: pyvips.Image) -> float:
    """Mean structural similarity of the luma, Gaussian window of sigma 1.5 (Wang et al.)."""
    x, y = grey(a), grey(b)

    def blur(image: pyvips.Image) -> pyvips.Image:
        return image.gaussblur(1.5, precision="float")

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    index = ((mx * my * 2 + c1) * (cxy * 2 + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(index.avg())


def pillow_webp(image: pyvips.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels(image)).save(buffer, "WEBP", quality=quality)
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["sample.jpg", "dogs.jpg"])
def test_webp_bytes_and_quality_match_libwebps_defaults(name: str) -> None:
    resized = pyvips.Image.thumbnail(str(PHOTOS / name), 800).copy_memory()
    ours = encode(resized, EncodeOptions(Format.WEBP))
    theirs = pillow_webp(resized, quality=80)
    quality, reference = ssim(resized, decode(ours)), ssim(resized, decode(theirs))
    print(
        f"{name}: pixcast {len(ours)} B SSIM {quality:.4f}; Pillow {len(theirs)} B {reference:.4f}"
    )
    assert abs(len(ours) - len(theirs)) <= 0.05 * len(theirs)
    assert quality >= reference - 0.002


def test_a_webp_render_keeps_the_photo() -> None:
    """The whole render (shrink-on-load, resize, encode) against a careful resize."""
    source = (PHOTOS / "sample.jpg").read_bytes()
    result = pipeline.render(parse_url("/w_800,f_webp/sample.jpg"), source, None)
    reference = pyvips.Image.thumbnail_buffer(source, 800)
    quality = ssim(decode(result.data), reference)
    print(f"render w_800,f_webp vs thumbnail_buffer: SSIM {quality:.4f}")
    assert result.format == "webp"
    assert quality >= 0.92  # 0.937 measured
