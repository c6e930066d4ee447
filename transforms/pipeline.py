"""The pipeline: load → for each step (resize, rotate, effect, corners, border, opacity,
background) → choose the output format → encode. `render` is the one entry point.
"""

from __future__ import annotations

import json

import pyvips

from transforms import geometry
from transforms.context import Context
from transforms.effects import apply_effect
from transforms.errors import BadRequest, Unprocessable
from transforms.formats import (
    EncodeOptions,
    accept_bucket,
    encode,
    from_original,
    media_type,
    negotiate,
    supports_alpha,
)
from transforms.model import (
    Compass,
    CropMode,
    Focus,
    Format,
    Limits,
    Rendered,
    Step,
    Transformation,
)
from transforms.steps.border import add_border
from transforms.steps.corners import round_corners
from transforms.steps.load import Header, load, read_header, shrink_factor
from transforms.steps.resize import execute
from transforms.steps.rotate import rotate
from transforms.steps.tone import WHITE, flatten, set_opacity

_PADDING = {CropMode.PAD, CropMode.LPAD, CropMode.MPAD}
_NO_FOCUS = {CropMode.SCALE, CropMode.FIT, CropMode.LIMIT, CropMode.MFIT} | _PADDING


def render(
    t: Transformation, source: bytes, accept: str | None, limits: Limits | None = None
) -> Rendered:
    """Render `t` from the original's bytes. Blocking: run it in a worker thread."""
    try:
        return _render(t, source, accept, limits or Limits())
    except pyvips.Error as error:
        reason = str(error).strip().splitlines()[0][:200]
        raise Unprocessable(f"pixcast could not process the image: {reason}") from None


def _render(t: Transformation, source: bytes, accept: str | None, limits: Limits) -> Rendered:
    header = read_header(source, limits)
    initial = header.upright(t.ignores_orientation)
    first = plan_step(t.steps[0], initial, initial, limits) if t.steps else None
    shrink = shrink_factor(header, _reduction(first)) if first else 1
    image = load(source, header, shrink, t.ignores_orientation)
    context = Context(image, initial, header.format, len(source), limits)
    ratio = (initial[0] / image.width, initial[1] / image.height)
    for index, step in enumerate(t.steps):
        plan = first if index == 0 else plan_step(step, context.size, initial, limits)
        context.image = apply_step(context.image, step, plan, ratio if index == 0 else (1, 1))
    return _deliver(t, context, header, accept)


def _reduction(plan: geometry.Plan) -> float:
    return min(plan.box.width / plan.size[0], plan.box.height / plan.size[1])


# --- one step ----------------------------------------------------------------------------


def apply_step(
    image: pyvips.Image, step: Step, plan: geometry.Plan | None, ratio: tuple[float, float]
) -> pyvips.Image:
    """Resize, rotate, effect, corners, border, opacity, background — in that order."""
    if plan is not None:
        image = execute(image, plan, step.background, ratio)
    if step.angles:
        image = rotate(image, step.angles)
    if step.effect is not None:
        image = apply_effect(image, step.effect)
    if step.radius is not None:
        image = round_corners(image, step.radius)
    if step.border is not None:
        image = add_border(image, step.border, step.radius)
    if step.opacity is not None:
        image = set_opacity(image, step.opacity)
    if step.background is not None and step.crop not in _PADDING:
        image = flatten(image, step.background)
    return image


def plan_step(
    step: Step, source: tuple[float, float], initial: tuple[int, int], limits: Limits
) -> geometry.Plan | None:
    """The step's geometry Plan in input pixels, or None when it does not resize."""
    _check_gravity(step)
    size = geometry.requested_size(step, source, initial, limits.max_dpr)
    if size is None:
        return None
    found = geometry.plan(_request(step, size, source, initial), source)
    _check_output(found, limits)
    return found


def _check_gravity(step: Step) -> None:
    mode = step.crop or CropMode.SCALE
    if mode in (CropMode.FILL_PAD, CropMode.AUTO_PAD):
        raise BadRequest(f"Crop mode {mode.value} needs g_auto, which needs detectors")
    if not isinstance(step.gravity, Focus):
        return
    if mode in _NO_FOCUS:
        raise BadRequest(f"Gravity {step.gravity.text} cannot be used with c_{mode.value}")
    raise BadRequest(
        f"Gravity {step.gravity.text} needs a detector (faces, objects or saliency) "
        "that this pixcast server does not have enabled"
    )


def _request(
    step: Step, size: tuple[float, float], source: tuple[float, float], initial: tuple[int, int]
) -> geometry.Request:
    x = step.x.resolve(source[0], initial) if step.x else 0.0
    y = step.y.resolve(source[1], initial) if step.y else 0.0
    compass = step.gravity if isinstance(step.gravity, Compass) else _default_compass(step)
    anchor = (x, y) if compass is Compass.XY_CENTER else None
    mode = step.crop or CropMode.SCALE
    return geometry.Request(mode, size[0], size[1], compass, x, y, anchor)


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


# --- delivery ----------------------------------------------------------------------------


def output_format(t: Transformation, original: str, has_alpha: bool, accept: str | None) -> Format:
    requested = t.requested_format
    if requested is Format.AUTO:
        chosen = negotiate(accept_bucket(accept), has_alpha)
    else:
        chosen = requested or from_original(original)
    if t.flag("lossy") and chosen is Format.PNG and not has_alpha:
        return Format.JPG
    return chosen


def _encode_options(t: Transformation, fmt: Format) -> EncodeOptions:
    quality = t.quality
    progressive_flag = t.flag("progressive")
    progressive = progressive_flag.argument != "none" if progressive_flag else False
    if progressive_flag is None and quality is not None and quality.auto is not None:
        progressive = True  # Cloudinary's default with q_auto is "semi" progressive
    keep = t.flag("keep_iptc") is not None
    if keep and quality is not None and quality.auto is not None:
        raise BadRequest("fl_keep_iptc cannot be combined with q_auto (use a numeric quality)")
    return EncodeOptions(fmt, quality, progressive, keep)


def _last_background(t: Transformation) -> Step | None:
    return next((s for s in reversed(t.steps) if s.background is not None), None)


def _deliver(t: Transformation, context: Context, header: Header, accept: str | None) -> Rendered:
    image = context.image
    fmt = output_format(t, header.format, image.hasalpha(), accept)
    if image.hasalpha() and not supports_alpha(fmt):
        last = _last_background(t)
        colour = last.background if last and last.background else WHITE
        image = flatten(image, colour if colour.opaque else WHITE)
    data = encode(image, _encode_options(t, fmt))
    rendered = Rendered(data, media_type(fmt.value), fmt.value, image.width, image.height,
                        t.negotiates_format)  # fmt: skip
    if t.flag("getinfo"):
        return _info(rendered, header, context)
    return rendered


def _info(rendered: Rendered, header: Header, context: Context) -> Rendered:
    """`fl_getinfo`: a JSON description of the input and the output instead of the image."""
    info: dict[str, object] = {
        "input": {"width": context.initial[0], "height": context.initial[1],
                  "format": header.format, "bytes": context.source_bytes},
        "output": {"width": rendered.width, "height": rendered.height,
                   "format": rendered.format, "bytes": len(rendered.data)},
    }  # fmt: skip
    data = json.dumps(info, indent=2).encode() + b"\n"
    return Rendered(data, "application/json", "json", rendered.width, rendered.height,
                    rendered.negotiated, info)  # fmt: skip
