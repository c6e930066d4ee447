"""Detection in a default install (no object model): people from the shipped model, g_auto
with faces needing the face detector only, g_custom's documented fallbacks, and fl_getinfo
listing a source's detections and tags on any URL."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DEFAULTS = {"models_dir": REPO / "models"}


@pytest.fixture
def default_client(make_settings: Callable[..., Settings], originals: Path) -> Iterator[TestClient]:
    """pixcast's defaults: faces, people, objects (its model absent) and saliency."""
    shutil.copy(REPO / "examples" / "images" / "astronaut.jpg", originals / "astronaut.jpg")
    with TestClient(create_app(make_settings(**DEFAULTS))) as client:
        yield client


def test_person_gravity_works_without_an_object_model(default_client: TestClient) -> None:
    info = default_client.get("/c_crop,g_person/fl_getinfo/astronaut.jpg").json()
    assert [p["label"] for p in info["people"]] == ["person"]
    person, crop = info["people"][0], info["crop"]
    assert crop["x"] == pytest.approx(person["x"], abs=0.01)
    assert crop["width"] == pytest.approx(person["width"], abs=0.01)


@pytest.mark.parametrize("gravity", ["g_auto:person", "g_auto"])
def test_auto_with_people_renders(default_client: TestClient, gravity: str) -> None:
    response = default_client.get(f"/c_fill,{gravity},w_120,h_60/astronaut.png")
    assert response.status_code == 200, response.headers.get("x-cld-error")


def test_plain_getinfo_lists_faces_people_and_tags(default_client: TestClient) -> None:
    info = default_client.get("/fl_getinfo/astronaut.jpg").json()
    assert len(info["faces"]) == 1 and len(info["people"]) == 1
    labels = {tag["label"]: tag["confidence"] for tag in info["tags"]}
    assert set(labels) == {"face", "person"}
    assert all(0.5 <= confidence <= 1 for confidence in labels.values())


@pytest.mark.parametrize("gravity", ["g_auto:faces", "g_auto:face", "g_auto:faces_avoid"])
def test_auto_faces_need_the_face_detector_only(
    make_settings: Callable[..., Settings], originals: Path, gravity: str
) -> None:
    shutil.copy(REPO / "examples" / "images" / "astronaut.jpg", originals / "astronaut.jpg")
    settings = make_settings(detectors="faces,saliency", **DEFAULTS)
    with TestClient(create_app(settings)) as client:
        response = client.get(f"/c_fill,{gravity},w_100,h_100/fl_getinfo/astronaut.jpg")
    assert response.status_code == 200, response.headers.get("x-cld-error")
    assert len(response.json()["faces"]) == 1


def _crop(client: TestClient, gravity: str) -> dict[str, float]:
    response = client.get(f"/c_thumb,{gravity},w_80,h_80/fl_getinfo/astronaut.jpg")
    assert response.status_code == 200, response.headers.get("x-cld-error")
    crop: dict[str, float] = response.json()["crop"]
    return crop


@pytest.mark.parametrize(
    ("custom", "fallback"),
    [("g_custom", "g_center"), ("g_custom:face", "g_face:center"),
     ("g_custom:faces", "g_faces:center")],
)  # fmt: skip
def test_custom_without_coordinates_falls_back(
    default_client: TestClient, custom: str, fallback: str
) -> None:
    assert _crop(default_client, custom) == _crop(default_client, fallback)


def test_missing_person_model_is_a_400_naming_it(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(person_model="no-such-pose.tflite", **DEFAULTS)
    with TestClient(create_app(settings)) as client:
        response = client.get("/c_crop,g_person/camera.jpg")
    assert response.status_code == 400
    assert "people detector is not enabled" in response.headers["x-cld-error"]
    assert "PIXCAST_PERSON_MODEL" in response.headers["x-cld-error"]


def test_background_removal_names_its_method_in_a_header(default_client: TestClient) -> None:
    response = default_client.get("/e_background_removal/astronaut.png")
    assert response.status_code == 200, response.headers.get("x-cld-error")
    assert response.headers["x-background-removal"] == "selfie_segmentation"
    again = default_client.get("/e_background_removal/astronaut.png")
    assert again.headers["x-cache"] == "HIT"
    assert again.headers["x-background-removal"] == "selfie_segmentation"
    plain = default_client.get("/e_background_removal/camera.png")
    assert plain.headers["x-background-removal"] == "border_colour"
