"""Plain-English sentences for parsed parameter values, one function per Step field.

Input is what transforms.grammar's KEYS parsers return; output is one sentence a person
can read without knowing Cloudinary's short keys. Effect ranges come from the registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from transforms.effects import REGISTRY
from transforms.effects.params import bind
from transforms.flags import NO_EFFECT
from transforms.formats import QUALITY_TABLE
from transforms.model import (
    Angle,
    AngleMode,
    Border,
    Colour,
    Compass,
    CropMode,
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
    Unit,
)
from transforms.steps.corners import expand

CROP_MODES: dict[CropMode, str] = {
    CropMode.SCALE: "scale to exactly the size asked (may distort; with only one of width "
    "and height, the other keeps the aspect ratio)",
    CropMode.FIT: "scale up or down to the largest size inside the box, keeping the aspect ratio",
    CropMode.LIMIT: "like fit, but never scale up",
    CropMode.MFIT: "like fit, but never scale down",
    CropMode.FILL: "scale to cover the whole box, then crop what overflows at the gravity",
    CropMode.LFILL: "like fill, but never scale up",
    CropMode.PAD: "fit inside the box, then pad to the full box with the background colour",
    CropMode.LPAD: "like pad, but never scale up",
    CropMode.MPAD: "pad to the box without scaling the image",
    CropMode.CROP: "cut out a region of exactly that size at the gravity (or at x, y), "
    "without scaling",
    CropMode.THUMB: "like fill, made for thumbnails: with g_face it frames the face",
    CropMode.AUTO: "like fill, with the detectors choosing the most interesting region",
    CropMode.FILL_PAD: "fill when the content allows it, pad otherwise (needs g_auto)",
    CropMode.AUTO_PAD: "auto crop when the content allows it, pad otherwise (needs g_auto)",
    CropMode.IMAGGA_SCALE: "the Imagga add-on's scale, done as c_scale",
    CropMode.IMAGGA_CROP: "the Imagga add-on's smart crop, done as c_fill (centred)",
}

EFFECTS: dict[str, str] = {
    "grayscale": "turn the image to shades of grey",
    "blackwhite": "turn the image to pure black and white at a threshold",
    "sepia": "tint the image brown like an old photograph",
    "tint": "blend the image with a colour (or a gradient of colours)",
    "colorize": "paint the image with the colour given by co_",
    "negate": "invert every colour, as a photographic negative",
    "blur": "blur the image (gaussian)",
    "blur_region": "blur only the x, y, w, h region",
    "sharpen": "sharpen edges",
    "unsharp_mask": "sharpen edges with an unsharp mask",
    "pixelate": "pixelate the image into square blocks",
    "pixelate_region": "pixelate only the x, y, w, h region",
    "brightness": "make the image brighter (or darker with a negative level)",
    "brightness_hsb": "change brightness in the HSB colour model",
    "contrast": "raise the contrast (or lower it with a negative level)",
    "saturation": "make colours more vivid (or duller with a negative level)",
    "vibrance": "make muted colours more vivid, leaving saturated ones alone",
    "hue": "shift every hue around the colour wheel",
    "gamma": "change the gamma (mid-tones) of the image",
    "red": "raise or lower the red channel",
    "green": "raise or lower the green channel",
    "blue": "raise or lower the blue channel",
    "auto_brightness": "stretch brightness automatically",
    "auto_contrast": "stretch contrast automatically",
    "auto_color": "balance colours automatically",
    "improve": "improve colours, contrast and light automatically",
    "fill_light": "brighten the shadows",
    "vignette": "darken the edges of the image",
    "gradient_fade": "fade the image out towards an edge",
    "oil_paint": "make the image look like an oil painting",
    "cartoonify": "make the image look like a cartoon",
    "outline": "draw an outline around the image's opaque shape",
    "shadow": "add a drop shadow behind the image's shape",
    "make_transparent": "make the background colour transparent",
    "opacity_threshold": "make semi-transparent pixels fully transparent",
    "replace_color": "replace one colour with another",
    "trim": "trim the borders of a plain colour",
    "ordered_dither": "dither the image with an ordered pattern",
    "distort": "move the image's four corners to new places",
    "distort:arc": "bend the image along an arc",
    "shear": "slant the image",
    "pixelate_faces": "pixelate every detected face",
    "blur_faces": "blur every detected face",
}

FLAGS: dict[str, str] = {
    "progressive": "encode progressively (the image appears coarse first, then sharpens)",
    "attachment": "ask the browser to download the file instead of showing it",
    "strip_profile": "drop the colour profile (pixcast already converts to sRGB and strips it)",
    "keep_iptc": "keep the original's metadata (copyright, captions, EXIF)",
    "immutable_cache": "let caches keep the result for a year (Cache-Control: immutable)",
    "lossy": "deliver a PNG without transparency as JPEG, which is much smaller",
    "getinfo": "answer with JSON about the input, the output and the detected regions "
    "instead of the image",
    "ignore_aspect_ratio": "with one of width and height, do not keep the aspect ratio",
    "layer_apply": "close the layer opened by l_ or u_ and place it here (g_, x_, y_)",
    "relative": "layer sizes (w_, h_ decimals) are fractions of the image under the layer",
    "region_relative": "layer sizes are fractions of each face it is placed on (g_faces)",
    "tiled": "repeat the layer over the whole image (a watermark); x_ and y_ are the gaps",
    "no_overflow": "clip a layer that goes past the image's edges instead of growing it",
    "cutter": "keep the image only where the layer is opaque",
    "text_disallow_overflow": "refuse (400) a text layer larger than the image under it",
}

_ROTATIONS: dict[AngleMode, str] = {
    AngleMode.HFLIP: "flip horizontally (mirror)",
    AngleMode.VFLIP: "flip vertically",
    AngleMode.IGNORE: "ignore the EXIF orientation of the original",
    AngleMode.EXIF: "turn upright by the EXIF orientation (the default)",
    AngleMode.AUTO: "turn 90° clockwise when the requested orientation differs",
    AngleMode.AUTO_RIGHT: "turn 90° clockwise when the requested orientation differs",
    AngleMode.AUTO_LEFT: "turn 90° counter-clockwise when the requested orientation differs",
}

_FORMATS: dict[Format, str] = {
    Format.JPG: "JPEG",
    Format.PNG: "PNG (lossless, keeps transparency)",
    Format.WEBP: "WebP",
    Format.AVIF: "AVIF (smallest, slowest to encode)",
    Format.GIF: "GIF",
    Format.TIFF: "TIFF",
    Format.JXL: "JPEG-XL",
}

_CORNERS = ("top-left", "top-right", "bottom-right", "bottom-left")


def length(value: Length, side: str) -> str:
    """`300 px`, `0.5 times the input's width`, `the original's width`."""
    if value.unit is Unit.PIXELS:
        return f"{value.value:g} px"
    if value.unit is Unit.RELATIVE:
        return f"{value.value:g} times the input's {side}"
    return "the original's width" if value.unit is Unit.INITIAL_WIDTH else "the original's height"


def crop(mode: CropMode) -> str:
    return f"Crop mode {mode.value}: {CROP_MODES[mode]}."


def gravity(value: Compass | Focus) -> str:
    if isinstance(value, Compass):
        if value is Compass.XY_CENTER:
            return "Gravity xy_center: centre the crop on the point x, y."
        if value is Compass.CENTER:
            return "Gravity center: keep the centre of the image."
        return f"Gravity {value.value}: keep the {value.value.replace('_', ' ')} of the image."
    return f"Gravity {value.text}: {_focus(value)}."


_DETECTED = {
    "adv_face": "centre the crop on the largest face, as its landmarks outline it",
    "adv_faces": "keep every face, as its landmarks outline it, in the crop",
    "adv_eyes": "keep every detected eye in the crop",
    "ocr_text": "keep every line of detected text in the crop",
    "custom": "keep the stored custom coordinates (none are stored yet: the fallback applies)",
}


def _focus(value: Focus) -> str:
    if value.kind in _DETECTED:
        return _DETECTED[value.kind]
    if value.kind == "face":
        found = "centre the crop on the largest detected face"
    elif value.kind == "faces":
        found = "keep every detected face in the crop"
    elif value.kind == "objects":
        found = f"centre the crop on the detected {', '.join(value.labels)}"
    else:
        found = "let the detectors choose (faces, objects, then salient areas)"
        if value.labels:
            found += f", preferring {', '.join(value.labels)}"
        if value.avoid:
            found += f", avoiding {', '.join(value.avoid)}"
    if value.kind in ("face", "faces"):
        found += f"; {value.fallback} when there is none"
    return found


def width(value: Length) -> str:
    return f"Width {length(value, 'width')}."


def height(value: Length) -> str:
    return f"Height {length(value, 'height')}."


def aspect_ratio(value: Ratio) -> str:
    written = f"{value.numerator:g}:{value.denominator:g}" if value.denominator != 1 else ""
    shape = "landscape" if value.value > 1 else "portrait" if value.value < 1 else "square"
    prefix = f"{written} = " if written else ""
    return f"Aspect ratio {prefix}{value.value:.3g} (width ÷ height, {shape})."


def x(value: Length) -> str:
    return f"Horizontal offset {length(value, 'width')}."


def y(value: Length) -> str:
    return f"Vertical offset {length(value, 'height')}."


def zoom(value: float) -> str:
    return f"Zoom {value:g}: how tightly a face or object crop frames its subject."


def dpr(value: float) -> str:
    return f"Device pixel ratio {value:g}: width and height are multiplied by {value:g}."


def angles(values: tuple[Angle, ...]) -> str:
    words = [
        _ROTATIONS[a] if isinstance(a, AngleMode) else f"rotate {a}° clockwise" for a in values
    ]
    text = ", then ".join(words)
    return text[0].upper() + text[1:] + "."


def radius(value: Radius) -> str:
    if value.maximum:
        return "Round the corners fully: a circle for a square image, an ellipse otherwise."
    if len(set(value.corners)) == 1:
        return f"Round the corners with a radius of {value.corners[0]} px."
    corners = expand(value.corners)
    parts = [f"{name} {px} px" for name, px in zip(_CORNERS, corners, strict=True)]
    return f"Round the corners: {', '.join(parts)}."


def background(value: Colour) -> str:
    return f"Background {value.text}: fills the padding and any transparent areas."


def border(value: Border) -> str:
    return f"Draw a {value.width} px solid {value.colour.text} border around the image."


def opacity(value: int) -> str:
    return f"Opacity {value} %: formats without transparency blend the image onto white."


def colour(value: Colour) -> str:
    return f"Colour {value.text}, for overlays and text (it changes nothing on its own)."


def effect(value: Effect) -> str:
    """What the effect does and each parameter: the value given, else its default."""
    spec = REGISTRY[value.name]
    values, _ = bind(spec.name, spec.params, value.arguments)
    written = set(re.split(r"[:;]", ":".join(value.arguments)))
    text = f"Effect {value.name}: {EFFECTS.get(value.name, f'apply the {value.name} effect')}"
    for param in spec.params:
        chosen = values.items.get(param.name)
        if chosen is None:
            continue
        shown = param.text(chosen)
        default = param.default_for(values.items)
        if chosen != default or shown in written or f"{param.name}_{shown}" in written:
            text += f"; {param.name} {shown} ({param.expected(values.items)})"
        else:
            text += f"; {param.name} {shown} by default"
    return text + "."


def quality(value: Quality) -> str:
    if value.auto is not None:
        levels = ", ".join(
            f"{_FORMATS[fmt].split(' ')[0]} {table[value.auto]}"
            for fmt, table in QUALITY_TABLE.items()
        )
        return f"Quality chosen automatically ({value.auto}): {levels}."
    text = f"Quality {value.level} of 100 (higher is sharper and larger)"
    if value.chroma == 444:
        text += ", without chroma subsampling (4:4:4, crisper colour edges)"
    elif value.chroma == 420:
        text += ", with chroma subsampling (4:2:0, smaller)"
    return text + "."


def output_format(value: Format) -> str:
    if value is Format.AUTO:
        return (
            "Format auto: AVIF or WebP when the browser accepts them, else JPEG "
            "(PNG for transparent images); the response varies on Accept."
        )
    return f"Deliver as {_FORMATS[value]}."


def flags(values: tuple[Flag, ...]) -> str:
    parts = []
    for item in values:
        argument = f" ({item.argument})" if item.argument else ""
        meaning = FLAGS.get(item.name) or NO_EFFECT.get(item.name, "a delivery flag")
        parts.append(f"{item.name}{argument}: {meaning}")
    return "Flag " + "; ".join(parts) + "."


def layer(value: Layer) -> str:
    where = "Underlay" if value.underlay else "Overlay"
    if value.kind is LayerKind.TEXT and value.style is not None:
        what = f"the text {value.source!r} in {value.style.font} {value.style.size} px"
    elif value.kind is LayerKind.FETCH:
        what = f"the image fetched from {value.source}"
    else:
        what = f"the image {value.source}"
    return (
        f"{where} {what}: the components up to fl_layer_apply transform it, and that "
        "component places it (g_, x_, y_)."
    )


# Step field → sentence. The order is the order pixcast applies a component's parts in.
DESCRIBE: dict[str, Callable[[Any], str]] = {
    "crop": crop,
    "gravity": gravity,
    "aspect_ratio": aspect_ratio,
    "width": width,
    "height": height,
    "x": x,
    "y": y,
    "zoom": zoom,
    "dpr": dpr,
    "angles": angles,
    "effect": effect,
    "radius": radius,
    "border": border,
    "opacity": opacity,
    "background": background,
    "colour": colour,
    "quality": quality,
    "format": output_format,
    "flags": flags,
    "layer": layer,
    "condition": lambda text: (
        f"Condition if_{text}: the components up to if_end run when it holds (if_else: otherwise)."
    ),
    "variables": lambda pairs: "Set " + ", ".join(f"${n} to {v}" for n, v in pairs) + ".",
    "deferred": lambda pairs: (
        "Computed when rendering: " + ", ".join(f"{k}_{v}" for k, v in pairs) + "."
    ),
    "auto_width": lambda value: f"Width from the browser's Width client hint ({value.text}).",
    "auto_dpr": lambda value: "Device pixel ratio from the browser's DPR client hint.",
    "auto_background": lambda value: f"Padding made from the image itself ({value.text}).",
    "colour_space": lambda value: f"Colour space {value} (pixcast delivers sRGB).",
    "density": lambda value: f"Rasterize vector originals at {value} dpi.",
}
