"""Every `fl_` delivery flag of Cloudinary's reference, and what pixcast does with it:
implemented, accepted because it changes nothing for a raster image, or refused (400)
with the reason."""

from __future__ import annotations

from transforms.errors import BadRequest

# Flags the pipeline or delivery acts on.
IMPLEMENTED = (
    "progressive",
    "attachment",
    "strip_profile",
    "keep_iptc",
    "keep_attribution",
    "force_icc",
    "immutable_cache",
    "lossy",
    "getinfo",
    "ignore_aspect_ratio",
    "animated",
    "awebp",
    "apng",
    "png8",
    "png24",
    "png32",
    "tiff8_lzw",
)
# Accepted with no effect, and why (docs/url-api.md lists the same decisions).
NO_EFFECT = {
    "force_strip": "metadata is stripped by default",
    "preserve_transparency": "f_auto always keeps transparency",
    "any_format": "q_auto never changes the format",
    "rasterize": "vector originals are always rasterized",
    "sanitize": "SVG output is never delivered",
    "ignore_mask_channels": "mask channels are never read",
    "keep_dar": "video only",
    "no_stream": "video only",
    "streaming_attachment": "video only",
    "hlsv3": "video only",
    "truncate_ts": "video only",
    "splice": "video only",
    "mono": "audio only",
    "waveform": "audio only",
    "alternate": "video only",
    "draco": "3D models only",
    "text_no_trim": "text layers keep their padding",
}
REFUSED = {
    "clip": "pixcast does not read clipping paths",
    "clip_evenodd": "pixcast does not read clipping paths",
    "group4": "pixcast does not write CCITT Group 4 TIFF",
    "replace_image": "it belongs to the upload API",
    "c2pa": "pixcast does not sign content credentials",
}


def check_flag(name: str) -> None:
    """400 for a flag pixcast refuses, with its reason."""
    if name in REFUSED:
        raise BadRequest(f"Invalid flag in transformation: {name} ({REFUSED[name]})")
