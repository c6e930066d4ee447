"""Planning a step: its geometry request (sizes, gravity, offsets, a detected focus)
becomes a Plan in the step's input pixels, with the checks Cloudinary makes."""

from __future__ import annotations

from collections.abc import Callable

from detectors.probe import probe_from_image
from detectors.service import RegionService, SourceRegions
from transforms import geometry
from transforms.context import Context
from transforms.effects import takes_region
from transforms.errors import BadRequest
from transforms.focus import Found, Mapping, focus_box, locate
from transforms.model import (
    Compass,
    CropMode,
    Focus,
    Limits,
    Step,
)

PADDING = {CropMode.PAD, CropMode.LPAD, CropMode.MPAD}
# The Imagga add-on's modes, done the nearest pixcast way (docs/url-api.md).
NEAREST = {CropMode.IMAGGA_SCALE: CropMode.SCALE, CropMode.IMAGGA_CROP: CropMode.FILL}
_NO_FOCUS = {CropMode.SCALE, CropMode.FIT, CropMode.LIMIT, CropMode.MFIT} | PADDING


def centre_focus(gravity: Focus) -> tuple[Found, Mapping]:
    return Found(None, Compass.CENTER), Mapping(1.0, 1.0)


Focuser = Callable[[Focus], tuple[Found, Mapping]]


def fixed_focus(regions: SourceRegions | None, mapping: Mapping) -> Focuser | None:
    if regions is None:
        return None
    return lambda gravity: (locate(gravity, regions), mapping)


def focuser_for(context: Context, detection: RegionService | None) -> Focuser | None:
    """Detections for a later step: mapped from the original while that is possible,
    else found again on the image as it is at that step."""
    if context.mapping is not None:
        return fixed_focus(context.regions, context.mapping)
    if detection is None:
        return None
    current = context.image
    regions = detection.for_source(None, lambda: probe_from_image(current))
    return fixed_focus(regions, Mapping(current.width, current.height))


def reduction(plan: geometry.Plan) -> float:
    return min(plan.box.width / plan.size[0], plan.box.height / plan.size[1])


def plan_step(
    step: Step,
    source: tuple[float, float],
    initial: tuple[int, int],
    limits: Limits,
    focus: Focuser | None = None,
) -> geometry.Plan | None:
    """The step's geometry Plan in input pixels, or None when it does not resize."""
    mode = step.crop or CropMode.SCALE
    mode = NEAREST.get(mode, mode)
    if step.effect is not None and takes_region(step.effect):
        return None  # x/y/w/h (or g_ocr_text) are the region of e_blur_region/e_pixelate_region
    _check_gravity(step, mode, focus)
    box, fallback = _focus(step, focus)
    size = geometry.requested_size(step, source, initial, limits.max_dpr)
    if size is None and mode is CropMode.CROP and box is not None:
        size = (min(box.width, source[0]), min(box.height, source[1]))
    if size is None:
        return None
    request = _request(step, mode, size, source, initial, box, fallback)
    found = geometry.plan(request, source)
    _check_output(found, limits)
    return found


def _focus(step: Step, focus: Focuser | None) -> tuple[geometry.Box | None, Compass | None]:
    if not isinstance(step.gravity, Focus) or focus is None:
        return None, None
    found, mapping = focus(step.gravity)
    return focus_box(found, mapping, step.zoom or 1.0), found.fallback


def _check_gravity(step: Step, mode: CropMode, focus: Focuser | None) -> None:
    gravity = step.gravity
    is_auto = isinstance(gravity, Focus) and gravity.kind == "auto"
    if mode in (CropMode.FILL_PAD, CropMode.AUTO_PAD) and not is_auto:
        raise BadRequest(f"Crop mode {mode.value} needs g_auto")
    if not isinstance(gravity, Focus):
        return
    if mode in _NO_FOCUS:
        raise BadRequest(f"Gravity {gravity.text} cannot be used with c_{mode.value}")
    if focus is None:
        raise BadRequest(
            f"Gravity {gravity.text} needs detectors (faces, objects or saliency), "
            "which this pixcast server has not enabled"
        )


def _request(
    step: Step,
    mode: CropMode,
    size: tuple[float, float],
    source: tuple[float, float],
    initial: tuple[int, int],
    box: geometry.Box | None,
    fallback: Compass | None,
) -> geometry.Request:
    x = step.x.resolve(source[0], initial) if step.x else 0.0
    y = step.y.resolve(source[1], initial) if step.y else 0.0
    compass = step.gravity if isinstance(step.gravity, Compass) else _default_compass(step)
    compass = fallback or compass
    anchor = (x, y) if compass is Compass.XY_CENTER else None
    anchor = box.center if box is not None else anchor
    zoom = step.zoom or 1.0
    return geometry.Request(mode, size[0], size[1], compass, x, y, anchor, box, zoom)


def _default_compass(step: Step) -> Compass:
    # Cloudinary: a crop with x/y but no gravity measures from the top-left corner.
    if step.crop is CropMode.CROP and (step.x is not None or step.y is not None):
        return Compass.NORTH_WEST
    return Compass.CENTER


def _check_output(plan: geometry.Plan, limits: Limits) -> None:
    width, height = plan.canvas
    if max(width, height) > limits.max_output_side:
        raise BadRequest(
            f"Requested size {width}x{height} is larger than the limit of "
            f"{limits.max_output_side} pixels per side"
        )
