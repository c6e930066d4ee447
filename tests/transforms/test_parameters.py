"""The rest of Cloudinary's parameters, checked on pixels: auto backgrounds, artistic
filters, JPEG XL, auto angles, a standalone dpr, flags, default named transformations,
and the 400s that say what pixcast cannot do."""

from __future__ import annotations

import imagecodecs
import numpy as np
import pytest

from tests.transforms.imaging import (
    BLUE,
    GREEN,
    RED,
    YELLOW,
    close,
    decode,
    jpeg,
    mean_colour,
    pixels,
    png,
    quadrants,
    run,
    solid,
)
from transforms.effects.art import LOOKS
from transforms.errors import BadRequest
from transforms.grammar import canonical, parse_url

TEAL = (20, 140, 150)


def at(values: np.ndarray, row: int, column: int) -> tuple[int, ...]:  # type: ignore[type-arg]
    return tuple(int(v) for v in values[row, column][:3])


def striped() -> bytes:
    """400x300 mostly teal, with a red band down the left edge (the border's colour)."""
    return png(solid(400, 300, TEAL).draw_rect(list(RED), 0, 0, 30, 300, fill=True))


def test_b_auto_predominant_pads_with_the_dominant_colour() -> None:
    rendered = run("/b_auto:predominant,c_pad,h_300,w_800/x.png", striped())
    values = pixels(decode(rendered.data))
    assert (rendered.width, rendered.height) == (800, 300)
    assert close(mean_colour(values[:, :150]), TEAL, 3)  # the padding
    assert close(mean_colour(values[:, -150:]), TEAL, 3)


def test_b_auto_border_uses_the_edge_colours() -> None:
    rendered = run("/b_auto:border,c_pad,h_300,w_800/x.png", striped())
    padding = mean_colour(pixels(decode(rendered.data))[:, :150])
    # The frame is mostly teal with the red left edge: a mix leaning to teal, not pure teal.
    assert padding[0] > TEAL[0] + 20 and padding[2] < TEAL[2]


def test_b_auto_contrast_and_gradient_modes() -> None:
    contrast = run("/b_auto:predominant_contrast,c_pad,h_300,w_800/x.png", striped())
    assert close(mean_colour(pixels(decode(contrast.data))[:, :100]), (255, 255, 255), 1)
    gradient = run("/b_auto:border_gradient,c_lpad,h_300,w_800/x.png", striped())
    values = pixels(decode(gradient.data))
    left, right = mean_colour(values[:, :5]), mean_colour(values[:, -5:])
    assert left[0] > right[0] + 100  # red at the left edge, teal-ish at the right


def test_b_auto_palette_picks_the_nearest_colour() -> None:
    rendered = run("/b_auto:predominant:palette_blue_yellow,c_pad,h_300,w_800/x.png", striped())
    assert close(mean_colour(pixels(decode(rendered.data))[:, :100]), BLUE, 1)


def test_b_blurred_pads_with_a_blurred_copy() -> None:
    rendered = run("/b_blurred:400:15,c_pad,h_300,w_800/x.png", striped())
    values = pixels(decode(rendered.data)).astype(float)
    assert (rendered.width, rendered.height) == (800, 300)
    assert values[:, :150].std(axis=(0, 1)).max() > 5  # not a flat colour
    assert values[:, :150, 1].mean() > 60  # made from the image, not black


def test_b_gen_fill_says_why_it_is_refused() -> None:
    with pytest.raises(BadRequest, match="generative model; pixcast has none"):
        parse_url("/b_gen_fill,c_pad,h_300,w_800/x.png")


@pytest.mark.parametrize("name", sorted(LOOKS))
def test_every_art_filter_changes_the_colours(name: str) -> None:
    mid_tones = [(180, 90, 60), (60, 160, 90), (70, 90, 180), (200, 190, 120)]
    source = png(quadrants(80, 60, mid_tones))
    before = pixels(decode(source)).astype(int)
    after = pixels(decode(run(f"/e_art:{name}/x.png", source).data)).astype(int)
    assert after.shape == before.shape
    assert np.abs(after - before).mean() > 3


def test_art_needs_a_known_filter() -> None:
    with pytest.raises(BadRequest, match="art"):
        parse_url("/e_art:glitter/x.jpg")


def test_f_jxl_is_real_jpeg_xl_that_a_decoder_reads() -> None:
    source = jpeg(quadrants(120, 80, [RED, GREEN, BLUE, YELLOW]))
    rendered = run("/c_scale,w_60/f_jxl/x.jpg", source)
    assert rendered.media_type == "image/jxl"
    decoded = imagecodecs.jpegxl_decode(rendered.data)
    assert decoded.shape == (40, 60, 3)
    assert close(at(decoded, 5, 5), RED, 30) and close(at(decoded, -5, -5), YELLOW, 30)


@pytest.mark.parametrize(
    ("angle", "corner"),
    [("a_auto_right", (0, -1)), ("a_auto_left", (-1, 0))],
)
def test_auto_angles_turn_a_landscape_for_a_portrait_crop(
    angle: str, corner: tuple[int, int]
) -> None:
    source = png(quadrants(200, 100, [RED, GREEN, BLUE, YELLOW]))
    rendered = run(f"/{angle},c_scale,h_200,w_100/x.png", source)
    values = pixels(decode(rendered.data))
    assert (rendered.width, rendered.height) == (100, 200)
    # Turned right, the top-left (red) quadrant goes to the top right; left: bottom left.
    row, column = (195 if corner[0] else 5), (95 if corner[1] else 5)
    assert close(at(values, row, column), RED, 2)


def test_auto_angle_leaves_a_matching_orientation_alone() -> None:
    source = png(quadrants(200, 100, [RED, GREEN, BLUE, YELLOW]))
    rendered = run("/a_auto_right,c_scale,h_50,w_100/x.png", source)
    assert close(at(pixels(decode(rendered.data)), 5, 5), RED, 2)


def test_standalone_dpr_scales_the_chain() -> None:
    rendered = run("/c_scale,h_150/dpr_2.0/x.jpg", jpeg(solid(400, 300, RED)))
    assert (rendered.width, rendered.height) == (400, 300)
    assert run("/c_scale,h_100/dpr_2.0/x.jpg", jpeg(solid(400, 300, RED))).height == 200


def test_default_named_transformation() -> None:
    rendered = run("/t_media_lib_thumb/x.jpg", jpeg(solid(400, 300, RED)))
    assert (rendered.width, rendered.height) == (150, 150)


@pytest.mark.parametrize(
    ("url", "same_as"),
    [
        ("/q_jpegmini/x.jpg", "/q_auto:good/x.jpg"),
        ("/q_jpegmini:0/x.jpg", "/q_auto:best/x.jpg"),
        ("/q_auto:sensitive/x.jpg", "/q_auto:best/x.jpg"),
        ("/q_auto:eco:sensitive/x.jpg", "/q_auto:good/x.jpg"),
        ("/q_0.4/x.jpg", "/q_40/x.jpg"),
        ("/c_crop,h_oh,w_ow/x.jpg", "/c_crop,h_ih,w_iw/x.jpg"),
        ("/c_scale,p_a,w_10/x.jpg", "/c_scale,w_10/x.jpg"),
        ("/e_trim::/x.jpg", "/e_trim/x.jpg"),
        ("/e_sepia:-10/x.jpg", "/e_sepia:1/x.jpg"),
    ],
)
def test_equivalent_spellings(url: str, same_as: str) -> None:
    assert canonical(parse_url(url)) == canonical(parse_url(same_as))


def test_imagga_modes_are_scale_and_fill() -> None:
    source = jpeg(solid(400, 300, RED))
    assert run("/c_imagga_scale,h_100,w_100/x.jpg", source).width == 100
    cropped = run("/c_imagga_crop,h_100,w_200/x.jpg", source)
    assert (cropped.width, cropped.height) == (200, 100)


def test_png_flavours() -> None:
    opaque = png(solid(40, 30, RED))
    with_alpha = png(solid(40, 30, (*RED, 128)))
    assert decode(run("/fl_png32/x.png", opaque).data).bands == 4
    assert decode(run("/fl_png24/x.png", with_alpha).data).bands == 3
    four = png(quadrants(40, 30, [RED, GREEN, BLUE, YELLOW]))
    palette = decode(run("/fl_png8/x.png", four).data)
    assert palette.get_typeof("palette") != 0 and palette.get("palette")
    assert decode(run("/w_40/x.png", four).data).get_typeof("palette") == 0


def test_metadata_flags() -> None:
    source = jpeg(solid(40, 30, RED))
    with_icc = decode(run("/fl_force_icc/x.jpg", source).data)
    assert with_icc.get_typeof("icc-profile-data") != 0
    plain = decode(run("/w_40/x.jpg", source).data)
    assert plain.get_typeof("icc-profile-data") == 0


def tiff_compression(data: bytes) -> int:
    """Tag 259 of the first IFD of a little-endian TIFF (5 is LZW, 8 deflate)."""
    assert data[:2] == b"II"
    offset = int.from_bytes(data[4:8], "little")
    count = int.from_bytes(data[offset : offset + 2], "little")
    for index in range(count):
        entry = data[offset + 2 + 12 * index : offset + 14 + 12 * index]
        if int.from_bytes(entry[:2], "little") == 259:
            return int.from_bytes(entry[8:10], "little")
    raise AssertionError("no compression tag")


def test_tiff_lzw() -> None:
    source = jpeg(solid(40, 30, RED))
    assert tiff_compression(run("/fl_tiff8_lzw/x.tiff", source).data) == 5
    assert tiff_compression(run("/w_40/x.tiff", source).data) == 8


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("/e_gen_fill/x.jpg", "generative fill needs a generative model; pixcast has none"),
        ("/e_vectorize/x.jpg", "pixcast delivers raster images"),
        ("/e_loop/x.jpg", "video parameter"),
        ("/vc_h264/x.jpg", "is a video parameter"),
        ("/fn_wasm:blur.wasm/x.jpg", "custom functions"),
        ("/fl_clip/x.jpg", "clipping paths"),
        ("/cs_keep_cmyk/x.jpg", "pixcast delivers sRGB only"),
        ("/cs_icc:profile/x.jpg", "ICC profiles"),
        ("/l_video:dog/x.jpg", "video layers are not supported"),
    ],
)
def test_what_pixcast_cannot_do_is_a_400_that_says_why(url: str, reason: str) -> None:
    with pytest.raises(BadRequest, match=reason):
        parse_url(url)


@pytest.mark.parametrize(
    "param",
    ["fl_force_strip", "fl_keep_dar", "cs_srgb", "cs_no_cmyk", "cs_tinysrgb", "dn_300",
     "fl_any_format", "a_exif", "fl_keep_attribution", "fl_preserve_transparency"],
)  # fmt: skip
def test_no_effect_flags_and_colour_spaces_are_accepted(param: str) -> None:
    assert run(f"/{param}/x.jpg", jpeg(solid(40, 30, RED))).width == 40


def test_variables_in_radius_effect_and_text_style() -> None:
    source = jpeg(solid(200, 100, RED))
    assert run("/$v_20,r_10:$v:30/x.png", source).width == 200
    blurred = run("/$name_!blur!/e_$name:300/x.png", quadrants_source())
    assert pixels(decode(blurred.data))[50, 100].max() < 250  # the edges are mixed
    assert run("/$style_!Arial_12!/l_text:$style:hello/x.png", source).width == 200


def quadrants_source() -> bytes:
    return png(quadrants(200, 100, [RED, GREEN, BLUE, YELLOW]))
