"""Corners: `r_` rounds corners (or makes an ellipse with `r_max`) through the alpha band."""

from __future__ import annotations

import pyvips

from transforms.model import Radius


def corner_radii(radius: Radius, size: tuple[int, int]) -> tuple[float, float, float, float]:
    """Top-left, top-right, bottom-right, bottom-left radii in pixels, CSS-style shorthand."""
    limit = min(size) / 2
    values = radius.corners
    if len(values) == 1:
        values = values * 4
    elif len(values) == 2:
        values = (values[0], values[1], values[0], values[1])
    elif len(values) == 3:
        values = (values[0], values[1], values[2], values[1])
    return tuple(min(float(v), limit) for v in values)  # type: ignore[return-value]


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
