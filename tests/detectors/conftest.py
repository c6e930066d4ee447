"""Fixtures for the detector tests: the models set-up fetched (a missing one fails the test,
since set-up always fetches them), sample photos, and detectors built once per session."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from detectors.base import DetectorSettings
from detectors.faces import FaceDetector
from detectors.objects import ObjectDetector, build
from detectors.probe import Probe, probe_from_bytes

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "examples" / "images"
FACE_MODEL = "face_detection_full_range_sparse.tflite"
PERSON_ALIASES = {"Normal": "person", "Fall": "person"}


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return Path(os.environ.get("PIXCAST_MODELS_DIR", REPO / "models"))


def require_model(models_dir: Path, name: str) -> Path:
    path = models_dir / name
    if not path.is_file():
        pytest.fail(
            f"{path} is missing: run `python scripts/fetch_models.py --dest {models_dir}` "
            "(set-up does) or point PIXCAST_MODELS_DIR at the models"
        )
    return path


@pytest.fixture(scope="session")
def face_detector(models_dir: Path) -> Iterator[FaceDetector]:
    detector = FaceDetector(require_model(models_dir, FACE_MODEL))
    yield detector
    detector.close()


def person_detector(models_dir: Path, model: str) -> ObjectDetector:
    require_model(models_dir, model)
    settings = DetectorSettings(
        models_dir=models_dir, object_model=model, label_aliases=PERSON_ALIASES
    )
    return build(settings)


@pytest.fixture(scope="session")
def onnx_detector(models_dir: Path) -> ObjectDetector:
    return person_detector(models_dir, "person-yolov8s.onnx")


@pytest.fixture(scope="session")
def torch_detector(models_dir: Path) -> ObjectDetector:
    return person_detector(models_dir, "person-yolov8s.pt")


@pytest.fixture(scope="session")
def astronaut() -> Probe:
    """scikit-image's astronaut (public domain; see examples/images/PROVENANCE.md)."""
    return probe_from_bytes((IMAGES / "astronaut.jpg").read_bytes())


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every attempt to open a connection or resolve a name is refused and recorded."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise OSError("pixcast's tests allow no network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts
