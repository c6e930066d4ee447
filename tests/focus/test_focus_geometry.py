"""Crops around a focus box, in tables: (mode, source, output, focus) → plan. No pixels."""

from __future__ import annotations

import pytest

from detectors.base import Region
from transforms.focus import FACE_MARGIN, Found, Mapping, focus_box
from transforms.geometry import Box, Plan, Request, plan
from transforms.model import Compass, CropMode

C = CropMode


def _request(mode: CropMode, w: float, h: float, focus: Box) -> Request:
    return Request(mode, w, h, Compass.CENTER, 0, 0, focus.center, focus)


FACE = Box(900, 100, 100, 100)  # a face near the top right of a 1000x600 source

TABLE = [
    # thumb: the smallest window of the output's ratio holding the focus, never below the
    # output size, slid inside the source
    (C.THUMB, (1000, 600), 200, 200, FACE, Plan(Box(800, 50, 200, 200), (200, 200), (200, 200))),
    (C.THUMB, (1000, 600), 50, 50, FACE, Plan(Box(900, 100, 100, 100), (50, 50), (50, 50))),
    (C.THUMB, (1000, 600), 100, 50, FACE, Plan(Box(800, 100, 200, 100), (100, 50), (100, 50))),
    # fill with a focus: the fill window centred on the focus, clamped
    (C.FILL, (1000, 600), 300, 300, FACE, Plan(Box(400, 0, 600, 600), (300, 300), (300, 300))),
    # auto: between the thumbnail window (100) and the fill window (600): sqrt(200*600)
    (C.AUTO, (1000, 600), 200, 200, FACE,
     Plan(Box(1000 - 346.41016151377545, 0, 346.41016151377545, 346.41016151377545),
          (200, 200), (200, 200))),
    # crop with a size: that size centred on the focus
    (C.CROP, (1000, 600), 100, 100, Box(400, 300, 50, 50),
     Plan(Box(375, 275, 100, 100), (100, 100), (100, 100))),
    # fill_pad: a focus wider than the fill window is kept whole, with padding
    (C.FILL_PAD, (1000, 600), 400, 100, Box(0, 200, 1000, 100),
     Plan(Box(0, 125, 1000, 250), (400, 100), (400, 100))),
    (C.FILL_PAD, (1000, 600), 100, 100, Box(0, 250, 1000, 100),
     Plan(Box(0, 0, 1000, 600), (100, 60), (100, 100), (0, 20))),
    # fill_pad that can fill without cutting the focus is a plain fill
    (C.FILL_PAD, (1000, 600), 300, 300, FACE, Plan(Box(400, 0, 600, 600), (300, 300), (300, 300))),
]  # fmt: skip


@pytest.mark.parametrize(("mode", "source", "w", "h", "focus", "expected"), TABLE)
def test_focus_plans(
    mode: CropMode, source: tuple[int, int], w: int, h: int, focus: Box, expected: Plan
) -> None:
    assert plan(_request(mode, w, h, focus), source) == pytest.approx(expected)


def _tuple(box: Box) -> tuple[float, float, float, float]:
    return (box.left, box.top, box.width, box.height)


@pytest.mark.parametrize(
    ("turn", "expected"),
    [("d90", (40, 20, 20, 10)), ("d180", (70, 40, 10, 20)), ("d270", (20, 70, 20, 10)),
     ("h", (70, 20, 10, 20)), ("v", (20, 40, 10, 20))],
)  # fmt: skip
def test_mapping_follows_right_angle_turns_and_flips(
    turn: str, expected: tuple[float, float, float, float]
) -> None:
    # A 100x80 image; the region is the box (20, 20)-(30, 40) in its pixels.
    region = Region("face", 1.0, 0.2, 0.25, 0.1, 0.25)
    turned = Mapping(100, 80).rotated(turn, (100, 80))
    assert _tuple(turned.box(region)) == pytest.approx(expected)
    assert turned.normalised(turned.box(region)) == pytest.approx(
        {"x": 0.2, "y": 0.25, "width": 0.1, "height": 0.25}
    )


def test_mapping_follows_crop_resize_and_padding() -> None:
    mapping = Mapping(1000, 600)
    after = mapping.after(Plan(Box(100, 50, 400, 300), (200, 150), (300, 150), (50, 0)))
    region = Region("face", 1.0, 0.2, 0.25, 0.1, 0.1)  # (200, 150)-(300, 210) in the source
    assert _tuple(after.box(region)) == pytest.approx((50 + 50, 50, 50, 30))
    assert after.normalised(after.box(region)) == {"x": 0.2, "y": 0.25, "width": 0.1, "height": 0.1}


def test_focus_box_widens_faces_and_zooms() -> None:
    found = Found(Region("face", 1.0, 0.4, 0.4, 0.2, 0.2), Compass.NORTH, is_face=True)
    box = focus_box(found, Mapping(100, 100), zoom=1.0)
    assert box is not None
    half = 10 * FACE_MARGIN
    assert _tuple(box) == pytest.approx((50 - half, 50 - half, 2 * half, 2 * half))
    zoomed = focus_box(found, Mapping(100, 100), zoom=2.0)
    assert zoomed is not None and zoomed.width == pytest.approx(10 * FACE_MARGIN)
    assert focus_box(Found(None, Compass.NORTH), Mapping(100, 100), 1.0) is None
