"""Where a layer goes on the image under it: pure geometry in that image's pixels.

Offsets follow Cloudinary's directions per compass point (geometry.offset_signs); a
layer that leaves the image grows the canvas around both unless overflow is off; tiles
repeat from the top-left corner with x/y as the gaps between them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from transforms.geometry import Box, compass_origin, offset_signs
from transforms.model import Compass

Size = tuple[int, int]


def at_compass(compass: Compass, layer: Size, base: Size, x: float, y: float) -> Box:
    """The layer's box for a compass gravity and x/y offsets (g_xy_center: x, y is the
    layer's centre)."""
    if compass is Compass.XY_CENTER:
        return Box(round(x - layer[0] / 2), round(y - layer[1] / 2), layer[0], layer[1])
    left, top = compass_origin(compass, (layer[0], layer[1]), (base[0], base[1]))
    sign_x, sign_y = offset_signs(compass)
    return Box(round(left + sign_x * x), round(top + sign_y * y), layer[0], layer[1])


def centred_on(region: Box, layer: Size, x: float, y: float) -> Box:
    """The layer's box centred on a region (a face), moved by x right and y down."""
    cx, cy = region.center
    return Box(round(cx - layer[0] / 2 + x), round(cy - layer[1] / 2 + y), layer[0], layer[1])


@dataclass(frozen=True)
class Canvas:
    """The composite's size and where the base image's top-left goes on it."""

    size: Size
    base: tuple[int, int] = (0, 0)


def canvas(base: Size, boxes: Iterable[Box], overflow: bool) -> Canvas:
    """The base's size, or with overflow the box around the base and every layer box."""
    if not overflow:
        return Canvas(base)
    boxes = list(boxes)
    left = min([0, *(int(b.left) for b in boxes)])
    top = min([0, *(int(b.top) for b in boxes)])
    right = max([base[0], *(int(b.left + b.width) for b in boxes)])
    bottom = max([base[1], *(int(b.top + b.height) for b in boxes)])
    return Canvas((right - left, bottom - top), (-left, -top))


def tile_grid(layer: Size, base: Size, gap: tuple[int, int]) -> tuple[int, int]:
    """How many tiles across and down cover the base, each tile the layer plus the gap."""
    step_x, step_y = layer[0] + gap[0], layer[1] + gap[1]
    return (math.ceil(base[0] / step_x), math.ceil(base[1] / step_y))
