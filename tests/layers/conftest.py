"""Fixtures for the layer tests: images made with pyvips, and the real face detector."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from detectors.base import DetectorSettings, load_detectors
from detectors.service import RegionService

REPO = Path(__file__).resolve().parents[2]
MODELS = Path(os.environ.get("PIXCAST_MODELS_DIR", REPO / "models"))


@pytest.fixture(scope="session")
def detection() -> Iterator[RegionService]:
    """The faces detector (mediapipe) that set-up fetches; the others are not needed."""
    detectors = load_detectors(DetectorSettings(models_dir=MODELS), ["faces"])
    assert not detectors.missing, f"set-up must fetch the models: {detectors.missing}"
    yield RegionService(detectors)
    detectors.close()
