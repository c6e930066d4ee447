"""Advanced Facial Attributes on real pixels: the face mesh finds the eyes wherever the face
is, g_adv_eyes keeps them, and e_redeye changes red pupils and nothing outside the eyes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import pyvips

from detectors.base import DetectorSettings, Region, load_detectors
from detectors.service import RegionService
from tests.focus.conftest import MODELS
from tests.focus.test_focus_render import _composite
from transforms.errors import BadRequest
from transforms.grammar import parse_url
from transforms.pipeline import render

PLACES = [(0.2, 0.25), (0.5, 0.5), (0.8, 0.3), (0.15, 0.8), (0.85, 0.85)]


def _info(url: str, data: bytes, detection: RegionService) -> dict[str, object]:
    rendered = render(parse_url(url), data, None, detection=detection)
    info: dict[str, object] = json.loads(rendered.data)
    return info


def _eyes(info: dict[str, object]) -> list[Region]:
    eyes = info["eyes"]
    assert isinstance(eyes, list)
    return [Region(**{k: v for k, v in eye.items() if k != "face"}) for eye in eyes]


def _inside(inner: Region, outer: dict[str, float], slack: float = 0.002) -> bool:
    return (
        outer["x"] - slack <= inner.x
        and inner.right <= outer["x"] + outer["width"] + slack
        and outer["y"] - slack <= inner.y
        and inner.bottom <= outer["y"] + outer["height"] + slack
    )


@pytest.mark.parametrize("centre", PLACES)
@pytest.mark.parametrize("side", [300, 600])
def test_adv_eyes_crop_holds_both_eyes(
    astronaut: bytes, detection: RegionService, side: int, centre: tuple[float, float]
) -> None:
    data = _composite(astronaut, side, centre)
    info = _info("/c_crop,g_adv_eyes/fl_getinfo/x.jpg", data, detection)
    eyes, crop = _eyes(info), info["crop"]
    assert isinstance(crop, dict) and len(eyes) == 2
    # The eyes are in the pasted face (upper half), and the crop holds them both.
    half = side / 2 / 3000
    for eye in eyes:
        assert abs(eye.center[0] - centre[0]) < half and eye.center[1] < centre[1]
        assert _inside(eye, crop)
    assert crop["width"] < 3 * side / 3000, "a crop of the eyes, not of the face"


def test_getinfo_lists_eyes_by_face_and_landmarks_on_request(
    astronaut: bytes, detection: RegionService
) -> None:
    plain = _info("/fl_getinfo/x.jpg", astronaut, detection)
    assert "landmarks" not in plain and [e["face"] for e in plain["eyes"]] == [0, 0]
    full = _info("/fl_getinfo:landmarks/x.jpg", astronaut, detection)
    marks = full["landmarks"]
    assert isinstance(marks, list) and len(marks[0]["points"]) == 468
    face = Region(**plain["faces"][0])
    inside = [face.contains(x, y) for x, y in marks[0]["points"]]
    assert sum(inside) > 0.6 * 468, "the mesh covers the face BlazeFace found"


@pytest.mark.parametrize("gravity", ["g_adv_face", "g_adv_faces"])
def test_adv_face_crops_to_the_face(
    astronaut: bytes, detection: RegionService, gravity: str
) -> None:
    info = _info(f"/c_thumb,{gravity},w_100,h_100/fl_getinfo/x.jpg", astronaut, detection)
    crop = info["crop"]
    assert isinstance(crop, dict)
    assert crop["x"] <= 0.44 <= crop["x"] + crop["width"] and crop["width"] < 0.5


def test_adv_gravities_without_the_landmark_model_are_a_400(astronaut: bytes) -> None:
    detectors = load_detectors(DetectorSettings(models_dir=MODELS, landmark_model="none.tflite"),
                               ["faces", "landmarks"])  # fmt: skip
    try:
        with pytest.raises(BadRequest, match="landmarks detector is not enabled"):
            render(parse_url("/c_crop,g_adv_eyes/a.jpg"), astronaut, None,
                   detection=RegionService(detectors))  # fmt: skip
    finally:
        detectors.close()


def _array(data: bytes) -> np.ndarray:
    return np.asarray(pyvips.Image.new_from_buffer(data, "").numpy(), dtype=np.int16)


def _red_pupils(astronaut: bytes, eyes: list[Region]) -> bytes:
    image = pyvips.Image.new_from_buffer(astronaut, "")
    for eye in eyes:
        x, y = (round(v * 512) for v in eye.center)
        image = image.draw_circle([220, 30, 30], x, y, 3, fill=True)
    return bytes(image.pngsave_buffer())


def test_redeye_changes_red_pupils_and_nothing_outside_the_eyes(
    astronaut: bytes, detection: RegionService
) -> None:
    eyes = _eyes(_info("/fl_getinfo/x.jpg", astronaut, detection))
    painted = _red_pupils(astronaut, eyes)
    before = _array(painted)
    after = _array(render(parse_url("/e_redeye/x.png"), painted, None, detection=detection).data)
    outside = np.ones(before.shape[:2], dtype=bool)
    for eye in eyes:
        x, y = (round(v * 512) for v in eye.center)
        assert after[y, x, 0] < before[y, x, 0] - 100, "the red pupil is red no more"
        outside[round(eye.y * 512) - 1 : round(eye.bottom * 512) + 2,
                round(eye.x * 512) - 1 : round(eye.right * 512) + 2] = False  # fmt: skip
    assert np.array_equal(before[outside], after[outside])
