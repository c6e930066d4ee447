"""The layer grammar: sub-chains, round trips, and what Cloudinary's own SDK writes."""

from __future__ import annotations

from urllib.parse import quote

from cloudinary.utils import generate_transformation_string, process_layer
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.grammar import canonical, parse_steps, parse_url
from transforms.model import Compass, CropMode, Flag, Layer, LayerKind, Length, Step

_MAIN = st.sampled_from(["c_fill,w_300,h_200", "e_sepia", "a_90", "w_0.5", "b_white"])
_SOURCE = st.sampled_from(
    ["l_logo", "u_bg", "l_docs:sub:badge.png", "l_text:Arial_30_bold:Hi%252C%20there",
     "u_text:DejaVu%20Sans_12_italic_right:x%252Fy", "l_fetch:aHR0cHM6Ly9leGFtcGxlLm9yZy9hLnBuZw"]
)  # fmt: skip
_HEAD = st.sampled_from(["co_red", "b_blue", "w_40", "c_scale", "o_50", "g_north", "fl_relative"])
_INNER = st.sampled_from(
    ["c_scale,w_0.3", "e_grayscale", "r_max", "a_45", "c_thumb,g_face,w_50", "o_30",
     "c_scale,fl_region_relative,w_1.3", "bo_2px_solid_red"]
)  # fmt: skip
_APPLY = st.sampled_from(
    ["g_south_east", "x_10", "y_-0.25", "fl_tiled", "fl_no_overflow", "fl_cutter",
     "fl_relative", "g_faces", "w_1.0", "c_fill", "fl_text_disallow_overflow", "o_40"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_MAIN, max_size=2),
    _SOURCE,
    st.lists(_HEAD, max_size=2, unique=True),
    st.lists(_INNER, max_size=3),
    st.lists(_APPLY, max_size=3, unique=True),
    st.lists(_MAIN, max_size=2),
)
def test_closed_layers_round_trip(
    before: list[str],
    source: str,
    head: list[str],
    inner: list[str],
    apply: list[str],
    after: list[str],
) -> None:
    components = [*before, ",".join([source, *head]), *inner]
    components += [",".join(["fl_layer_apply", *apply]), *after]
    parsed = parse_url("/" + "/".join(components) + "/x.jpg")
    layers = parsed.layers
    assert len(layers) == 1
    assert len(layers[0].steps) == len(inner) and layers[0].apply is not None
    assert len(parsed.steps) == len(before) + 1 + len(after)
    assert parse_url(canonical(parsed)) == parsed
    assert canonical(parse_url(canonical(parsed))) == canonical(parsed)


_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="%$"),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_text_escaped_by_the_cloudinary_sdk_reads_back_exactly(text: str) -> None:
    """pycloudinary escapes `,` and `/` twice (`%252C`) and everything else once."""
    value = process_layer({"text": text, "font_family": "Arial", "font_size": 20}, "overlay")
    parsed = parse_url(f"/l_{value}/x.jpg")
    assert parsed.layers[0].source == text
    assert parse_url(canonical(parsed)) == parsed


@settings(max_examples=100, deadline=None)
@given(st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=30))
def test_fetch_urls_encoded_by_the_cloudinary_sdk_read_back(path: str) -> None:
    url = "https://example.org/" + quote(path)
    parsed = parse_url(f"/l_{process_layer({'url': url}, 'overlay')}/x.jpg")
    assert parsed.layers[0] == Layer(LayerKind.FETCH, url)


def test_sdk_transformation_strings_parse() -> None:
    text, _ = generate_transformation_string(
        overlay={"public_id": "docs/logo"}, gravity="south_east", x=10, crop="scale", width=50
    )
    assert parse_steps(text) == (
        Step(layer=Layer(LayerKind.IMAGE, "docs/logo", head=Step(
            crop=CropMode.SCALE, gravity=Compass.SOUTH_EAST, width=Length(50), x=Length(10)))),
    )  # fmt: skip


def test_a_layer_without_layer_apply_applies_in_its_own_component() -> None:
    steps = parse_steps("l_logo,g_north/e_sepia")
    assert steps[0].layer == Layer(LayerKind.IMAGE, "logo", head=Step(gravity=Compass.NORTH))
    assert steps[1].effect is not None and len(steps) == 2


def test_a_new_layer_leaves_the_open_one_applied_in_its_component() -> None:
    """No nesting: `l_b` while `l_a` is open applies `a` where it is written, and the
    components between go back to the main chain."""
    steps = parse_steps("l_a/e_sepia/l_b/w_10/fl_layer_apply")
    assert [s.layer.source if s.layer else "step" for s in steps] == ["a", "step", "b"]
    assert steps[2].layer is not None and steps[2].layer.steps == (Step(width=Length(10)),)


def test_repeated_flags_in_one_component_add_up() -> None:
    steps = parse_steps("l_a/fl_layer_apply,fl_tiled,fl_no_overflow")
    assert steps[0].layer is not None and steps[0].layer.apply == Step(
        flags=(Flag("no_overflow"), Flag("tiled"))
    )


def test_layer_chain_places_with_the_apply_component() -> None:
    layer = parse_steps("l_a,g_north/c_crop,g_east,x_5,w_10/fl_layer_apply,g_south,x_3,c_fill")[
        0
    ].layer
    assert layer is not None
    assert layer.placement.gravity is Compass.SOUTH and layer.placement.x == Length(3)
    # The layer's own chain keeps its crops' gravities and drops the placement's.
    assert layer.chain[0].gravity is Compass.NORTH and layer.chain[1].x == Length(5)
    assert layer.chain[2] == Step(crop=CropMode.FILL)
