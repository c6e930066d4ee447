"""Rendered images: sizes, formats and pixels of `render` on small generated images.

Each test builds its source with pyvips (or uses examples/images/sample.jpg where a real
photo matters), renders a URL, decodes the bytes and checks what a viewer would see.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import pyvips

from tests.transforms.imaging import (
    BLACK,
    BLUE,
    GREEN,
    GREY,
    RED,
    WHITE,
    YELLOW,
    Colour,
    average_hash,
    close,
    coordinates,
    decode,
    format_of,
    from_array,
    hamming,
    hue_degrees,
    jpeg,
    jpeg_declaring,
    jpeg_markers,
    marked,
    mean_colour,
    noise,
    pixel_at,
    pixels,
    png,
    png_declaring,
    psnr,
    quadrants,
    rendered_pixels,
    run,
    soft_edge,
    solid,
    with_orientation,
)
from transforms.errors import (
    BadRequest,
    PayloadTooLarge,
    PixcastError,
    UnsupportedMediaType,
)
from transforms.model import Limits

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "images" / "sample.jpg"
DARK_GREEN = (0, 128, 0)
LOSSY = 10  # per-channel tolerance for flat colours after a lossy encode


@pytest.fixture(scope="module")
def photo() -> bytes:
    """The bundled 1600x1200 real photo."""
    return SAMPLE.read_bytes()


@pytest.fixture(scope="module")
def camera() -> bytes:
    """A 640x427 JPEG (the size of Cloudinary's camera-640.jpg) of flat green."""
    return jpeg(solid(640, 427, DARK_GREEN))


@pytest.fixture(scope="module")
def camera_alpha() -> bytes:
    """The same, as a PNG with an (opaque) alpha band."""
    return png(solid(640, 427, (*DARK_GREEN, 255)))


def corner(image: pyvips.Image, name: str, inset: int = 5) -> Colour:
    """The colour `inset` pixels in from a corner: tl, tr, bl or br."""
    x = inset if name[1] == "l" else image.width - 1 - inset
    y = inset if name[0] == "t" else image.height - 1 - inset
    return pixel_at(image, x, y)


def assert_mark_at(image: pyvips.Image, where: str) -> None:
    """The red mark of `marked()` is in corner `where`; the three others are blue."""
    for name in ("tl", "tr", "bl", "br"):
        expected = RED if name == where else BLUE
        assert close(corner(image, name), expected, LOSSY), (name, corner(image, name))


# --- crop modes: output size and format ------------------------------------------------------

CROP_SIZES = [
    ("c_scale,w_300", (300, 200), "jpg"),
    ("w_300,h_300", (300, 300), "png"),  # scale is the default
    ("c_scale,h_100", (150, 100), "webp"),
    ("c_fit,w_300,h_300", (300, 200), "jpg"),
    ("c_fit,w_1000,h_1000", (1000, 667), "png"),
    ("c_limit,w_300,h_300", (300, 200), "jpg"),
    ("c_limit,w_1000,h_1000", (640, 427), "webp"),
    ("c_mfit,w_20,h_20", (640, 427), "jpg"),
    ("c_mfit,w_1000,h_1000", (1000, 667), "png"),
    ("c_fill,w_150,h_150", (150, 150), "jpg"),
    ("c_fill,w_1000,h_500", (1000, 500), "webp"),
    ("c_lfill,w_150,h_150", (150, 150), "jpg"),
    ("c_lfill,w_800,h_100", (640, 100), "png"),
    ("c_pad,w_150,h_150", (150, 150), "jpg"),
    ("c_pad,w_1000,h_100", (1000, 100), "png"),
    ("c_lpad,w_300,h_300", (300, 300), "jpg"),
    ("c_lpad,w_1000,h_1000", (1000, 1000), "webp"),
    ("c_mpad,w_1000,h_1000", (1000, 1000), "jpg"),
    ("c_mpad,w_20,h_20", (640, 427), "png"),
    ("c_crop,w_200,h_100", (200, 100), "jpg"),
    ("c_crop,w_1000,h_100", (640, 100), "png"),
    ("c_thumb,g_north_west,w_150,h_150", (150, 150), "jpg"),
    ("c_thumb,g_south_east,w_100,h_200", (100, 200), "webp"),
    # sizes from ar_, dpr_, relative and initial values
    ("c_scale,w_100,dpr_2.0", (200, 133), "jpg"),
    ("c_fill,w_100,h_100,dpr_1.5", (150, 150), "png"),
    ("ar_16:9,c_fill,w_320", (320, 180), "jpg"),
    ("ar_1.0,c_crop", (427, 427), "png"),
    ("w_0.25", (160, 107), "jpg"),
    ("w_iw,h_ih", (640, 427), "jpg"),
    ("c_scale,w_300,fl_ignore_aspect_ratio", (300, 427), "png"),
    ("c_fill,w_300,h_300/w_0.5", (150, 150), "jpg"),  # the second step sees 300x300
]


@pytest.mark.parametrize(("transformation", "size", "fmt"), CROP_SIZES)
def test_crop_mode_output_size_and_format(
    camera: bytes, transformation: str, size: tuple[int, int], fmt: str
) -> None:
    result = run(f"/{transformation}/camera.{fmt}", camera)
    image = decode(result.data)
    assert (image.width, image.height) == size
    assert (result.width, result.height) == size
    assert format_of(result.data) == fmt == result.format


# (transformation, source has alpha, output format, padding point, padding colour, content point)
PADDING = [
    ("c_pad,w_300,h_300", False, "jpg", (150, 10), WHITE, (150, 150)),
    ("c_pad,w_300,h_300", False, "png", (150, 10), WHITE, (150, 150)),
    ("c_pad,w_300,h_300,b_red", False, "jpg", (150, 10), RED, (150, 150)),
    ("c_pad,w_300,h_300,b_red", False, "png", (150, 290), RED, (150, 150)),
    ("c_lpad,w_1000,h_1000,b_black", False, "jpg", (500, 20), BLACK, (500, 500)),
    ("c_mpad,w_1000,h_1000", False, "jpg", (20, 500), WHITE, (500, 500)),
    ("c_mpad,w_1000,h_1000,b_blue", False, "png", (500, 980), BLUE, (500, 500)),
    ("c_pad,g_north,w_300,h_300", False, "png", (150, 290), WHITE, (150, 10)),
    ("c_pad,g_south,w_300,h_300", False, "png", (150, 10), WHITE, (150, 290)),
    ("c_pad,g_west,w_300,h_100", False, "png", (290, 50), WHITE, (10, 50)),
    ("c_pad,g_east,w_300,h_100", False, "png", (10, 50), WHITE, (290, 50)),
    ("c_pad,w_300,h_300", True, "png", (150, 10), (0, 0, 0, 0), (150, 150)),
    ("c_lpad,w_1000,h_1000", True, "png", (500, 20), (0, 0, 0, 0), (500, 500)),
    ("c_mpad,w_1000,h_1000", True, "webp", (20, 500), (0, 0, 0, 0), (500, 500)),
    ("c_pad,w_300,h_300", True, "jpg", (150, 10), WHITE, (150, 150)),
    ("c_pad,w_300,h_300,b_red", True, "png", (150, 10), (255, 0, 0, 255), (150, 150)),
]


@pytest.mark.parametrize(("transformation", "alpha", "fmt", "pad", "colour", "inside"), PADDING)
def test_padding_colour(
    camera: bytes,
    camera_alpha: bytes,
    transformation: str,
    alpha: bool,
    fmt: str,
    pad: tuple[int, int],
    colour: Colour,
    inside: tuple[int, int],
) -> None:
    image = decode(run(f"/{transformation}/camera.{fmt}", camera_alpha if alpha else camera).data)
    assert image.bands == len(colour), "alpha only when the padding can be transparent"
    tolerance = 1 if fmt == "png" else LOSSY
    found = pixel_at(image, *pad)
    if colour == (0, 0, 0, 0):
        assert found[3] == 0, found  # the colour of a transparent pixel does not matter
    else:
        assert close(found, colour, tolerance), found
    content = pixel_at(image, *inside)
    assert close(content, (*DARK_GREEN, 255), tolerance), content


# --- gravity, with pixels ------------------------------------------------------------------

# The 400x200 source is red | green over blue | yellow.
# (transformation, colours at the output's quarter points: tl, tr, bl, br)
GRAVITY = [
    ("c_fill,g_north_west,w_100,h_100", (RED, RED, BLUE, BLUE)),
    ("c_fill,g_west,w_100,h_100", (RED, RED, BLUE, BLUE)),
    ("c_fill,g_south_east,w_100,h_100", (GREEN, GREEN, YELLOW, YELLOW)),
    ("c_fill,g_east,w_100,h_100", (GREEN, GREEN, YELLOW, YELLOW)),
    ("c_fill,g_north,w_200,h_50", (RED, GREEN, RED, GREEN)),
    ("c_fill,g_south,w_200,h_50", (BLUE, YELLOW, BLUE, YELLOW)),
    ("c_fill,w_100,h_100", (RED, GREEN, BLUE, YELLOW)),  # center straddles all four
    ("c_thumb,g_south_east,w_100,h_100", (GREEN, GREEN, YELLOW, YELLOW)),
    ("c_lfill,g_north_east,w_100,h_100", (GREEN, GREEN, YELLOW, YELLOW)),
    ("c_crop,g_north_east,x_10,y_10,w_100,h_50", (GREEN, GREEN, GREEN, GREEN)),
    ("c_crop,g_south_west,x_10,y_10,w_100,h_50", (BLUE, BLUE, BLUE, BLUE)),
    ("c_crop,g_north_west,w_100,h_50", (RED, RED, RED, RED)),
    ("c_crop,g_south_east,w_100,h_50", (YELLOW, YELLOW, YELLOW, YELLOW)),
    ("c_crop,w_100,h_100", (RED, GREEN, BLUE, YELLOW)),
]


@pytest.mark.parametrize(("transformation", "expected"), GRAVITY)
def test_gravity_picks_the_region(transformation: str, expected: tuple[Colour, ...]) -> None:
    source = png(quadrants(400, 200, (RED, GREEN, BLUE, YELLOW)))
    image = decode(run(f"/{transformation}/quadrants.png", source).data)
    w, h = image.width, image.height
    points = [
        (w // 4, h // 4),
        (3 * w // 4, h // 4),
        (w // 4, 3 * h // 4),
        (3 * w // 4, 3 * h // 4),
    ]
    found = tuple(pixel_at(image, x, y) for x, y in points)
    assert found == expected


# (transformation, left and top of the crop in the 400x200 source)
OFFSETS = [
    ("c_crop,g_north_east,x_10,y_10,w_100,h_50", (290, 10)),  # +x leftwards
    ("c_crop,g_south_east,x_10,y_10,w_100,h_50", (290, 140)),  # +y upwards
    ("c_crop,g_south_west,x_10,y_10,w_100,h_50", (10, 140)),
    ("c_crop,g_north_west,x_80,y_30,w_100,h_50", (80, 30)),
    ("c_crop,x_80,y_30,w_100,h_50", (80, 30)),  # no gravity: from the top-left
    ("c_crop,g_east,x_10,w_100,h_50", (290, 75)),
    ("c_crop,g_center,x_20,y_10,w_100,h_50", (170, 85)),
    ("c_crop,g_xy_center,x_100,y_60,w_100,h_50", (50, 35)),
    ("c_crop,x_0.5,y_0.25,w_100,h_50", (200, 50)),
]


@pytest.mark.parametrize(("transformation", "origin"), OFFSETS)
def test_crop_offsets_select_exact_pixels(transformation: str, origin: tuple[int, int]) -> None:
    source = coordinates(400, 200)
    found = rendered_pixels(f"/{transformation}/xy.png", png(source))
    expected = pixels(source.crop(*origin, 100, 50))
    assert found.shape == expected.shape
    assert pixel_at(from_array(found), 0, 0)[:2] == (origin[0] % 256, origin[1])
    assert np.array_equal(found, expected)


# --- EXIF orientation ------------------------------------------------------------------------

# orientation → (upright size of a 200x100 stored image, where its top-left mark is seen)
ORIENTATIONS = [
    (1, (200, 100), "tl"),
    (2, (200, 100), "tr"),
    (3, (200, 100), "br"),
    (4, (200, 100), "bl"),
    (5, (100, 200), "tl"),
    (6, (100, 200), "tr"),
    (7, (100, 200), "br"),
    (8, (100, 200), "bl"),
]


def oriented_jpeg(orientation: int) -> bytes:
    data = jpeg(with_orientation(marked(200, 100), orientation))
    assert decode(data).get("orientation") == orientation, "the tag is really in the file"
    return data


@pytest.mark.parametrize(("orientation", "size", "where"), ORIENTATIONS)
def test_exif_orientation_is_applied(orientation: int, size: tuple[int, int], where: str) -> None:
    result = run("/photo.png", oriented_jpeg(orientation))
    image = decode(result.data)
    assert (image.width, image.height) == size == (result.width, result.height)
    assert_mark_at(image, where)


def test_exif_orientation_comes_before_resizing() -> None:
    # Upright the image is 100x200: a 50x100 fill keeps all of it, mark top-right.
    image = decode(run("/c_fill,w_50,h_100/photo.png", oriented_jpeg(6)).data)
    assert (image.width, image.height) == (50, 100)
    assert_mark_at(image, "tr")
    # w_0.5 is half the upright width.
    assert decode(run("/w_0.5/photo.jpg", oriented_jpeg(6)).data).width == 50


def test_a_ignore_keeps_the_stored_pixels_and_drops_the_tag() -> None:
    result = run("/a_ignore/photo.jpg", oriented_jpeg(6))
    image = decode(result.data)
    assert (image.width, image.height) == (200, 100)
    assert_mark_at(image, "tl")
    # With the tag left in the file, a viewer would rotate it after all.
    assert image.get_typeof("orientation") == 0 or image.get("orientation") == 1


def test_a_ignore_with_kept_metadata_does_not_leave_the_rotation_to_the_viewer() -> None:
    # fl_keep_iptc keeps the EXIF block; the orientation in it must no longer say 6,
    # or every viewer rotates the stored pixels that a_ignore asked to leave alone.
    image = decode(run("/a_ignore,fl_keep_iptc/photo.jpg", oriented_jpeg(6)).data)
    assert (image.width, image.height) == (200, 100)
    assert image.get_typeof("exif-data") != 0, "metadata kept"
    assert image.get("orientation") == 1


def test_exif_orientation_with_kept_metadata_is_reset() -> None:
    image = decode(run("/w_1.0,fl_keep_iptc/photo.jpg", oriented_jpeg(6)).data)
    assert (image.width, image.height) == (100, 200)
    assert image.get("orientation") == 1


# --- rotation and flips ------------------------------------------------------------------

ROTATIONS = [
    ("a_90", (100, 200), "tr"),
    ("a_180", (200, 100), "br"),
    ("a_270", (100, 200), "bl"),
    ("a_-90", (100, 200), "bl"),
    ("a_360", (200, 100), "tl"),
    ("a_hflip", (200, 100), "tr"),
    ("a_vflip", (200, 100), "bl"),
    ("a_hflip.vflip", (200, 100), "br"),
    ("a_hflip.90", (100, 200), "br"),  # flip first, then rotate
    ("a_90.hflip", (100, 200), "tl"),  # rotate first, then flip
]


@pytest.mark.parametrize(("transformation", "size", "where"), ROTATIONS)
def test_rotations_and_flips(transformation: str, size: tuple[int, int], where: str) -> None:
    image = decode(run(f"/{transformation}/mark.png", png(marked(200, 100))).data)
    assert (image.width, image.height) == size
    assert_mark_at(image, where)


@pytest.mark.parametrize(
    ("transformation", "fmt", "fill"),
    [
        ("a_45", "jpg", WHITE),
        ("a_45", "png", (0, 0, 0, 0)),
        ("a_45,b_black", "jpg", BLACK),
    ],
)
def test_free_rotation_grows_the_canvas_and_fills_corners(
    transformation: str, fmt: str, fill: Colour
) -> None:
    image = decode(run(f"/{transformation}/green.{fmt}", jpeg(solid(200, 100, DARK_GREEN))).data)
    # |200 cos 45| + |100 sin 45| = 212.1 each way
    assert abs(image.width - 212) <= 1 and abs(image.height - 212) <= 1
    for name in ("tl", "tr", "bl", "br"):
        found = corner(image, name, inset=2)
        if fill == (0, 0, 0, 0):
            assert found[3] == 0, (name, found)
        else:
            assert close(found, fill, LOSSY), (name, found)
    centre = pixel_at(image, image.width // 2, image.height // 2)
    assert close(centre, (*DARK_GREEN, 255), LOSSY), centre


# --- colour management -------------------------------------------------------------------

ORANGE = (200, 120, 60)


@pytest.mark.parametrize("embedded_profile", [True, False])
def test_cmyk_jpeg_becomes_srgb(embedded_profile: bool) -> None:
    cmyk = solid(64, 64, ORANGE).icc_transform("cmyk")
    data = bytes(cmyk.jpegsave_buffer(Q=95, keep="all" if embedded_profile else "none"))
    source = decode(data)
    assert (source.interpretation, source.bands) == ("cmyk", 4)
    assert bool(source.get_typeof("icc-profile-data")) == embedded_profile
    result = run("/w_32/cmyk.jpg", data)
    image = decode(result.data)
    assert (image.interpretation, image.bands) == ("srgb", 3)
    assert close(mean_colour(pixels(image)), ORANGE, 4), mean_colour(pixels(image))


@pytest.mark.parametrize("container", ["png", "jpg"])
def test_embedded_wide_gamut_profile_is_converted(container: str) -> None:
    colour = (220, 40, 40)
    wide = solid(64, 64, colour).icc_transform("p3")
    stored = mean_colour(pixels(wide))
    assert not close(stored, colour, 10), "the P3 numbers differ from the sRGB ones"
    data = png(wide) if container == "png" else jpeg(wide)
    image = decode(run("/w_32/p3.png", data).data)
    assert close(mean_colour(pixels(image)), colour, 3), mean_colour(pixels(image))
    assert image.get_typeof("icc-profile-data") == 0, "converted to sRGB, profile stripped"


# --- shrink-on-load quality ----------------------------------------------------------------


@pytest.fixture(scope="module")
def big_photo(photo: bytes) -> bytes:
    """A 4000x3000 q90 JPEG made by upscaling the bundled photo."""
    image = pyvips.Image.new_from_buffer(photo, "").resize(2.5, kernel="lanczos3")
    assert (image.width, image.height) == (4000, 3000)
    return bytes(image.jpegsave_buffer(Q=90))


@pytest.mark.parametrize("fmt", ["png", "jpg"])
def test_shrink_on_load_matches_libvips_thumbnail(big_photo: bytes, fmt: str) -> None:
    result = run(f"/w_300/big.{fmt}", big_photo)
    image = decode(result.data)
    assert (image.width, image.height) == (300, 225) == (result.width, result.height)
    reference = pyvips.Image.thumbnail_buffer(big_photo, 300).copy_memory()
    if fmt == "jpg":
        # Compare like with like: JPEG q80 alone costs ~33 dB on this photo, so the
        # reference goes through the same encoder settings as pixcast's default.
        reference = decode(bytes(reference.jpegsave_buffer(Q=80, optimize_coding=True)))
    quality = psnr(pixels(image), pixels(reference))
    print(f"PSNR render(w_300, {fmt}) vs thumbnail_buffer: {quality:.2f} dB")
    assert quality >= 35


@pytest.mark.parametrize(
    "transformation",
    [
        "c_fill,g_south_east,w_200,h_200",
        "c_fill,g_north_west,w_300,h_100",
        "c_thumb,g_west,w_150,h_300",
        "c_lfill,g_east,w_120,h_200",
        "c_pad,g_south,w_300,h_300",
        "c_fit,w_250,h_250",
    ],
)
def test_shrink_on_load_does_not_move_the_crop(photo: bytes, transformation: str) -> None:
    # The same pixels as a PNG are decoded at full size: both renders must agree.
    lossless = bytes(pyvips.Image.new_from_buffer(photo, "").pngsave_buffer(compression=1))
    shrunk = pixels(decode(run(f"/{transformation}/p.png", photo).data))
    full = pixels(decode(run(f"/{transformation}/p.png", lossless).data))
    assert psnr(shrunk, full) >= 35


@pytest.fixture(scope="module")
def big_quadrants() -> bytes:
    return jpeg(quadrants(4000, 3000, (RED, GREEN, BLUE, YELLOW)), quality=90)


@pytest.mark.parametrize(
    ("transformation", "size", "top_middle"),
    [
        ("c_fill,g_south_east,w_100,h_100", (100, 100), GREEN),  # box x 1000-4000
        ("c_fill,g_north_west,w_100,h_100", (100, 100), RED),  # box x 0-3000
        ("c_crop,g_south_east,w_2000,h_1500/w_100", (100, 75), YELLOW),
        ("c_pad,w_300,h_300,b_black", (300, 300), BLACK),
    ],
)
def test_gravity_on_a_big_jpeg(
    big_quadrants: bytes, transformation: str, size: tuple[int, int], top_middle: Colour
) -> None:
    image = decode(run(f"/{transformation}/big.png", big_quadrants).data)
    assert (image.width, image.height) == size
    assert close(pixel_at(image, image.width // 2, 2), top_middle, LOSSY)


def test_orientation_on_a_big_jpeg_with_shrink_on_load(big_quadrants: bytes) -> None:
    source = jpeg(with_orientation(decode(big_quadrants), 6), quality=90)
    image = decode(run("/w_300/big.png", source).data)
    assert (image.width, image.height) == (300, 400)
    # Turned clockwise: the stored bottom-left (blue) is now top-left, red top-right.
    assert close(corner(image, "tl", 10), BLUE, LOSSY)
    assert close(corner(image, "tr", 10), RED, LOSSY)


def test_fill_on_a_real_photo_looks_like_libvips_centre_crop(photo: bytes) -> None:
    image = decode(run("/c_fill,w_300,h_200/sample.jpg", photo).data)
    assert (image.width, image.height) == (300, 200)
    reference = pyvips.Image.thumbnail_buffer(photo, 300, height=200, crop="centre")
    assert hamming(average_hash(image), average_hash(reference)) <= 4
    assert hamming(average_hash(image), average_hash(reference.flipver())) > 12


# --- effects -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def colourful() -> bytes:
    return png(quadrants(64, 64, (RED, GREEN, BLUE, (230, 160, 40))))


@pytest.fixture(scope="module")
def noisy() -> bytes:
    return png(noise(100, 100))


def test_grayscale_makes_equal_channels(colourful: bytes) -> None:
    values = rendered_pixels("/e_grayscale/x.png", colourful).astype(int)
    assert values.max(axis=2).min() > 0, "not simply black"
    assert int((values.max(axis=2) - values.min(axis=2)).max()) <= 1


@pytest.mark.parametrize("level", ["", ":50", ":100"])
def test_sepia_is_brown_on_grey(level: str) -> None:
    mean = mean_colour(rendered_pixels(f"/e_sepia{level}/x.png", png(solid(64, 64, GREY))))
    assert mean[0] > mean[1] > mean[2], mean
    assert 20 <= hue_degrees(mean) <= 50, hue_degrees(mean)


def test_sepia_level_sets_the_strength() -> None:
    source = png(solid(64, 64, GREY))
    weak = mean_colour(rendered_pixels("/e_sepia:10/x.png", source))
    strong = mean_colour(rendered_pixels("/e_sepia:100/x.png", source))
    assert strong[0] - strong[2] > weak[0] - weak[2] + 20


def test_negate_inverts_every_value(noisy: bytes) -> None:
    found = rendered_pixels("/e_negate/x.png", noisy)
    assert np.array_equal(found, 255 - pixels(decode(noisy)))


def test_effects_leave_alpha_alone() -> None:
    values = pixels(noise(64, 64, bands=4))
    found = rendered_pixels("/e_negate/x.png", png(from_array(values)))
    assert np.array_equal(found[..., 3], values[..., 3])
    assert np.array_equal(found[..., :3], 255 - values[..., :3])


def test_blur_lowers_variance_more_with_strength(noisy: bytes) -> None:
    original = float(pixels(decode(noisy)).var())
    gentle = float(rendered_pixels("/e_blur/x.png", noisy).var())
    strong = float(rendered_pixels("/e_blur:1000/x.png", noisy).var())
    assert strong < gentle < original / 2


@pytest.mark.parametrize(
    ("value", "strength"), [(255, 1000), (255, 2000), (200, 75), (128, 1000), (128, 100)]
)
def test_blur_keeps_flat_colours(value: int, strength: int) -> None:
    # Blurring a flat image changes nothing: a white background stays 255.
    found = rendered_pixels(f"/e_blur:{strength}/x.png", png(solid(200, 200, (value,) * 3)))
    assert (int(found.min()), int(found.max())) == (value, value)


def _edge_step(values: np.ndarray) -> float:
    """The largest jump between horizontal neighbours (in the first band)."""
    return float(np.abs(np.diff(values[..., 0].astype(float), axis=1)).max())


@pytest.mark.parametrize("softness", [1.0, 3.0])
def test_sharpen_raises_edge_contrast(softness: float) -> None:
    source = png(soft_edge(100, 40, softness))
    original = _edge_step(pixels(decode(source)))
    sharpened = _edge_step(rendered_pixels("/e_sharpen/x.png", source))
    stronger = _edge_step(rendered_pixels("/e_sharpen:1000/x.png", source))
    assert original < sharpened < stronger, (original, sharpened, stronger)


def _mid_noise() -> bytes:
    return png(noise(100, 100).linear(0.5, 64).cast("uchar"))


@pytest.mark.parametrize(("level", "brighter"), [("50", True), ("-50", False)])
def test_brightness_moves_the_mean(level: str, brighter: bool) -> None:
    source = _mid_noise()
    before = float(pixels(decode(source)).mean())
    after = float(rendered_pixels(f"/e_brightness:{level}/x.png", source).mean())
    assert (after > before + 20) if brighter else (after < before - 20), (before, after)


@pytest.mark.parametrize(("level", "more"), [("50", True), ("-50", False)])
def test_contrast_changes_the_spread(level: str, more: bool) -> None:
    source = _mid_noise()
    before = float(pixels(decode(source)).std())
    after = float(rendered_pixels(f"/e_contrast:{level}/x.png", source).std())
    assert (after > before * 1.2) if more else (after < before * 0.8), (before, after)


def test_saturation_minus_100_is_grey(colourful: bytes) -> None:
    values = rendered_pixels("/e_saturation:-100/x.png", colourful).astype(int)
    assert int((values.max(axis=2) - values.min(axis=2)).max()) <= 3


def test_saturation_up_spreads_the_channels() -> None:
    source = png(solid(32, 32, (150, 110, 90)))
    found = mean_colour(rendered_pixels("/e_saturation:80/x.png", source))
    assert found[0] - found[2] > 60 + 15, found


@pytest.mark.parametrize("size", [10, 25])
def test_pixelate_makes_constant_blocks(noisy: bytes, size: int) -> None:
    found = rendered_pixels(f"/e_pixelate:{size}/x.png", noisy).astype(int)
    original = pixels(decode(noisy)).astype(int)
    assert found.shape == original.shape
    for top in range(0, 100, size):
        for left in range(0, 100, size):
            block = found[top : top + size, left : left + size]
            assert int((block.max(axis=(0, 1)) - block.min(axis=(0, 1))).max()) == 0
            average = original[top : top + size, left : left + size].mean(axis=(0, 1))
            assert close(tuple(block[0, 0]), tuple(average), 1.5)


@pytest.mark.parametrize(
    ("effects", "only"),
    [("e_grayscale,e_negate", "e_negate"), ("e_negate,e_grayscale", "e_grayscale")],
)
def test_only_the_last_effect_of_a_component_applies(
    colourful: bytes, effects: str, only: str
) -> None:
    both = rendered_pixels(f"/{effects}/x.png", colourful)
    assert np.array_equal(both, rendered_pixels(f"/{only}/x.png", colourful))


def test_effects_in_separate_components_all_apply(colourful: bytes) -> None:
    both = rendered_pixels("/e_grayscale/e_negate/x.png", colourful)
    grey = rendered_pixels("/e_grayscale/x.png", colourful)
    assert np.array_equal(both, 255 - grey)


# --- corners, border, opacity, background ------------------------------------------------


@pytest.fixture(scope="module")
def square() -> bytes:
    return jpeg(solid(100, 100, DARK_GREEN))


def test_r_max_png_has_transparent_corners(square: bytes) -> None:
    image = decode(run("/r_max/x.png", square).data)
    assert image.bands == 4
    for name in ("tl", "tr", "bl", "br"):
        assert corner(image, name, inset=1)[3] == 0
    assert pixel_at(image, 50, 50)[3] == 255
    assert pixel_at(image, 50, 1)[3] > 128, "the ellipse touches the edges"


def test_r_20_jpeg_corners_are_white(square: bytes) -> None:
    image = decode(run("/r_20,q_95/x.jpg", square).data)  # q_95: no chroma smearing
    assert image.bands == 3
    assert close(pixel_at(image, 1, 1), WHITE, LOSSY)
    assert close(pixel_at(image, 98, 98), WHITE, LOSSY)
    assert close(pixel_at(image, 50, 2), DARK_GREEN, LOSSY), "edges stay straight"
    assert close(pixel_at(image, 20, 20), DARK_GREEN, LOSSY)


def test_r_20_png_corner_alpha(square: bytes) -> None:
    image = decode(run("/r_20/x.png", square).data)
    assert pixel_at(image, 2, 2)[3] == 0
    assert pixel_at(image, 20, 20)[3] == 255
    assert pixel_at(image, 50, 0)[3] == 255


def _expected_alpha(radius: int, inset: int) -> int | None:
    """0 or 255 for a pixel `inset` pixels in from a corner rounded by `radius`; None if on
    the antialiased edge."""
    centre = inset + 0.5
    distance = ((radius - centre) ** 2 * 2) ** 0.5 if centre < radius else 0.0
    if distance > radius + 1:
        return 0
    return 255 if distance < radius - 1 else None


@pytest.mark.parametrize(
    ("radius", "corners"),
    [
        ("10:20:30:40", {"tl": 10, "tr": 20, "br": 30, "bl": 40}),  # CSS order, clockwise
        ("10:40", {"tl": 10, "tr": 40, "br": 10, "bl": 40}),
        ("10:20:40", {"tl": 10, "tr": 20, "br": 40, "bl": 20}),
        ("25", {"tl": 25, "tr": 25, "br": 25, "bl": 25}),
    ],
)
def test_r_with_several_values_rounds_each_corner(
    square: bytes, radius: str, corners: dict[str, int]
) -> None:
    image = decode(run(f"/r_{radius}/x.png", square).data)
    for name, size in corners.items():
        for inset in range(0, 16):
            expected = _expected_alpha(size, inset)
            if expected is not None:
                assert corner(image, name, inset)[3] == expected, (name, inset)


def test_border_grows_the_image_and_is_red(square: bytes) -> None:
    result = run("/bo_5px_solid_red,q_95/x.jpg", square)  # q_95: no chroma smearing
    image = decode(result.data)
    assert (image.width, image.height) == (110, 110) == (result.width, result.height)
    for x, y in [(0, 0), (2, 55), (55, 2), (107, 55), (55, 109)]:
        assert close(pixel_at(image, x, y), RED, LOSSY), (x, y, pixel_at(image, x, y))
    assert close(pixel_at(image, 55, 55), DARK_GREEN, LOSSY)
    assert close(pixel_at(image, 8, 55), DARK_GREEN, LOSSY)


def test_border_follows_rounded_corners(square: bytes) -> None:
    image = decode(run("/r_20,bo_5px_solid_red/x.png", square).data)
    assert (image.width, image.height) == (110, 110)
    assert pixel_at(image, 1, 1)[3] == 0
    assert pixel_at(image, 55, 1) == (255, 0, 0, 255)


def test_opacity_50_png_alpha(square: bytes) -> None:
    values = rendered_pixels("/o_50/x.png", square)
    assert values.shape[2] == 4
    assert abs(float(values[..., 3].mean()) - 128) <= 2
    assert close(mean_colour(values[..., :3]), DARK_GREEN, 2)


def test_opacity_on_jpeg_blends_with_white(square: bytes) -> None:
    found = mean_colour(rendered_pixels("/o_50/x.jpg", square))
    assert close(found, (128, 191, 128), LOSSY), found


@pytest.fixture(scope="module")
def half_transparent() -> bytes:
    """100x100 PNG: left half fully transparent, right half opaque dark green."""
    image = solid(100, 100, (0, 0, 0, 0))
    return png(image.draw_rect([*DARK_GREEN, 255], 50, 0, 50, 100, fill=True))


@pytest.mark.parametrize(
    ("transformation", "fmt", "left"),
    [
        ("b_blue", "jpg", BLUE),
        ("w_1.0", "jpg", WHITE),  # no b_: flattened onto white
        ("b_blue", "png", BLUE),  # an opaque b_ flattens: no alpha band left
        ("b_rgb:ff000080", "png", (255, 0, 0, 128)),
    ],
)
def test_background_fills_transparent_areas(
    half_transparent: bytes, transformation: str, fmt: str, left: Colour
) -> None:
    image = decode(run(f"/{transformation}/logo.{fmt}", half_transparent).data)
    assert image.bands == len(left)
    tolerance = 2 if fmt == "png" else LOSSY
    assert close(pixel_at(image, 25, 50), left, tolerance), pixel_at(image, 25, 50)
    assert close(pixel_at(image, 75, 50), (*DARK_GREEN, 255), tolerance)


# --- quality and JPEG details ------------------------------------------------------------


def _size(url: str, source: bytes) -> int:
    return len(run(url, source).data)


@pytest.mark.parametrize("fmt", ["jpg", "webp", "avif"])
def test_higher_quality_is_more_bytes(photo: bytes, fmt: str) -> None:
    assert _size(f"/w_400,q_90/p.{fmt}", photo) > _size(f"/w_400,q_30/p.{fmt}", photo)


@pytest.mark.parametrize("fmt", ["jpg", "webp", "avif"])
def test_q_auto_levels_order_by_size(photo: bytes, fmt: str) -> None:
    sizes = [
        _size(f"/w_400/q_auto:{level}/p.{fmt}", photo) for level in ("best", "good", "eco", "low")
    ]
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == 4, sizes
    assert _size(f"/w_400/q_auto/p.{fmt}", photo) == sizes[1], "q_auto means q_auto:good"


@pytest.mark.parametrize(("chroma", "subsample"), [("444", "4:4:4"), ("420", "4:2:0")])
def test_chroma_subsampling(photo: bytes, chroma: str, subsample: str) -> None:
    result = run(f"/w_400,q_60:{chroma}/p.jpg", photo)
    assert decode(result.data).get("jpeg-chroma-subsample") == subsample


def test_444_is_bigger_than_420(photo: bytes) -> None:
    assert _size("/w_400,q_60:444/p.jpg", photo) > _size("/w_400,q_60:420/p.jpg", photo)


SOF_BASELINE = {0xC0, 0xC1}
SOF_PROGRESSIVE = 0xC2


@pytest.mark.parametrize(
    ("transformation", "progressive"),
    [
        ("w_200", False),
        ("w_200,fl_progressive", True),
        ("w_200,fl_progressive:steep", True),
        ("w_200,q_auto", True),  # Cloudinary: q_auto defaults to semi-progressive
        ("w_200,q_auto,fl_progressive:none", False),
    ],
)
def test_progressive_jpeg(photo: bytes, transformation: str, progressive: bool) -> None:
    markers = jpeg_markers(run(f"/{transformation}/p.jpg", photo).data)
    assert (SOF_PROGRESSIVE in markers) == progressive, [hex(m) for m in markers]
    assert bool(SOF_BASELINE & set(markers)) != progressive


@pytest.fixture(scope="module")
def with_exif() -> bytes:
    image = solid(64, 64, GREY).copy()
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Copyright", "pixcast test")
    data = jpeg(image)
    assert decode(data).get_typeof("exif-data"), "the source really has EXIF"
    return data


@pytest.mark.parametrize("fmt", ["jpg", "png", "webp"])
def test_metadata_is_stripped_by_default(with_exif: bytes, fmt: str) -> None:
    image = decode(run(f"/w_32/x.{fmt}", with_exif).data)
    assert image.get_typeof("exif-data") == 0
    assert image.get_typeof("icc-profile-data") == 0


def test_keep_iptc_keeps_metadata(with_exif: bytes) -> None:
    image = decode(run("/w_32,fl_keep_iptc/x.jpg", with_exif).data)
    assert image.get_typeof("exif-data") != 0
    assert "pixcast test" in str(image.get("exif-ifd0-Copyright"))


def test_keep_iptc_with_q_auto_is_refused(with_exif: bytes) -> None:
    with pytest.raises(BadRequest, match="keep_iptc"):
        run("/w_32,fl_keep_iptc,q_auto/x.jpg", with_exif)


# --- formats -----------------------------------------------------------------------------

MEDIA_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "avif": "image/avif",
    "gif": "image/gif",
    "tiff": "image/tiff",
}


@pytest.mark.parametrize(
    ("extension", "fmt"),
    [("jpg", "jpg"), ("jpeg", "jpg"), ("png", "png"), ("webp", "webp"), ("avif", "avif"),
     ("gif", "gif"), ("tiff", "tiff"), ("tif", "tiff")],
)  # fmt: skip
def test_extension_picks_the_format(camera: bytes, extension: str, fmt: str) -> None:
    result = run(f"/w_64/camera.{extension}", camera)
    assert format_of(result.data) == fmt == result.format
    assert result.media_type == MEDIA_TYPES[fmt]
    assert not result.negotiated
    assert decode(result.data).width == 64


@pytest.mark.parametrize(
    ("url", "fmt"),
    [
        ("/f_png,w_64/camera.jpg", "png"),
        ("/f_webp/camera.png", "webp"),
        ("/w_64,f_jpg/camera.gif", "jpg"),
        ("/w_64/f_avif/camera.jpg", "avif"),
        ("/f_gif/w_64/camera", "gif"),
    ],
)
def test_f_overrides_the_extension(camera: bytes, url: str, fmt: str) -> None:
    result = run(url, camera)
    assert format_of(result.data) == fmt == result.format
    assert not result.negotiated


def _encoded(fmt: str) -> bytes:
    image = solid(64, 48, DARK_GREEN)
    savers = {
        "jpg": image.jpegsave_buffer,
        "png": image.pngsave_buffer,
        "webp": image.webpsave_buffer,
        "gif": image.gifsave_buffer,
        "tiff": image.tiffsave_buffer,
        "avif": lambda: image.heifsave_buffer(compression="av1"),
    }
    return bytes(savers[fmt]())


@pytest.mark.parametrize("fmt", ["jpg", "png", "webp", "gif", "tiff", "avif"])
def test_no_extension_keeps_the_original_format(fmt: str) -> None:
    source = _encoded(fmt)
    assert format_of(source) == fmt
    result = run("/w_32/folder/original", source)
    assert format_of(result.data) == fmt == result.format
    assert decode(result.data).width == 32


@pytest.mark.parametrize(
    ("accept", "alpha", "fmt"),
    [
        ("image/avif,image/webp,*/*", False, "avif"),
        ("image/avif,image/webp,image/apng,*/*;q=0.8", True, "avif"),
        ("image/webp,*/*", False, "webp"),
        ("image/webp", True, "webp"),
        ("image/avif;q=0,image/webp", False, "webp"),
        (None, False, "jpg"),
        ("*/*", False, "jpg"),
        (None, True, "png"),
        ("text/html,*/*", True, "png"),
    ],
)
def test_f_auto_negotiates(
    camera: bytes, camera_alpha: bytes, accept: str | None, alpha: bool, fmt: str
) -> None:
    result = run("/f_auto,w_64/camera.jpg", camera_alpha if alpha else camera, accept)
    assert format_of(result.data) == fmt == result.format
    assert result.media_type == MEDIA_TYPES[fmt]
    assert result.negotiated


@pytest.mark.parametrize("fmt", ["png", "webp", "avif", "gif", "tiff"])
def test_transparency_survives_in_formats_that_have_alpha(
    half_transparent: bytes, fmt: str
) -> None:
    image = decode(run(f"/w_50/logo.{fmt}", half_transparent).data)
    assert image.hasalpha()
    assert pixel_at(image, 10, 25)[3] == 0
    assert pixel_at(image, 40, 25)[3] == 255


@pytest.mark.parametrize(("alpha", "fmt"), [(False, "jpg"), (True, "png")])
def test_fl_lossy_on_png(camera: bytes, camera_alpha: bytes, alpha: bool, fmt: str) -> None:
    result = run("/w_64,fl_lossy/camera.png", camera_alpha if alpha else camera)
    assert format_of(result.data) == fmt == result.format


# --- fl_getinfo ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("transformation", "fmt"), [("c_fill,w_100,h_50", "png"), ("w_200", "jpg"), ("a_90", "webp")]
)
def test_getinfo_describes_input_and_output(camera: bytes, transformation: str, fmt: str) -> None:
    image_result = run(f"/{transformation}/camera.{fmt}", camera)
    info_result = run(f"/{transformation},fl_getinfo/camera.{fmt}", camera)
    assert info_result.media_type == "application/json"
    info = json.loads(info_result.data)
    assert info == info_result.info
    assert info["input"] == {"width": 640, "height": 427, "format": "jpg", "bytes": len(camera)}
    real = decode(image_result.data)
    assert info["output"] == {
        "width": real.width,
        "height": real.height,
        "format": format_of(image_result.data),
        "bytes": len(image_result.data),
    }


# --- bad input ---------------------------------------------------------------------------


def test_random_bytes_are_415() -> None:
    garbage = np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    with pytest.raises(UnsupportedMediaType) as caught:
        run("/w_100/x.jpg", garbage)
    assert caught.value.status == 415


DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "first 200 bytes": lambda data: data[:200],
    # libvips would otherwise render the missing half grey, and pixcast would cache it.
    "cut at half its length": lambda data: data[: len(data) // 2],
    "SOI then zeros": lambda data: data[:2] + bytes(len(data) - 2),
    "PNG signature on JPEG bytes": lambda data: b"\x89PNG\r\n\x1a\n" + data[8:400],
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_broken_images_are_4xx_not_raw_pyvips_errors(photo: bytes, damage: str) -> None:
    data = DAMAGE[damage](photo)
    with pytest.raises(PixcastError) as caught:
        run("/w_100/x.jpg", data)
    assert 400 <= caught.value.status < 500
    assert not isinstance(caught.value, pyvips.Error)


@pytest.mark.parametrize("declare", [png_declaring, jpeg_declaring])
def test_huge_declared_image_is_413_quickly(declare: Callable[[int, int], bytes]) -> None:
    data = declare(30000, 30000)
    header = pyvips.Image.new_from_buffer(data, "")
    assert (header.width, header.height) == (30000, 30000), "the patched header is readable"
    started = time.perf_counter()
    with pytest.raises(PayloadTooLarge) as caught:
        run("/w_100/huge.png", data)
    assert time.perf_counter() - started < 1.0
    assert caught.value.status == 413


@pytest.mark.parametrize(
    ("limits", "transformation", "error"),
    [
        (Limits(max_source_pixels=200_000), "w_100", PayloadTooLarge),
        (Limits(max_output_side=500), "w_600", BadRequest),
        (Limits(max_output_side=500), "c_pad,w_100,h_501", BadRequest),
        (Limits(max_dpr=2.0), "w_100,dpr_3.0", BadRequest),
    ],
)
def test_limits_are_enforced(
    camera: bytes, limits: Limits, transformation: str, error: type[PixcastError]
) -> None:
    with pytest.raises(error):
        run(f"/{transformation}/camera.jpg", camera, limits=limits)
    # The same request within the default limits renders.
    assert run(f"/{transformation}/camera.jpg", camera).data


@pytest.mark.parametrize(
    ("transformation", "words"),
    [
        ("w_20000", "limit"),
        ("c_fill,w_100,h_20000", "limit"),
        ("w_100,dpr_5.0", "dpr"),
        ("c_fill,g_face,w_100,h_100", "detector"),
        ("c_thumb,g_faces,w_100,h_100", "detector"),
        ("c_scale,g_auto,w_100", "c_scale"),
        ("c_fit,g_auto,w_100,h_100", "c_fit"),
        ("c_fill_pad,g_auto,w_100,h_100", "detector"),
    ],
)
def test_impossible_requests_are_400(camera: bytes, transformation: str, words: str) -> None:
    with pytest.raises(BadRequest) as caught:
        run(f"/{transformation}/camera.jpg", camera)
    assert caught.value.status == 400
    assert words in caught.value.message
