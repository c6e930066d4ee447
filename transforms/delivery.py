"""Delivery: the output format (negotiated for `f_auto`), encoder options, the encoded
bytes, and `fl_getinfo`'s JSON."""

from __future__ import annotations

import json

import pyvips

from detectors.base import Region
from transforms.animation import (
    ANIMATED_OUTPUTS,
    first_frame,
)
from transforms.context import Context
from transforms.errors import BadRequest
from transforms.formats import (
    EncodeOptions,
    accept_bucket,
    encode,
    from_original,
    media_type,
    negotiate,
    supports_alpha,
)
from transforms.limits import check_output_pixels, stopping_at_deadline
from transforms.model import (
    Format,
    Rendered,
    Step,
    Transformation,
)
from transforms.phases import phase
from transforms.steps.load import Header
from transforms.steps.tone import WHITE, flatten


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


def deliver(t: Transformation, context: Context, header: Header, accept: str | None) -> Rendered:
    image = context.image
    fmt = output_format(t, header.format, image.hasalpha(), accept, _is_strip(image))
    if _is_strip(image) and fmt not in ANIMATED_OUTPUTS:
        image = first_frame(image)
    if image.hasalpha() and not supports_alpha(fmt):
        last = _last_background(t)
        colour = last.background if last and last.background else WHITE
        image = flatten(image, colour if colour.opaque else WHITE)
    _check_budget(image, fmt, context)
    # libvips is lazy: the streamed steps' pixel work runs here, and stops at the deadline.
    with phase("encode"), stopping_at_deadline(image):
        data = encode(image, _encode_options(t, fmt))
    cacheable = not (context.regions and context.regions.degraded)
    height = int(image.get("page-height")) if _is_strip(image) else image.height
    rendered = Rendered(data, media_type(fmt.value), fmt.value, image.width, height,
                        t.negotiates_format, cacheable=cacheable)  # fmt: skip
    if t.flag("getinfo"):
        return _info(rendered, header, context)
    return rendered


def budgeted_format(
    t: Transformation, original: str, accept: str | None, animated: bool
) -> Format | None:
    """The output format when it counts against the animation budget: GIF, or animated."""
    fmt = output_format(t, original, False, accept, animated)  # alpha never makes a GIF
    return fmt if fmt is Format.GIF or (animated and fmt in ANIMATED_OUTPUTS) else None


def _check_budget(image: pyvips.Image, fmt: Format, context: Context) -> None:
    """GIF and animated outputs: their pixels (all frames) within the animation budget."""
    frames = image.height // int(image.get("page-height")) if _is_strip(image) else 1
    if fmt is Format.GIF or (fmt in ANIMATED_OUTPUTS and frames > 1):
        height = image.height // frames
        check_output_pixels(fmt.value, image.width, height, frames, context.limits)


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
