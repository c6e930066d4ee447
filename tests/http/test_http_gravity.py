"""Detection gravities over HTTP: every kind answers, missing detectors are clear 400s, and
detections are found once per original and shared by its variants."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from detectors.service import SourceRegions
from server.app import create_app
from server.settings import Settings

REPO = Path(__file__).resolve().parents[2]
PERSON = {
    "object_model": "person-yolov8s.onnx",
    "label_aliases": {"Normal": "person", "Fall": "person"},
    "models_dir": REPO / "models",
}


@pytest.fixture
def photo_client(make_settings: Callable[..., Settings], originals: Path) -> Iterator[TestClient]:
    shutil.copy(REPO / "examples" / "images" / "astronaut.jpg", originals / "astronaut.jpg")
    with TestClient(create_app(make_settings(**PERSON))) as client:
        yield client


GRAVITIES = [
    "c_thumb,g_face,w_100,h_100",
    "c_thumb,g_faces,w_100,h_100",
    "c_fill,g_face:center,w_100,h_50",
    "c_fill,g_faces:auto,w_100,h_50",
    "c_crop,g_face",
    "c_crop,g_face,z_0.5",
    "c_fill,g_auto,ar_1:1,w_120",
    "c_fill,g_auto:subject,w_120,h_60",
    "c_fill,g_auto:classic,w_120,h_60",
    "c_fill,g_auto:person,w_120,h_60",
    "c_fill,g_auto:person_avoid,w_120,h_60",
    "c_crop,g_person",
    "c_lfill,g_person,w_100,h_100",
    "c_auto,g_auto,w_150,h_100",
    "c_fill_pad,g_auto,w_300,h_60",
    "c_auto_pad,g_auto,w_300,h_60",
    "c_thumb,g_auto,w_80,h_80,z_1.5",
]


@pytest.mark.parametrize("transformation", GRAVITIES)
def test_every_gravity_renders(photo_client: TestClient, transformation: str) -> None:
    response = photo_client.get(f"/{transformation}/astronaut.png")
    assert response.status_code == 200, response.headers.get("x-cld-error")
    assert response.headers["content-type"] == "image/png"


REFUSALS = [
    ("c_scale,g_auto,w_100", "cannot be used with c_scale"),
    ("c_pad,g_face,w_100,h_100", "cannot be used with c_pad"),
    ("c_fill_pad,g_face,w_100,h_100", "needs g_auto"),
    ("c_crop,g_dog", "knows person; not dog"),
    ("c_fill,g_auto:cat_avoid,w_10,h_10", "not cat"),
]


@pytest.mark.parametrize(("transformation", "message"), REFUSALS)
def test_wrong_combinations_are_400s(
    photo_client: TestClient, transformation: str, message: str
) -> None:
    response = photo_client.get(f"/{transformation}/astronaut.jpg")
    assert response.status_code == 400
    assert message in response.headers["x-cld-error"]


def test_getinfo_reports_faces_and_the_crop(photo_client: TestClient) -> None:
    info = photo_client.get("/c_thumb,g_face,w_100,h_100/fl_getinfo/astronaut.jpg").json()
    assert len(info["faces"]) == 1 and info["faces"][0]["label"] == "face"
    face, crop = info["faces"][0], info["crop"]
    assert crop["x"] <= face["x"] and face["x"] + face["width"] <= crop["x"] + crop["width"]


def test_disabled_face_detector_is_a_400_saying_how_to_enable_it(
    make_settings: Callable[..., Settings],
) -> None:
    with TestClient(create_app(make_settings(detectors="saliency"))) as client:
        response = client.get("/c_thumb,g_face,w_100,h_100/camera.jpg")
    assert response.status_code == 400
    assert "faces detector is not enabled" in response.headers["x-cld-error"]


def test_missing_object_model_is_a_400(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(object_model="no-such-model.onnx"))) as client:
        response = client.get("/c_crop,g_dog/camera.jpg")
    assert response.status_code == 400
    assert "objects detector is not enabled" in response.headers["x-cld-error"]
    assert "no-such-model" not in response.headers["x-cld-error"], "no server paths leak"


def test_detection_runs_once_per_original(
    photo_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = SourceRegions._detect

    def counting(self: SourceRegions, name: str, detect: Any) -> Any:
        calls.append(name)
        return real(self, name, detect)

    monkeypatch.setattr(SourceRegions, "_detect", counting)
    for size in (100, 120, 140):
        response = photo_client.get(f"/c_thumb,g_face,w_{size},h_{size}/astronaut.jpg")
        assert response.status_code == 200
    assert calls == ["faces"]


def test_a_failing_detector_degrades_and_is_not_cached(
    photo_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: SourceRegions, name: str, detect: Any) -> Any:
        self.degraded = True
        return []

    monkeypatch.setattr(SourceRegions, "_detect", broken)
    url = "/c_thumb,g_face,w_90,h_90/astronaut.jpg"
    first, second = photo_client.get(url), photo_client.get(url)
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "MISS")
    info = json.loads(photo_client.get("/c_thumb,g_face,w_90,h_90/fl_getinfo/astronaut.jpg").text)
    assert info["faces"] == []
