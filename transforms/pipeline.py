"""The pipeline: load → for each step (resize, rotate, effect, corners, border, opacity,
background) → choose the output format → encode. `render` is the one entry point.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace

import pyvips

from detectors.probe import PROBE_SIZE, Probe, probe_from_image
from detectors.service import RegionService, SourceRegions
from transforms import geometry
from transforms.animation import (
    check_page,
    chosen_delay,
    chosen_page,
    is_animated,
    join,
    split,
)
from transforms.backgrounds import padded
from transforms.context import Context, LayerSources
from transforms.delivery import budgeted_format, deliver
from transforms.effects import EffectInput, apply_effect
from transforms.errors import BadRequest, Unprocessable
from transforms.focus import Mapping, custom_regions
from transforms.grammar import parse_value
from transforms.heic import read_source
from transforms.limits import (
    check_deadline,
    check_output_pixels,
    check_steps,
    stopping_at_deadline,
)
from transforms.model import (
    Limits,
    Rendered,
    Step,
    Transformation,
)
from transforms.planning import (
    PADDING,
    centre_focus,
    fixed_focus,
    focuser_for,
    plan_step,
    reduction,
)
from transforms.steps.background import current_matte
from transforms.steps.border import add_border
from transforms.steps.corners import round_corners
from transforms.steps.faces import face_boxes, turned, wanted_regions
from transforms.steps.layers import apply_layer
from transforms.steps.load import Decoder, Header, shrink_factor
from transforms.steps.resize import execute
from transforms.steps.rotate import rotate
from transforms.steps.tone import flatten, set_opacity
from transforms.variables import NO_FACTS, Facts, SourceFacts, planned_steps
from transforms.vector import chosen_density


def render(
    t: Transformation,
    source: bytes,
    accept: str | None,
    limits: Limits | None = None,
    detection: RegionService | None = None,
    source_key: str | None = None,
    layers: LayerSources | None = None,
    facts: SourceFacts = NO_FACTS,
) -> Rendered:
    """Render `t` from the original's bytes. Blocking: run it in a worker thread.

    `detection` finds faces and objects for detection gravities (None: they are a 400);
    `source_key` names the original's bytes so its detections are found once and stored;
    `layers` holds the bytes of the images its `l_`/`u_` layers name, and the fonts;
    `facts` are the original's stored tags and context, which conditions read.
    """
    try:
        layers = layers or LayerSources()
        limits = limits or Limits()
        return _render(t, source, accept, limits, detection, source_key, layers, facts)
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
    known: SourceFacts = NO_FACTS,
) -> Rendered:
    check_steps(t.steps, limits)
    source, header = read_source(source, limits, chosen_density(t))
    check_page(chosen_page(t), header.pages)
    if is_animated(header.format, header.pages, t):
        return _render_animation(t, source, accept, limits, header, layers, known)
    ignore = t.ignores_orientation
    initial = header.upright(ignore)
    keep = t.flag("keep_iptc") is not None  # the metadata is kept: libvips decodes it
    decoder = Decoder(source, header, ignore, chosen_page(t), metadata=keep)
    regions = None
    if detection is not None:
        custom = custom_regions(known.coordinates, initial)
        regions = detection.for_source(source_key, lambda: _probe(decoder), custom)
    faces, page = _face_count(regions), chosen_page(t) or 1
    facts = Facts(initial, header.pages, lambda: initial, faces, page, known)
    steps = planned_steps(t.steps, facts, parse_value)
    head = next(steps, None)
    mapping = Mapping(*initial)
    focus = fixed_focus(regions, mapping)
    first = plan_step(head, initial, initial, limits, focus) if head else None
    shrink = shrink_factor(header, reduction(first)) if first else 1
    image = decoder.decode(shrink, streaming=first is not None)
    context = Context(image, initial, header.format, len(source), limits, regions, mapping)
    context.detection, context.layers = detection, layers
    context.streaming = first is not None
    facts.current = lambda: context.size
    context.palette = _budgeted(t, header, accept, animated=False)
    ratio = (initial[0] / image.width, initial[1] / image.height)
    ran: list[Step] = []
    for index, step in enumerate(itertools.chain((head,) if head else (), steps)):
        check_deadline()  # a request that timed out stops here instead of rendering on
        focuser = focus if index == 0 else focuser_for(context, detection)
        plan = first if index == 0 else plan_step(step, context.size, initial, limits, focuser)
        run_step(context, step, plan, ratio if index == 0 else (1.0, 1.0))
        ran.append(step)
    return deliver(_as_run(t, ran), context, header, accept)


def _face_count(regions: SourceRegions | None) -> Callable[[], int]:
    """`fc`: the original's faces, found only when an expression reads it."""

    def count() -> int:
        if regions is None or not regions.available("faces"):
            raise BadRequest("fc (face count) needs the faces detector, which is not enabled")
        return len(regions.find("faces"))

    return count


def _as_run(t: Transformation, ran: list[Step]) -> Transformation:
    """`t` as it ran: conditions taken and expressions evaluated (delivery reads f_, q_
    and flags from the steps that ran)."""
    return t if tuple(ran) == t.steps else replace(t, steps=tuple(ran))


def _render_animation(
    t: Transformation,
    source: bytes,
    accept: str | None,
    limits: Limits,
    header: Header,
    layers: LayerSources,
    known: SourceFacts = NO_FACTS,
) -> Rendered:
    """Every frame through every step, with one plan per step. Detection gravities use
    the centre on animations, as in Cloudinary."""
    decoder = Decoder(source, header, ignore_orientation=True)
    frames, timing = split(decoder.all_frames(), header.pages)
    size = (frames[0].width, frames[0].height)
    context = Context(frames[0], size, header.format, len(source), limits, layers=layers)
    context.animated = True
    context.palette, context.frames = _budgeted(t, header, accept, animated=True), len(frames)
    # Nothing is detected on animations (as in Cloudinary): fc is 0.
    facts = Facts(size, header.pages, lambda: context.size, lambda: 0, source=known)
    ran: list[Step] = []
    for step in planned_steps(t.steps, facts, parse_value):
        check_deadline()
        plan = plan_step(step, context.size, size, limits, centre_focus)
        frames = [_run_frame(context, step, plan, frame) for frame in frames]
        ran.append(step)
    context.image = join(frames, timing.with_delay(chosen_delay(t)))
    return deliver(_as_run(t, ran), context, header, accept)


def _run_frame(
    context: Context, step: Step, plan: geometry.Plan | None, frame: pyvips.Image
) -> pyvips.Image:
    context.image = frame
    run_step(context, step, plan, (1.0, 1.0))
    return context.image


def _probe(decoder: Decoder) -> Probe:
    """The detectors' probe, decoded with the same no-margin shrink-on-load as renders."""
    long_side = max(decoder.header.width, decoder.header.height)

    def decoded(size: int) -> pyvips.Image:
        return decoder.kept(shrink_factor(decoder.header, long_side / size))

    probe = probe_from_image(decoded(PROBE_SIZE))
    return replace(probe, detail=lambda size: decoded(size).autorot())


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
        context.image = _resized(context.image, step, plan, ratio)
        _check_budget(context)  # before the streamed pixels are computed below
        if context.streaming:
            # What follows may read out of order (rotations, flips): stop streaming here,
            # holding only the (small) result of the crop and resize in memory.
            with stopping_at_deadline(context.image):
                context.image = context.image.copy_memory()
            context.streaming = False
        context.mapping = context.mapping.after(plan) if context.mapping else None
    if step.angles:
        context.mapping = turned(context.mapping, step.angles, context.size)
        context.image = rotate(context.image, step.angles)
    if step.effect is not None:
        size = context.size
        source = EffectInput.from_step(
            context.image, step, context.initial, context.limits.max_output_side
        )
        wanted = wanted_regions(step)
        if wanted is not None:
            source = replace(source, regions=face_boxes(context, step.effect.name, wanted))
        if step.effect.name == "background_removal":
            source = replace(source, matte=current_matte(context, step.effect.name))
        context.image = apply_effect(step.effect, source)
        context.mapping = context.mapping if context.size == size else None
    _finish_step(context, step)


def _resized(
    image: pyvips.Image, step: Step, plan: geometry.Plan, ratio: tuple[float, float]
) -> pyvips.Image:
    """Crop, resize and pad; `b_auto`/`b_blurred` padding is drawn from the image."""
    if step.auto_background is None or plan.canvas == plan.size:
        return execute(image, plan, step.background, ratio)
    content = execute(image, replace(plan, canvas=plan.size, offset=(0, 0)), None, ratio)
    # Read twice (for its colours, then drawn): hold it in memory, out of the stream.
    return padded(content.copy_memory(), plan, step.auto_background)


def run_steps(context: Context, steps: tuple[Step, ...]) -> None:
    """Steps on an image already loaded (a layer's), each planned on the image as it is."""
    for step in steps:
        check_deadline()
        focuser = focuser_for(context, context.detection)
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
    if step.background is not None and step.crop not in PADDING:
        context.image = flatten(context.image, step.background)


def _budgeted(t: Transformation, header: Header, accept: str | None, animated: bool) -> str | None:
    fmt = budgeted_format(t, header.format, accept, animated)
    return None if fmt is None else fmt.value


def _check_budget(context: Context) -> None:
    if context.palette is not None:
        width, height = context.size
        check_output_pixels(context.palette, width, height, context.frames, context.limits)


def _record_crop(context: Context, plan: geometry.Plan) -> None:
    """The first crop of the original, for fl_getinfo (normalised original coordinates)."""
    if context.crop is None and context.mapping is not None:
        context.crop = context.mapping.normalised(plan.box)


# --- delivery ----------------------------------------------------------------------------
