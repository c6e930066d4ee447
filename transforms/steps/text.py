"""Text: an `l_text:` layer's image, rendered by libvips' Pango text at 72 dpi (so a font
size is pixels), in the text colour on a transparent background."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pyvips

from transforms.errors import BadRequest
from transforms.fonts import Font, FontBook
from transforms.model import Colour, TextStyle

BLACK = Colour(0, 0, 0, 255, "black")
_ALIGN = {"left": "low", "start": "low", "justify": "low", "center": "centre"}
_ALIGN |= {"right": "high", "end": "high"}
_BOLD = ("bold", "600", "700", "800", "900")


def render_text(
    style: TextStyle,
    text: str,
    colour: Colour | None,
    fonts: FontBook,
    wrap: int | None,
    max_side: int,
) -> pyvips.Image:
    """RGBA sRGB image of `text`; `wrap` is the width in pixels to wrap lines at."""
    _check_extent(style, text, wrap, max_side)
    font = font_for(style, fonts)
    options: dict[str, object] = {
        # The trailing comma ends the family list: "Arial Black" stays one family name.
        "font": f"{font.family}, {style.size}",
        "fontfile": str(font.path),
        "dpi": 72,
        "rgba": True,
        "align": _ALIGN[style.alignment],
        "justify": style.alignment == "justify",
    }
    if style.line_spacing is not None:
        options["spacing"] = style.line_spacing
    if wrap is not None:
        options["width"] = wrap
    image = pyvips.Image.text(markup(style, text, colour or BLACK), **options)
    if max(image.width, image.height) > max_side:
        raise _too_large(image.width, image.height, max_side)
    return image.copy(interpretation="srgb")


def font_for(style: TextStyle, fonts: FontBook) -> Font:
    """The file a style renders with: the bold one for bold and 600-900."""
    return fonts.find(style.font, bold=style.weight in _BOLD)


def markup(style: TextStyle, text: str, colour: Colour) -> str:
    """Pango markup for the text in its style and colour (letter spacing in 1/1024 px)."""
    attributes = {"foreground": "#{:02x}{:02x}{:02x}{:02x}".format(*colour.rgba)}
    attributes["font_weight"] = style.weight
    if style.italic:
        attributes["font_style"] = "italic"
    if style.decoration == "underline":
        attributes["underline"] = "single"
    if style.decoration == "strikethrough":
        attributes["strikethrough"] = "true"
    if style.letter_spacing is not None:
        attributes["letter_spacing"] = str(style.letter_spacing * 1024)
    spans = " ".join(f'{name}="{value}"' for name, value in attributes.items())
    return f"<span {spans}>{escape(text)}</span>"


def _check_extent(style: TextStyle, text: str, wrap: int | None, max_side: int) -> None:
    """Refuse text whose layout would be far too large before Pango renders it: every
    character counted one em wide (wider than most glyphs), lines 1.5 em high."""
    lines = text.split("\n")
    advance = style.size + max(0, style.letter_spacing or 0)
    width = max(len(line) for line in lines) * advance
    rows = len(lines) + (width // wrap if wrap else 0)
    height = rows * (style.size * 3 // 2 + (style.line_spacing or 0))
    width = min(width, wrap) if wrap else width
    if max(width, height) > max_side:
        raise _too_large(width, height, max_side)


def _too_large(width: int, height: int, max_side: int) -> BadRequest:
    return BadRequest(
        f"Text layer of about {width}x{height} pixels is larger than the limit of "
        f"{max_side} pixels per side (use a smaller font size or less text)"
    )
