"""Detection gravities on real pixels: the crop goes where the face or person is."""

from __future__ import annotations

import json

import numpy as np
import pytest
import pyvips

from detectors.base import Region
from detectors.service import RegionService
from transforms.errors import BadRequest
from transforms.grammar import parse_url
from transforms.pipeline import render

# The astronaut's face in her photo (normalised), measured by hand: brow to chin.
FACE_IN_ASTRONAUT = (0.35, 0.14, 0.18, 0.18)


def _face_crop(astronaut: bytes) -> pyvips.Image:
    image = pyvips.Image.new_from_buffer(astronaut, "")
    x, y, w, h = (round(v * 512) for v in FACE_IN_ASTRONAUT)
    return image.crop(x - w // 2, y - h // 2, w * 2, h * 2)  # face with hair and neck


def _canvas(width: int, height: int) -> pyvips.Image:
    noise = np.random.default_rng(3).normal(128, 20, (height, width, 3)).clip(0, 255)
    return pyvips.Image.new_from_array(noise.astype(np.uint8), interpretation="srgb")


def _composite(astronaut: bytes, side: int, centre: tuple[float, float]) -> bytes:
    """A 3000x2000 canvas with the face (side px) pasted centred at `centre` (normalised)."""
    face = _face_crop(astronaut).resize(side / _face_crop(astronaut).width)
    canvas = _canvas(3000, 2000)
    left, top = round(centre[0] * 3000 - face.width / 2), round(centre[1] * 2000 - face.height / 2)
    return bytes(canvas.insert(face, left, top).jpegsave_buffer(Q=90))


def _info(url: str, data: bytes, detection: RegionService) -> dict[str, object]:
    rendered = render(parse_url(url + "/fl_getinfo/x.jpg"), data, None, detection=detection)
    info: dict[str, object] = json.loads(rendered.data)
    return info


PLACES = [(0.2, 0.25), (0.5, 0.5), (0.8, 0.3), (0.15, 0.8), (0.85, 0.85), (0.5, 0.12)]
SIDES = [150, 300, 600, 1000]


@pytest.mark.parametrize("centre", PLACES)
@pytest.mark.parametrize("side", SIDES)
def test_pasted_face_ends_inside_the_face_crop(
    astronaut: bytes, detection: RegionService, side: int, centre: tuple[float, float]
) -> None:
    data = _composite(astronaut, side, centre)
    info = _info("/c_thumb,g_face,w_200,h_200", data, detection)
    crop = info["crop"]
    assert isinstance(crop, dict)
    assert crop["x"] <= centre[0] <= crop["x"] + crop["width"]
    assert crop["y"] <= centre[1] <= crop["y"] + crop["height"]
    # a head shot, not the whole canvas: the crop is a few face sizes wide at most
    assert crop["width"] * 3000 <= max(4 * side, 200 * 1.01)


def test_thumb_face_on_the_astronaut_is_a_head_shot(
    astronaut: bytes, detection: RegionService
) -> None:
    rendered = render(parse_url("/c_thumb,g_face,w_200,h_200/a.jpg"), astronaut, None,
                      detection=detection)  # fmt: skip
    assert (rendered.width, rendered.height) == (200, 200)
    info = _info("/c_thumb,g_face,w_200,h_200", astronaut, detection)
    faces = info["faces"]
    assert isinstance(faces, list) and len(faces) == 1
    face = Region(**faces[0])
    assert face.contains(0.44, 0.23)


def test_no_face_falls_back_to_north(detection: RegionService) -> None:
    data = bytes(_canvas(1000, 2000).jpegsave_buffer())
    info = _info("/c_fill,g_face,w_100,h_100", data, detection)
    assert info["faces"] == []
    assert info["crop"] == {"x": 0.0, "y": 0.0, "width": 1.0, "height": 0.5}
    centre = _info("/c_fill,g_face:center,w_100,h_100", data, detection)
    assert centre["crop"] == {"x": 0.0, "y": 0.25, "width": 1.0, "height": 0.5}


def test_person_gravity_crops_around_the_person(astronaut: bytes, detection: RegionService) -> None:
    info = _info("/c_crop,g_person", astronaut, detection)
    objects = info["objects"]
    assert isinstance(objects, list) and objects[0]["label"] == "person"
    crop = info["crop"]
    assert isinstance(crop, dict)
    person = Region(**objects[0])
    assert crop["x"] == pytest.approx(person.x, abs=0.01)
    assert crop["width"] == pytest.approx(person.width, abs=0.01)


def test_auto_prefers_faces(astronaut: bytes, detection: RegionService) -> None:
    info = _info("/c_fill,g_auto,w_100,h_300", astronaut, detection)
    crop = info["crop"]
    assert isinstance(crop, dict)
    assert crop["x"] <= 0.44 <= crop["x"] + crop["width"]


def test_unknown_object_is_a_400_naming_what_the_model_knows(
    astronaut: bytes, detection: RegionService
) -> None:
    with pytest.raises(BadRequest, match="knows person; not dog"):
        render(parse_url("/c_crop,g_dog/a.jpg"), astronaut, None, detection=detection)


def test_face_gravity_without_detectors_is_a_400(astronaut: bytes) -> None:
    with pytest.raises(BadRequest, match="needs detectors"):
        render(parse_url("/c_thumb,g_face,w_100,h_100/a.jpg"), astronaut, None)


def test_face_gravity_after_a_rotation_detects_again(
    astronaut: bytes, detection: RegionService
) -> None:
    info = _info("/a_90/c_thumb,g_face,w_100,h_100", astronaut, detection)
    output = info["output"]
    assert isinstance(output, dict) and (output["width"], output["height"]) == (100, 100)


def _face_and_corner_change(
    url: str, astronaut: bytes, detection: RegionService
) -> tuple[float, float]:
    """Mean absolute change inside the face and in the bottom-left corner (the flag)."""
    plain = pyvips.Image.new_from_buffer(render(parse_url("/a.png"), astronaut, None).data, "")
    done = render(parse_url(url), astronaut, None, detection=detection)
    changed = pyvips.Image.new_from_buffer(done.data, "")
    difference = (plain - changed).abs()
    face = difference.crop(200, 90, 60, 60).avg()
    corner = difference.crop(0, 400, 60, 60).avg()
    return face, corner


@pytest.mark.parametrize("url", ["/e_blur_faces/a.png", "/e_pixelate_faces/a.png"])
def test_face_effects_change_the_face_only(
    url: str, astronaut: bytes, detection: RegionService
) -> None:
    face, corner = _face_and_corner_change(url, astronaut, detection)
    assert face > 8
    assert corner < 0.5


def test_face_effects_follow_a_rotation(astronaut: bytes, detection: RegionService) -> None:
    """BlazeFace cannot see a sideways face: the boxes are carried through the turn instead."""
    turned = "/a_90/e_pixelate_faces/a_270/a.png"
    face, corner = _face_and_corner_change(turned, astronaut, detection)
    assert face > 8
    assert corner < 0.5


def test_face_effects_without_detectors_are_a_400(astronaut: bytes) -> None:
    with pytest.raises(BadRequest, match="needs the faces detector"):
        render(parse_url("/e_blur_faces/a.jpg"), astronaut, None)
