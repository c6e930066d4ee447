"""The probe is upright, sRGB, 8-bit RGB and small, whatever the source."""

from __future__ import annotations

import numpy as np
import pytest
import pyvips

from detectors.probe import PROBE_SIZE, probe_from_bytes, probe_from_image

RED, BLUE = [220, 20, 20], [20, 20, 220]


def halves(width: int, height: int) -> pyvips.Image:
    """Red on the left, blue on the right."""
    left = (pyvips.Image.black(width // 2, height) + RED).cast("uchar")
    right = (pyvips.Image.black(width - width // 2, height) + BLUE).cast("uchar")
    return left.join(right, "horizontal").copy(interpretation="srgb")


@pytest.mark.parametrize(
    ("size", "expected"),
    [((3000, 2000), (640, 427)), ((2000, 3000), (427, 640)), ((300, 200), (300, 200))],
)
def test_long_side_shrinks_to_probe_size_never_grows(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    probe = probe_from_bytes(halves(*size).jpegsave_buffer())
    assert (probe.width, probe.height) == expected
    assert probe.pixels.shape == (expected[1], expected[0], 3)
    assert probe.pixels.dtype == np.uint8
    assert max(expected) <= PROBE_SIZE


def test_exif_orientation_is_applied() -> None:
    # Orientation 6: the stored picture must turn 90 degrees clockwise to be upright, which
    # brings its left (red) half to the top.
    source = halves(400, 200).copy()
    source.set_type(pyvips.GValue.gint_type, "orientation", 6)
    probe = probe_from_bytes(source.jpegsave_buffer())
    assert (probe.width, probe.height) == (200, 400)
    assert probe.pixels[50, 100, 0] > 180 and probe.pixels[350, 100, 2] > 180


def test_open_image_is_turned_upright_too() -> None:
    source = halves(400, 200).copy()
    source.set_type(pyvips.GValue.gint_type, "orientation", 6)
    assert (probe_from_image(source).width, probe_from_image(source).height) == (200, 400)


def test_alpha_is_flattened_on_white() -> None:
    rgba = halves(100, 100).bandjoin(0).copy(interpretation="srgb")  # fully transparent
    probe = probe_from_bytes(rgba.pngsave_buffer())
    assert probe.pixels.shape == (100, 100, 3)
    assert (probe.pixels == 255).all()


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(halves(64, 64).colourspace("b-w"), id="grey"),
        pytest.param(halves(64, 64).colourspace("rgb16"), id="16-bit"),
        pytest.param(halves(64, 64).colourspace("rgb16").bandjoin(65535), id="16-bit alpha"),
        pytest.param(halves(64, 64).colourspace("grey16"), id="16-bit grey"),
    ],
)
def test_any_source_becomes_8bit_rgb(source: pyvips.Image) -> None:
    probe = probe_from_bytes(source.pngsave_buffer())
    assert probe.pixels.shape == (64, 64, 3)
    assert probe.image.format == "uchar" and probe.image.interpretation == "srgb"
    assert probe.pixels[32, 5].max() > 40  # not black: values were scaled, not truncated


def test_colours_survive() -> None:
    probe = probe_from_bytes(halves(64, 64).pngsave_buffer())
    assert probe.pixels[10, 5].tolist() == RED
    assert probe.pixels[10, 60].tolist() == BLUE
