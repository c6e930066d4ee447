"""Effects: declared parameters (ranges, defaults, canonical forms) and, per effect, the
property a viewer would see on a generated image, rendered through the whole pipeline.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
import pyvips
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.transforms.imaging import (
    BLUE,
    GREEN,
    GREY,
    RED,
    WHITE,
    Pixels,
    decode,
    from_array,
    hue_degrees,
    mean_colour,
    noise,
    pixels,
    png,
    quadrants,
    run,
    soft_edge,
    solid,
)
from transforms.effects import REGISTRY, parse_effect
from transforms.effects.params import Int
from transforms.effects.regions import FACE_EFFECTS
from transforms.errors import BadRequest, PixcastError
from transforms.grammar import canonical, parse_url
from transforms.model import Effect

# --- sources and helpers -----------------------------------------------------------------

# Face effects need the face detector; tests/focus covers them with real detections.
_PLAIN = {name: spec for name, spec in REGISTRY.items() if name not in FACE_EFFECTS}


def ramp(height: int = 4) -> pyvips.Image:
    """A grey ramp: the pixel at x has the value x (0-255) in every channel."""
    line = pyvips.Image.xyz(256, height).extract_band(0).cast("uchar")
    return line.bandjoin([line, line]).copy(interpretation="srgb")


def cutout(size: int = 60, inset: int = 20, colour: tuple[int, ...] = BLUE) -> pyvips.Image:
    """A transparent canvas with an opaque square of `colour` in the middle."""
    image = solid(size, size, (0, 0, 0, 0))
    inner = size - 2 * inset
    return image.draw_rect([*colour, 255], inset, inset, inner, inner, fill=True)


def framed(border: tuple[int, ...], inner: tuple[int, ...], size: int = 60, width: int = 10):
    image = solid(size, size, border)
    return image.draw_rect(list(inner), width, width, size - 2 * width, size - 2 * width,
                           fill=True)  # fmt: skip


def render(transformation: str, image: pyvips.Image) -> Pixels:
    """Render `transformation` on `image` as PNG; height x width x bands (int)."""
    return pixels(decode(run(f"/{transformation}/x.png", png(image)).data)).astype(int)


def spread(values: Pixels) -> int:
    """Largest difference between the channels of one pixel."""
    return int((values[..., :3].max(axis=2) - values[..., :3].min(axis=2)).max())


def hue_of(values: Pixels) -> float:
    return hue_degrees(mean_colour(values[..., :3]))


def hue_distance(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


def edge_step(values: Pixels) -> float:
    return float(np.abs(np.diff(values[..., 0].astype(float), axis=1)).max())


# --- declarations ------------------------------------------------------------------------

PARSED = [
    ("sepia", Effect("sepia")),
    ("sepia:050", Effect("sepia", ("50",))),
    ("contrast:50", Effect("contrast", ("50",))),
    ("contrast:level_150;type_linear", Effect("contrast", ("level_150;type_linear",))),
    ("contrast:type_linear;level_150", Effect("contrast", ("level_150;type_linear",))),
    ("contrast:type_linear", Effect("contrast", ("type_linear",))),
    ("improve:indoor:40", Effect("improve", ("indoor", "40"))),
    ("improve:40", Effect("improve", ("40",))),
    ("tint:100:red:blue:yellow", Effect("tint", ("100", "red", "blue", "yellow"))),
    ("tint:equalize:80:red:50p:rgb:00F:60p", Effect("tint", ("equalize", "80", "red", "50p",
                                                             "rgb:00f", "60p"))),
    ("replace_color:maroon:80:2b38aa", Effect("replace_color", ("maroon", "80", "rgb:2b38aa"))),
    ("trim:25:white", Effect("trim", ("25", "white"))),
    ("trim:rgb:ff0000", Effect("trim", ("rgb:ff0000",))),
    ("outline:inner_fill:10:200", Effect("outline", ("inner_fill", "10", "200"))),
    ("outline:8", Effect("outline", ("8",))),
    ("gradient_fade:symmetric_pad", Effect("gradient_fade", ("symmetric_pad",))),
    ("cartoonify:30:bw", Effect("cartoonify", ("30", "bw"))),
    ("shear:20.0:-10.5", Effect("shear", ("20", "-10.5"))),
    ("distort:40:25:280:60:260:155:35:165",
     Effect("distort", ("40", "25", "280", "60", "260", "155", "35", "165"))),
    ("distort:arc:-90", Effect("distort:arc", ("-90",))),
    ("ordered_dither:18", Effect("ordered_dither", ("18",))),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_parse_and_canonical_form(text: str, expected: Effect) -> None:
    assert parse_effect(text) == expected
    url = canonical(parse_url(f"/e_{text}/x.jpg"))
    assert parse_url(url).steps[0].effect == expected


REFUSED = [
    ("gamma:151", "Invalid level for effect gamma: 151 (expected an integer from -50 to 150)"),
    ("contrast:level_0;type_linear", "Invalid level for effect contrast: 0 (expected an "
                                     "integer from 1 to 200)"),
    ("contrast:level_150", "Invalid level for effect contrast: 150"),
    ("contrast:level_50;kind_linear", "Invalid level for effect contrast: level_50;kind_linear"),
    ("improve:sideways", "Invalid mode for effect improve: sideways (expected indoor or outdoor)"),
    ("improve:outdoor:101", "Invalid blend for effect improve: 101"),
    ("tint:60:red:150p", "Invalid position1 for effect tint: 150p"),
    ("tint:60:notacolour", "Invalid color1 for effect tint: notacolour"),
    ("replace_color", "Missing to_color for effect replace_color"),
    ("replace_color:blue:101", "Invalid tolerance for effect replace_color: 101"),
    ("trim:10:rgb:12345", "Invalid color for effect trim: rgb:12345"),
    ("outline:middle", "Invalid mode for effect outline: middle"),
    ("outline:outer:0", "Invalid width for effect outline: 0 (expected an integer from 1 to 100)"),
    ("shear:360:0", "Invalid x for effect shear: 360 (expected a number from -359 to 359)"),
    ("distort:1:2:3:4", "Missing x3 for effect distort"),
    ("distort:arc", "Missing degrees for effect distort:arc"),
    ("distort:arc:400", "Invalid degrees for effect distort:arc: 400"),
    ("ordered_dither:19", "Invalid level for effect ordered_dither: 19"),
    ("opacity_threshold:0", "Invalid level for effect opacity_threshold: 0"),
    ("blur:1:2", "Too many values for effect blur: 2"),
    ("cartoonify:50:color", "Invalid reduction for effect cartoonify: color"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), REFUSED)
def test_refusals_name_effect_and_parameter(text: str, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_url(f"/e_{text}/x.jpg")
    assert caught.value.message.startswith(message), caught.value.message


_RANGED = [
    (name, param)
    for name, spec in sorted(_PLAIN.items())
    for param in spec.params
    if isinstance(param, Int)
    and param.by is None
    and not param.name[-1].isdigit()
    and not any(p.required for p in spec.params)
]


@pytest.mark.parametrize(("name", "param"), _RANGED, ids=[f"{n}-{p.name}" for n, p in _RANGED])
def test_every_range_is_enforced_at_both_ends(name: str, param: Int) -> None:
    # The verbose form names the parameter, so each one is reached on its own. A `floor`
    # admits values below `low` (read as `low`), so the lowest refused one is below it.
    lowest = param.low if param.floor is None else param.floor
    for outside in (lowest - 1, param.high + 1):
        with pytest.raises(BadRequest, match=f"Invalid {param.name} for effect {name}: "):
            parse_effect(f"{name}:{param.name}_{outside}{param.suffix}")
    for inside in (param.low, param.high):
        parse_effect(f"{name}:{param.name}_{inside}{param.suffix}")


_DEFAULTED = [
    (name, spec.params[0].default)
    for name, spec in sorted(_PLAIN.items())
    if spec.params and isinstance(spec.params[0], Int) and spec.params[0].default is not None
]


@pytest.fixture(scope="module")
def busy() -> pyvips.Image:
    """Noise over a ramp, with an alpha band that varies: every effect changes something."""
    base = noise(48, 40, seed=3, bands=4).linear([0.5, 0.5, 0.5, 1], [64, 32, 96, 0])
    return base.cast("uchar").copy(interpretation="srgb")


@pytest.mark.parametrize(("name", "default"), _DEFAULTED, ids=[n for n, _ in _DEFAULTED])
def test_defaults_are_applied(busy: pyvips.Image, name: str, default: object) -> None:
    implicit = render(f"e_{name}", busy)
    explicit = render(f"e_{name}:{default}", busy)
    assert np.array_equal(implicit, explicit)


# Their defaults leave an image as it is, as in Cloudinary (level 0, a uniform-free border).
_NEUTRAL = {"red", "green", "blue", "gamma", "contrast", "trim"}


def test_effects_without_values_change_the_image(busy: pyvips.Image) -> None:
    original = render("c_scale,w_1.0", busy)
    for name, spec in _PLAIN.items():
        if any(p.required for p in spec.params) or name in _NEUTRAL:
            continue
        found = render(f"e_{name}", busy)
        assert found.shape != original.shape or not np.array_equal(found, original), name


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcdeilnoprstuwy_:;0123456789-.p", max_size=40))
def test_arbitrary_effect_values_raise_only_bad_request(text: str) -> None:
    with contextlib.suppress(BadRequest):
        effect = parse_effect(text)
        assert parse_effect(":".join((effect.name, *effect.arguments))) == effect


def test_unknown_effect_lists_the_known_ones() -> None:
    with pytest.raises(PixcastError, match=r"Invalid effect: wobble .*vignette"):
        parse_effect("wobble")


# --- colour ------------------------------------------------------------------------------

COLOURFUL = quadrants(64, 64, (RED, GREEN, BLUE, (230, 160, 40)))


@pytest.mark.parametrize("effect", ["e_grayscale", "e_blackwhite", "e_blackwhite:80",
                                    "e_cartoonify:50:bw"])  # fmt: skip
def test_grey_effects_make_equal_channels(effect: str) -> None:
    values = render(effect, COLOURFUL)
    assert values[..., :3].max() > 0
    assert spread(values) <= 1


@pytest.mark.parametrize(("threshold", "white"), [(0, 255), (20, 204), (50, 127), (80, 51),
                                                  (100, 0)])  # fmt: skip
def test_blackwhite_threshold_sets_the_share_of_white(threshold: int, white: int) -> None:
    values = render(f"e_blackwhite:{threshold}", ramp())
    assert set(np.unique(values[..., :3])) <= {0, 255}
    assert abs(int((values[0, :, 0] == 255).sum()) - white) <= 1


@pytest.mark.parametrize(("level", "low", "high"), [("", 20, 50), (":30", 20, 50)])
def test_sepia_mean_hue_is_brown(level: str, low: float, high: float) -> None:
    mean = mean_colour(render(f"e_sepia{level}", COLOURFUL.colourspace("b-w").colourspace("srgb")))
    assert low <= hue_degrees(mean) <= high


def test_negate_inverts() -> None:
    source = noise(30, 30, seed=5)
    assert np.array_equal(render("e_negate", source), 255 - pixels(source).astype(int))


@pytest.mark.parametrize(("level", "expected"), [("50", 90), ("-50", 270), ("100", 180),
                                                 ("", 144), ("0", 0)])  # fmt: skip
def test_hue_rotates_red(level: str, expected: float) -> None:
    suffix = f":{level}" if level else ""
    values = render(f"e_hue{suffix}", solid(16, 16, RED))
    assert hue_distance(hue_of(values), expected) <= 3


@pytest.mark.parametrize(("effect", "band", "factor"), [("red:50", 0, 1.5), ("green:-50", 1, 0.5),
                                                        ("blue:20", 2, 1.2)])  # fmt: skip
def test_channel_effects_scale_one_channel(effect: str, band: int, factor: float) -> None:
    source = solid(8, 8, (100, 100, 100))
    found = mean_colour(render(f"e_{effect}", source))
    assert abs(found[band] - 100 * factor) <= 1
    assert all(abs(found[b] - 100) <= 1 for b in range(3) if b != band)


def _chroma(values: Pixels) -> float:
    image = from_array(values[..., :3].astype(np.uint8)).colourspace("lch")
    return float(pixels(image.extract_band(1).cast("uchar")).mean())


@pytest.mark.parametrize("strength", ["", ":60"])
def test_vibrance_lifts_dull_colours_more_than_vivid_ones(strength: str) -> None:
    dull, vivid = solid(8, 8, (140, 120, 110)), solid(8, 8, (230, 40, 30))
    dull_gain = _chroma(render(f"e_vibrance{strength}", dull)) / _chroma(pixels(dull))
    vivid_gain = _chroma(render(f"e_vibrance{strength}", vivid)) / _chroma(pixels(vivid))
    assert dull_gain > vivid_gain >= 1.0
    assert dull_gain > 1.1


def test_negative_vibrance_dulls() -> None:
    source = solid(8, 8, (140, 120, 110))
    assert _chroma(render("e_vibrance:-100", source)) < _chroma(pixels(source)) / 2


@pytest.mark.parametrize(("qualifiers", "target"), [("co_rgb:20a020", (32, 160, 32)),
                                                    ("co_red", RED), ("", GREY)])  # fmt: skip
def test_colorize_moves_towards_the_colour(qualifiers: str, target: tuple[int, ...]) -> None:
    step = ",".join(p for p in ("e_colorize:50", qualifiers) if p)
    source = noise(32, 32, seed=2)
    before, after = pixels(source).astype(int), render(step, source)
    distance_before = np.abs(before - target).mean()
    assert np.abs(after - target).mean() < distance_before * 0.6
    full = render(step.replace(":50", ""), source)
    assert np.abs(full - target).max() <= 1, "level 100 (the default) is the flat colour"


def test_tint_red_reddens_the_mid_tones() -> None:
    found = render("e_tint:100:red", ramp())
    middle, black, white = found[0, 128], found[0, 0], found[0, 255]
    assert middle[0] > 200 and middle[1] < 30 and middle[2] < 30
    assert black.max() <= 1 and white.min() >= 254


@pytest.mark.parametrize(("amount", "redness"), [("", 0.6), ("30", 0.3), ("0", 0.0)])
def test_tint_amount_blends(amount: str, redness: float) -> None:
    step = f"e_tint:{amount}:red" if amount else "e_tint"
    middle = render(step, ramp())[0, 128]
    assert abs((middle[0] - middle[1]) / 255 - redness * 0.98) < 0.05, middle


def test_tint_with_several_colours_is_a_gradient_map() -> None:
    found = render("e_tint:100:blue:yellow:red:90p", ramp())
    assert tuple(found[0, 0, :3]) == BLUE
    assert abs(found[0, 229, 0] - 255) <= 2 and found[0, 229, 1:3].max() <= 2
    assert found[0, 115, 0] > 200 and found[0, 115, 1] > 200 and found[0, 115, 2] < 60


def test_tint_equalize_spreads_a_narrow_range() -> None:
    narrow = ramp().linear(0.2, 100).cast("uchar")
    plain = render("e_tint:100:black:white", narrow)
    equalized = render("e_tint:equalize:100:black:white", narrow)
    assert np.ptp(equalized[..., 0]) > 200 > np.ptp(plain[..., 0])


def _red_on_white() -> pyvips.Image:
    shaded = solid(40, 40, WHITE).draw_rect([220, 20, 30], 10, 10, 20, 20, fill=True)
    return shaded.draw_rect([160, 10, 20], 10, 10, 20, 5, fill=True)


@pytest.mark.parametrize("step", ["e_replace_color:blue:50:red", "e_replace_color:blue",
                                  "e_replace_color:0000ff:40:dc141e"])  # fmt: skip
def test_replace_color_recolours_the_red_and_keeps_the_rest(step: str) -> None:
    found = render(step, _red_on_white())
    square = found[20, 20]
    assert square[2] > square[0] + 60, square
    assert tuple(found[2, 2, :3]) == WHITE
    assert found[12, 20].sum() < square.sum() - 30, "the darker band stays darker"


def test_replace_color_tolerance_zero_changes_nothing_else() -> None:
    found = render("e_replace_color:blue:0:rgb:ff0000", _red_on_white())
    assert np.array_equal(found, pixels(_red_on_white()).astype(int))


# --- tone --------------------------------------------------------------------------------


@pytest.mark.parametrize(("effect", "brighter"), [("brightness:50", True),
                                                  ("brightness:-50", False),
                                                  ("brightness_hsb:50", True),
                                                  ("brightness_hsb:-50", False)])  # fmt: skip
def test_brightness_moves_the_mean(effect: str, brighter: bool) -> None:
    source = solid(8, 8, (120, 80, 40))
    before, after = mean_colour(pixels(source)), mean_colour(render(f"e_{effect}", source))
    assert (sum(after) > sum(before) + 60) if brighter else (sum(after) < sum(before) - 60)


def test_brightness_hsb_keeps_the_hue() -> None:
    source = solid(8, 8, (120, 80, 40))
    assert hue_distance(hue_of(render("e_brightness_hsb:60", source)), hue_of(pixels(source))) < 3


@pytest.mark.parametrize(("effect", "low", "high"), [
    ("contrast:50", 1.3, 1.7), ("contrast:-50", 0.5, 0.8), ("contrast:0", 1.0, 1.0),
    ("contrast", 1.0, 1.0), ("contrast:level_150;type_linear", 1.45, 1.55),
    ("contrast:type_linear", 1.0, 1.0), ("contrast:level_50;type_linear", 0.45, 0.55),
])  # fmt: skip
def test_contrast_scales_the_spread_around_mid_grey(effect: str, low: float, high: float) -> None:
    source = ramp().linear(0.5, 64).cast("uchar")
    before = float(pixels(source)[..., 0].std())
    after = float(render(f"e_{effect}", source)[..., 0].std())
    assert low - 0.01 <= after / before <= high + 0.01, after / before


def test_sigmoidal_contrast_keeps_black_white_and_mid_grey() -> None:
    found = render("e_contrast:100", ramp())[0, :, 0]
    assert (found[0], found[255]) == (0, 255)
    assert abs(found[128] - 128) <= 1
    assert found[64] < 40 and found[192] > 215


@pytest.mark.parametrize(("level", "mid"), [("100", 181), ("-50", 64), ("0", 128), ("", 128)])
def test_gamma_moves_mid_tones_not_black_or_white(level: str, mid: int) -> None:
    found = render(f"e_gamma:{level}" if level else "e_gamma", ramp())[0, :, 0]
    assert (found[0], found[255]) == (0, 255)
    assert abs(found[128] - mid) <= 1


def _dim() -> pyvips.Image:
    return noise(40, 40, seed=4).linear([0.15, 0.15, 0.2], [20, 20, 40]).cast("uchar")


@pytest.mark.parametrize(("blend", "low", "high"), [("", 110, 150), (":50", 65, 95), (":0", 0, 55)])
def test_auto_brightness_brings_the_mean_towards_mid_grey(blend: str, low: float, high: float):
    assert low <= render(f"e_auto_brightness{blend}", _dim())[..., :3].mean() <= high


@pytest.mark.parametrize("effect", ["e_auto_contrast", "e_improve", "e_improve:outdoor:100"])
def test_stretching_effects_reach_black_and_white(effect: str) -> None:
    found = render(effect, _dim())
    assert np.percentile(found[..., :3], 1) <= 12 and np.percentile(found[..., :3], 99) >= 243


def test_auto_contrast_blend_zero_is_the_original() -> None:
    assert np.array_equal(render("e_auto_contrast:0", _dim()), pixels(_dim()).astype(int))


@pytest.mark.parametrize("effect", ["e_auto_color", "e_improve", "e_improve:indoor"])
def test_colour_balancing_removes_a_cast(effect: str) -> None:
    cast = noise(40, 40, seed=6).linear([0.5, 0.5, 0.3], [20, 40, 170]).cast("uchar")
    before = mean_colour(pixels(cast))
    after = mean_colour(render(effect, cast))
    assert max(after) - min(after) < (max(before) - min(before)) / 3, (before, after)


def test_improve_indoor_brightens_a_dim_photo() -> None:
    assert render("e_improve:indoor", _dim())[..., :3].mean() > 100


@pytest.mark.parametrize("effect", ["e_fill_light", "e_fill_light:100:100", "e_fill_light:70:-100"])
def test_fill_light_lifts_shadows_more_than_highlights(effect: str) -> None:
    found = render(effect, ramp())[0, :, 0]
    lift = found - np.arange(256)
    assert (found[0], found[255]) == (0, 255)
    assert lift[60] > 15 and lift[60] > lift[220] + 10
    assert (np.diff(found) >= 0).all(), "the curve never inverts tones"


def test_fill_light_bias_moves_the_lift_to_the_mid_tones() -> None:
    broad = render("e_fill_light:100:100", ramp())[0, :, 0] - np.arange(256)
    deep = render("e_fill_light:100:-100", ramp())[0, :, 0] - np.arange(256)
    assert broad[160] > deep[160] + 20


@pytest.mark.parametrize("level", ["", ":50", ":100"])
def test_vignette_darkens_the_corners_not_the_centre(level: str) -> None:
    found = render(f"e_vignette{level}", solid(80, 60, (200, 180, 160)))
    assert tuple(found[30, 40, :3]) == (200, 180, 160)
    for y, x in ((0, 0), (0, 79), (59, 0), (59, 79)):
        assert found[y, x, :3].sum() < 100
    assert found[5, 5, :3].sum() < found[15, 15, :3].sum() <= found[30, 40, :3].sum()


def test_vignette_level_zero_changes_nothing() -> None:
    source = solid(40, 30, (200, 180, 160))
    assert np.array_equal(render("e_vignette:0", source), pixels(source).astype(int))


# --- detail ------------------------------------------------------------------------------


@pytest.mark.parametrize(("effect", "stronger"), [("e_unsharp_mask", "e_unsharp_mask:400"),
                                                  ("e_sharpen", "e_sharpen:1000")])  # fmt: skip
def test_sharpening_raises_edge_contrast(effect: str, stronger: str) -> None:
    source = soft_edge(100, 20, 3.0)
    original = edge_step(pixels(source))
    assert original < edge_step(render(effect, source)) < edge_step(render(stronger, source))


@pytest.mark.parametrize("strength", ["", ":60", ":100"])
def test_oil_paint_removes_speckle_and_keeps_edges(strength: str) -> None:
    speckled = framed((40, 40, 40), (200, 200, 200)).cast("float") + noise(60, 60, seed=8) * 0.2
    source = speckled.cast("uchar").copy(interpretation="srgb")
    found = render(f"e_oil_paint{strength}", source)
    centre = found[25:35, 25:35, 0]
    assert centre.std() < pixels(source)[25:35, 25:35, 0].std() / 2
    assert found[30, 20, 0] - found[30, 5, 0] > 140, "the edge between the areas stays sharp"


def test_cartoonify_flattens_colours_and_draws_lines() -> None:
    source = framed((40, 90, 160), (220, 180, 60), 80, 20).cast("float") + noise(80, 80) * 0.1
    source = source.cast("uchar").copy(interpretation="srgb")
    found = render("e_cartoonify", source)
    colours = {tuple(p) for p in found[30:50, 30:50, :3].reshape(-1, 3)}
    assert len(colours) <= 4 < len({tuple(p) for p in pixels(source)[30:50, 30:50].reshape(-1, 3)})
    assert found[40, 20, :3].max() == 0, "a black line on the edge"
    assert found[40, 40, :3].max() > 100
    assert render("e_cartoonify:0", source)[40, 20, :3].max() > 0, "line 0 draws no lines"


@pytest.mark.parametrize("level", range(19))
def test_ordered_dither_leaves_only_black_and_white(level: int) -> None:
    found = render(f"e_ordered_dither:{level}", ramp(32))
    assert set(np.unique(found[..., :3])) <= {0, 255}
    assert 0.3 < found[..., :3].mean() / 255 < 0.7


@pytest.mark.parametrize("level", [2, 3, 4, 5])
def test_bayer_dither_keeps_the_mean_brightness(level: int) -> None:
    source = ramp(64)
    for left in (32, 96, 160):
        area = render(f"e_ordered_dither:{level}", source)[:, left : left + 48, 0]
        original = pixels(source)[:, left : left + 48, 0]
        assert abs(area.mean() - original.mean()) < 10


def test_ordered_dither_zero_is_a_plain_threshold() -> None:
    found = render("e_ordered_dither", ramp())[0, :, 0]
    assert (found == np.where(np.arange(256) > 127, 255, 0)).all()


@pytest.mark.parametrize(("step", "box"), [
    ("e_blur_region:800,x_10,y_20,w_30,h_15", (10, 20, 30, 15)),
    ("e_blur_region,w_0.5,h_0.5", (0, 0, 30, 25)),
    ("e_pixelate_region:5,x_20,y_10,w_25,h_25", (20, 10, 25, 25)),
    ("e_pixelate_region:5,x_-10,y_40,w_30,h_30", (0, 40, 20, 10)),
])  # fmt: skip
def test_region_effects_change_only_the_region_and_never_resize(
    step: str, box: tuple[int, int, int, int]
) -> None:
    source = noise(60, 50, seed=9)
    found, original = render(step, source), pixels(source).astype(int)
    assert found.shape == original.shape
    left, top, width, height = box
    inside = np.zeros(original.shape[:2], dtype=bool)
    inside[top : top + height, left : left + width] = True
    assert np.array_equal(found[~inside], original[~inside])
    assert found[inside].std() < original[inside].std() * 0.7


@pytest.mark.parametrize("effect", ["e_blur_region", "e_pixelate_region"])
def test_region_effects_without_a_region_cover_the_image(effect: str) -> None:
    source = noise(40, 40, seed=10)
    found = render(effect, source)
    assert found.std() < pixels(source).std() * 0.7


def test_pixelate_region_makes_blocks() -> None:
    found = render("e_pixelate_region:5,x_10,y_10,w_20,h_20", noise(40, 40, seed=11))
    block = found[10:15, 10:15]
    assert (block == block[0, 0]).all()


# --- transparency ------------------------------------------------------------------------


@pytest.mark.parametrize(("step", "clear"), [("co_red,e_make_transparent", RED),
                                             ("e_make_transparent:30,co_rgb:ff0000", RED),
                                             ("e_make_transparent", WHITE)])  # fmt: skip
def test_make_transparent_clears_the_colour(step: str, clear: tuple[int, ...]) -> None:
    source = quadrants(40, 40, (WHITE, RED, (250, 10, 5), BLUE))
    found = render(step, source)
    assert found.shape[2] == 4
    for y, x in ((5, 5), (5, 35), (35, 5), (35, 35)):
        expected = 0 if np.abs(pixels(source)[y, x] - clear).max() <= 12 else 255
        assert found[y, x, 3] == expected, (step, y, x)


def test_make_transparent_tolerance_zero_is_exact() -> None:
    source = quadrants(40, 40, (WHITE, RED, (250, 10, 5), BLUE))
    found = render("co_red,e_make_transparent:0", source)
    assert (found[5, 35, 3], found[35, 5, 3]) == (0, 255)


@pytest.mark.parametrize(("level", "cut"), [("", 128), (":20", 51), (":100", 255)])
def test_opacity_threshold_binarises_alpha(level: str, cut: int) -> None:
    source = ramp().bandjoin(ramp().extract_band(0)).copy(interpretation="srgb")
    found = render(f"e_opacity_threshold{level}", source)
    alpha = found[0, :, 3]
    assert set(np.unique(alpha)) <= {0, 255}
    assert abs(int((alpha == 0).sum()) - cut) <= 1
    assert np.array_equal(found[..., :3], pixels(source)[..., :3].astype(int))


def test_opacity_threshold_leaves_opaque_images_alone() -> None:
    source = noise(20, 20)
    assert np.array_equal(render("e_opacity_threshold", source), pixels(source).astype(int))


@pytest.mark.parametrize(("step", "clear", "opaque"), [
    ("e_gradient_fade", (0, 50), (99, 50)),
    ("e_gradient_fade,y_-0.5", (99, 50), (0, 50)),
    ("e_gradient_fade,x_30", (50, 0), (50, 99)),
    ("e_gradient_fade,x_-0.3", (50, 99), (50, 0)),
    ("e_gradient_fade:symmetric,y_0.3", (0, 50), (50, 50)),
    ("e_gradient_fade:symmetric:50,x_0.2", (50, 99), (50, 50)),
])  # fmt: skip
def test_gradient_fade_fades_the_chosen_edge(
    step: str, clear: tuple[int, int], opaque: tuple[int, int]
) -> None:
    found = render(step, solid(100, 100, (30, 120, 200)))
    assert found[clear[0], clear[1], 3] <= 10
    assert found[opaque[0], opaque[1], 3] == 255
    assert (found[..., :3] == (30, 120, 200)).all()


def test_gradient_fade_strength_shapes_the_ramp() -> None:
    source = solid(100, 100, (30, 120, 200))
    gentle, hard = render("e_gradient_fade:10", source), render("e_gradient_fade:100", source)
    assert hard[25, 50, 3] < gentle[25, 50, 3] - 60
    assert (render("e_gradient_fade:0", source)[..., 3] == 255).all()


def test_gradient_fade_symmetric_pad_lays_the_fade_on_the_background() -> None:
    found = render("b_red,c_pad,w_1.0,e_gradient_fade:symmetric_pad,x_0.3",
                   solid(100, 40, BLUE))  # fmt: skip
    assert np.abs(found[20, 0, :3] - RED).max() <= 8 and tuple(found[20, 50, :3]) == BLUE


# --- shape -------------------------------------------------------------------------------


@pytest.mark.parametrize(("step", "source", "size"), [
    ("e_trim", framed(WHITE, RED), (40, 40)),
    ("e_trim:10:white", framed(WHITE, RED), (40, 40)),
    ("e_trim:10:red", framed(WHITE, RED), (60, 60)),
    ("e_trim", cutout(60, 15), (30, 30)),
    ("e_trim", solid(30, 20, GREEN), (30, 20)),
])  # fmt: skip
def test_trim_removes_a_uniform_border(
    step: str, source: pyvips.Image, size: tuple[int, int]
) -> None:
    found = render(step, source)
    assert (found.shape[1], found.shape[0]) == size
    assert found[size[1] // 2, size[0] // 2, :3].tolist() != [255, 255, 255]


def test_trim_tolerance_accepts_a_noisy_border() -> None:
    border = framed((245, 245, 245), RED).cast("float") + noise(60, 60, seed=12) * 0.04
    source = border.cast("uchar").copy(interpretation="srgb")
    assert render("e_trim:0:rgb:f5f5f5", source).shape[:2] == (60, 60)
    assert render("e_trim:20:rgb:f5f5f5", source).shape[:2] == (40, 40)


@pytest.mark.parametrize(("qualifiers", "size", "shadow_at"), [
    # The shadow is blurred with sigma 4: the canvas holds 12 px around it too.
    ("", (4 + 52 + 8 + 12, 4 + 40 + 8 + 12), (58, 46)),
    (",x_20,y_0", (52 + 20 + 12, 12 + 40 + 12), (66, 32)),
    (",x_-20,y_-10", (32 + 52, 22 + 40 + 2), (20, 30)),
])  # fmt: skip
def test_shadow_extends_the_canvas(
    qualifiers: str, size: tuple[int, int], shadow_at: tuple[int, int]
) -> None:
    found = render(f"co_rgb:102030,e_shadow:80{qualifiers}", solid(52, 40, WHITE))
    assert (found.shape[1], found.shape[0]) == size
    x, y = shadow_at
    assert found[y, x, 3] > 150 and tuple(found[y, x, :3]) == (16, 32, 48)


def test_shadow_strength_and_default_colour() -> None:
    found = render("e_shadow", solid(52, 40, WHITE))
    assert tuple(found[40, 58, :3]) == GREY
    assert 80 <= found[40, 58, 3] <= 103, "40% opaque"
    assert found[10, 10, 3] == 255 and found[0, 75, 3] == 0


def test_shadow_follows_the_shape() -> None:
    found = render("co_black,e_shadow:100,x_10,y_10", cutout(60, 20))
    assert found[35, 35, 3] == 255
    assert found[46, 46, 3] > 200, "under the square's shadow"
    assert found[8, 8, 3] == 0, "the transparent frame casts none"


@pytest.mark.parametrize(("step", "size", "painted", "kept"), [
    # outer modes grow the canvas by width + 1 (6 px): the square is then at 26-45.
    ("co_red,e_outline:outer", 60 + 2 * 6, [(36, 23)], [(36, 36), (36, 27), (36, 17)]),
    ("co_red,e_outline:inner:5", 60, [(30, 21)], [(30, 30), (30, 17)]),
    ("co_red,e_outline", 60 + 2 * 6, [(36, 23), (36, 27)], [(36, 36), (36, 15)]),
    ("co_red,e_outline:inner_fill", 60, [(30, 30), (30, 21)], [(30, 17)]),
    ("co_red,e_outline:fill:5", 60 + 2 * 6, [(36, 36), (36, 23)], [(36, 10)]),
])  # fmt: skip
def test_outline_paints_along_the_shape(
    step: str, size: int, painted: list[tuple[int, int]], kept: list[tuple[int, int]]
) -> None:
    found = render(step, cutout(60, 20))
    assert found.shape[:2] == (size, size)
    for y, x in painted:
        assert tuple(found[y, x]) == (*RED, 255), (y, x)
    for y, x in kept:
        assert tuple(found[y, x]) != (*RED, 255), (y, x)


def test_outline_width_and_default_colour() -> None:
    found = render("e_outline:outer:20", cutout(60, 20))
    margin = 20 + 1
    assert found.shape[0] == 60 + 2 * margin
    assert tuple(found[margin + 30, margin + 2]) == (0, 0, 0, 255), "20 px out, black"
    assert found[margin + 30, 0, 3] == 0


def test_outline_blur_softens_the_line() -> None:
    sharp, soft = render("e_outline:outer:5", cutout()), render("e_outline:outer:5:200", cutout())
    assert set(np.unique(sharp[..., 3])) <= {0, 255}
    assert len(np.unique(soft[..., 3])) > 20


_TAN20, _TAN30 = math.tan(math.radians(20)), math.tan(math.radians(30))


@pytest.mark.parametrize(("step", "width", "height", "clear"), [
    # Corners: top-left, top-right, bottom-left, bottom-right; True where transparent.
    ("e_shear:20:0", 60 + _TAN20 * 40, 40, (False, True, True, False)),
    ("e_shear:0:-30", 60, 40 + _TAN30 * 60, (True, False, False, True)),
    ("e_shear:180:0", 60, 40, (False, False, False, False)),
])  # fmt: skip
def test_shear_skews_and_grows_the_canvas(
    step: str, width: float, height: float, clear: tuple[bool, ...]
) -> None:
    found = render(step, solid(60, 40, RED))
    assert abs(found.shape[1] - width) <= 2 and abs(found.shape[0] - height) <= 2
    corners = (found[0, 0, 3], found[0, -1, 3], found[-1, 0, 3], found[-1, -1, 3])
    assert tuple(bool(alpha < 10) for alpha in corners) == clear, corners


def test_shear_too_far_is_refused() -> None:
    with pytest.raises(BadRequest, match="Effect shear would make an image of"):
        run("/e_shear:89.99:0/x.png", png(solid(60, 40, RED)))


def test_distort_moves_the_corners() -> None:
    source = quadrants(100, 100, (RED, GREEN, BLUE, WHITE))
    found = render("e_distort:10:0:90:20:100:100:0:80", source)
    assert found.shape[:2] == (100, 100)
    for (y, x), colour in (((12, 20), RED), ((25, 80), GREEN), ((75, 20), BLUE),
                           ((80, 80), WHITE)):  # fmt: skip
        assert tuple(found[y, x]) == (*colour, 255), (y, x)
    assert found[2, 95, 3] == 0 and found[97, 3, 3] == 0


def test_distort_canvas_is_the_bounding_box_of_the_corners() -> None:
    found = render("e_distort:40:25:280:60:260:155:35:165", solid(100, 80, RED))
    assert found.shape[:2] == (165 - 25, 280 - 35)


def test_distort_refuses_corners_in_a_line() -> None:
    with pytest.raises(BadRequest, match="Invalid corners for effect distort"):
        run("/e_distort:0:0:50:0:100:0:20:0/x.png", png(solid(40, 40, RED)))


@pytest.mark.parametrize(("degrees", "top_centre_clear"), [("90", False), ("-90", True)])
def test_distort_arc_bends_the_image(degrees: str, top_centre_clear: bool) -> None:
    source = quadrants(120, 40, (RED, GREEN, BLUE, WHITE))
    found = render(f"e_distort:arc:{degrees}", source)
    height, width = found.shape[:2]
    assert width > 100 and height > 40
    assert found[0, 0, 3] == 0 and found[0, width - 1, 3] == 0
    assert (found[1, width // 2, 3] == 0) == top_centre_clear
    assert (found[height - 2, width // 2, 3] == 0) != top_centre_clear
