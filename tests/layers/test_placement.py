"""Layer placement as pure geometry: one row per compass point, offsets, canvas and tiles."""

from __future__ import annotations

import pytest

from transforms import placement
from transforms.geometry import Box
from transforms.model import Compass

BASE = (200, 100)
LAYER = (20, 10)

# compass, x, y → the layer's top-left, by Cloudinary's directions: east points count x
# leftwards, south points count y upwards.
COMPASS = [
    (Compass.NORTH_WEST, 7, 5, (7, 5)),
    (Compass.NORTH, 7, 5, (97, 5)),
    (Compass.NORTH_EAST, 7, 5, (173, 5)),
    (Compass.WEST, 7, 5, (7, 50)),
    (Compass.CENTER, 7, 5, (97, 50)),
    (Compass.EAST, 7, 5, (173, 50)),
    (Compass.SOUTH_WEST, 7, 5, (7, 85)),
    (Compass.SOUTH, 7, 5, (97, 85)),
    (Compass.SOUTH_EAST, 7, 5, (173, 85)),
    (Compass.NORTH_WEST, -10, -4, (-10, -4)),
    (Compass.SOUTH_EAST, -10, -4, (190, 94)),
    (Compass.CENTER, 0, 0, (90, 45)),
    (Compass.XY_CENTER, 50, 20, (40, 15)),
]


@pytest.mark.parametrize(("compass", "x", "y", "origin"), COMPASS)
def test_compass_points_and_offsets(
    compass: Compass, x: int, y: int, origin: tuple[int, int]
) -> None:
    assert placement.at_compass(compass, LAYER, BASE, x, y) == Box(*origin, *LAYER)


def test_centred_on_a_region_moves_by_plain_offsets() -> None:
    face = Box(100, 40, 30, 20)  # centre (115, 50)
    assert placement.centred_on(face, (10, 10), 0, 0) == Box(110, 45, 10, 10)
    assert placement.centred_on(face, (10, 10), 4, -6) == Box(114, 39, 10, 10)


# boxes, overflow → canvas size and where the base goes on it
CANVAS = [
    ([Box(10, 10, 20, 10)], True, (200, 100), (0, 0)),
    ([Box(-10, -4, 20, 10)], True, (210, 104), (10, 4)),
    ([Box(190, 95, 20, 10)], True, (210, 105), (0, 0)),
    ([Box(-10, 0, 20, 10), Box(195, 98, 20, 10)], True, (225, 108), (10, 0)),
    ([Box(-10, -4, 20, 10)], False, (200, 100), (0, 0)),
    ([Box(500, 500, 20, 10)], False, (200, 100), (0, 0)),
]


@pytest.mark.parametrize(("boxes", "overflow", "size", "base"), CANVAS)
def test_canvas_grows_around_layers_that_leave_the_base(
    boxes: list[Box], overflow: bool, size: tuple[int, int], base: tuple[int, int]
) -> None:
    assert placement.canvas(BASE, boxes, overflow) == placement.Canvas(size, base)


@pytest.mark.parametrize(
    ("layer", "gap", "grid"),
    [((20, 10), (0, 0), (10, 10)), ((30, 30), (0, 0), (7, 4)), ((20, 10), (5, 15), (8, 4)),
     ((300, 300), (0, 0), (1, 1))],
)  # fmt: skip
def test_tiles_cover_the_base(
    layer: tuple[int, int], gap: tuple[int, int], grid: tuple[int, int]
) -> None:
    across, down = placement.tile_grid(layer, BASE, gap)
    assert (across, down) == grid
    assert across * (layer[0] + gap[0]) >= BASE[0] and down * (layer[1] + gap[1]) >= BASE[1]
