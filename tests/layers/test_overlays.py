"""Image overlays and underlays rendered on generated images: each feature's visible
property (where the layer's pixels land, the canvas size, the alpha)."""

from __future__ import annotations

import pytest
import pyvips

from detectors.service import RegionService
from tests.layers.imaging import (
    BLUE,
    CLEAR,
    GREEN,
    RED,
    close,
    opaque,
    pixel,
    png,
    render_url,
    solid,
)
from transforms.context import LayerSources
from transforms.errors import BadRequest, PayloadTooLarge
from transforms.grammar import parse_url
from transforms.model import Limits
from transforms.pipeline import render

BASE = opaque(200, 100, BLUE)
LOGO = {"logo": solid(20, 10, RED)}

# gravity and offsets → the overlay's top-left on the 200x100 base (Cloudinary's
# directions: east points count x leftwards, south points count y upwards).
GRAVITIES = [
    ("g_north_west,x_7,y_5", (7, 5)),
    ("g_north,x_7,y_5", (97, 5)),
    ("g_north_east,x_7,y_5", (173, 5)),
    ("g_west,x_7,y_5", (7, 50)),
    ("g_center,x_7,y_5", (97, 50)),
    ("g_east,x_7,y_5", (173, 50)),
    ("g_south_west,x_7,y_5", (7, 85)),
    ("g_south,x_7,y_5", (97, 85)),
    ("g_south_east,x_7,y_5", (173, 85)),
    ("x_7,y_5", (97, 50)),  # no gravity: centre
    ("g_north_west,x_0.1,y_0.2", (20, 20)),  # decimals of the base's size
    ("g_south_east", (180, 90)),
    ("g_xy_center,x_50,y_30", (40, 25)),
]


def _assert_overlay_at(image_url: str, origin: tuple[int, int]) -> None:
    out = render_url(image_url, BASE, LOGO)
    assert (out.width, out.height) == (200, 100)
    left, top = origin
    for x, y in ((left, top), (left + 19, top), (left, top + 9), (left + 19, top + 9)):
        assert close(pixel(out, x, y), RED), (x, y, pixel(out, x, y))
    for x, y in ((left - 1, top), (left + 20, top + 9), (left, top - 1), (left + 19, top + 10)):
        if 0 <= x < 200 and 0 <= y < 100:
            assert close(pixel(out, x, y), BLUE), (x, y, pixel(out, x, y))


@pytest.mark.parametrize(("placement", "origin"), GRAVITIES)
def test_layer_apply_places_the_overlay(placement: str, origin: tuple[int, int]) -> None:
    _assert_overlay_at(f"/l_logo/fl_layer_apply,{placement}/x.png", origin)


@pytest.mark.parametrize(("placement", "origin"), GRAVITIES)
def test_placement_in_the_layer_component_itself(placement: str, origin: tuple[int, int]) -> None:
    """Without a sub-chain, the l_ component's own gravity and offsets place it."""
    _assert_overlay_at(f"/l_logo,{placement}/x.png", origin)


def test_the_sub_chain_transforms_the_overlay_before_it_is_placed() -> None:
    """A scale and a rotation in the sub-chain; the main chain continues after it."""
    out = render_url("/l_logo/c_scale,w_40/a_90/fl_layer_apply,g_north_west/x.png", BASE, LOGO)
    assert close(pixel(out, 19, 39), RED) and close(pixel(out, 20, 0), BLUE)
    out = render_url("/l_logo/fl_layer_apply,g_north_west/e_negate/x.png", BASE, LOGO)
    assert close(pixel(out, 0, 0), (0, 255, 255)) and close(pixel(out, 50, 50), (255, 255, 0))


def test_folders_are_written_with_colons() -> None:
    out = render_url("/l_docs:logo,g_north_west/x.png", BASE, {"docs/logo": solid(20, 10, GREEN)})
    assert close(pixel(out, 0, 0), GREEN)


def test_underlay_shows_behind_transparent_areas_only() -> None:
    base = solid(200, 100, CLEAR).insert(solid(100, 100, GREEN), 100, 0)
    out = render_url("/u_logo/c_scale,fl_layer_apply,fl_relative,h_1.0,w_1.0/x.png", base, LOGO)
    assert (out.width, out.height) == (200, 100)
    assert close(pixel(out, 10, 50), RED) and close(pixel(out, 99, 0), RED)
    assert close(pixel(out, 100, 50), GREEN) and close(pixel(out, 199, 99), GREEN)


# the overlay's sub-chain → the overlay's size on the base
SIZES = [
    ("c_scale,fl_relative,w_0.5", (100, 50)),  # half the base's width, the logo's ratio
    ("c_scale,w_0.5", (10, 5)),  # without fl_relative: half the logo
    ("c_scale,fl_relative,h_1.0,w_1.0", (200, 100)),
    ("c_scale,w_60,h_30", (60, 30)),
]


@pytest.mark.parametrize(("chain", "size"), SIZES)
def test_overlay_size(chain: str, size: tuple[int, int]) -> None:
    out = render_url(f"/l_logo/{chain}/fl_layer_apply,g_north_west/x.png", BASE, LOGO)
    assert close(pixel(out, size[0] - 1, size[1] - 1), RED)
    if size[0] < 200:
        assert close(pixel(out, size[0], 0), BLUE)
    if size[1] < 100:
        assert close(pixel(out, 0, size[1]), BLUE)


@pytest.mark.parametrize("url", ["/l_logo/fl_layer_apply,fl_tiled/x.png", "/l_logo,fl_tiled/x.png"])
def test_tiled_covers_the_whole_base(url: str) -> None:
    out = render_url(url, BASE, LOGO)
    assert (out.width, out.height) == (200, 100)
    assert out.extract_band(0).min() == 255 and out.extract_band(2).max() == 0


def test_tiles_are_spaced_by_x_and_y() -> None:
    out = render_url("/l_logo/fl_layer_apply,fl_tiled,x_10,y_5/x.png", BASE, LOGO)
    assert close(pixel(out, 0, 0), RED) and close(pixel(out, 19, 9), RED)
    assert close(pixel(out, 20, 0), BLUE) and close(pixel(out, 29, 0), BLUE)
    assert close(pixel(out, 30, 0), RED) and close(pixel(out, 0, 10), BLUE)
    assert close(pixel(out, 0, 15), RED)


# placement past the base's edges → the grown canvas's size, a pixel of the base (blue), one
# of the overlay (red) and one of the added area (transparent); then, with fl_no_overflow,
# a pixel of the clipped overlay on the base's own canvas.
OVERFLOW = [
    ("g_north_west,x_-10,y_-4", (210, 104), (209, 103), (0, 0), (0, 99), (9, 5)),
    ("g_south_east,x_-10,y_-5", (210, 105), (0, 0), (209, 104), (0, 104), (199, 99)),
    ("g_east,x_-10", (210, 100), (0, 0), (209, 50), (209, 0), (199, 50)),
]
Point = tuple[int, int]


COLUMNS = ("placement", "size", "base", "inside", "added", "clipped")


@pytest.mark.parametrize(COLUMNS, OVERFLOW)
def test_overflow_grows_the_canvas(
    placement: str, size: Point, base: Point, inside: Point, added: Point, clipped: Point
) -> None:
    out = render_url(f"/l_logo/fl_layer_apply,{placement}/x.png", BASE, LOGO)
    assert (out.width, out.height) == size
    assert out.bands == 4
    assert pixel(out, *base) == BLUE and pixel(out, *inside) == RED
    assert pixel(out, *added)[3] == 0


@pytest.mark.parametrize(COLUMNS, OVERFLOW)
def test_no_overflow_keeps_the_base_size_and_clips(
    placement: str, size: Point, base: Point, inside: Point, added: Point, clipped: Point
) -> None:
    out = render_url(f"/l_logo/fl_layer_apply,fl_no_overflow,{placement}/x.png", BASE, LOGO)
    assert (out.width, out.height) == (200, 100)
    assert out.bands == 3  # still opaque
    assert close(pixel(out, *clipped), RED) and close(pixel(out, 100, 20), BLUE)


def test_overflow_beyond_the_output_limit_is_a_400() -> None:
    with pytest.raises(BadRequest, match="larger than the limit") as caught:
        render_url("/l_logo/fl_layer_apply,g_north_west,x_-9000/x.png", BASE, LOGO)
    assert caught.value.status == 400


def test_cutter_keeps_the_base_only_where_the_overlay_is_opaque() -> None:
    mask = solid(40, 20, RED).insert(solid(20, 20, (255, 0, 0, 128)), 20, 0)
    out = render_url("/l_mask/fl_layer_apply,fl_cutter/x.png", BASE, {"mask": mask})
    assert (out.width, out.height) == (200, 100) and out.bands == 4
    assert pixel(out, 85, 45) == (0, 0, 255, 255)  # opaque part of the mask: base kept
    assert close(pixel(out, 105, 45), (0, 0, 255, 128))  # half-transparent part
    assert pixel(out, 79, 45)[3] == 0 and pixel(out, 0, 0)[3] == 0  # outside: cut away


def test_opacity_on_the_layer() -> None:
    out = render_url("/l_logo,o_50,g_north_west/x.png", BASE, LOGO)
    assert close(pixel(out, 0, 0), (128, 0, 127), tolerance=3)
    out = render_url("/l_logo/o_25/fl_layer_apply,g_north_west/x.png", BASE, LOGO)
    assert close(pixel(out, 0, 0), (64, 0, 191), tolerance=3)


def test_overlay_on_a_transparent_base_keeps_its_alpha() -> None:
    out = render_url("/l_logo,g_north_west/x.png", solid(50, 50, CLEAR), LOGO)
    assert out.bands == 4 and pixel(out, 0, 0) == RED and pixel(out, 30, 30)[3] == 0


def test_missing_layer_source_is_a_400_naming_it() -> None:
    with pytest.raises(BadRequest, match="Layer resource not found - docs/nope") as caught:
        render_url("/l_docs:nope/x.png", BASE, LOGO)
    assert caught.value.status == 400


@pytest.mark.parametrize("gravity", ["g_auto", "g_cat"])
def test_detection_gravities_other_than_faces_cannot_place_a_layer(gravity: str) -> None:
    with pytest.raises(BadRequest, match="cannot place a layer"):
        render_url(f"/l_logo/fl_layer_apply,{gravity}/x.png", BASE, LOGO)


def test_layers_count_towards_the_component_limit() -> None:
    chain = "/".join(["e_negate"] * 19)
    with pytest.raises(BadRequest, match="Too many chained transformations: 21"):
        render_url(f"/l_logo/{chain}/fl_layer_apply/x.png", BASE, LOGO)


def test_every_frame_of_an_animation_gets_the_layer() -> None:
    out = _animated("/l_logo,g_north_west/x.webp")
    assert out.get("n-pages") == 4
    height = out.get("page-height")
    for frame in range(4):
        assert close(pixel(out, 0, frame * height), RED, tolerance=6)
        colour = (frame * 60, 255 - frame * 60, 100)
        assert close(pixel(out, 30, frame * height + 30), colour, tolerance=6)


def test_face_placement_on_an_animation_leaves_the_layer_out(detection: RegionService) -> None:
    """No faces are detected on animations (as in Cloudinary), so the layer is left out."""
    out = _animated("/l_logo/fl_layer_apply,g_faces/x.webp", detection)
    assert out.get("n-pages") == 4
    for frame in range(4):
        colour = (frame * 60, 255 - frame * 60, 100)
        assert close(pixel(out, 30, frame * 40 + 20), colour, tolerance=6)  # no logo there


def _animated(url: str, detection: RegionService | None = None) -> pyvips.Image:
    frames = [
        pyvips.Image.black(60, 40).linear(1, [i * 60, 255 - i * 60, 100]).cast("uchar")
        for i in range(4)
    ]
    strip = pyvips.Image.arrayjoin(frames, across=1).copy(interpretation="srgb")
    strip.set_type(pyvips.GValue.gint_type, "page-height", 40)
    sources = LayerSources({"logo": png(solid(20, 10, RED))})
    data = render(parse_url(url), bytes(strip.webpsave_buffer(lossless=True)), None,
                  Limits(), detection, None, sources)  # fmt: skip
    return pyvips.Image.new_from_buffer(data.data, "", n=-1)


def test_layer_sources_are_held_to_the_source_limits() -> None:
    big = {"logo": solid(9000, 6000, RED)}
    with pytest.raises(PayloadTooLarge, match=r"Layer logo: The original has 54\.0 megapixels"):
        render_url("/l_logo/x.png", BASE, big)
