"""Delivery: the output format (negotiated for `f_auto`), encoder options, the encoded
bytes, and `fl_getinfo`'s JSON."""

from __future__ import annotations

import json

import pyvips

from detectors.base import Region
from detectors.summary import detections, face_parts, tags
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
    kept = "exif,xmp,iptc" if t.flag("keep_attribution") else None
    kept = "icc" if t.flag("force_icc") else kept
    palette, lzw = bool(t.flag("png8")), bool(t.flag("tiff8_lzw"))
    return EncodeOptions(fmt, quality, progressive, keep, keep=kept, palette=palette, lzw=lzw)


def _png_flavour(t: Transformation, image: pyvips.Image, fmt: Format) -> pyvips.Image:
    """fl_png24 has no alpha (flattened on white or b_), fl_png32 always has one."""
    if fmt is not Format.PNG:
        return image
    if t.flag("png24") and image.hasalpha():
        last = _last_background(t)
        colour = last.background if last and last.background else WHITE
        return flatten(image, colour if colour.opaque else WHITE)
    if t.flag("png32") and not image.hasalpha():
        return image.bandjoin(255)
    return image


def _last_background(t: Transformation) -> Step | None:
    return next((s for s in reversed(t.steps) if s.background is not None), None)


def deliver(t: Transformation, context: Context, header: Header, accept: str | None) -> Rendered:
    image = context.image
    fmt = output_format(t, header.format, image.hasalpha(), accept, _is_strip(image))
    if _is_strip(image) and fmt not in ANIMATED_OUTPUTS:
        if t.flag("apng") and fmt is Format.PNG:
            raise BadRequest("fl_apng: pixcast cannot write animated PNG (use f_webp or f_gif)")
        image = first_frame(image)
    image = _png_flavour(t, image, fmt)
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
                        t.negotiates_format, dict(context.notes), cacheable)  # fmt: skip
    if t.flag("getinfo"):
        return _info(t, rendered, header, context)
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


def _info(t: Transformation, rendered: Rendered, header: Header, context: Context) -> Rendered:
    """`fl_getinfo`: a JSON description of the input, the output, what the detectors found
    and the part of the original that was kept, instead of the image."""
    info: dict[str, object] = {
        "input": {"width": context.initial[0], "height": context.initial[1],
                  "format": header.format, "bytes": context.source_bytes},
        "output": {"width": rendered.width, "height": rendered.height,
                   "format": rendered.format, "bytes": len(rendered.data)},
    }  # fmt: skip
    found = detections(context.regions, read=True) if context.regions else {}
    for name in _LISTED:
        if name in found:
            info[name] = [_region_info(region) for region in found[name]]
    if "landmarks" in found:
        flag = t.flag("getinfo")
        info |= _parts_info(found, flag is not None and flag.argument == "landmarks")
    if context.regions:
        info["tags"] = [vars(tag) for tag in tags(found)]
        custom = context.regions.custom()
        if custom:  # the library's stored custom coordinates
            info["custom"] = [_region_info(region) for region in custom]
    if context.crop is not None:
        info["crop"] = context.crop
    info |= context.notes
    data = json.dumps(info, indent=2).encode() + b"\n"
    cacheable = rendered.cacheable and not (context.regions and context.regions.degraded)
    return Rendered(data, "application/json", "json", rendered.width, rendered.height,
                    rendered.negotiated, info, cacheable)  # fmt: skip


_LISTED = ("faces", "people", "objects", "text", "saliency")
"""What fl_getinfo lists, by detector: everything a listing detector finds in the source
(run for this answer if the transformation did not need it), and saliency when a g_auto
crop used it."""


def _parts_info(found: dict[str, list[Region]], points: bool) -> dict[str, object]:
    """`eyes`: every eye, with the index of its face in `faces`; with `points`, also
    `landmarks`: each face's mesh points as [x, y] (normalised)."""
    parts = face_parts(found)
    eyes = [_region_info(eye) | {"face": i} for i, part in enumerate(parts) for eye in part.eyes]
    if not points:
        return {"eyes": eyes}
    marks = [{"face": i, "points": [[round(x, 4), round(y, 4)] for x, y in part.points]}
             for i, part in enumerate(parts)]  # fmt: skip
    return {"eyes": eyes, "landmarks": marks}


def _region_info(region: Region) -> dict[str, object]:
    box = {"x": region.x, "y": region.y, "width": region.width, "height": region.height}
    rounded = {key: round(value, 4) for key, value in box.items()}
    text = {"text": region.text} if region.text else {}
    return {"label": region.label, "score": round(region.score, 3), **rounded, **text}
