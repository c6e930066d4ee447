"""Validation as you type: explanations, canonical forms, and where each error points."""

from __future__ import annotations

import pytest

from server.playground.explain import Invalid, explain

NAMED = {"avatar": "c_thumb,g_center,w_150,h_150/r_max"}


@pytest.mark.parametrize(
    ("text", "canonical", "tidy"),
    [
        ("", "", ""),
        ("  /c_fill,w_300,h_200/ ", "c_fill,h_200,w_300", "c_fill,h_200,w_300"),
        ("w_300,c_fill/e_sepia:50/q_auto/f_auto", "c_fill,w_300/e_sepia:50/q_auto:good/f_auto",
         "c_fill,w_300/e_sepia:50/q_auto:good/f_auto"),
        ("t_avatar,e_blur", "c_thumb,g_center,h_150,w_150/r_max/e_blur", "e_blur,t_avatar"),
        ("dpr_2,w_100", "dpr_2.0,w_100", "dpr_2.0,w_100"),
    ],
)  # fmt: skip
def test_canonical_and_tidy_forms(text: str, canonical: str, tidy: str) -> None:
    found = explain(text, NAMED, 4.0)
    assert (found.canonical, found.tidy) == (canonical, tidy)


@pytest.mark.parametrize(
    ("text", "offending", "message"),
    [
        ("c_fill,w_abc,h_200", "w_abc", "Invalid width in transformation: abc"),
        ("c_fill/e_sepia:500", "e_sepia:500", "Invalid level for effect sepia: 500"),
        ("c_nope,w_10", "c_nope", "Invalid crop mode in transformation: nope"),
        ("w_10/zz_1", "zz_1", "Invalid transformation parameter: zz_1"),
        ("w_10,fill", "fill", "Invalid transformation parameter: fill"),
        ("w_10,dpr_5", "dpr_5", "Invalid dpr in transformation: 5 (at most 4)"),
        ("t_missing", "t_missing", "Invalid named transformation: missing"),
        ("c_fill,,w_3", ",", "empty parameter"),
        ("c_fill//w_3", "/", "empty component"),
    ],
)  # fmt: skip
def test_errors_point_at_the_offending_parameter(text: str, offending: str, message: str) -> None:
    with pytest.raises(Invalid) as caught:
        explain(text, NAMED, 4.0)
    span = caught.value.span
    assert span is not None
    assert text[span.start : span.end] == offending
    assert message in caught.value.message


def test_component_index_of_the_error() -> None:
    with pytest.raises(Invalid) as caught:
        explain("c_fill,w_300/e_grayscale/h_0", NAMED, 4.0)
    assert caught.value.span is not None
    assert caught.value.span.component == 2


def test_every_parameter_is_explained_in_the_order_pixcast_applies_it() -> None:
    found = explain("o_50,e_grayscale,a_90,w_300,c_fill,r_max,b_white", NAMED, 4.0)
    fields = [param.field for param in found.components[0].params]
    assert fields == ["crop", "width", "angles", "effect", "radius", "opacity", "background"]
    texts = {param.field: param.explanation for param in found.components[0].params}
    assert texts["crop"].startswith("Crop mode fill: scale to cover the whole box")
    assert texts["width"] == "Width 300 px."
    assert texts["angles"] == "Rotate 90° clockwise."
    assert "circle" in texts["radius"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("w_0.5", "Width 0.5 times the input's width."),
        ("h_ih", "Height the original's height."),
        ("g_face", "Gravity face: centre the crop on the largest detected face; north when "
                   "there is none."),
        ("g_north_east", "Gravity north_east: keep the north east of the image."),
        ("ar_16:9", "Aspect ratio 16:9 = 1.78 (width ÷ height, landscape)."),
        ("q_auto:eco", "Quality chosen automatically (eco): JPEG 70, WebP 68, AVIF 48, "
                       "JPEG-XL 65."),
        ("q_60:444", "Quality 60 of 100 (higher is sharper and larger), without chroma "
                     "subsampling (4:4:4, crisper colour edges)."),
        ("f_avif", "Deliver as AVIF (smallest, slowest to encode)."),
        ("r_10:20", "Round the corners: top-left 10 px, top-right 20 px, bottom-right 10 px, "
                    "bottom-left 20 px."),
        ("e_sepia:50", "Effect sepia: tint the image brown like an old photograph; level 50 "
                       "(an integer from 1 to 100)."),
        ("e_sepia", "Effect sepia: tint the image brown like an old photograph; level 80 by "
                    "default."),
        ("fl_lossy", "Flag lossy: deliver a PNG without transparency as JPEG, which is much "
                     "smaller."),
    ],
)  # fmt: skip
def test_explanations(text: str, expected: str) -> None:
    assert explain(text, NAMED, 4.0).components[0].params[0].explanation == expected


def test_named_transformation_shows_its_expansion() -> None:
    param = explain("t_avatar", NAMED, 4.0).components[0].params[0]
    assert param.field is None
    assert param.expands_to == "c_thumb,g_center,h_150,w_150/r_max"
    assert param.explanation == (
        "Named transformation avatar: c_thumb,g_center,h_150,w_150 then r_max."
    )


def test_a_repeated_parameter_says_that_only_the_last_counts() -> None:
    params = explain("w_300,w_200", NAMED, 4.0).components[0].params
    assert "only the last counts" not in params[0].explanation
    assert "only the last counts" in params[1].explanation


def test_too_many_components() -> None:
    with pytest.raises(Invalid, match="Too many chained transformations"):
        explain("/".join(["w_10"] * 60), NAMED, 4.0)


def test_every_effect_in_the_registry_is_explained() -> None:
    from transforms.effects import REGISTRY

    for name, spec in REGISTRY.items():
        if ":" in name or any(param.required for param in spec.params):
            continue  # a form (`distort:arc`) or an effect that needs values: below
        text = explain(f"e_{name}", NAMED, 4.0).components[0].params[0].explanation
        assert text.startswith(f"Effect {name}: ")
    text = explain("e_replace_color:blue", NAMED, 4.0).components[0].params[0].explanation
    assert text.startswith("Effect replace_color: replace one colour with another; to_color blue")
