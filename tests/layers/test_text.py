"""Text layers: rendered with the bundled font (or one from a fonts directory), in the
text colour, where the placement says; escaped commas and slashes are text."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import pyvips

from tests.layers.imaging import CLEAR, WHITE, opaque, render_url, solid
from transforms.errors import BadRequest
from transforms.fonts import BUNDLED, FontBook, family_name, font_book
from transforms.model import TextStyle
from transforms.steps.text import render_text

TINY = solid(1, 1, CLEAR)
PAGE = opaque(400, 120, WHITE)


def text_size(style_and_text: str, chain: str = "") -> tuple[int, int]:
    """The text image's size: on a 1x1 transparent base the canvas grows to hold it."""
    out = render_url(f"/l_text:{style_and_text}{chain},g_north_west/x.png", TINY)
    return out.width, out.height


def ink(image: pyvips.Image) -> pyvips.Image:
    """1 where a pixel is not white (ink on the white page), else 0."""
    return (image.extract_band(0, n=3).colourspace("b-w") < 250).ifthenelse(1, 0)


@pytest.mark.parametrize("size", [12, 24, 48, 96])
def test_output_grows_with_font_size(size: int) -> None:
    width, height = text_size(f"Arial_{size}:Hello")
    bigger = text_size(f"Arial_{size * 2}:Hello")
    assert 1.7 * width < bigger[0] < 2.3 * width
    assert 1.7 * height < bigger[1] < 2.3 * height
    assert size * 0.5 < height < size * 1.5


def test_ink_is_where_the_text_is() -> None:
    out = render_url("/l_text:Arial_40:HHHH/fl_layer_apply,g_north_west,x_10,y_10/x.png", PAGE)
    marks = ink(out)
    assert marks.crop(10, 10, 120, 40).avg() > 0.2  # the four H's
    assert marks.crop(0, 0, 400, 8).max() == 0  # above the text
    assert marks.crop(160, 0, 240, 120).max() == 0  # right of it
    assert marks.crop(0, 60, 400, 60).max() == 0  # below it


@pytest.mark.parametrize("gravity", ["north_west", "north_east", "south_west", "south_east"])
def test_text_follows_the_gravity(gravity: str) -> None:
    out = render_url(f"/l_text:Arial_30:Hi/fl_layer_apply,g_{gravity}/x.png", PAGE)
    marks = ink(out)
    left = marks.crop(0, 0, 200, 120).max() == 1
    top = marks.crop(0, 0, 400, 60).max() == 1
    assert (left, top) == ("west" in gravity, "north" in gravity)


def test_text_colour_is_co_and_black_by_default() -> None:
    black = render_url("/l_text:Arial_60_bold:Hi,g_north_west/x.png", PAGE)
    red = render_url("/co_red,l_text:Arial_60_bold:Hi,g_north_west/x.png", PAGE)
    rgba = render_url("/co_rgb:00ff0080,l_text:Arial_60_bold:Hi,g_north_west/x.png", PAGE)
    assert black.extract_band(0).min() == 0 and black.extract_band(1).min() == 0
    assert red.extract_band(0).min() == 255  # every pixel keeps full red
    assert red.extract_band(1).min() == 0 and red.extract_band(2).min() == 0
    assert rgba.extract_band(0).min() > 100  # half-transparent green over white
    assert rgba.extract_band(1).min() == 255


def test_background_behind_the_text() -> None:
    """b_ fills the text's box behind the letters (here white on blue)."""
    out = render_url("/b_blue,co_white,l_text:Arial_30:Hi,g_north_west/x.png", PAGE)
    width, height = text_size("Arial_30:Hi")
    box = out.crop(0, 0, width, height)
    blue = (box.extract_band(2) == 255) & (box.extract_band(0) == 0)
    white = (box.extract_band(0) == 255) & (box.extract_band(1) == 255)
    assert blue.avg() / 255 > 0.3 and white.avg() / 255 > 0.1
    rest = out.crop(width, 0, 400 - width, 120)
    assert rest.min() == 255  # the page around the box stays white


@pytest.mark.parametrize(
    ("escaped", "plain"),
    [("a%252Cb", "a,b"), ("a%2Cb", "a,b"), ("a%252Fb", "a/b"), ("a%2Fb", "a/b"),
     ("50%2525", "50%"), ("x%20y", "x y")],
)  # fmt: skip
def test_escaped_text_renders_as_the_character(escaped: str, plain: str) -> None:
    """Cloudinary's SDKs double-escape `,` `/` `%` (`%252C`); single escapes read too."""
    found = render_url(f"/l_text:Arial_40:{escaped},g_north_west/x.png", TINY)
    expected = render_text(TextStyle("Arial", 40), plain, None, font_book(None), None, 8192)
    assert (found.width, found.height) == (expected.width, expected.height)
    assert abs(found.extract_band(3).avg() - expected.extract_band(3).avg()) < 0.5
    without = text_size("Arial_40:" + "".join(c for c in plain if c.isalnum()))
    assert found.width > without[0]  # the character is drawn, not dropped


def test_text_disallow_overflow_refuses_text_larger_than_the_base() -> None:
    url = "/l_text:Arial_40:Hello%20world/fl_layer_apply,fl_text_disallow_overflow/x.png"
    with pytest.raises(BadRequest, match="fl_text_disallow_overflow") as caught:
        render_url(url, opaque(60, 20, WHITE))
    assert caught.value.status == 400
    assert render_url(url, PAGE).width == 400
    # Without the flag the same text grows the canvas instead.
    assert (
        render_url(url.replace(",fl_text_disallow_overflow", ""), opaque(60, 20, WHITE)).width > 60
    )


def test_fit_width_wraps_lines() -> None:
    one_line = text_size("Arial_30:one%20two%20three%20four")
    wrapped = text_size("Arial_30:one%20two%20three%20four", ",c_fit,w_120")
    assert wrapped[0] <= 120 < one_line[0]
    assert wrapped[1] > 2 * one_line[1]


def test_bold_italic_and_underline_change_the_drawing() -> None:
    plain = render_url("/l_text:Arial_40:Hello,g_north_west/x.png", PAGE)
    for style in ("bold", "italic", "underline"):
        other = render_url(f"/l_text:Arial_40_{style}:Hello,g_north_west/x.png", PAGE)
        assert ink(other).avg() != ink(plain).avg(), style
    spaced = text_size("Arial_40_letter_spacing_10:Hello")
    assert spaced[0] > text_size("Arial_40:Hello")[0] + 30


def test_line_spacing_and_alignment() -> None:
    tight = text_size("Arial_30:a%0Abbbbbb")
    loose = text_size("Arial_30_line_spacing_20:a%0Abbbbbb")
    assert loose[1] >= tight[1] + 19
    left = render_url("/l_text:Arial_30:a%0Abbbbbb,g_north_west/x.png", PAGE)
    right = render_url("/l_text:Arial_30_right:a%0Abbbbbb,g_north_west/x.png", PAGE)
    # The short first line starts at the left edge, or ends at the right one.
    assert ink(left).crop(0, 0, 15, 30).max() == 1
    assert ink(right).crop(0, 0, 15, 30).max() == 0


def renamed_font(source: Path, target: Path, family: str) -> None:
    """A copy of a font file whose family is `family` (as long as "DejaVu Sans"): the name
    table's strings are replaced in place, so every offset stays valid."""
    old = "DejaVu Sans"
    assert len(family) == len(old)
    data = source.read_bytes()
    for encoding in ("ascii", "utf-16-be"):
        data = data.replace(old.encode(encoding), family.encode(encoding))
    target.write_bytes(data)


def test_fonts_directory_is_searched_by_name_case_insensitively(tmp_path: Path) -> None:
    """`MyFont` finds `myfont.TTF` there (here the bundled bold face under a family name of
    its own), so it draws like the bundled bold; an unknown name draws with the bundled
    regular face."""
    renamed_font(BUNDLED / "DejaVuSans-Bold.ttf", tmp_path / "myfont.TTF", "Pixcastfont")
    fonts = FontBook(tmp_path)
    assert fonts.find("MyFont", bold=False).family == "Pixcastfont"
    assert fonts.find("MyFont", bold=False).path == tmp_path / "myfont.TTF"
    assert fonts.find("Nope", bold=False).path == BUNDLED / "DejaVuSans.ttf"
    mine = render_url("/l_text:MyFont_40:Hello,g_north_west/x.png", PAGE, fonts=fonts)
    bold = render_url("/l_text:Nope_40_bold:Hello,g_north_west/x.png", PAGE, fonts=fonts)
    regular = render_url("/l_text:Nope_40:Hello,g_north_west/x.png", PAGE, fonts=fonts)
    assert ink(mine).avg() == ink(bold).avg() > ink(regular).avg()


def test_bold_files_are_found_by_their_suffix(tmp_path: Path) -> None:
    shutil.copy(BUNDLED / "DejaVuSans.ttf", tmp_path / "Brand.ttf")
    shutil.copy(BUNDLED / "DejaVuSans-Bold.ttf", tmp_path / "Brand-Bold.ttf")
    fonts = FontBook(tmp_path)
    assert fonts.find("brand", bold=True).path == tmp_path / "Brand-Bold.ttf"
    assert fonts.find("BRAND", bold=False).path == tmp_path / "Brand.ttf"


def test_family_names_are_read_from_the_font_files() -> None:
    assert family_name((BUNDLED / "DejaVuSans.ttf").read_bytes()) == "DejaVu Sans"
    assert family_name(b"not a font at all") is None


def test_huge_text_is_refused_before_rendering() -> None:
    with pytest.raises(BadRequest, match="larger than the limit"):
        render_url("/l_text:Arial_1000:" + "W" * 20 + "/x.png", PAGE)
