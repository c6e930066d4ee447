"""The URL grammar: delivery paths ↔ Transformation, with one table of parameter keys.

`parse_url` reads the three URL forms pixcast serves (short, `/image/<delivery>/...` and
`/<cloud>/image/<delivery>/...`); `canonical` writes a Transformation back as a URL whose
parameters are sorted the way the Cloudinary SDKs sort them. parse(canonical(t)) == t.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from decimal import Decimal
from typing import Any
from urllib.parse import quote, unquote

from transforms.backgrounds import parse_auto_background
from transforms.colours import parse_colour
from transforms.effects import parse_effect
from transforms.errors import BadRequest
from transforms.expressions import (
    deferred_references,
    is_deferred,
    parse_condition,
    parse_expression,
)
from transforms.flags import IMPLEMENTED, NO_EFFECT, REFUSED, check_flag
from transforms.hints import parse_auto_width
from transforms.layer_grammar import group_layers, layer_parser, layer_value_text
from transforms.model import (
    LAYER_FLAGS,
    Angle,
    AngleMode,
    AutoBackground,
    AutoWidth,
    Border,
    Colour,
    Compass,
    CropMode,
    Delivery,
    Effect,
    Flag,
    Focus,
    Format,
    Gravity,
    Layer,
    Length,
    Quality,
    Radius,
    Ratio,
    Step,
    Transformation,
    Unit,
)
from transforms.url_forms import long_form
from transforms.variables import BLOCK_ENDS, check_chain

_INT = re.compile(r"^-?\d{1,7}$")
_DECIMAL = re.compile(r"^-?\d{0,7}\.\d{1,9}$")
_VERSION = re.compile(r"^v\d{1,12}$")
_SIGNATURE = re.compile(r"^s--[A-Za-z0-9_-]{8,32}--$")
_PARAM = re.compile(r"^([a-z]{1,3})_(.*)$", re.DOTALL)
_WORD = re.compile(r"^[a-z][a-z0-9_]*$")
# The first segment of a fetched URL written out (`https:` of `https://host/...`).
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]{0,15}:$")

EXTENSIONS: dict[str, Format] = {
    "jpg": Format.JPG,
    "jpeg": Format.JPG,
    "jpe": Format.JPG,
    "png": Format.PNG,
    "webp": Format.WEBP,
    "avif": Format.AVIF,
    "gif": Format.GIF,
    "tif": Format.TIFF,
    "tiff": Format.TIFF,
    "jxl": Format.JXL,
}

MAX_COMPONENTS = 50
# Named transformations every Cloudinary account has; the config may redefine them.
DEFAULT_NAMED = {"media_lib_thumb": "c_fill,h_150,w_150"}
MAX_NAMED_DEPTH = 8


# --- numbers -----------------------------------------------------------------------------


def number_text(value: float) -> str:
    """A float written the way the URL API reads it back: `0.5`, `1.0`, never `1e-06`."""
    text = format(Decimal(repr(float(value))), "f")
    return text if "." in text else text + ".0"


def _integer(text: str, name: str, low: int, high: int) -> int:
    if not _INT.match(text) or not low <= int(text) <= high:
        raise BadRequest(f"Invalid {name} in transformation: {text} (expected {low}-{high})")
    return int(text)


def _positive_float(text: str, name: str) -> float:
    if not (_DECIMAL.match(text) or _INT.match(text)) or float(text) <= 0:
        raise BadRequest(f"Invalid {name} in transformation: {text} (expected a positive number)")
    return float(text)


# --- one parser per key ------------------------------------------------------------------


def _size(name: str) -> Callable[[str], Length]:
    def parse(text: str) -> Length:
        if text in ("iw", "ih", "ow", "oh"):
            # `ow`/`oh` (original width/height) are the SDKs' other names for iw/ih.
            wide = text in ("iw", "ow")
            return Length(1.0, Unit.INITIAL_WIDTH if wide else Unit.INITIAL_HEIGHT)
        if _INT.match(text) and int(text) >= 1:
            return Length(int(text))
        if _DECIMAL.match(text) and float(text) > 0:
            return Length(float(text), Unit.RELATIVE)
        raise BadRequest(
            f"Invalid {name} in transformation: {text} "
            "(expected positive pixels, a decimal multiple such as 0.5, iw or ih)"
        )

    return parse


def _offset(name: str) -> Callable[[str], Length]:
    def parse(text: str) -> Length:
        if _INT.match(text):
            return Length(int(text))
        if _DECIMAL.match(text):
            return Length(float(text), Unit.RELATIVE)
        raise BadRequest(f"Invalid {name} in transformation: {text} (expected pixels or 0.x)")

    return parse


def _ratio(text: str) -> Ratio:
    parts = text.split(":")
    if len(parts) == 2:
        return Ratio(
            _positive_float(parts[0], "aspect ratio"), _positive_float(parts[1], "aspect ratio")
        )
    if len(parts) == 1:
        return Ratio(_positive_float(text, "aspect ratio"))
    raise BadRequest(f"Invalid aspect ratio in transformation: {text} (expected 16:9 or 1.5)")


def _crop(text: str) -> CropMode:
    try:
        return CropMode(text)
    except ValueError:
        known = ", ".join(mode.value for mode in CropMode)
        raise BadRequest(
            f"Invalid crop mode in transformation: {text} (expected {known})"
        ) from None


_FACE_FALLBACKS = {"": "north", "center": "center", "auto": "auto"}

_CUSTOM_FALLBACKS = {"": "center", "face": "face", "faces": "faces", "adv_face": "adv_face",
                     "adv_faces": "adv_faces"}  # fmt: skip
"""g_custom[:<fallback>]: stored custom coordinates, else the fallback gravity."""

_SPECIAL_GRAVITIES: dict[str, Focus] = {
    name: Focus(name, name, fallback=fallback)
    for name, fallback in (("adv_face", "north"), ("adv_faces", "north"), ("adv_eyes", "north"),
                           ("ocr_text", "center"))
} | {"ocr_text_avoid": Focus("auto", "ocr_text_avoid", avoid=("ocr_text",))}  # fmt: skip
"""Detection gravities named by one word: Advanced Facial Attributes (faces found with
their landmarks) and OCR text, to crop to or (with _avoid) to keep out."""


def _gravity(text: str) -> Gravity:
    if text in Compass.__members__.values():
        return Compass(text)
    if text in _SPECIAL_GRAVITIES:
        return _SPECIAL_GRAVITIES[text]
    head, _, rest = text.partition(":")
    if head == "custom" and rest in _CUSTOM_FALLBACKS:
        return Focus("custom", text, fallback=_CUSTOM_FALLBACKS[rest])
    if head in ("face", "faces") and rest in _FACE_FALLBACKS:
        return Focus(head, text, fallback=_FACE_FALLBACKS[rest])
    if head == "auto":
        return _auto_gravity(text, rest)
    labels = tuple(text.split(":"))
    if all(_WORD.match(label) for label in labels):
        return Focus("objects", text, labels=labels)
    raise BadRequest(
        f"Invalid gravity in transformation: {text} "
        "(expected a compass point such as north_east, face, faces, auto or an object name)"
    )


def _auto_gravity(text: str, rest: str) -> Focus:
    algorithm = ""
    parts = [p for p in rest.split(":") if p] if rest else []
    if parts and parts[0] in ("subject", "classic"):
        algorithm = parts.pop(0)
    if not all(_WORD.match(p) for p in parts):
        raise BadRequest(f"Invalid gravity in transformation: {text} (expected auto[:<object>])")
    avoid = tuple(p.removesuffix("_avoid") for p in parts if p.endswith("_avoid"))
    labels = tuple(p for p in parts if not p.endswith("_avoid"))
    return Focus("auto", text, labels=labels, avoid=avoid, algorithm=algorithm)


def _zoom(text: str) -> float:
    value = _positive_float(text, "zoom")
    if value > 100:
        raise BadRequest(f"Invalid zoom in transformation: {text} (expected at most 100)")
    return value


def _dpr(text: str) -> float:
    return _positive_float(text, "dpr")


def _angles(text: str) -> tuple[Angle, ...]:
    return tuple(_angle(part) for part in text.split("."))


def _angle(text: str) -> Angle:
    if text in AngleMode.__members__.values():
        return AngleMode(text)
    if _INT.match(text):
        return int(text) % 360
    raise BadRequest(
        f"Invalid angle in transformation: {text} (expected whole degrees, hflip, vflip, "
        "ignore, exif, auto, auto_right or auto_left)"
    )


def _radius(text: str) -> Radius:
    if text == "max":
        return Radius(maximum=True)
    parts = text.split(":")
    if len(parts) > 4:
        raise BadRequest(f"Invalid radius in transformation: {text} (expected 1 to 4 values)")
    return Radius(tuple(_integer(p, "radius", 0, 100000) for p in parts))


def _background(text: str) -> Colour:
    return parse_colour(text, "background")


def _colour(text: str) -> Colour:
    return parse_colour(text, "color")


_BORDER = re.compile(r"^(\d{1,4})px_solid_(.+)$")


def _border(text: str) -> Border:
    match = _BORDER.match(text)
    if not match:
        raise BadRequest(
            f"Invalid border in transformation: {text} (expected <width>px_solid_<color>)"
        )
    return Border(int(match.group(1)), parse_colour(match.group(2), "border"))


def _opacity(text: str) -> int:
    return _integer(text, "opacity", 0, 100)


_AUTO_QUALITY = ("best", "good", "eco", "low")


# q_jpegmini[:0|1|2] (an add-on) maps to the nearest q_auto level.
JPEGMINI = {"": "good", "0": "best", "1": "good", "2": "eco"}
_PERCENT = re.compile(r"^0?\.\d{1,3}$|^1\.0{1,3}$")


def _quality(text: str) -> Quality:
    head, _, rest = text.partition(":")
    if head == "jpegmini" and rest in JPEGMINI:
        return Quality(auto=JPEGMINI[rest])
    if head == "auto" and rest.endswith("sensitive"):
        return _sensitive(rest.removesuffix("sensitive").rstrip(":") or "good", text)
    if _PERCENT.match(head) and float(head) > 0 and not rest:
        return Quality(level=max(1, round(float(head) * 100)))  # q_0.4 is 40
    if head == "auto":
        level = rest or "good"
        if level not in _AUTO_QUALITY:
            raise BadRequest(
                f"Invalid quality in transformation: {text} (expected q_auto:best|good|eco|low)"
            )
        return Quality(auto=level)
    if rest not in ("", "420", "444"):
        raise BadRequest(f"Invalid quality in transformation: {text} (expected 1-100[:420|:444])")
    return Quality(level=_integer(head, "quality", 1, 100), chroma=int(rest) if rest else None)


def _sensitive(level: str, text: str) -> Quality:
    """`:sensitive` raises the quality one level (eco → good, good → best)."""
    if level not in _AUTO_QUALITY:
        raise BadRequest(f"Invalid quality in transformation: {text}")
    return Quality(auto=_AUTO_QUALITY[max(0, _AUTO_QUALITY.index(level) - 1)])


def _format(text: str) -> Format:
    if text == Format.AUTO.value:
        return Format.AUTO
    if text in EXTENSIONS:
        return EXTENSIONS[text]
    known = "jpg, png, webp, avif, jxl, gif, tiff, auto"
    raise BadRequest(f"Invalid format in transformation: {text} (expected {known})")


FLAGS_WITH_ARGUMENT: dict[str, tuple[str, ...] | None] = {
    "progressive": ("semi", "steep", "none"),
    "attachment": None,
    "getinfo": ("landmarks",),  # fl_getinfo:landmarks adds every face's mesh points
}
FLAGS = (*IMPLEMENTED, *NO_EFFECT, *REFUSED, *LAYER_FLAGS)
_ATTACHMENT_NAME = re.compile(r"^[A-Za-z0-9_\-! ]{1,100}$")


def _flags(text: str) -> tuple[Flag, ...]:
    return tuple(sorted({_flag(part) for part in text.split(".")}, key=lambda f: f.name))


def _merged(first: tuple[Flag, ...], second: tuple[Flag, ...]) -> tuple[Flag, ...]:
    return tuple(sorted({*first, *second}, key=lambda f: f.name))


def _flag(text: str) -> Flag:
    name, _, argument = text.partition(":")
    check_flag(name)
    if name not in FLAGS:
        raise BadRequest(
            f"Invalid flag in transformation: {name} (known flags: {', '.join(FLAGS)})"
        )
    if not argument:
        return Flag(name)
    allowed = FLAGS_WITH_ARGUMENT.get(name, ())
    if name == "attachment" and _ATTACHMENT_NAME.match(argument):
        return Flag(name, argument)
    if allowed and argument in allowed:
        return Flag(name, argument)
    raise BadRequest(f"Invalid value for flag {name} in transformation: {argument}")


def _default_image(text: str) -> str:
    """`d_avatar.png`, `d_docs:avatar.png`: kept as written; the origins resolve it."""
    parts = text.split(":")
    if any(p in ("", ".", "..") for p in parts) or any(c in text for c in "/\\\0"):
        raise BadRequest(
            f"Invalid default image in transformation: {text} "
            "(expected a public id such as avatar.png or folder:avatar.png)"
        )
    return text


COLOUR_SPACES = ("srgb", "tinysrgb", "no_cmyk", "srgb:truecolor")
_REFUSED_SPACES = {
    "keep_cmyk": "pixcast delivers sRGB only",
    "cmyk": "pixcast delivers sRGB only",
    "copy": "it is a video colour space",
}


def _colour_space(text: str) -> str:
    if text in COLOUR_SPACES:
        return text
    reason = _REFUSED_SPACES.get(text)
    if reason is None and text.startswith("icc:"):
        reason = "custom ICC profiles need the upload API"
    raise BadRequest(
        f"Invalid color space in transformation: {text} "
        f"({reason or 'expected ' + ', '.join(COLOUR_SPACES)})"
    )


def _density(text: str) -> int:
    return _integer(text, "density", 1, 1200)


def _page(text: str) -> int:
    return _integer(text, "page", 1, 100000)


def _delay(text: str) -> int:
    return _integer(text, "delay", 0, 65535)


# key → (Step field, parser). The one place where short URL keys meet long names.
KEYS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "c": ("crop", _crop),
    "g": ("gravity", _gravity),
    "w": ("width", _size("width")),
    "h": ("height", _size("height")),
    "ar": ("aspect_ratio", _ratio),
    "x": ("x", _offset("x")),
    "y": ("y", _offset("y")),
    "z": ("zoom", _zoom),
    "dpr": ("dpr", _dpr),
    "a": ("angles", _angles),
    "r": ("radius", _radius),
    "b": ("background", _background),
    "bo": ("border", _border),
    "o": ("opacity", _opacity),
    "co": ("colour", _colour),
    "e": ("effect", parse_effect),
    "q": ("quality", _quality),
    "f": ("format", _format),
    "fl": ("flags", _flags),
    "pg": ("page", _page),
    "dl": ("delay", _delay),
    "d": ("default_image", _default_image),
    "cs": ("colour_space", _colour_space),
    "dn": ("density", _density),
    "l": ("layer", layer_parser(underlay=False)),
    "u": ("layer", layer_parser(underlay=True)),
}
FIELD_KEYS = {field_name: key for key, (field_name, _) in KEYS.items()}
FIELD_KEYS |= {"auto_width": "w", "auto_dpr": "dpr", "condition": "if", "auto_background": "b"}
_COMPONENT_KEYS = {*KEYS, "t", "if", "$", "p"}
# Keys of video and audio only: a 400 that says so, not "unknown parameter".
VIDEO_KEYS = ("ac", "af", "br", "du", "eo", "so", "sp", "vc", "vs", "fps", "ki", "dr")
_COMPONENT_KEYS |= {*VIDEO_KEYS, "fn"}
# Keys whose value may be an expression (`w_$w_mul_2`, `x_iw_div_4`).
EXPRESSION_KEYS = ("w", "h", "x", "y", "z", "ar", "a", "r", "o", "dpr", "q", "e")
_ASSIGNMENT = re.compile(r"^\$([a-zA-Z][a-zA-Z0-9]{0,31})_(.+)$", re.DOTALL)


def parse_value(key: str, text: str) -> tuple[str, Any]:
    """One parameter's (Step field, value), for values the render computes from expressions."""
    field_name, parser = KEYS[key]
    return field_name, parser(text)


# --- components --------------------------------------------------------------------------


def _split_params(component: str) -> list[tuple[str, str]]:
    params = []
    for part in component.split(","):
        assignment = _ASSIGNMENT.match(part)
        if assignment:
            params.append(("$" + assignment.group(1), assignment.group(2)))
            continue
        match = _PARAM.match(part)
        if not match:
            raise BadRequest(f"Invalid transformation parameter: {unquote(part)}")
        params.append((match.group(1), match.group(2)))
    return params


def looks_like_component(segment: str) -> bool:
    """A path segment is a transformation when one of its parts has a known key."""
    parts = segment.split(",")
    keys = {match.group(1) for match in map(_PARAM.match, parts) if match}
    return bool(keys & _COMPONENT_KEYS) or any(_ASSIGNMENT.match(p) for p in parts)


def parse_component(component: str, named: Mapping[str, str], depth: int = 0) -> list[Step]:
    """One `/`-separated component → Steps (several when it names transformations)."""
    values: dict[str, Any] = {}
    expanded: list[Step] = []
    for key, raw in _split_params(component):
        text = unquote(raw)
        if key == "t":
            expanded += _expand_named(text, named, depth)
        elif key == "fl" and "flags" in values:
            # Cloudinary writes `fl_layer_apply,fl_tiled`: repeated flags add up.
            values["flags"] = _merged(values["flags"], _flags(text))
        elif key == "p":
            continue  # Cloudinary's `p_` (video/legacy prefix) is accepted and ignored for images
        elif key.startswith("$") or key == "if" or _is_auto_value(key, text):
            _special(key, text, values)
        elif key in KEYS:
            _plain_or_deferred(key, text, values)
        elif key == "fn":
            raise BadRequest(
                f"Invalid transformation parameter: fn_{text} (custom functions run code "
                "pixcast does not run)"
            )
        elif key in VIDEO_KEYS:
            raise BadRequest(f"Invalid transformation parameter: {key}_{text} is a video parameter")
        else:
            raise BadRequest(f"Invalid transformation parameter: {key}_{text}")
    if "deferred" in values:
        values["deferred"] = tuple(sorted(values["deferred"].items()))
    if values or not expanded:
        expanded.append(Step(**values))
    return expanded


def _is_auto(text: str) -> bool:
    return text == "auto" or text.startswith("auto:")


def _is_auto_value(key: str, text: str) -> bool:
    if key == "b":
        return _is_auto(text) or text.startswith(("blurred", "gen_fill"))
    return key in ("w", "dpr") and _is_auto(text)


def _special(key: str, text: str, values: dict[str, Any]) -> None:
    """`$name_<value>`, `if_<condition>`, `w_auto...` and `dpr_auto`."""
    if key.startswith("$"):
        parse_expression(text)
        values["variables"] = (*values.get("variables", ()), (key[1:], text))
    elif key == "if":
        if text not in BLOCK_ENDS:
            parse_condition(text)
        values["condition"] = text
    elif key == "w":
        values["auto_width"] = parse_auto_width(text)
    elif key == "b":
        values["auto_background"] = parse_auto_background(text)
    elif text != "auto":
        raise BadRequest(f"Invalid dpr in transformation: {text} (expected a number or auto)")
    else:
        values["auto_dpr"] = True


def _plain_or_deferred(key: str, text: str, values: dict[str, Any]) -> None:
    field_name, parser = KEYS[key]
    try:
        values[field_name] = parser(text)
    except BadRequest:
        if key not in EXPRESSION_KEYS or not is_deferred(key, text):
            raise
        deferred_references(key, text)  # a bad expression is a 400 naming it
        values.setdefault("deferred", {})[key] = text


def _expand_named(names: str, named: Mapping[str, str], depth: int) -> list[Step]:
    if depth >= MAX_NAMED_DEPTH:
        raise BadRequest(f"Named transformations nest too deeply at: {names}")
    steps: list[Step] = []
    for name in names.split("."):
        definition = named.get(name, DEFAULT_NAMED.get(name))
        if definition is None:
            raise BadRequest(f"Invalid named transformation: {name} (not defined in the config)")
        for component in definition.strip("/").split("/"):
            steps += parse_component(component, named, depth + 1)
    return steps


def parse_steps(text: str, named: Mapping[str, str] | None = None) -> tuple[Step, ...]:
    """A transformation string (`c_fill,w_300/e_sepia`) → Steps."""
    steps: list[Step] = []
    for component in text.strip("/").split("/") if text.strip("/") else []:
        steps += parse_component(component, named or {})
    grouped = group_layers(steps)
    check_chain(grouped)
    return grouped


# --- whole URLs --------------------------------------------------------------------------


def _split_prefix(segments: list[str]) -> tuple[str | None, str, list[str]]:
    deliveries = {d.value for d in Delivery}
    if len(segments) > 2 and segments[0] == "image":
        return None, _delivery(segments[1], deliveries), segments[2:]
    if len(segments) > 3 and segments[1] == "image" and not looks_like_component(segments[0]):
        return segments[0], _delivery(segments[2], deliveries), segments[3:]
    return None, Delivery.UPLOAD.value, segments


def _delivery(text: str, deliveries: set[str]) -> str:
    if text not in deliveries:
        raise BadRequest(
            f"Invalid delivery type: {text} (expected {', '.join(sorted(deliveries))})"
        )
    return text


def parse_url(raw_path: str, named: Mapping[str, str] | None = None) -> Transformation:
    """A percent-encoded request path → Transformation. Raises BadRequest."""
    segments = long_form(raw_path.strip("/").split("/"), looks_like_component)
    remote = next((i for i, s in enumerate(segments) if _SCHEME.match(s)), len(segments))
    _refuse_empty(segments[:remote])
    cloud, delivery, rest = _split_prefix(segments)
    if delivery != Delivery.FETCH.value:
        _refuse_empty(segments)
    signature = rest.pop(0)[3:-2] if rest and _SIGNATURE.match(rest[0]) and len(rest) > 1 else None
    signed_part = "/".join(rest)
    steps, version, rest = _take_components(rest, named or {}, delivery)
    if not rest or _is_bare_component(rest):
        raise BadRequest("Invalid URL: missing public id after the transformations")
    public_id, extension = _public_id(rest, delivery)
    check_chain(steps)
    return Transformation(
        steps, public_id, extension, Delivery(delivery), version, cloud, signature, signed_part
    )


def _refuse_empty(segments: list[str]) -> None:
    # `//` is only meaningful inside a fetched URL (`/image/fetch/w_300/https://host/x.jpg`).
    if "" in segments:
        raise BadRequest(
            "Invalid URL: empty path component (expected /<transformations>/<public_id>)"
        )


def _is_bare_component(rest: list[str]) -> bool:
    last = rest[-1]
    suffix = last.rpartition(".")[2].lower()
    return len(rest) == 1 and looks_like_component(last) and suffix not in EXTENSIONS


def _take_components(
    rest: list[str], named: Mapping[str, str], delivery: str
) -> tuple[tuple[Step, ...], int | None, list[str]]:
    steps: list[Step] = []
    count = 0
    while len(rest) > 1:
        if _VERSION.match(rest[0]):
            return group_layers(steps), int(rest[0][1:]), rest[1:]
        if not looks_like_component(rest[0]):
            break
        count += 1
        if count > MAX_COMPONENTS:
            raise BadRequest(f"Too many chained transformations (at most {MAX_COMPONENTS})")
        steps += parse_component(rest.pop(0), named)
    return group_layers(steps), None, rest


def _public_id(rest: list[str], delivery: str) -> tuple[str, Format | None]:
    decoded = unquote("/".join(rest))
    if delivery == Delivery.FETCH.value:
        return decoded, None
    stem, dot, suffix = decoded.rpartition(".")
    if dot and stem and "/" not in suffix and suffix.lower() in EXTENSIONS:
        return stem, EXTENSIONS[suffix.lower()]
    return decoded, None


# --- canonical form ----------------------------------------------------------------------


def _value_text(value: object) -> str:
    if isinstance(value, Length):
        return _length_text(value)
    if isinstance(value, Ratio):
        ratio = number_text(value.numerator)
        return ratio if value.denominator == 1.0 else f"{ratio}:{number_text(value.denominator)}"
    if isinstance(value, Focus | Colour | AutoWidth | AutoBackground):
        return value.text
    if isinstance(value, Border):
        return f"{value.width}px_solid_{value.colour.text}"
    if isinstance(value, Radius):
        return "max" if value.maximum else ":".join(str(c) for c in value.corners)
    if isinstance(value, Quality):
        return _quality_text(value)
    if isinstance(value, Effect):
        return ":".join((value.name, *value.arguments))
    if isinstance(value, tuple):
        return ".".join(_item_text(item) for item in value)
    if isinstance(value, float):
        return number_text(value)
    return str(value)


def _item_text(item: object) -> str:
    if isinstance(item, Flag):
        return item.name if item.argument is None else f"{item.name}:{item.argument}"
    return _value_text(item)


def _length_text(length: Length) -> str:
    if length.unit is Unit.PIXELS:
        return str(int(length.value))
    if length.unit is Unit.RELATIVE:
        return number_text(length.value)
    return length.unit.value


def _quality_text(quality: Quality) -> str:
    if quality.auto is not None:
        return f"auto:{quality.auto}"
    return f"{quality.level}" + (f":{quality.chroma}" if quality.chroma else "")


def _escape(text: str) -> str:
    return quote(text, safe="!$&'()*+;=:@._~-")


def step_text(step: Step) -> str:
    """One Step as a URL component with its parameters sorted by key (a layer: all the
    components of its sub-chain)."""
    if step.layer is not None:
        return _layer_text(step.layer, replace(step, layer=None))
    return ",".join([*_leading(step), *sorted(_params(step))])


def _leading(step: Step) -> list[str]:
    """`if_` first, then the `$variables` in their order, as the SDKs write them."""
    head = [f"if_{_escape(step.condition)}"] if step.condition is not None else []
    return head + [f"${name}_{_escape(text)}" for name, text in step.variables]


_LEADING = ("condition", "variables")


def _params(step: Step) -> list[str]:
    params = [f"{key}_{_escape(text)}" for key, text in step.deferred]
    for item in fields(step):
        value = getattr(step, item.name)
        if value is None or value == () or item.name in (*_LEADING, "deferred"):
            continue
        if item.name == "auto_dpr":
            params += ["dpr_auto"] if value else []
            continue
        params.append(f"{FIELD_KEYS[item.name]}_{_escape(_value_text(value))}")
    return params


def _layer_text(layer: Layer, outer: Step) -> str:
    """The layer's components; `outer` holds the parameters of an `l_` component parsed
    on its own (parse_component), before its layer is grouped (then it is empty)."""
    key = "u" if layer.underlay else "l"
    value = f"{key}_{_escape(layer_value_text(layer))}"
    head = ",".join(sorted([*_params(layer.head), *_params(outer), value]))
    components = [head, *(step_text(step) for step in layer.steps)]
    if layer.apply is not None:
        flags = sorted((*layer.apply.flags, Flag("layer_apply")), key=lambda f: f.name)
        components.append(step_text(replace(layer.apply, flags=tuple(flags))))
    return "/".join(components)


def canonical_steps(steps: tuple[Step, ...]) -> str:
    return "/".join(step_text(step) or "" for step in steps)


def canonical(t: Transformation) -> str:
    """The canonical URL of a Transformation: `/image/<delivery>/<steps>/v<n>/<id>.<ext>`."""
    parts = ["", "image", t.delivery.value]
    parts += [step_text(step) for step in t.steps]
    if t.version is not None:
        parts.append(f"v{t.version}")
    public_id = t.public_id if t.delivery is Delivery.FETCH else quote(t.public_id, safe="/")
    suffix = f".{t.extension.value}" if t.extension else ""
    return "/".join(parts) + "/" + public_id + suffix


def with_steps(t: Transformation, steps: tuple[Step, ...]) -> Transformation:
    return replace(t, steps=steps)
