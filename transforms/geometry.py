"""Pure geometry of one step: requested size, crop box, scale and padding. No pixels.

Coordinates are input pixels of the step (after EXIF rotation for the first step),
origin at the top left, as floats; output sizes are whole pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from transforms.errors import BadRequest
from transforms.model import Compass, CropMode, Length, Step

Size = tuple[float, float]


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    width: float
    height: float

    @property
    def center(self) -> tuple[float, float]:
        return (self.left + self.width / 2, self.top + self.height / 2)


@dataclass(frozen=True)
class Plan:
    """Take `box` of the input, resize it to `size`, place it at `offset` on `canvas`."""

    box: Box
    size: tuple[int, int]
    canvas: tuple[int, int]
    offset: tuple[int, int] = (0, 0)

    @property
    def scale(self) -> float:
        return min(self.size[0] / self.box.width, self.size[1] / self.box.height)


@dataclass(frozen=True)
class Request:
    """A step's geometry in pixels: target size, offsets and where to centre a crop.

    `anchor` is a point in input pixels (from g_xy_center or a detected focus) that a
    crop is centred on; `compass` places the crop when there is no anchor.
    """

    mode: CropMode
    width: float
    height: float
    compass: Compass = Compass.CENTER
    x: float = 0.0
    y: float = 0.0
    anchor: tuple[float, float] | None = None
    focus: Box | None = None
    zoom: float = 1.0


# --- sizes -------------------------------------------------------------------------------


def _length(length: Length | None, reference: float, initial: tuple[int, int]) -> float | None:
    return None if length is None else length.resolve(reference, initial)


def requested_size(
    step: Step, source: Size, initial: tuple[int, int], max_dpr: float = 4.0
) -> Size | None:
    """Target width and height in pixels, or None when the step asks for no resize.

    Decimals multiply the step's input size, iw/ih the original's; a missing side follows
    the aspect ratio (`ar_`, else the input's), and dpr multiplies both.
    """
    width = _length(step.width, source[0], initial)
    height = _length(step.height, source[1], initial)
    ratio = step.aspect_ratio.value if step.aspect_ratio else None
    if width is None and height is None and ratio is None:
        return None
    width, height = _complete(width, height, ratio, source, step.has_flag("ignore_aspect_ratio"))
    dpr = _dpr(step, max_dpr)
    return (width * dpr, height * dpr)


def _complete(
    width: float | None, height: float | None, ratio: float | None, source: Size, ignore: bool
) -> Size:
    if width is not None and height is not None:
        return (width, height)
    if width is None and height is None:
        assert ratio is not None
        return _largest_inside(source, ratio)
    if ignore and ratio is None:
        return (width or source[0], height or source[1])
    ratio = ratio or source[0] / source[1]
    if width is not None:
        return (width, width / ratio)
    assert height is not None
    return (height * ratio, height)


def _largest_inside(source: Size, ratio: float) -> Size:
    if source[0] / source[1] > ratio:
        return (source[1] * ratio, source[1])
    return (source[0], source[0] / ratio)


def _dpr(step: Step, max_dpr: float) -> float:
    dpr = step.dpr or 1.0
    if dpr > max_dpr:
        raise BadRequest(f"Invalid dpr in transformation: {dpr:g} (at most {max_dpr:g})")
    return dpr


def whole(size: Size) -> tuple[int, int]:
    return (max(1, round(size[0])), max(1, round(size[1])))


# --- placing a box -----------------------------------------------------------------------

_EAST = {Compass.NORTH_EAST, Compass.EAST, Compass.SOUTH_EAST}
_WEST = {Compass.NORTH_WEST, Compass.WEST, Compass.SOUTH_WEST}
_NORTH = {Compass.NORTH_WEST, Compass.NORTH, Compass.NORTH_EAST}
_SOUTH = {Compass.SOUTH_WEST, Compass.SOUTH, Compass.SOUTH_EAST}


def compass_origin(compass: Compass, inner: Size, outer: Size) -> tuple[float, float]:
    """Top-left of `inner` placed at a compass point of `outer`."""
    left = 0.0 if compass in _WEST else outer[0] - inner[0] if compass in _EAST else None
    top = 0.0 if compass in _NORTH else outer[1] - inner[1] if compass in _SOUTH else None
    left = (outer[0] - inner[0]) / 2 if left is None else left
    top = (outer[1] - inner[1]) / 2 if top is None else top
    return (left, top)


def offset_signs(compass: Compass) -> tuple[int, int]:
    """Cloudinary's x/y directions: east points count x leftwards, south points y upwards."""
    return (-1 if compass in _EAST else 1, -1 if compass in _SOUTH else 1)


def place(inner: Size, outer: Size, request: Request, use_offsets: bool) -> Box:
    """Position a box of size `inner` inside `outer`, clamped to stay inside it."""
    if request.anchor is not None:
        left, top = request.anchor[0] - inner[0] / 2, request.anchor[1] - inner[1] / 2
    else:
        left, top = compass_origin(request.compass, inner, outer)
        if use_offsets:
            sign_x, sign_y = offset_signs(request.compass)
            left, top = left + sign_x * request.x, top + sign_y * request.y
    left = min(max(left, 0.0), outer[0] - inner[0])
    top = min(max(top, 0.0), outer[1] - inner[1])
    return Box(left, top, inner[0], inner[1])


# --- crop modes --------------------------------------------------------------------------


def plan(request: Request, source: Size) -> Plan:
    """The Plan for a crop mode; see docs/url-api.md for each mode's rules."""
    return _MODES[request.mode](request, source)


def _full(source: Size) -> Box:
    return Box(0.0, 0.0, source[0], source[1])


def _resized(source: Size, scale: float) -> Plan:
    size = whole((source[0] * scale, source[1] * scale))
    return Plan(_full(source), size, size)


def _scale(request: Request, source: Size) -> Plan:
    size = whole((request.width, request.height))
    return Plan(_full(source), size, size)


def _fit_scale(request: Request, source: Size) -> float:
    return min(request.width / source[0], request.height / source[1])


def _fit(request: Request, source: Size) -> Plan:
    return _resized(source, _fit_scale(request, source))


def _limit(request: Request, source: Size) -> Plan:
    return _resized(source, min(_fit_scale(request, source), 1.0))


def _mfit(request: Request, source: Size) -> Plan:
    return _resized(source, max(_fit_scale(request, source), 1.0))


def _fill(request: Request, source: Size) -> Plan:
    """Cover the output, crop the rest at the gravity (or around the focus centre)."""
    size = whole((request.width, request.height))
    scale = max(size[0] / source[0], size[1] / source[1])
    inner = (min(size[0] / scale, source[0]), min(size[1] / scale, source[1]))
    return Plan(place(inner, source, request, use_offsets=False), size, size)


def _lfill(request: Request, source: Size) -> Plan:
    if request.width <= source[0] and request.height <= source[1]:
        return _fill(request, source)
    # Never upscale: shrink the requested box into the source and crop that.
    smaller = (min(request.width, source[0]), min(request.height, source[1]))
    return _fill(_with_size(request, smaller), source)


def _with_size(request: Request, size: Size) -> Request:
    return Request(
        request.mode, size[0], size[1], request.compass, request.x, request.y,
        request.anchor, request.focus, request.zoom,
    )  # fmt: skip


def _padded(request: Request, source: Size, scale: float, canvas: tuple[int, int]) -> Plan:
    size = whole((source[0] * scale, source[1] * scale))
    size = (min(size[0], canvas[0]), min(size[1], canvas[1]))
    left, top = compass_origin(request.compass, size, canvas)
    return Plan(_full(source), size, canvas, (round(left), round(top)))


def _pad(request: Request, source: Size) -> Plan:
    canvas = whole((request.width, request.height))
    return _padded(request, source, _fit_scale(request, source), canvas)


def _lpad(request: Request, source: Size) -> Plan:
    canvas = whole((request.width, request.height))
    return _padded(request, source, min(_fit_scale(request, source), 1.0), canvas)


def _mpad(request: Request, source: Size) -> Plan:
    # Never scale; pad only along the sides where the requested box is larger.
    canvas = whole((max(request.width, source[0]), max(request.height, source[1])))
    return _padded(request, source, 1.0, canvas)


def _crop(request: Request, source: Size) -> Plan:
    inner = (min(request.width, source[0]), min(request.height, source[1]))
    box = place(inner, source, request, use_offsets=True)
    size = whole((box.width, box.height))
    return Plan(_snap(box, size), size, size)


def _snap(box: Box, size: tuple[int, int]) -> Box:
    return Box(float(math.floor(box.left)), float(math.floor(box.top)), *map(float, size))


# --- crops around a focus (faces, objects, saliency) --------------------------------------


def _window(focus: Box, ratio: float) -> Size:
    """The smallest box of aspect `ratio` that holds the focus box."""
    width = max(focus.width, focus.height * ratio)
    return (width, width / ratio)


def _fit_inside(size: Size, source: Size) -> Size:
    shrink = min(1.0, source[0] / size[0], source[1] / size[1])
    return (size[0] * shrink, size[1] * shrink)


def _thumb_window(request: Request, focus: Box) -> Size:
    # Never smaller than the output, so a small face is not upscaled into a blur.
    window = _window(focus, request.width / request.height)
    return (max(window[0], request.width), max(window[1], request.height))


def _centred(request: Request, focus: Box) -> Request:
    return Request(request.mode, request.width, request.height, request.compass,
                   request.x, request.y, focus.center, focus, request.zoom)  # fmt: skip


def _window_plan(request: Request, source: Size, window: Size) -> Plan:
    assert request.focus is not None
    size = whole((request.width, request.height))
    inner = _fit_inside(window, source)
    box = place(inner, source, _centred(request, request.focus), use_offsets=False)
    return Plan(box, size, size)


def _thumb(request: Request, source: Size) -> Plan:
    """The focus (with its margin) fills the output; the window keeps the output's ratio."""
    if request.focus is None:
        return _fill(request, source)
    return _window_plan(request, source, _thumb_window(request, request.focus))


def _auto_window(request: Request, source: Size) -> Size:
    # Between a thumbnail and a fill: the geometric mean of the two windows.
    assert request.focus is not None
    thumb = _thumb_window(request, request.focus)
    fill = _largest_inside(source, request.width / request.height)
    return (math.sqrt(thumb[0] * fill[0]), math.sqrt(thumb[1] * fill[1]))


def _auto(request: Request, source: Size) -> Plan:
    if request.focus is None:
        return _fill(request, source)
    return _window_plan(request, source, _auto_window(request, source))


def _holds(outer: Box, inner: Box) -> bool:
    slack = 0.5
    return (
        outer.left - slack <= inner.left
        and outer.top - slack <= inner.top
        and inner.left + inner.width <= outer.left + outer.width + slack
        and inner.top + inner.height <= outer.top + outer.height + slack
    )


def _fill_pad(request: Request, source: Size) -> Plan:
    """Fill; but when that would cut the focus, show all of it and pad the rest."""
    focus = request.focus
    filled = _fill(request if focus is None else _centred(request, focus), source)
    if focus is None or _holds(filled.box, focus):
        return filled
    return _padded_window(request, source, _window(focus, request.width / request.height))


def _auto_pad(request: Request, source: Size) -> Plan:
    if request.focus is None:
        return _fill(request, source)
    window = _auto_window(request, source)
    if window[0] <= source[0] and window[1] <= source[1]:
        return _window_plan(request, source, window)
    return _padded_window(request, source, window)


def _axis(center: float, length: float, limit: float) -> float:
    """Start of a window on one axis: clamped inside when it fits, else the source centred."""
    if length <= limit:
        return min(max(center - length / 2, 0.0), limit - length)
    return (limit - length) / 2


def _padded_window(request: Request, source: Size, window: Size) -> Plan:
    assert request.focus is not None
    canvas = whole((request.width, request.height))
    center = request.focus.center
    left, top = _axis(center[0], window[0], source[0]), _axis(center[1], window[1], source[1])
    box_left, box_top = max(left, 0.0), max(top, 0.0)
    box = Box(box_left, box_top, min(left + window[0], source[0]) - box_left,
              min(top + window[1], source[1]) - box_top)  # fmt: skip
    scale = canvas[0] / window[0]
    size = whole((box.width * scale, box.height * scale))
    offset = (round((box_left - left) * scale), round((box_top - top) * scale))
    return Plan(box, size, canvas, offset)


_MODES = {
    CropMode.SCALE: _scale,
    CropMode.FIT: _fit,
    CropMode.LIMIT: _limit,
    CropMode.MFIT: _mfit,
    CropMode.FILL: _fill,
    CropMode.LFILL: _lfill,
    CropMode.PAD: _pad,
    CropMode.LPAD: _lpad,
    CropMode.MPAD: _mpad,
    CropMode.CROP: _crop,
    CropMode.THUMB: _thumb,
    CropMode.AUTO: _auto,
    CropMode.FILL_PAD: _fill_pad,
    CropMode.AUTO_PAD: _auto_pad,
}
