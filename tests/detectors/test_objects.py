"""Object detection: both backends (ONNX through onnxruntime, .pt through ultralytics) on a
real photo, their shared decoding in tables, and models that cannot be had."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from detectors.base import DetectorSettings, DetectorUnavailable, Region, load_detectors
from detectors.objects import ObjectDetector, build, decode, nms, parse_names
from detectors.probe import Probe
from tests.detectors.conftest import REPO, require_model

ASTRONAUT_PERSON = Region("person", 1.0, 0.03, 0.03, 0.69, 0.97)
"""Measured by eye: hair to the bottom edge, left arm to the right side of the suit."""
ASTRONAUT_FACE_CENTER = (0.44, 0.23)


def person(detector: ObjectDetector, probe: Probe) -> Region:
    people = [r for r in detector.detect(probe) if r.label == "person"]
    assert people, "no person found"
    return max(people, key=lambda r: r.score)


@pytest.mark.parametrize("backend", ["onnx_detector", "torch_detector"])
def test_finds_the_astronaut(
    backend: str, astronaut: Probe, request: pytest.FixtureRequest
) -> None:
    detector: ObjectDetector = request.getfixturevalue(backend)
    found = person(detector, astronaut)
    assert found.score > 0.4
    assert found.contains(*ASTRONAUT_FACE_CENTER)
    assert found.iou(ASTRONAUT_PERSON) > 0.6


def test_backends_agree(
    onnx_detector: ObjectDetector, torch_detector: ObjectDetector, astronaut: Probe
) -> None:
    assert person(onnx_detector, astronaut).iou(person(torch_detector, astronaut)) > 0.7


def test_labels_are_the_aliased_class_names(onnx_detector: ObjectDetector) -> None:
    assert onnx_detector.labels == frozenset({"person"})


def test_without_aliases_the_model_names_stay(models_dir: Path) -> None:
    require_model(models_dir, "person-yolov8s.onnx")
    settings = DetectorSettings(models_dir=models_dir, object_model="person-yolov8s.onnx")
    assert build(settings).labels == frozenset({"Normal", "Fall"})


GUARDED_RUN = """
import socket, sys
from pathlib import Path
attempts = []
def refuse(*args, **kwargs):
    attempts.append(args)
    raise OSError("no network in pixcast's tests")
socket.socket.connect = socket.socket.connect_ex = refuse
socket.create_connection = socket.getaddrinfo = refuse
from detectors.base import DetectorSettings
from detectors.objects import build
from detectors.probe import probe_from_bytes
settings = DetectorSettings(models_dir=Path(sys.argv[1]), object_model=sys.argv[2])
assert build(settings).detect(probe_from_bytes(Path(sys.argv[3]).read_bytes()))
print(attempts, sorted(m for m in ("torch", "ultralytics") if m in sys.modules))
"""


@pytest.mark.parametrize(
    ("model", "imported"),
    [("person-yolov8s.onnx", "[]"), ("person-yolov8s.pt", "['torch', 'ultralytics']")],
)
def test_fresh_process_loads_and_detects_offline(
    models_dir: Path, model: str, imported: str
) -> None:
    """From import to detection, in a process of its own: no connection is even tried, and
    the ONNX backend never imports torch."""
    require_model(models_dir, model)
    image = REPO / "examples" / "images" / "astronaut.jpg"
    done = subprocess.run(
        [sys.executable, "-c", GUARDED_RUN, str(models_dir), model, str(image)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == f"[] {imported}"


@pytest.mark.parametrize("model", ["yolo11n.pt", "yolo11n.onnx", "no/such/dir/model.pt"])
def test_absent_model_is_off_with_one_line_and_no_download(
    model: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    no_network: list[Any],
) -> None:
    settings = DetectorSettings(models_dir=tmp_path, object_model=model)
    with caplog.at_level(logging.INFO):
        loaded = load_detectors(settings, ["objects"])
    assert "objects" not in loaded.available
    with pytest.raises(DetectorUnavailable) as off:
        loaded.get("objects")
    assert model in str(off.value) and "PIXCAST_OBJECT_MODEL" in str(off.value)
    assert [r.getMessage() for r in caplog.records] == [str(off.value)]
    assert no_network == []
    assert not list(tmp_path.iterdir())  # nothing was written where the model should be


@pytest.mark.parametrize("model", ["broken.onnx", "broken.pt"])
def test_broken_model_is_off(model: str, tmp_path: Path, no_network: list[Any]) -> None:
    (tmp_path / model).write_bytes(b"not a model")
    settings = DetectorSettings(models_dir=tmp_path, object_model=model)
    with pytest.raises(DetectorUnavailable, match="could not be loaded"):
        build(settings)
    assert no_network == []


def output(*boxes: tuple[float, ...]) -> npt.NDArray[np.float32]:
    """A YOLO output for two classes from rows (cx, cy, w, h, score0, score1)."""
    return np.array(boxes, dtype=np.float32).T


@pytest.mark.parametrize(
    ("rows", "min_score", "expected"),
    [
        ([(50, 50, 20, 40, 0.9, 0.1)], 0.25, [((40, 30, 60, 70), 0.9, 0)]),
        ([(50, 50, 20, 40, 0.1, 0.8)], 0.25, [((40, 30, 60, 70), 0.8, 1)]),
        ([(50, 50, 20, 40, 0.2, 0.1)], 0.25, []),
        (
            [(10, 10, 4, 4, 0.3, 0.0), (90, 90, 10, 10, 0.0, 0.6)],
            0.25,
            [((85, 85, 95, 95), 0.6, 1), ((8, 8, 12, 12), 0.3, 0)],  # best first
        ),
    ],
)
def test_decode(
    rows: list[tuple[float, ...]], min_score: float, expected: list[tuple[Any, float, int]]
) -> None:
    boxes, scores, classes = decode(output(*rows), min_score)
    assert [tuple(b) for b in boxes.tolist()] == [e[0] for e in expected]
    assert scores.tolist() == pytest.approx([e[1] for e in expected])
    assert classes.tolist() == [e[2] for e in expected]


@pytest.mark.parametrize(
    ("boxes", "scores", "labels", "kept"),
    [
        # Two boxes on the same person: the better one stays.
        ([(0, 0, 10, 10), (1, 1, 11, 11)], [0.8, 0.9], ["person", "person"], [1]),
        # Same place, different labels: both stay.
        ([(0, 0, 10, 10), (1, 1, 11, 11)], [0.8, 0.9], ["person", "dog"], [1, 0]),
        # Apart: both stay, best first.
        ([(0, 0, 10, 10), (20, 20, 30, 30)], [0.5, 0.7], ["person", "person"], [1, 0]),
        # Aliased classes ('Normal', 'Fall' -> 'person') are one label for NMS.
        ([(0, 0, 10, 10), (0, 0, 10, 9)], [0.6, 0.7], ["person", "person"], [1]),
    ],
)
def test_nms(
    boxes: list[tuple[int, ...]], scores: list[float], labels: list[str], kept: list[int]
) -> None:
    result = nms(
        np.array(boxes, dtype=np.float32),
        np.array(scores, dtype=np.float32),
        np.array(labels, dtype=object),
    )
    assert result == kept


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{0: 'Normal', 1: 'Fall'}", {0: "Normal", 1: "Fall"}),
        ("{0: 'person', 16: 'dog'}", {0: "person", 16: "dog"}),
    ],
)
def test_parse_names(text: str, expected: dict[int, str]) -> None:
    assert parse_names(text) == expected


@pytest.mark.parametrize("text", ["", "['person']", "{0: 'person'", "__import__('os')"])
def test_parse_names_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError):
        parse_names(text)
