"""The shipped people detector (BlazePose on LiteRT): its anchors and box geometry, nothing
found on an empty picture, and its recall against the YOLO person model on real photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyvips

from detectors.base import Detector
from detectors.people import PeopleDetector, anchors, person_box
from detectors.probe import Probe, probe_from_image
from tests.detectors import people_recall


@pytest.fixture(scope="module")
def detectors(models_dir: Path) -> tuple[PeopleDetector, Detector]:
    people, yolo = people_recall.detectors(models_dir)
    assert isinstance(people, PeopleDetector)
    return people, yolo


def test_anchors_match_the_model_output() -> None:
    centres = anchors()
    assert centres.shape == (2254, 2)
    assert centres.min() > 0 and centres.max() < 1
    assert tuple(centres[0]) == pytest.approx((0.5 / 28, 0.5 / 28))


def test_box_spans_head_to_feet_around_the_shoulders() -> None:
    # hips at (100, 300), full-body radius 200; shoulders at (100, 150), upper radius 100.
    points = np.array([[100, 300], [100, 100], [100, 150], [100, 50]], dtype=np.float32)
    box = person_box(0.9, points, 400, 600)
    assert (box.x * 400, box.y * 600) == pytest.approx((30, 90))
    assert (box.right * 400, box.bottom * 600) == pytest.approx((170, 500))


def test_nothing_on_a_plain_picture(detectors: tuple[PeopleDetector, Detector]) -> None:
    grey = (pyvips.Image.black(640, 480, bands=3) + 128).cast("uchar")
    probe: Probe = probe_from_image(grey.copy(interpretation="srgb"))
    assert detectors[0].detect(probe) == []


def test_finds_the_astronaut(detectors: tuple[PeopleDetector, Detector], astronaut: Probe) -> None:
    people = detectors[0].detect(astronaut)
    assert len(people) == 1 and people[0].label == "person"
    assert people[0].contains(0.44, 0.3), "the box holds her face"


def test_recall_against_yolo_is_at_least_90_percent(
    detectors: tuple[PeopleDetector, Detector],
) -> None:
    people, yolo = detectors
    recall = people_recall.measure(people, yolo)
    assert recall.reference >= 40, "the composites give YOLO enough people to compare"
    assert recall.value >= 0.9, f"{recall.found}/{recall.reference}"
