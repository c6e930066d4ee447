"""The JPEG decode: plain JPEGs shrunk on load go through libjpeg-turbo (simplejpeg) as
memory; the result matches libvips' own shrink-on-load, and everything simplejpeg cannot
honour (profiles, kept metadata, damaged files) goes through libvips."""

from __future__ import annotations

import pytest
import pyvips

from tests.transforms.imaging import pixels, psnr
from transforms import pipeline
from transforms.errors import Unprocessable
from transforms.grammar import parse_url
from transforms.model import Limits
from transforms.steps import load as loading
from transforms.steps.load import load, read_header


def photo_like(width: int, height: int) -> pyvips.Image:
    """Smooth gradients plus fine noise: texture for the DCT to keep."""
    xyz = pyvips.Image.xyz(width, height)
    noise = pyvips.Image.gaussnoise(width, height, sigma=20, mean=0)
    red = xyz[0] * (200 / width) + noise
    green = xyz[1] * (200 / height) - noise
    blue = (xyz[0] + xyz[1]) * (100 / (width + height)) + 60
    return red.bandjoin([green, blue]).cast("uchar").copy(interpretation="srgb")


@pytest.fixture(scope="module")
def plain() -> bytes:
    return bytes(photo_like(1600, 1200).jpegsave_buffer(Q=90, subsample_mode="on"))


def counting_turbo(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = loading._turbo_decode

    def counted(*args: object) -> pyvips.Image | None:
        result = real(*args)  # type: ignore[arg-type]
        calls.append(0 if result is None else 1)
        return result

    monkeypatch.setattr(loading, "_turbo_decode", counted)
    return calls


@pytest.mark.parametrize("shrink", [2, 4, 8])
def test_the_fast_decode_matches_libvips(plain: bytes, shrink: int) -> None:
    header = read_header(plain, Limits())
    assert header.plain_jpeg
    fast = load(plain, header, shrink, ignore_orientation=False)
    reference = pyvips.Image.new_from_buffer(plain, "", shrink=shrink)
    assert (fast.width, fast.height) == (reference.width, reference.height)
    assert psnr(pixels(fast), pixels(reference)) >= 45


def test_renders_use_the_fast_decode(plain: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counting_turbo(monkeypatch)
    result = pipeline.render(parse_url("/w_200/p.jpg"), plain, None)
    assert (result.width, result.height) == (200, 150)
    assert calls == [1]


def test_the_density_is_kept(plain: bytes) -> None:
    dense = bytes(pyvips.Image.new_from_buffer(plain, "").copy(xres=11.811, yres=11.811)
                  .jpegsave_buffer(Q=90))  # fmt: skip
    result = pipeline.render(parse_url("/w_200,f_png/p.jpg"), dense, None)
    assert pyvips.Image.new_from_buffer(result.data, "").xres == pytest.approx(11.811, abs=0.01)


def test_exif_orientation_is_applied(plain: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    image = pyvips.Image.new_from_buffer(plain, "").copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)  # displays turned 90°
    turned = bytes(image.jpegsave_buffer(Q=90))
    calls = counting_turbo(monkeypatch)
    upright = pipeline.render(parse_url("/w_300/p.jpg"), turned, None)
    stored = pipeline.render(parse_url("/w_300,a_ignore/p.jpg"), turned, None)
    assert (upright.width, upright.height) == (300, 400)
    assert (stored.width, stored.height) == (300, 225)
    assert calls == [1, 1]


def test_a_colour_profile_goes_through_libvips(plain: bytes) -> None:
    image = pyvips.Image.new_from_buffer(plain, "")
    profiled = bytes(image.icc_transform("p3", embedded=False).jpegsave_buffer(Q=90))
    assert pyvips.Image.new_from_buffer(profiled, "").get_typeof("icc-profile-data")
    assert not read_header(profiled, Limits()).plain_jpeg


def test_kept_metadata_goes_through_libvips(plain: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    tagged = bytes(pyvips.Image.new_from_buffer(plain, "").jpegsave_buffer(Q=90, keep="all"))
    assert pyvips.Image.new_from_buffer(tagged, "").get_typeof("exif-data")
    calls = counting_turbo(monkeypatch)
    result = pipeline.render(parse_url("/w_200,fl_keep_iptc/p.jpg"), tagged, None)
    assert pyvips.Image.new_from_buffer(result.data, "").get_typeof("exif-data")
    assert calls == []


def test_a_truncated_jpeg_is_still_refused(plain: bytes) -> None:
    with pytest.raises(Unprocessable):
        pipeline.render(parse_url("/w_200/p.jpg"), plain[: len(plain) // 2], None)
