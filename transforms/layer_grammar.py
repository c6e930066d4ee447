"""The layer grammar: `l_`/`u_` values (public ids, `fetch:` URLs, `text:` styles) and the
sub-chains they open, which a `fl_layer_apply` component closes.

Layers never nest: an `l_` while a layer is open leaves that one applied in its own
component (its collected components go back to the main chain), so every URL groups one
way only and the canonical form reads back as the same Transformation.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from transforms.errors import BadRequest
from transforms.model import LAYER_FLAGS, Layer, LayerKind, Step, TextStyle

_INT = re.compile(r"^-?\d{1,5}$")
_FONT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .@+-]{0,99}$")
_STYLE_VARIABLE = re.compile(r"^\$[a-zA-Z][a-zA-Z0-9]{0,31}$")
_REMOTE = re.compile(r"^https?://[^\s]{1,2040}$")
# Cloudinary layer types pixcast does not render (video, audio, LUTs, subtitles).
_UNSUPPORTED = ("lut", "video", "audio", "subtitles")
WEIGHTS = ("bold", "thin", "light", *(str(n) for n in range(100, 1000, 100)))
ALIGNMENTS = ("left", "center", "right", "start", "end", "justify")
DECORATIONS = ("underline", "strikethrough")
MAX_TEXT = 1000
MAX_FONT_SIZE = 1000


# --- values ------------------------------------------------------------------------------


def layer_parser(underlay: bool) -> Callable[[str], Layer]:
    """The KEYS parser of `l_` (underlay False) or `u_` (underlay True)."""

    def parse(text: str) -> Layer:
        head, colon, rest = text.partition(":")
        if colon and head == "text":
            style, text_value = _text_parts(rest)
            if _STYLE_VARIABLE.match(style):
                return Layer(LayerKind.TEXT, text_value, underlay, style_variable=style[1:])
            return Layer(LayerKind.TEXT, text_value, underlay, parse_style(style))
        if colon and head == "fetch":
            return Layer(LayerKind.FETCH, _fetch_url(rest), underlay)
        if colon and head in _UNSUPPORTED:
            raise BadRequest(
                f"Invalid layer in transformation: {head} layers are not supported "
                "(pixcast overlays images, fetched images and text)"
            )
        return Layer(LayerKind.IMAGE, _public_id(text), underlay)

    return parse


def _public_id(text: str) -> str:
    """`docs:logo` → `docs/logo` (Cloudinary writes folders with `:`); an extension stays."""
    parts = text.split(":")
    if any(p in ("", ".", "..") for p in parts) or any(c in text for c in "/\\\0"):
        raise BadRequest(
            f"Invalid layer in transformation: {text} "
            "(expected a public id such as logo or docs:logo)"
        )
    return "/".join(parts)


def _fetch_url(text: str) -> str:
    """`fetch:<base64url URL>`, padded or not (the standard alphabet is read too)."""
    try:
        padded = text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4)
        url = base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        url = ""
    if not _REMOTE.match(url):
        raise BadRequest(
            f"Invalid layer in transformation: fetch:{text[:100]} "
            "(expected the base64url encoding of an http or https URL)"
        )
    return url


def _text_parts(rest: str) -> tuple[str, str]:
    style, colon, text = rest.partition(":")
    # Cloudinary double-escapes `,`, `/` and `%` in text (`%252C`): the component was
    # decoded once with the others; the text is decoded once more.
    text = unquote(text)
    if not colon or not text:
        raise BadRequest(
            f"Invalid text layer in transformation: text:{rest[:100]} "
            "(expected text:<font>_<size>:<text>)"
        )
    if len(text) > MAX_TEXT or any(ord(c) < 32 and c != "\n" for c in text):
        raise BadRequest(
            f"Invalid text layer in transformation: the text must be at most {MAX_TEXT} "
            "characters without control characters (newlines allowed)"
        )
    return style, text


def parse_style(text: str) -> TextStyle:
    """`Arial_40_bold_italic_underline_center_letter_spacing_5_line_spacing_10`."""
    tokens = text.split("_")
    if len(tokens) < 2 or not _FONT.match(tokens[0]) or not _INT.match(tokens[1]):
        raise BadRequest(
            f"Invalid text style in transformation: {text[:100]} (expected <font>_<size>, "
            "such as Arial_40, then bold, italic, underline, an alignment or spacings)"
        )
    size = _number(tokens[1], "font size", 1, MAX_FONT_SIZE)
    values: dict[str, Any] = {}
    rest = tokens[2:]
    while rest:
        _style_token(rest.pop(0), rest, values)
    return replace(TextStyle(tokens[0], size), **values)


def _style_token(token: str, rest: list[str], values: dict[str, Any]) -> None:
    if token in ("letter", "line") and len(rest) >= 2 and rest[0] == "spacing":
        rest.pop(0)
        low = -100 if token == "letter" else 0
        values[f"{token}_spacing"] = _number(rest.pop(0), f"{token} spacing", low, 1000)
    elif token in WEIGHTS:
        values["weight"] = token
    elif token == "italic":
        values["italic"] = True
    elif token in DECORATIONS:
        values["decoration"] = token
    elif token in ALIGNMENTS:
        values["alignment"] = token
    elif token != "normal":  # normal is every style's default
        raise BadRequest(
            f"Invalid text style in transformation: {token} (expected bold, thin, light, "
            "100-900, italic, underline, strikethrough, left, center, right, start, end, "
            "justify, letter_spacing_<n> or line_spacing_<n>)"
        )


def _number(text: str, name: str, low: int, high: int) -> int:
    if not _INT.match(text) or not low <= int(text) <= high:
        raise BadRequest(f"Invalid {name} in transformation: {text} (expected {low}-{high})")
    return int(text)


def layer_value_text(layer: Layer) -> str:
    """The `l_`/`u_` value, before the URL escaping every value gets."""
    if layer.kind is LayerKind.FETCH:
        return "fetch:" + base64.urlsafe_b64encode(layer.source.encode()).decode()
    if layer.kind is LayerKind.IMAGE:
        return layer.source.replace("/", ":")
    # The first of the two escapings Cloudinary's SDKs apply to text.
    text = layer.source.replace("%", "%25").replace(",", "%2C").replace("/", "%2F")
    if layer.style is None:
        return f"text:${layer.style_variable}:{text}"
    return f"text:{style_text(layer.style)}:{text}"


def style_text(style: TextStyle) -> str:
    parts = [style.font, str(style.size)]
    parts += [style.weight] if style.weight != "normal" else []
    parts += ["italic"] if style.italic else []
    parts += [style.decoration] if style.decoration != "normal" else []
    parts += [style.alignment] if style.alignment != "left" else []
    if style.letter_spacing is not None:
        parts += ["letter", "spacing", str(style.letter_spacing)]
    if style.line_spacing is not None:
        parts += ["line", "spacing", str(style.line_spacing)]
    return "_".join(parts)


# --- sub-chains --------------------------------------------------------------------------


def group_layers(steps: Iterable[Step]) -> tuple[Step, ...]:
    """Components → main chain: each `l_`/`u_` component with the components up to its
    `fl_layer_apply` becomes one Step holding the Layer."""
    chain: list[Step] = []
    opened: Step | None = None
    inside: list[Step] = []
    for step in steps:
        if step.layer is not None:
            chain += _unclosed(opened, inside)
            opened, inside = step, []
            if step.has_flag("layer_apply"):  # opened and closed in one component
                chain += _unclosed(opened, inside)
                opened = None
        elif step.has_flag("layer_apply"):
            if opened is None:
                raise BadRequest(
                    "Invalid flag in transformation: layer_apply "
                    "(it closes an l_ or u_ layer, and no layer is open)"
                )
            chain.append(_closed(opened, inside, step))
            opened, inside = None, []
        elif opened is not None:
            inside.append(step)
        else:
            chain.append(_outside(step))
    return tuple(chain + _unclosed(opened, inside))


def _unclosed(opened: Step | None, inside: list[Step]) -> list[Step]:
    if opened is None or opened.layer is None:
        return []
    layer = replace(opened.layer, head=_component(opened))
    return [Step(layer=layer), *(_outside(step) for step in inside)]


def _closed(opened: Step, inside: list[Step], apply: Step) -> Step:
    assert opened.layer is not None
    layer = replace(
        opened.layer, head=_component(opened), steps=tuple(inside), apply=_component(apply)
    )
    return Step(layer=layer)


def _component(step: Step) -> Step:
    flags = tuple(flag for flag in step.flags if flag.name != "layer_apply")
    return replace(step, layer=None, flags=flags)


def _outside(step: Step) -> Step:
    """A main-chain component: layer flags there mean nothing, which is a 400."""
    for flag in step.flags:
        if flag.name in LAYER_FLAGS:
            raise BadRequest(
                f"Invalid flag in transformation: {flag.name} (it applies to a layer: "
                "use it in the components of an l_ or u_ layer)"
            )
    return step
