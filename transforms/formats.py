"""Image formats: sniffing originals, negotiating `f_auto`, quality tables and encoding."""

from __future__ import annotations

from dataclasses import dataclass

import imagecodecs
import numpy as np
import pyvips

from transforms.model import Format, Quality
from transforms.vector import is_svg

IMAGE_EXTENSIONS = (
    "jpg", "jpeg", "png", "webp", "avif", "gif", "tif", "tiff", "heic", "heif", "svg",
)  # fmt: skip

_MEDIA_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "avif": "image/avif",
    "gif": "image/gif",
    "tiff": "image/tiff",
    "jxl": "image/jxl",
    "heic": "image/heic",
    "svg": "image/svg+xml",
}

_HEIF_BRANDS = {b"avif": "avif", b"avis": "avif", b"heic": "heic", b"heix": "heic"}
_HEIF_BRANDS |= {b"mif1": "heic", b"msf1": "heic", b"hevc": "heic"}


def sniff(data: bytes) -> str | None:
    """The format of an original from its magic bytes, or an SVG's opening markup (never
    its name or Content-Type)."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if data[4:8] == b"ftyp":
        return _heif_kind(data)
    return "svg" if is_svg(data) else None


def _heif_kind(data: bytes) -> str | None:
    """AVIF or HEIC from the major brand, else from the compatible brands (avif wins)."""
    size = int.from_bytes(data[:4], "big")
    brands = [data[8:12]] + [data[i : i + 4] for i in range(16, min(size, 64), 4)]
    kinds = {_HEIF_BRANDS[b] for b in brands if b in _HEIF_BRANDS}
    return "avif" if "avif" in kinds else next(iter(kinds), None)


def media_type(fmt: str) -> str:
    return _MEDIA_TYPES.get(fmt, "application/octet-stream")


def accept_bucket(accept: str | None) -> str:
    """Which modern formats an Accept header admits: 'avif', 'webp' or ''.

    Only this bucket enters the cache key, so the many Accept strings browsers send
    share a few cached variants.
    """
    admitted = _admitted(accept or "")
    for candidate in ("avif", "webp"):
        if f"image/{candidate}" in admitted:
            return candidate
    return ""


def _admitted(accept: str) -> set[str]:
    types = set()
    for item in accept.lower().split(","):
        kind, *params = (part.strip() for part in item.split(";"))
        if not any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params):
            types.add(kind)
    return types


def negotiate(bucket: str, has_alpha: bool) -> Format:
    """`f_auto`: the best format the client takes; PNG for transparent images otherwise."""
    if bucket:
        return Format(bucket)
    return Format.PNG if has_alpha else Format.JPG


def from_original(original: str | None) -> Format:
    """Output format when the URL names none: the original's, if pixcast can write it;
    PNG for SVG (rasterised, its transparency kept), else JPEG."""
    writable = {f.value for f in Format} - {Format.AUTO.value}
    if original == "svg":
        return Format.PNG
    return Format(original) if original in writable else Format.JPG


# Default and q_auto qualities per format. AVIF reaches the same visual quality at lower
# numbers, so its table is lower; PNG, GIF and TIFF are lossless here.
QUALITY_TABLE: dict[Format, dict[str, int]] = {
    Format.JPG: {"default": 80, "best": 90, "good": 80, "eco": 70, "low": 60},
    Format.WEBP: {"default": 80, "best": 88, "good": 78, "eco": 68, "low": 55},
    Format.AVIF: {"default": 60, "best": 70, "good": 58, "eco": 48, "low": 38},
    Format.JXL: {"default": 75, "best": 88, "good": 75, "eco": 65, "low": 55},
}


def quality_level(fmt: Format, quality: Quality | None) -> int:
    table = QUALITY_TABLE.get(fmt, QUALITY_TABLE[Format.JPG])
    if quality is None:
        return table["default"]
    if quality.auto is not None:
        return table[quality.auto]
    assert quality.level is not None
    return quality.level


@dataclass(frozen=True)
class EncodeOptions:
    format: Format
    quality: Quality | None = None
    progressive: bool = False
    keep_metadata: bool = False
    effort: int = 2
    # fl_keep_attribution ("exif,xmp,iptc") or fl_force_icc ("icc"): what to keep instead.
    keep: str | None = None
    palette: bool = False  # fl_png8
    lzw: bool = False  # fl_tiff8_lzw


_SUBSAMPLE = {None: "auto", 420: "on", 444: "off"}


def encode(image: pyvips.Image, options: EncodeOptions) -> bytes:
    """Encode an sRGB uchar image; metadata is stripped unless `keep_metadata`."""
    keep = "all" if options.keep_metadata else options.keep or "none"
    profile = {"profile": "srgb"} if keep == "icc" else {}
    fmt = options.format
    level = quality_level(fmt, options.quality)
    chroma = options.quality.chroma if options.quality else None
    if fmt is Format.JPG:
        return bytes(
            image.jpegsave_buffer(
                Q=level, optimize_coding=True, interlace=options.progressive,
                subsample_mode=_SUBSAMPLE[chroma], keep=keep, **profile,
            )
        )  # fmt: skip
    if fmt is Format.WEBP:
        return bytes(image.webpsave_buffer(Q=level, effort=options.effort + 2, keep=keep))
    if fmt is Format.AVIF:
        return bytes(
            image.heifsave_buffer(
                Q=level, compression="av1", effort=options.effort, keep=keep,
                subsample_mode=_SUBSAMPLE[chroma],
            )
        )  # fmt: skip
    if fmt is Format.JXL:
        return encode_jxl(image, level, options.effort)
    if fmt is Format.PNG:
        return bytes(
            image.pngsave_buffer(
                compression=6, interlace=options.progressive, keep=keep,
                palette=options.palette, **profile,
            )
        )  # fmt: skip
    if fmt is Format.GIF:
        return bytes(image.gifsave_buffer(keep=keep, interlace=options.progressive))
    compression = "lzw" if options.lzw else "deflate"
    return bytes(image.tiffsave_buffer(compression=compression, keep=keep, **profile))


def encode_jxl(image: pyvips.Image, level: int, effort: int) -> bytes:
    """JPEG XL through libjxl (imagecodecs): libvips here has no JXL saver. No metadata
    is written, as with the other formats by default."""
    pixels = np.ndarray(
        buffer=image.write_to_memory(),
        dtype=np.uint8,
        shape=(image.height, image.width, image.bands),
    )
    return bytes(imagecodecs.jpegxl_encode(pixels, level=level, effort=effort + 1))


def supports_alpha(fmt: Format) -> bool:
    return fmt in (Format.PNG, Format.WEBP, Format.AVIF, Format.GIF, Format.TIFF, Format.JXL)
