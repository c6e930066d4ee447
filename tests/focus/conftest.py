"""Shared fixtures for detection gravities: the real detectors and a region service."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from detectors.base import DetectorSettings, load_detectors
from detectors.service import RegionService

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "examples" / "images"
MODELS = Path(os.environ.get("PIXCAST_MODELS_DIR", REPO / "models"))
PERSON_ALIASES = {"Normal": "person", "Fall": "person"}


@pytest.fixture(scope="session")
def detection() -> Iterator[RegionService]:
    """Faces (mediapipe), people (the test YOLO model through onnxruntime) and saliency."""
    settings = DetectorSettings(
        models_dir=MODELS, object_model="person-yolov8s.onnx", label_aliases=PERSON_ALIASES
    )
    detectors = load_detectors(settings)
    assert not detectors.missing, f"set-up must fetch the models: {detectors.missing}"
    yield RegionService(detectors)
    detectors.close()


@pytest.fixture(scope="session")
def astronaut() -> bytes:
    return (IMAGES / "astronaut.jpg").read_bytes()
