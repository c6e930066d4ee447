"""Animated GIF and WebP keep every frame, their delays and loop count."""

from __future__ import annotations

import pytest
import pyvips

from transforms.errors import BadRequest, PayloadTooLarge
from transforms.grammar import parse_url
from transforms.model import Limits
from transforms.pipeline import render

DELAYS = [100, 200, 300, 400]


def animation(fmt: str = "gif", width: int = 60, height: int = 40) -> bytes:
    """Four frames whose red grows (0, 60, 120, 180), with distinct delays and 3 loops."""
    frames = [
        pyvips.Image.black(width, height).linear(1, [i * 60, 255 - i * 60, 100]).cast("uchar")
        for i in range(4)
    ]
    strip = pyvips.Image.arrayjoin(frames, across=1).copy(interpretation="srgb")
    strip.set_type(pyvips.GValue.gint_type, "page-height", height)
    strip.set_type(pyvips.GValue.array_int_type, "delay", DELAYS)
    strip.set_type(pyvips.GValue.gint_type, "loop", 3)
    return bytes(strip.gifsave_buffer() if fmt == "gif" else strip.webpsave_buffer(lossless=True))


def frames_of(data: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "", n=-1)


@pytest.mark.parametrize("source_format", ["gif", "webp"])
@pytest.mark.parametrize("url", ["/w_30/a.gif", "/c_fill,w_20,h_20/a.webp", "/e_negate/a.gif"])
def test_animation_survives_resize_crop_and_effects(source_format: str, url: str) -> None:
    rendered = render(parse_url(url), animation(source_format), None)
    out = frames_of(rendered.data)
    assert out.get("n-pages") == 4
    assert list(out.get("delay")) == DELAYS
    assert out.get("loop") == 3
    assert out.height == 4 * rendered.height


def test_each_frame_keeps_its_own_pixels() -> None:
    out = frames_of(render(parse_url("/w_30/a.webp"), animation(), None).data)
    height = out.get("page-height")
    reds = [out.crop(0, i * height, out.width, height).extract_band(0).avg() for i in range(4)]
    assert reds == pytest.approx([0, 60, 120, 180], abs=3)


def test_gif_becomes_animated_webp_with_f_auto() -> None:
    rendered = render(parse_url("/f_auto,w_30/a"), animation(), "image/webp,*/*")
    assert rendered.format == "webp" and rendered.negotiated
    assert frames_of(rendered.data).get("n-pages") == 4


def test_f_auto_without_webp_keeps_a_gif() -> None:
    rendered = render(parse_url("/f_auto/a"), animation(), "image/jpeg")
    assert rendered.format == "gif"


def test_still_formats_take_the_first_frame() -> None:
    rendered = render(parse_url("/w_30/a.png"), animation(), None)
    image = pyvips.Image.new_from_buffer(rendered.data, "")
    assert (image.width, image.height) == (30, 20)
    assert image.extract_band(0).avg() == pytest.approx(0, abs=3)


def test_pg_picks_one_frame() -> None:
    rendered = render(parse_url("/pg_3/a.png"), animation(), None)
    image = pyvips.Image.new_from_buffer(rendered.data, "")
    assert image.extract_band(0).avg() == pytest.approx(120, abs=3)
    with pytest.raises(BadRequest, match="the image has 4"):
        render(parse_url("/pg_9/a.png"), animation(), None)


def test_dl_sets_every_delay() -> None:
    out = frames_of(render(parse_url("/dl_50/a.gif"), animation(), None).data)
    assert list(out.get("delay")) == [50, 50, 50, 50]


def test_frames_count_towards_the_pixel_limit() -> None:
    # 60x40x4 = 9600 pixels: one frame fits a 5000-pixel limit, the animation does not.
    with pytest.raises(PayloadTooLarge):
        render(parse_url("/w_30/a.gif"), animation(), None, Limits(max_source_pixels=5000))


def test_detection_gravities_use_the_centre_on_animations() -> None:
    rendered = render(parse_url("/c_thumb,g_face,w_20,h_20/a.gif"), animation(), None)
    assert (rendered.width, rendered.height) == (20, 20)
