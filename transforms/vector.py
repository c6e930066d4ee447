"""Vector (SVG) originals: recognising them from their content and the density (`dn_`)
libvips rasterises them at. librsvg reads them from a buffer, with no base URI, so an SVG
can reference nothing outside itself (no file, no URL is ever read)."""

from __future__ import annotations

import re

from transforms.model import Transformation

# libvips' default: an SVG's declared size in px (or pt, mm...) at 72 dpi.
DEFAULT_DPI = 72
# What may come before the root element: a BOM, whitespace, the XML declaration,
# comments, processing instructions and a DOCTYPE (its internal subset included).
_PROLOG = re.compile(
    rb"(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE\s+svg(?:[^\[>]|\[.*?\])*>)*",
    re.DOTALL | re.IGNORECASE,
)
_ROOT = re.compile(rb"<svg[\s>/]")
# The prolog is looked for in the first bytes only: a real SVG opens within them.
_HEAD = 4096


def is_svg(data: bytes) -> bool:
    """Whether the bytes open as an SVG document: its prolog, then an `<svg` root."""
    head = data[:_HEAD].removeprefix(b"\xef\xbb\xbf")
    prolog = _PROLOG.match(head)
    start = prolog.end() if prolog else 0
    return _ROOT.match(head, start) is not None


def chosen_density(t: Transformation) -> int:
    """`dn_N` of the first step that sets it (the original is read once, at one
    density), else libvips' 72 dpi."""
    return next((s.density for s in t.steps if s.density is not None), DEFAULT_DPI)
