"""The URL grammar: one table of URL → parsed value, round trips and refusals."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.errors import BadRequest, PixcastError
from transforms.grammar import canonical, parse_steps, parse_url
from transforms.model import (
    AngleMode,
    Colour,
    Compass,
    CropMode,
    Delivery,
    Effect,
    Flag,
    Focus,
    Format,
    Layer,
    LayerKind,
    Length,
    Quality,
    Radius,
    Ratio,
    Step,
    TextStyle,
    Unit,
)

PX = Unit.PIXELS
SE = Compass.SOUTH_EAST

# URL → (steps, public id, extension, delivery, version)
TABLE: list[tuple[str, tuple[Step, ...], str, Format | None, Delivery, int | None]] = [
    ("/c_fill,w_300,h_200/sample.jpg",
     (Step(crop=CropMode.FILL, width=Length(300), height=Length(200)),),
     "sample", Format.JPG, Delivery.UPLOAD, None),
    ("/h_200,c_fill,w_300/sample.jpg",
     (Step(crop=CropMode.FILL, width=Length(300), height=Length(200)),),
     "sample", Format.JPG, Delivery.UPLOAD, None),
    ("/image/upload/c_crop,g_north,w_300/v123/folder/photo.png",
     (Step(crop=CropMode.CROP, gravity=Compass.NORTH, width=Length(300)),),
     "folder/photo", Format.PNG, Delivery.UPLOAD, 123),
    ("/demo/image/upload/w_0.5/e_sepia:50/cat",
     (Step(width=Length(0.5, Unit.RELATIVE)), Step(effect=Effect("sepia", ("50",)))),
     "cat", None, Delivery.UPLOAD, None),
    ("/w_iw,h_ih/x.webp",
     (Step(width=Length(1.0, Unit.INITIAL_WIDTH), height=Length(1.0, Unit.INITIAL_HEIGHT)),),
     "x", Format.WEBP, Delivery.UPLOAD, None),
    ("/ar_16:9,c_fill,w_1.0/x.avif",
     (Step(crop=CropMode.FILL, aspect_ratio=Ratio(16, 9), width=Length(1.0, Unit.RELATIVE)),),
     "x", Format.AVIF, Delivery.UPLOAD, None),
    ("/a_-90,r_max/x.tif", (Step(angles=(270,), radius=Radius(maximum=True)),),
     "x", Format.TIFF, Delivery.UPLOAD, None),
    ("/q_auto:eco,f_auto,fl_progressive:steep.attachment:my_pic/x",
     (Step(quality=Quality(auto="eco"), format=Format.AUTO,
           flags=(Flag("attachment", "my_pic"), Flag("progressive", "steep"))),),
     "x", None, Delivery.UPLOAD, None),
    ("/a_hflip.45,r_10:20,o_50/x.jpeg",
     (Step(angles=(AngleMode.HFLIP, 45), radius=Radius((10, 20)), opacity=50),),
     "x", Format.JPG, Delivery.UPLOAD, None),
    ("/q_60:444/x.jpg", (Step(quality=Quality(level=60, chroma=444)),),
     "x", Format.JPG, Delivery.UPLOAD, None),
    ("/c_crop,g_xy_center,x_0.5,y_-20,w_10,h_10/x.gif",
     (Step(crop=CropMode.CROP, gravity=Compass.XY_CENTER, x=Length(0.5, Unit.RELATIVE),
           y=Length(-20), width=Length(10), height=Length(10)),),
     "x", Format.GIF, Delivery.UPLOAD, None),
    ("/c_thumb,g_face,w_200,h_200/team/alice.jpg",
     (Step(crop=CropMode.THUMB, gravity=Focus("face", "face", fallback="north"),
           width=Length(200), height=Length(200)),),
     "team/alice", Format.JPG, Delivery.UPLOAD, None),
    ("/w_300/caf%C3%A9%20terrace.jpg", (Step(width=Length(300)),),
     "café terrace", Format.JPG, Delivery.UPLOAD, None),
    ("/my_photos/2024/trip.jpg", (), "my_photos/2024/trip", Format.JPG, Delivery.UPLOAD, None),
    ("/sample.jpg", (), "sample", Format.JPG, Delivery.UPLOAD, None),
    ("/v5/archive.v2", (), "archive.v2", None, Delivery.UPLOAD, 5),
    ("/e_grayscale,e_negate/x.jpg", (Step(effect=Effect("negate")),),
     "x", Format.JPG, Delivery.UPLOAD, None),
    # Layers: one Step holding the whole sub-chain.
    ("/l_docs:logo,g_south_east,x_10,y_20,w_50/x.jpg",
     (Step(layer=Layer(LayerKind.IMAGE, "docs/logo", head=Step(
         gravity=SE, x=Length(10), y=Length(20), width=Length(50)))),),
     "x", Format.JPG, Delivery.UPLOAD, None),
    ("/l_badge/c_scale,w_40/fl_layer_apply,g_south_east,x_20,y_-40/x.jpg",
     (Step(layer=Layer(LayerKind.IMAGE, "badge",
                       steps=(Step(crop=CropMode.SCALE, width=Length(40)),),
                       apply=Step(gravity=SE, x=Length(20), y=Length(-40)))),),
     "x", Format.JPG, Delivery.UPLOAD, None),
    ("/u_site_bg/c_fill,fl_layer_apply,fl_relative,h_1.0,w_1.0/x.jpg",
     (Step(layer=Layer(LayerKind.IMAGE, "site_bg", underlay=True, apply=Step(
         crop=CropMode.FILL, flags=(Flag("relative"),), height=Length(1.0, Unit.RELATIVE),
         width=Length(1.0, Unit.RELATIVE)))),),
     "x", Format.JPG, Delivery.UPLOAD, None),
    ("/co_yellow,l_text:Arial_100_bold_italic_letter_spacing_50:Smile%21/fl_layer_apply,g_south"
     "/x.jpg",
     (Step(layer=Layer(LayerKind.TEXT, "Smile!", style=TextStyle(
         "Arial", 100, weight="bold", italic=True, letter_spacing=50),
         head=Step(colour=Colour(255, 255, 0, 255, "yellow")),
         apply=Step(gravity=Compass.SOUTH))),),
     "x", Format.JPG, Delivery.UPLOAD, None),
    ("/l_text:Open%20Sans_20_underline_center_line_spacing_5:a%252Cb%252Fc%2525%20d/x.png",
     (Step(layer=Layer(LayerKind.TEXT, "a,b/c% d", style=TextStyle(
         "Open Sans", 20, decoration="underline", alignment="center", line_spacing=5))),),
     "x", Format.PNG, Delivery.UPLOAD, None),
    ("/l_fetch:aHR0cHM6Ly9leGFtcGxlLm9yZy9sb2dvLnBuZw/fl_layer_apply,fl_tiled/x.jpg",
     (Step(layer=Layer(LayerKind.FETCH, "https://example.org/logo.png",
                       apply=Step(flags=(Flag("tiled"),)))),),
     "x", Format.JPG, Delivery.UPLOAD, None),
    ("/w_300/l_a/e_sepia/l_b,fl_layer_apply/x.jpg",
     (Step(width=Length(300)), Step(layer=Layer(LayerKind.IMAGE, "a")),
      Step(effect=Effect("sepia")), Step(layer=Layer(LayerKind.IMAGE, "b"))),
     "x", Format.JPG, Delivery.UPLOAD, None),
]  # fmt: skip


@pytest.mark.parametrize(("url", "steps", "public_id", "extension", "delivery", "version"), TABLE)
def test_parse_table(
    url: str,
    steps: tuple[Step, ...],
    public_id: str,
    extension: Format | None,
    delivery: Delivery,
    version: int | None,
) -> None:
    parsed = parse_url(url)
    assert parsed.steps == steps
    assert (parsed.public_id, parsed.extension) == (public_id, extension)
    assert (parsed.delivery, parsed.version) == (delivery, version)
    assert parse_url(canonical(parsed)) == parsed


def test_canonical_sorts_parameters_like_the_sdks() -> None:
    parsed = parse_url("/w_300,h_200,c_fill/g_south_east,c_crop,w_10,h_10/x.jpg")
    assert (
        canonical(parsed) == "/image/upload/c_fill,h_200,w_300/c_crop,g_south_east,h_10,w_10/x.jpg"
    )


def test_short_and_long_forms_are_the_same_transformation() -> None:
    short = parse_url("/c_fill,w_300,h_200/v7/a/b.jpg")
    long = parse_url("/demo/image/upload/c_fill,w_300,h_200/v7/a/b.jpg")
    assert short == long
    assert long.cloud_name == "demo"


def test_signature_is_read_after_the_delivery_type() -> None:
    parsed = parse_url("/image/upload/s--Ai4Znfl3--/c_crop,h_20,w_10/v1234/image.jpg")
    assert parsed.signature == "Ai4Znfl3"
    assert parsed.signed_part == "c_crop,h_20,w_10/v1234/image.jpg"


def test_named_transformations_expand_in_place() -> None:
    named = {"thumb": "c_fill,w_100,h_100", "fancy": "t_thumb/e_sepia"}
    steps = parse_steps("t_fancy/w_50", named)
    assert steps == (
        Step(crop=CropMode.FILL, width=Length(100), height=Length(100)),
        Step(effect=Effect("sepia")),
        Step(width=Length(50)),
    )
    assert parse_steps("t_thumb.fancy", named)[0] == steps[0]


def test_named_transformation_loops_are_refused() -> None:
    with pytest.raises(BadRequest, match="nest too deeply"):
        parse_steps("t_a", {"a": "t_b", "b": "t_a"})


REFUSALS = [
    ("/w_abc/x.jpg", "Invalid width in transformation: abc"),
    ("/w_0/x.jpg", "Invalid width"),
    ("/h_-5/x.jpg", "Invalid height"),
    ("/c_squash,w_10/x.jpg", "Invalid crop mode in transformation: squash"),
    ("/g_North-East,c_crop,w_1/x.jpg", "Invalid gravity"),
    ("/ar_0:9,c_fill/x.jpg", "Invalid aspect ratio"),
    ("/a_sideways/x.jpg", "Invalid angle in transformation: sideways"),
    ("/r_1:2:3:4:5/x.jpg", "Invalid radius"),
    ("/b_notacolour/x.jpg", "Invalid background colour: notacolour"),
    ("/b_rgb:12345/x.jpg", "Invalid background colour"),
    ("/bo_4px_dotted_red/x.jpg", "Invalid border"),
    ("/o_101/x.jpg", "Invalid opacity in transformation: 101"),
    ("/q_0/x.jpg", "Invalid quality in transformation: 0"),
    ("/q_auto:great/x.jpg", "Invalid quality"),
    ("/f_bmp/x.jpg", "Invalid format in transformation: bmp"),
    ("/fl_sparkle/x.jpg", "Invalid flag in transformation: sparkle"),
    ("/e_wobble/x.jpg", "Invalid effect: wobble"),
    ("/e_sepia:500/x.jpg", "Invalid level for effect sepia: 500"),
    ("/e_blur:1:2/x.jpg", "Too many values for effect blur"),
    ("/t_missing/x.jpg", "Invalid named transformation: missing"),
    ("/c_fill,zz_4/x.jpg", "Invalid transformation parameter: zz_4"),
    ("/c_fill,w_10,junk/x.jpg", "Invalid transformation parameter: junk"),
    ("/image/facebook/w_10/x.jpg", "Invalid delivery type: facebook"),
    ("/w_10//x.jpg", "empty path component"),
    ("/c_fill,w_0.5", "missing public id"),
    ("/dpr_fast,w_10/x.jpg", "Invalid dpr"),
    ("/z_0,w_10/x.jpg", "Invalid zoom"),
    ("/fl_layer_apply/x.jpg", "Invalid flag in transformation: layer_apply"),
    ("/w_10,fl_tiled/x.jpg", "Invalid flag in transformation: tiled"),
    ("/l_video:intro/x.jpg", "video layers are not supported"),
    ("/l_docs::logo/x.jpg", "Invalid layer in transformation: docs::logo"),
    ("/l_a%2Fb/x.jpg", "Invalid layer in transformation: a/b"),
    ("/l_fetch:bm90IGEgdXJs/x.jpg", "Invalid layer in transformation: fetch:bm90IGEgdXJs"),
    ("/l_fetch:***/x.jpg", "Invalid layer in transformation: fetch:"),
    ("/l_text:Arial:hello/x.jpg", "Invalid text style in transformation: Arial"),
    ("/l_text:Arial_0:hello/x.jpg", "Invalid font size in transformation: 0"),
    ("/l_text:Arial_20_wavy:hello/x.jpg", "Invalid text style in transformation: wavy"),
    ("/l_text:Arial_20_stroke:hello/x.jpg", "Invalid text style in transformation: stroke"),
    ("/l_text:Arial_20_line_spacing_-5:hello/x.jpg", "Invalid line spacing"),
    ("/l_text:Arial_20:/x.jpg", "Invalid text layer"),
]


@pytest.mark.parametrize(("url", "message"), REFUSALS)
def test_refusals_name_the_parameter(url: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message.replace("(", r"\(")) as caught:
        parse_url(url)
    assert caught.value.status == 400


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_paths_raise_only_pixcast_errors(path: str) -> None:
    with contextlib.suppress(PixcastError):
        parse_url("/" + path)


_PARTS = st.sampled_from(
    ["c_fill", "c_crop", "c_pad", "w_300", "h_0.5", "w_iw", "ar_4:3", "g_south_east",
     "x_-10", "y_0.25", "a_hflip.90", "r_10:20", "r_max", "b_rgb:ff000080", "bo_2px_solid_red",
     "o_40", "e_sepia:20", "e_blur", "q_auto:low", "q_75:420", "f_webp", "fl_getinfo",
     "fl_attachment:a_b", "dpr_2.0", "g_faces:center", "g_auto:subject:dog_avoid", "z_1.5",
     "co_skyblue", "g_cat:dog", "l_logo", "u_docs:bg.png", "l_text:Arial_20_bold:Hi%252C%20you",
     "l_fetch:aHR0cHM6Ly9leGFtcGxlLm9yZy9sb2dvLnBuZw"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(_PARTS, min_size=1, max_size=5), max_size=4),
    st.sampled_from(["x.jpg", "a/b c.png", "v/x", "caf%C3%A9.webp"]),
    st.one_of(st.none(), st.integers(0, 10**9)),
)
def test_canonical_round_trips(components: list[list[str]], tail: str, version: int | None) -> None:
    path = "/".join(",".join(parts) for parts in components)
    url = "/" + "/".join(p for p in (path, f"v{version}" if version is not None else "", tail) if p)
    parsed = parse_url(url)
    assert parse_url(canonical(parsed)) == parsed
    assert canonical(parse_url(canonical(parsed))) == canonical(parsed)
