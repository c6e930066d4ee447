"""Layers: draw an overlay (`l_`) or underlay (`u_`) on the image, where its placement says.

The layer's image comes from its source (image bytes, or text) through its own steps, run
by the pipeline's code (`Runner`); it then goes over the image (under it for underlays) at
a compass point with Cloudinary's offsets, once on each detected face, or tiled; with
`fl_cutter` the image is kept only where the layer is opaque. Sizes are in the pixels of
the image the layer is drawn on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pyvips

from detectors import focus as choose
from detectors.base import DetectorUnavailable
from detectors.probe import probe_from_image
from transforms import placement
from transforms.context import Context
from transforms.errors import BadRequest, PixcastError
from transforms.focus import Mapping
from transforms.geometry import Box
from transforms.model import (
    AngleMode,
    Compass,
    CropMode,
    Focus,
    Layer,
    LayerKind,
    Length,
    Step,
    Unit,
)
from transforms.steps.load import Decoder, read_header
from transforms.steps.text import render_text

# The pipeline's loop over steps, for the layer's own chain (steps cannot import it).
Runner = Callable[[Context, tuple[Step, ...]], None]
Piece = tuple[pyvips.Image, Box]
Region = tuple[float, float]


def apply_layer(context: Context, layer: Layer, run: Runner) -> None:
    """Draw `layer` on `context.image`; the canvas grows when the layer leaves it, unless
    fl_no_overflow (or fl_tiled, or fl_cutter) keeps the image's size."""
    gravity = layer.placement.gravity
    if isinstance(gravity, Focus):
        pieces = _on_faces(context, layer, gravity, run)
    else:
        pieces = _at_compass(context, layer, gravity or Compass.CENTER, run)
    if not pieces:
        return  # Cloudinary: a layer placed on faces where none is found is left out
    if layer.has_flag("cutter"):
        context.image = _cut(context.image, pieces)
    else:
        _compose(context, layer, pieces)


# --- where -------------------------------------------------------------------------------


def _at_compass(context: Context, layer: Layer, compass: Compass, run: Runner) -> list[Piece]:
    if layer.has_flag("region_relative"):
        raise BadRequest(
            "fl_region_relative needs g_face or g_faces where the layer is applied "
            "(the overlay is sized relative to each face)"
        )
    image = _layer_image(context, layer, run, None)
    x, y = _offsets(context, layer.placement)
    if layer.has_flag("tiled"):
        gap = (abs(round(x)), abs(round(y)))
        return [(_tiles(image, context.size, gap), Box(0, 0, *context.size))]
    return [(image, placement.at_compass(compass, _size(image), context.size, x, y))]


def _on_faces(context: Context, layer: Layer, gravity: Focus, run: Runner) -> list[Piece]:
    if gravity.kind not in ("face", "faces"):
        raise BadRequest(
            f"Gravity {gravity.text} cannot place a layer "
            "(use a compass point such as north_east, face or faces)"
        )
    if context.animated:
        return []  # faces are not detected on animations, as in Cloudinary
    x, y = _offsets(context, layer.placement)
    pieces = []
    for face in _faces(context, gravity):
        region = (face.width, face.height) if layer.has_flag("region_relative") else None
        image = _layer_image(context, layer, run, region)
        pieces.append((image, placement.centred_on(face, _size(image), x, y)))
    return pieces


def _offsets(context: Context, step: Step) -> tuple[float, float]:
    """x/y in pixels; decimals are fractions of the image the layer goes on."""
    x = step.x.resolve(context.size[0], context.initial) if step.x else 0.0
    y = step.y.resolve(context.size[1], context.initial) if step.y else 0.0
    return x, y


def _faces(context: Context, gravity: Focus) -> list[Box]:
    """Detected faces in the current image's pixels (only the largest for g_face)."""
    if context.detection is None:
        raise BadRequest(
            f"Gravity {gravity.text} places a layer on faces and needs the faces detector, "
            "which this pixcast server has not enabled"
        )
    if context.mapping is not None and context.regions is not None:
        regions, mapping = context.regions, context.mapping
    else:  # after a free rotation or an effect: find the faces on the image as it is
        current = context.image
        regions = context.detection.for_source(None, lambda: probe_from_image(current))
        mapping = Mapping(*context.size)
    try:
        faces = regions.find("faces")
    except DetectorUnavailable as off:
        raise BadRequest(f"Gravity {gravity.text} cannot place a layer: {off.public}") from None
    if gravity.kind == "face":
        largest = choose.largest_face(faces)
        faces = [largest] if largest is not None else []
    return [mapping.box(face) for face in faces]


# --- the layer's image -------------------------------------------------------------------


def _layer_image(
    context: Context, layer: Layer, run: Runner, region: Region | None
) -> pyvips.Image:
    key = (layer, region)
    if key not in context.drawn:
        steps = tuple(_sized(step, context.size, region) for step in layer.chain)
        steps, wrap = _text_wrap(layer, steps)
        source = _source(context, layer, wrap)
        run(source, steps)
        image = _rgba(source.image)
        _check_text(layer, image, context.size)
        context.drawn[key] = image
    return context.drawn[key]


def _sized(step: Step, base: tuple[int, int], region: Region | None) -> Step:
    """fl_relative: w/h decimals of the image under the layer; fl_region_relative: of the
    face the layer goes on."""
    if region is not None and step.has_flag("region_relative"):
        reference: Region = region
    elif step.has_flag("relative"):
        reference = (base[0], base[1])
    else:
        return step
    return replace(
        step,
        width=_absolute(step.width, reference[0]),
        height=_absolute(step.height, reference[1]),
    )


def _absolute(length: Length | None, side: float) -> Length | None:
    if length is None or length.unit is not Unit.RELATIVE:
        return length
    return Length(max(1.0, length.value * side))


def _text_wrap(layer: Layer, steps: tuple[Step, ...]) -> tuple[tuple[Step, ...], int | None]:
    """`l_text:...,c_fit,w_300`: the text wraps at 300 px instead of being scaled."""
    first = steps[0]
    width = first.width
    if layer.kind is not LayerKind.TEXT or first.crop is not CropMode.FIT or width is None:
        return steps, None
    if width.unit is not Unit.PIXELS:
        return steps, None
    unwrapped = replace(first, crop=None, width=None, height=None)
    return (unwrapped, *steps[1:]), max(1, round(width.value))


def _source(context: Context, layer: Layer, wrap: int | None) -> Context:
    """A Context holding the layer's source image, before its steps."""
    if layer.kind is LayerKind.TEXT:
        assert layer.style is not None
        image = render_text(layer.style, layer.source, layer.head.colour, context.layers.fonts,
                            wrap, context.limits.max_output_side)  # fmt: skip
        return Context(image, (image.width, image.height), "png", 0, context.limits)
    data = context.layers.images.get(layer.source)
    if data is None:
        raise BadRequest(f"Layer resource not found - {layer.source}")
    try:
        header = read_header(data, context.limits)
    except PixcastError as error:  # name the layer: the message speaks of "the original"
        raise type(error)(f"Layer {layer.source}: {error.message}") from None
    ignore = any(AngleMode.IGNORE in step.angles for step in layer.components)
    image = Decoder(data, header, ignore).decode(1, streaming=False)
    initial = header.upright(ignore)
    source = Context(image, initial, header.format, len(data), context.limits)
    source.mapping, source.detection = Mapping(*initial), context.detection
    if context.detection is not None:  # for detection gravities in the layer's own steps
        source.regions = context.detection.for_source(None, lambda: probe_from_image(image))
    return source


def _rgba(image: pyvips.Image) -> pyvips.Image:
    if image.bands < 3:
        image = image.colourspace("srgb")
    if not image.hasalpha():
        image = image.bandjoin(255)
    return image.cast("uchar").copy(interpretation="srgb")


def _check_text(layer: Layer, image: pyvips.Image, base: tuple[int, int]) -> None:
    if layer.kind is not LayerKind.TEXT or not layer.has_flag("text_disallow_overflow"):
        return
    if image.width > base[0] or image.height > base[1]:
        raise BadRequest(
            f"Text layer of {image.width}x{image.height} pixels is larger than the image "
            f"under it ({base[0]}x{base[1]}) and fl_text_disallow_overflow is set"
        )


def _size(image: pyvips.Image) -> tuple[int, int]:
    return (image.width, image.height)


# --- drawing -----------------------------------------------------------------------------


def _tiles(image: pyvips.Image, base: tuple[int, int], gap: tuple[int, int]) -> pyvips.Image:
    """The layer repeated from the top-left corner over the whole image, `gap` apart."""
    across, down = placement.tile_grid(_size(image), base, gap)
    cell = image.embed(0, 0, image.width + gap[0], image.height + gap[1],
                       extend="background", background=[0, 0, 0, 0])  # fmt: skip
    return cell.replicate(across, down).crop(0, 0, base[0], base[1])


def _compose(context: Context, layer: Layer, pieces: list[Piece]) -> None:
    base = context.image
    overflow = not (layer.has_flag("no_overflow") or layer.has_flag("tiled"))
    canvas = placement.canvas(context.size, [box for _, box in pieces], overflow)
    _check_canvas(canvas.size, context.limits.max_output_side)
    dx, dy = canvas.base
    moved = [(image, Box(box.left + dx, box.top + dy, box.width, box.height))
             for image, box in pieces]  # fmt: skip
    under = [(base, Box(dx, dy, *context.size))]
    out = _draw(canvas.size, moved + under if layer.underlay else under + moved)
    if not base.hasalpha() and canvas.size == context.size:
        out = out.extract_band(0, n=3)  # an opaque image stays opaque (and small as JPEG)
    context.image = out
    if context.mapping is not None and (dx, dy) != (0, 0):
        context.mapping = context.mapping.shifted(dx, dy)


def _cut(base: pyvips.Image, pieces: list[Piece]) -> pyvips.Image:
    """fl_cutter: the image's alpha times the layer's, at the layer's place."""
    mask = _draw((base.width, base.height), pieces).extract_band(3)
    if not base.hasalpha():
        return base.bandjoin(mask)
    colour = base.extract_band(0, n=base.bands - 1)
    alpha = base.extract_band(base.bands - 1) * mask / 255
    return colour.bandjoin(alpha.cast("uchar"))


def _draw(size: tuple[int, int], pieces: list[Piece]) -> pyvips.Image:
    """The pieces over each other in order, on a transparent canvas of `size` (clipped)."""
    canvas = pyvips.Image.black(size[0], size[1], bands=4).copy(interpretation="srgb")
    return canvas.composite(
        [_rgba(image) for image, _ in pieces], ["over"] * len(pieces),
        x=[int(box.left) for _, box in pieces], y=[int(box.top) for _, box in pieces],
    ).cast("uchar")  # fmt: skip


def _check_canvas(size: tuple[int, int], max_side: int) -> None:
    if max(size) > max_side:
        raise BadRequest(
            f"A layer placed outside the image grows it to {size[0]}x{size[1]}, larger than "
            f"the limit of {max_side} pixels per side (fl_no_overflow keeps the image's size)"
        )
