"""The registry builds what it can, and says in one line per detector why the rest is off."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from detectors.base import (
    Detector,
    DetectorSettings,
    DetectorUnavailable,
    build_detector,
    load_detectors,
)
from tests.detectors.conftest import FACE_MODEL, require_model


def test_everything_available(models_dir: Path) -> None:
    require_model(models_dir, FACE_MODEL)
    settings = DetectorSettings(
        models_dir=models_dir,
        object_model="person-yolov8s.onnx",
        label_aliases={"Normal": "person", "Fall": "person"},
    )
    loaded = load_detectors(settings)
    try:
        assert set(loaded.available) == {
            "faces", "landmarks", "people", "objects", "text", "segmentation", "saliency",
        }  # fmt: skip
        assert loaded.missing == {}
        assert all(isinstance(d, Detector) for d in loaded.available.values())
        assert loaded.get("faces").name == "faces"
    finally:
        loaded.close()
    assert loaded.available == {}


def test_missing_models_leave_saliency(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, no_network: list[Any]
) -> None:
    with caplog.at_level(logging.INFO):
        loaded = load_detectors(DetectorSettings(models_dir=tmp_path))
    assert set(loaded.available) == {"saliency"}
    assert set(loaded.missing) == {
        "faces",
        "landmarks",
        "people",
        "objects",
        "text",
        "segmentation",
    }
    assert len(caplog.records) == 6
    assert all(r.levelno == logging.WARNING for r in caplog.records)
    assert all("\n" not in r.getMessage() for r in caplog.records)
    assert no_network == []


def test_unavailable_message_names_detector_reason_and_remedy() -> None:
    off = DetectorUnavailable("faces", "the face model is missing", "Run the set-up.")
    assert str(off) == "the faces detector is not available: the face model is missing. " + (
        "Run the set-up."
    )


def test_public_message_names_no_server_path() -> None:
    off = DetectorUnavailable("objects", "/srv/models/yolo11n.pt is missing", "Set it up.")
    assert off.public == "the objects detector is not enabled on this pixcast server. Set it up."


def test_each_request_gets_a_fresh_error(tmp_path: Path) -> None:
    loaded = load_detectors(DetectorSettings(models_dir=tmp_path), ["faces"])
    errors = []
    for _ in range(2):
        with pytest.raises(DetectorUnavailable) as off:
            loaded.get("faces")
        errors.append(off.value)
    assert errors[0] is not errors[1] and str(errors[0]) == str(errors[1])


def test_unknown_detector() -> None:
    with pytest.raises(DetectorUnavailable, match="unknown detector"):
        build_detector("ocr", DetectorSettings())
    with pytest.raises(DetectorUnavailable, match="no detector of that name"):
        load_detectors(DetectorSettings(), []).get("ocr")


@pytest.mark.parametrize(
    ("setting", "placed", "found"),
    [
        ("model.onnx", "models/model.onnx", "models/model.onnx"),  # in the models dir
        ("sub/model.pt", "models/sub/model.pt", "models/sub/model.pt"),
        ("model.onnx", "model.onnx", "model.onnx"),  # in the working directory
        ("yolo11n.pt", None, None),  # a bare hub name is never fetched
    ],
)
def test_locate(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    placed: str | None,
    found: str | None,
) -> None:
    monkeypatch.chdir(tmp_path)
    if placed:
        (tmp_path / placed).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / placed).write_bytes(b"x")
    located = DetectorSettings(models_dir=Path("models")).locate(setting)
    assert located == (tmp_path / found if found else None)


def test_locate_absolute(tmp_path: Path) -> None:
    (tmp_path / "m.pt").write_bytes(b"x")
    assert DetectorSettings(models_dir=Path("/nowhere")).locate(str(tmp_path / "m.pt")) == (
        tmp_path / "m.pt"
    )
