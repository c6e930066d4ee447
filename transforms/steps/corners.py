"""Corners: `r_` rounds corners (or makes an ellipse with `r_max`) through the alpha band."""

from __future__ import annotations

import pyvips

from transforms.model import Radius

# CSS shorthand: which given value each corner (top-left clockwise) takes for 1 to 4 values.
_SHORTHAND = {1: (0, 0, 0, 0), 2: (0, 1, 0, 1), 3: (0, 1, 2, 1), 4: (0, 1, 2, 3)}


def expand(corners: tuple[int, ...]) -> tuple[int, int, int, int]:
    """`r_` values (1 to 4) → top-left, top-right, bottom-right, bottom-left, as in CSS."""
    first, second, third, fourth = (corners[i] for i in _SHORTHAND[len(corners)])
    return (first, second, third, fourth)


def corner_radii(radius: Radius, size: tuple[int, int]) -> tuple[float, float, float, float]:
    """The four radii in pixels, each at most half the image's shorter side."""
    limit = min(size) / 2
    first, second, third, fourth = (min(float(v), limit) for v in expand(radius.corners))
    return (first, second, third, fourth)


def mask(radius: Radius, size: tuple[int, int]) -> pyvips.Image:
    """A one-band uchar mask: 255 inside the rounded shape, 0 outside."""
    width, height = size
    if radius.maximum:
        shape = f'<ellipse cx="{width / 2}" cy="{height / 2}" rx="{width / 2}" ry="{height / 2}"/>'
    else:
        shape = f'<path d="{_path(corner_radii(radius, size), width, height)}"/>'
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<g fill="#fff">{shape}</g></svg>'
    )
    return pyvips.Image.svgload_buffer(svg.encode()).extract_band(3)


def _path(radii: tuple[float, float, float, float], width: int, height: int) -> str:
    tl, tr, br, bl = radii
    return (
        f"M{tl},0 H{width - tr} A{tr},{tr} 0 0 1 {width},{tr} "
        f"V{height - br} A{br},{br} 0 0 1 {width - br},{height} "
        f"H{bl} A{bl},{bl} 0 0 1 0,{height - bl} V{tl} A{tl},{tl} 0 0 1 {tl},0 Z"
    )


def apply_mask(image: pyvips.Image, shape: pyvips.Image) -> pyvips.Image:
    """Multiply the image's alpha by `shape` (adding alpha if it has none)."""
    if not image.hasalpha():
        return image.bandjoin(shape)
    colour = image.extract_band(0, n=image.bands - 1)
    alpha = (image.extract_band(image.bands - 1) * shape / 255).cast("uchar")
    return colour.bandjoin(alpha)


def round_corners(image: pyvips.Image, radius: Radius) -> pyvips.Image:
    return apply_mask(image, mask(radius, (image.width, image.height)))
