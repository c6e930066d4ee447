"""The pipeline: load → for each step (resize, rotate, effect, corners, border, opacity,
background) → choose the output format → encode. `render` is the one entry point.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pyvips

from detectors.base import DetectorUnavailable, Region
from detectors.probe import PROBE_SIZE, Probe, probe_from_image
from detectors.service import RegionService, SourceRegions
from transforms import geometry
from transforms.animation import (
    ANIMATED_OUTPUTS,
    check_page,
    chosen_delay,
    chosen_page,
    first_frame,
    is_animated,
    join,
    split,
)
from transforms.context import Context, LayerSources
from transforms.effects import EffectInput, apply_effect, takes_region
from transforms.effects.regions import FACE_EFFECTS
from transforms.effects.registry import Box as EffectBox
from transforms.errors import BadRequest, Unprocessable
from transforms.focus import Found, Mapping, focus_box, locate
from transforms.formats import (
    EncodeOptions,
    accept_bucket,
    encode,
    from_original,
    media_type,
    negotiate,
    supports_alpha,
)
from transforms.limits import check_deadline, check_steps
from transforms.model import (
    Angle,
    AngleMode,
    Compass,
    CropMode,
    Focus,
    Format,
    Limits,
    Rendered,
    Step,
    Transformation,
)
from transforms.phases import phase
from transforms.steps.border import add_border
from transforms.steps.corners import round_corners
from transforms.steps.layers import apply_layer
from transforms.steps.load import Decoder, Header, read_header, shrink_factor
from transforms.steps.resize import execute
from transforms.steps.rotate import rotate
from transforms.steps.tone import WHITE, flatten, set_opacity

_PADDING = {CropMode.PAD, CropMode.LPAD, CropMode.MPAD}
_NO_FOCUS = {CropMode.SCALE, CropMode.FIT, CropMode.LIMIT, CropMode.MFIT} | _PADDING


def render(
    t: Transformation,
    source: bytes,
    accept: str | None,
    limits: Limits | None = None,
    detection: RegionService | None = None,
    source_key: str | None = None,
    layers: LayerSources | None = None,
) -> Rendered:
    """Render `t` from the original's bytes. Blocking: run it in a worker thread.

    `detection` finds faces and objects for detection gravities (None: they are a 400);
    `source_key` names the original's bytes so its detections are found once and stored;
    `layers` holds the bytes of the images its `l_`/`u_` layers name, and the fonts.
    """
    try:
        layers = layers or LayerSources()
        return _render(t, source, accept, limits or Limits(), detection, source_key, layers)
    except pyvips.Error as error:
        reason = str(error).strip().splitlines()[0][:200]
        raise Unprocessable(f"pixcast could not process the image: {reason}") from None


def _render(
    t: Transformation,
    source: bytes,
    accept: str | None,
    limits: Limits,
    detection: RegionService | None,
    source_key: str | None,
    layers: LayerSources,
) -> Rendered:
    check_steps(t.steps, limits)
    header = read_header(source, limits)
    check_page(chosen_page(t), header.pages)
    if is_animated(header.format, header.pages, t):
        return _render_animation(t, source, accept, limits, header, layers)
    ignore = t.ignores_orientation
    initial = header.upright(ignore)
    decoder = Decoder(source, header, ignore, chosen_page(t))
    regions = None
    if detection is not None:
        regions = detection.for_source(source_key, lambda: _probe(decoder))
    mapping = Mapping(*initial)
    focus = _fixed_focus(regions, mapping)
    first = plan_step(t.steps[0], initial, initial, limits, focus) if t.steps else None
    shrink = shrink_factor(header, _reduction(first)) if first else 1
    image = decoder.decode(shrink, streaming=first is not None)
    context = Context(image, initial, header.format, len(source), limits, regions, mapping)
    context.detection, context.layers = detection, layers
    context.streaming = first is not None
    ratio = (initial[0] / image.width, initial[1] / image.height)
    for index, step in enumerate(t.steps):
        check_deadline()  # a request that timed out stops here instead of rendering on
        focuser = focus if index == 0 else _focuser(context, detection)
        plan = first if index == 0 else plan_step(step, context.size, initial, limits, focuser)
        run_step(context, step, plan, ratio if index == 0 else (1.0, 1.0))
    return _deliver(t, context, header, accept)


def _render_animation(
    t: Transformation,
    source: bytes,
    accept: str | None,
    limits: Limits,
    header: Header,
    layers: LayerSources,
) -> Rendered:
    """Every frame through every step, with one plan per step. Detection gravities use
    the centre on animations, as in Cloudinary."""
    decoder = Decoder(source, header, ignore_orientation=True)
    frames, timing = split(decoder.all_frames(), header.pages)
    size = (frames[0].width, frames[0].height)
    context = Context(frames[0], size, header.format, len(source), limits, layers=layers)
    context.animated = True
    for step in t.steps:
        check_deadline()
        plan = plan_step(step, context.size, size, limits, _centre)
        frames = [_run_frame(context, step, plan, frame) for frame in frames]
    context.image = join(frames, timing.with_delay(chosen_delay(t)))
    return _deliver(t, context, header, accept)


def _centre(gravity: Focus) -> tuple[Found, Mapping]:
    return Found(None, Compass.CENTER), Mapping(1.0, 1.0)


def _run_frame(
    context: Context, step: Step, plan: geometry.Plan | None, frame: pyvips.Image
) -> pyvips.Image:
    context.image = frame
    run_step(context, step, plan, (1.0, 1.0))
    return context.image


def _probe(decoder: Decoder) -> Probe:
    """The detectors' probe, decoded with the same no-margin shrink-on-load as renders."""
    long_side = max(decoder.header.width, decoder.header.height)
    return probe_from_image(decoder.kept(shrink_factor(decoder.header, long_side / PROBE_SIZE)))


Focuser = Callable[[Focus], tuple[Found, Mapping]]


def _fixed_focus(regions: SourceRegions | None, mapping: Mapping) -> Focuser | None:
    if regions is None:
        return None
    return lambda gravity: (locate(gravity, regions), mapping)


def _focuser(context: Context, detection: RegionService | None) -> Focuser | None:
    """Detections for a later step: mapped from the original while that is possible,
    else found again on the image as it is at that step."""
    if context.mapping is not None:
        return _fixed_focus(context.regions, context.mapping)
    if detection is None:
        return None
    current = context.image
    regions = detection.for_source(None, lambda: probe_from_image(current))
    return _fixed_focus(regions, Mapping(current.width, current.height))


def _reduction(plan: geometry.Plan) -> float:
    return min(plan.box.width / plan.size[0], plan.box.height / plan.size[1])


# --- one step ----------------------------------------------------------------------------


def run_step(
    context: Context, step: Step, plan: geometry.Plan | None, ratio: tuple[float, float]
) -> None:
    """Resize, rotate, effect, corners, border, opacity, background — in that order; or
    draw a layer (a Step holding one holds nothing else)."""
    if step.layer is not None:
        apply_layer(context, step.layer, run_steps)
        return
    if plan is not None:
        _record_crop(context, plan)
        context.image = execute(context.image, plan, step.background, ratio)
        if context.streaming:
            # What follows may read out of order (rotations, flips): stop streaming here,
            # holding only the (small) result of the crop and resize in memory.
            context.image = context.image.copy_memory()
            context.streaming = False
        context.mapping = context.mapping.after(plan) if context.mapping else None
    if step.angles:
        context.mapping = _turned(context.mapping, step.angles, context.size)
        context.image = rotate(context.image, step.angles)
    if step.effect is not None:
        size = context.size
        source = EffectInput.from_step(
            context.image, step, context.initial, context.limits.max_output_side
        )
        if step.effect.name in FACE_EFFECTS:
            source = replace(source, regions=_face_boxes(context, step.effect.name))
        context.image = apply_effect(step.effect, source)
        context.mapping = context.mapping if context.size == size else None
    _finish_step(context, step)


def run_steps(context: Context, steps: tuple[Step, ...]) -> None:
    """Steps on an image already loaded (a layer's), each planned on the image as it is."""
    for step in steps:
        check_deadline()
        focuser = _focuser(context, context.detection)
        plan = plan_step(step, context.size, context.initial, context.limits, focuser)
        run_step(context, step, plan, (1.0, 1.0))


def _finish_step(context: Context, step: Step) -> None:
    if step.radius is not None:
        context.image = round_corners(context.image, step.radius)
    if step.border is not None:
        context.image = add_border(context.image, step.border, step.radius)
        width = step.border.width
        context.mapping = context.mapping.shifted(width, width) if context.mapping else None
    if step.opacity is not None:
        context.image = set_opacity(context.image, step.opacity)
    if step.background is not None and step.crop not in _PADDING:
        context.image = flatten(context.image, step.background)


_TURNS: dict[Angle, str] = {90: "d90", 180: "d180", 270: "d270"}
_TURNS |= {AngleMode.HFLIP: "h", AngleMode.VFLIP: "v"}


def _turned(
    mapping: Mapping | None, angles: tuple[Angle, ...], size: tuple[int, int]
) -> Mapping | None:
    """Detections follow right-angle turns and flips; any other angle loses them."""
    for angle in angles:
        if mapping is None or angle in (0, AngleMode.IGNORE):
            continue
        if angle not in _TURNS:
            return None
        mapping = mapping.rotated(_TURNS[angle], size)
        size = (size[1], size[0]) if angle in (90, 270) else size
    return mapping


FACE_SPREAD = 1.3
"""Face boxes run from brow to chin; anonymising covers the forehead and cheeks too."""


def _face_boxes(context: Context, effect: str) -> tuple[EffectBox, ...]:
    """Detected faces in pixels of the current image, for e_blur_faces/e_pixelate_faces."""
    if context.detection is None:
        raise BadRequest(f"Effect {effect} needs the faces detector, which is not enabled")
    if context.mapping is not None and context.regions is not None:
        regions, mapping = context.regions, context.mapping
    else:  # after a rotation: find the faces again on the image as it is now
        regions, mapping = _current_regions(context), Mapping(*context.size)
    faces = _faces(regions, effect)
    return tuple(_pixel_box(mapping.box(face), context.size) for face in faces)


def _current_regions(context: Context) -> SourceRegions:
    assert context.detection is not None
    current = context.image
    return context.detection.for_source(None, lambda: probe_from_image(current))


def _faces(regions: SourceRegions, effect: str) -> list[Region]:
    try:
        return regions.find("faces")
    except DetectorUnavailable as off:
        raise BadRequest(f"Effect {effect} cannot be used: {off.public}") from None


def _pixel_box(box: geometry.Box, size: tuple[int, int]) -> EffectBox:
    width, height = box.width * FACE_SPREAD, box.height * FACE_SPREAD
    left = max(0, round(box.center[0] - width / 2))
    top = max(0, round(box.center[1] - height / 2))
    right = min(size[0], round(box.center[0] + width / 2))
    bottom = min(size[1], round(box.center[1] + height / 2))
    return EffectBox(left, top, right - left, bottom - top)


def _record_crop(context: Context, plan: geometry.Plan) -> None:
    """The first crop of the original, for fl_getinfo (normalised original coordinates)."""
    if context.crop is None and context.mapping is not None:
        context.crop = context.mapping.normalised(plan.box)


def plan_step(
    step: Step,
    source: tuple[float, float],
    initial: tuple[int, int],
    limits: Limits,
    focus: Focuser | None = None,
) -> geometry.Plan | None:
    """The step's geometry Plan in input pixels, or None when it does not resize."""
    mode = step.crop or CropMode.SCALE
    _check_gravity(step, mode, focus)
    if step.effect is not None and takes_region(step.effect):
        return None  # x/y/w/h are the region of e_blur_region or e_pixelate_region
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


# --- delivery ----------------------------------------------------------------------------


def _is_strip(image: pyvips.Image) -> bool:
    return bool(image.get_typeof("page-height"))


def output_format(
    t: Transformation, original: str, has_alpha: bool, accept: str | None, animated: bool = False
) -> Format:
    """`f_`, else the extension, else the original's format; `f_auto` negotiates, and keeps
    an animation animated (WebP where the client takes it, else GIF)."""
    requested = t.requested_format
    if requested is Format.AUTO and animated:
        chosen = Format.WEBP if accept_bucket(accept) else Format.GIF
    elif requested is Format.AUTO:
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
    fmt = output_format(t, header.format, image.hasalpha(), accept, _is_strip(image))
    if _is_strip(image) and fmt not in ANIMATED_OUTPUTS:
        image = first_frame(image)
    if image.hasalpha() and not supports_alpha(fmt):
        last = _last_background(t)
        colour = last.background if last and last.background else WHITE
        image = flatten(image, colour if colour.opaque else WHITE)
    with phase("encode"):  # libvips is lazy: the streamed steps' pixel work runs here
        data = encode(image, _encode_options(t, fmt))
    cacheable = not (context.regions and context.regions.degraded)
    height = int(image.get("page-height")) if _is_strip(image) else image.height
    rendered = Rendered(data, media_type(fmt.value), fmt.value, image.width, height,
                        t.negotiates_format, cacheable=cacheable)  # fmt: skip
    if t.flag("getinfo"):
        return _info(rendered, header, context)
    return rendered


def _info(rendered: Rendered, header: Header, context: Context) -> Rendered:
    """`fl_getinfo`: a JSON description of the input, the output, what the detectors found
    and the part of the original that was kept, instead of the image."""
    info: dict[str, object] = {
        "input": {"width": context.initial[0], "height": context.initial[1],
                  "format": header.format, "bytes": context.source_bytes},
        "output": {"width": rendered.width, "height": rendered.height,
                   "format": rendered.format, "bytes": len(rendered.data)},
    }  # fmt: skip
    found = context.regions.found if context.regions else {}
    for name, key in (("faces", "faces"), ("objects", "objects"), ("saliency", "saliency")):
        if name in found:
            info[key] = [_region_info(region) for region in found[name]]
    if context.crop is not None:
        info["crop"] = context.crop
    data = json.dumps(info, indent=2).encode() + b"\n"
    return Rendered(data, "application/json", "json", rendered.width, rendered.height,
                    rendered.negotiated, info, rendered.cacheable)  # fmt: skip


def _region_info(region: Region) -> dict[str, object]:
    box = {"x": region.x, "y": region.y, "width": region.width, "height": region.height}
    rounded = {key: round(value, 4) for key, value in box.items()}
    return {"label": region.label, "score": round(region.score, 3), **rounded}
