"""Crop-mode geometry in tables: (source, request) → crop box, output size, canvas. No pixels."""

from __future__ import annotations

import pytest

from transforms.errors import BadRequest
from transforms.geometry import Box, Plan, Request, offset_signs, plan, requested_size
from transforms.grammar import parse_steps
from transforms.model import Compass, CropMode

C = CropMode
G = Compass
FULL_640 = Box(0, 0, 640, 427)


def _request(mode: CropMode, w: float, h: float, g: Compass = G.CENTER, x: float = 0,
             y: float = 0) -> Request:  # fmt: skip
    anchor = (x, y) if g is G.XY_CENTER else None
    return Request(mode, w, h, g, x, y, anchor)


# (mode, source, w, h, gravity, x, y) → Plan
TABLE: list[tuple[CropMode, tuple[int, int], float, float, Compass, float, float, Plan]] = [
    # scale: exactly the requested size, distorting
    (C.SCALE, (640, 427), 300, 300, G.CENTER, 0, 0, Plan(FULL_640, (300, 300), (300, 300))),
    # fit: inside the box, aspect kept, upscales
    (C.FIT, (640, 427), 300, 300, G.CENTER, 0, 0, Plan(FULL_640, (300, 200), (300, 200))),
    (C.FIT, (100, 50), 400, 400, G.CENTER, 0, 0, Plan(Box(0, 0, 100, 50), (400, 200), (400, 200))),
    # limit: like fit but never upscales
    (C.LIMIT, (640, 427), 300, 300, G.CENTER, 0, 0, Plan(FULL_640, (300, 200), (300, 200))),
    (C.LIMIT, (100, 50), 400, 400, G.CENTER, 0, 0, Plan(Box(0, 0, 100, 50), (100, 50), (100, 50))),
    # mfit: like fit but never downscales
    (C.MFIT, (640, 427), 20, 20, G.CENTER, 0, 0, Plan(FULL_640, (640, 427), (640, 427))),
    (C.MFIT, (100, 50), 400, 400, G.CENTER, 0, 0, Plan(Box(0, 0, 100, 50), (400, 200), (400, 200))),
    # fill: cover then crop at the gravity
    (C.FILL, (640, 427), 150, 150, G.CENTER, 0, 0,
     Plan(Box(106.5, 0, 427, 427), (150, 150), (150, 150))),
    (C.FILL, (640, 427), 150, 150, G.EAST, 0, 0,
     Plan(Box(213, 0, 427, 427), (150, 150), (150, 150))),
    (C.FILL, (640, 427), 150, 150, G.WEST, 0, 0,
     Plan(Box(0, 0, 427, 427), (150, 150), (150, 150))),
    (C.FILL, (400, 600), 200, 100, G.NORTH, 0, 0,
     Plan(Box(0, 0, 400, 200), (200, 100), (200, 100))),
    (C.FILL, (400, 600), 200, 100, G.SOUTH, 0, 0,
     Plan(Box(0, 400, 400, 200), (200, 100), (200, 100))),
    (C.FILL, (100, 100), 400, 200, G.CENTER, 0, 0,
     Plan(Box(0, 25, 100, 50), (400, 200), (400, 200))),
    # lfill: fill that never upscales; 400x200 asked for 800x100 gives 400x100
    (C.LFILL, (400, 200), 800, 100, G.CENTER, 0, 0,
     Plan(Box(0, 50, 400, 100), (400, 100), (400, 100))),
    (C.LFILL, (400, 200), 100, 100, G.CENTER, 0, 0,
     Plan(Box(100, 0, 200, 200), (100, 100), (100, 100))),
    # thumb with a compass gravity behaves as fill
    (C.THUMB, (640, 427), 150, 150, G.NORTH_WEST, 0, 0,
     Plan(Box(0, 0, 427, 427), (150, 150), (150, 150))),
    # pad: fit then pad to the box at the gravity
    (C.PAD, (640, 427), 150, 150, G.CENTER, 0, 0, Plan(FULL_640, (150, 100), (150, 150), (0, 25))),
    (C.PAD, (640, 427), 150, 150, G.NORTH, 0, 0, Plan(FULL_640, (150, 100), (150, 150), (0, 0))),
    (C.PAD, (640, 427), 150, 150, G.SOUTH, 0, 0, Plan(FULL_640, (150, 100), (150, 150), (0, 50))),
    (C.PAD, (100, 50), 400, 400, G.CENTER, 0, 0,
     Plan(Box(0, 0, 100, 50), (400, 200), (400, 400), (0, 100))),
    # lpad: never upscales; pads to the full box instead
    (C.LPAD, (100, 50), 400, 400, G.CENTER, 0, 0,
     Plan(Box(0, 0, 100, 50), (100, 50), (400, 400), (150, 175))),
    (C.LPAD, (640, 427), 150, 150, G.EAST, 0, 0, Plan(FULL_640, (150, 100), (150, 150), (0, 25))),
    # mpad: never scales; pads only where the box is larger
    (C.MPAD, (100, 50), 400, 400, G.CENTER, 0, 0,
     Plan(Box(0, 0, 100, 50), (100, 50), (400, 400), (150, 175))),
    (C.MPAD, (640, 427), 20, 20, G.CENTER, 0, 0, Plan(FULL_640, (640, 427), (640, 427))),
    # crop: no scaling; gravity plus Cloudinary's offset directions
    (C.CROP, (640, 427), 200, 150, G.CENTER, 0, 0,
     Plan(Box(220, 138, 200, 150), (200, 150), (200, 150))),
    (C.CROP, (640, 427), 150, 150, G.NORTH_WEST, 80, 30,
     Plan(Box(80, 30, 150, 150), (150, 150), (150, 150))),
    (C.CROP, (640, 427), 100, 100, G.NORTH_EAST, 10, 10,
     Plan(Box(530, 10, 100, 100), (100, 100), (100, 100))),
    (C.CROP, (640, 427), 100, 100, G.SOUTH_EAST, 10, 10,
     Plan(Box(530, 317, 100, 100), (100, 100), (100, 100))),
    (C.CROP, (640, 427), 100, 100, G.SOUTH_WEST, 10, 10,
     Plan(Box(10, 317, 100, 100), (100, 100), (100, 100))),
    (C.CROP, (640, 427), 100, 100, G.SOUTH, 10, 10,
     Plan(Box(280, 317, 100, 100), (100, 100), (100, 100))),
    (C.CROP, (640, 427), 100, 100, G.EAST, 10, 0,
     Plan(Box(530, 163, 100, 100), (100, 100), (100, 100))),
    # offsets never push the box outside the image
    (C.CROP, (640, 427), 100, 100, G.NORTH_WEST, 600, 400,
     Plan(Box(540, 327, 100, 100), (100, 100), (100, 100))),
    # a crop larger than the image is clamped to it
    (C.CROP, (640, 427), 1000, 100, G.CENTER, 0, 0,
     Plan(Box(0, 163, 640, 100), (640, 100), (640, 100))),
    # xy_center centres the box on (x, y)
    (C.CROP, (640, 427), 100, 100, G.XY_CENTER, 100, 100,
     Plan(Box(50, 50, 100, 100), (100, 100), (100, 100))),
    (C.FILL, (640, 427), 100, 100, G.XY_CENTER, 600, 200,
     Plan(Box(213, 0, 427, 427), (100, 100), (100, 100))),
]  # fmt: skip


@pytest.mark.parametrize(("mode", "source", "w", "h", "g", "x", "y", "expected"), TABLE)
def test_plan_table(
    mode: CropMode, source: tuple[int, int], w: float, h: float, g: Compass, x: float, y: float,
    expected: Plan,
) -> None:  # fmt: skip
    assert plan(_request(mode, w, h, g, x, y), source) == expected


# transformation → requested (width, height) for a 400x600 input whose original is 800x1200
SIZES = [
    ("c_crop,w_200", (200, 300)),
    ("c_crop,h_300", (200, 300)),
    ("w_0.5", (200, 300)),
    ("w_0.5,h_0.1", (200, 60)),
    ("w_iw", (800, 1200)),
    ("h_ih,w_iw", (800, 1200)),
    ("w_100,ar_2", (100, 50)),
    ("h_100,ar_16:9", (100 * 16 / 9, 100)),
    ("c_fill,ar_2", (400, 200)),
    ("c_fill,ar_0.5", (300, 600)),
    ("c_scale,w_100,dpr_2.0", (200, 300)),
    ("c_scale,w_100,fl_ignore_aspect_ratio", (100, 600)),
]


@pytest.mark.parametrize(("text", "expected"), SIZES)
def test_requested_size(text: str, expected: tuple[float, float]) -> None:
    (step,) = parse_steps(text)
    assert requested_size(step, (400, 600), (800, 1200)) == pytest.approx(expected)


def test_no_size_means_no_resize() -> None:
    (step,) = parse_steps("e_sepia")
    assert requested_size(step, (400, 600), (400, 600)) is None


def test_dpr_above_the_cap_is_refused() -> None:
    (step,) = parse_steps("w_100,dpr_5.0")
    with pytest.raises(BadRequest, match="dpr"):
        requested_size(step, (400, 600), (400, 600), max_dpr=4.0)


@pytest.mark.parametrize(
    ("compass", "signs"),
    [(G.CENTER, (1, 1)), (G.NORTH_WEST, (1, 1)), (G.NORTH, (1, 1)), (G.WEST, (1, 1)),
     (G.NORTH_EAST, (-1, 1)), (G.EAST, (-1, 1)), (G.SOUTH_EAST, (-1, -1)),
     (G.SOUTH, (1, -1)), (G.SOUTH_WEST, (1, -1))],
)  # fmt: skip
def test_offset_signs_follow_cloudinary(compass: Compass, signs: tuple[int, int]) -> None:
    assert offset_signs(compass) == signs
