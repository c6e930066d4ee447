"""People: MediaPipe's BlazePose detector (pose_detection.tflite, Apache-2.0) on LiteRT. The
model finds a person by keypoints (hip centre, shoulder centre and two radius points), not by
a body box; the box here is drawn from those keypoints (see person_box)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from detectors import litert
from detectors.base import DetectorSettings, Region, suppress
from detectors.probe import Probe, to_array

Floats = npt.NDArray[np.float32]

SIDE = 224
"""The model's square input, in pixels."""

STRIDES = (8, 16, 32, 32, 32)
"""The SSD anchor layers of the model card (two anchors per cell and layer, 2254 in all)."""

NMS_OVERLAP = 0.3
"""Person boxes overlapping more than this (of the smaller box) are one person."""

HEAD_ABOVE_SHOULDERS = 0.6
"""Top of the box above the shoulder centre, in upper-body radii (the radius the model gives
from the shoulder centre to a point above the head)."""

HALF_WIDTH = 0.7
"""Half the box's width, in upper-body radii, centred on the shoulders. Measured against the
YOLO person model on the shipped samples and composites (docs/detectors.md): every value from
0.6 to 0.8 gives the same recall."""


@dataclass(frozen=True)
class Letterbox:
    """Where the probe sits in the model's square input: its size there and its offset."""

    width: int
    height: int
    left: int
    top: int


@cache
def anchors() -> Floats:
    """(2254, 2) anchor centres in the normalised input, in the model's output order."""
    centres: list[tuple[float, float]] = []
    for stride in dict.fromkeys(STRIDES):
        cells, per_cell = SIDE // stride, 2 * STRIDES.count(stride)
        for y in range(cells):
            for x in range(cells):
                centres.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * per_cell)
    return np.array(centres, dtype=np.float32)


def letterbox(probe: Probe) -> tuple[Floats, Letterbox]:
    """The probe fitted into the model's square on black, as a (1, 224, 224, 3) batch in
    -1..1 (the model card's input range)."""
    scale = min(SIDE / probe.width, SIDE / probe.height)
    width, height = max(1, round(probe.width * scale)), max(1, round(probe.height * scale))
    resized = probe.image.resize(width / probe.width, vscale=height / probe.height)
    box = Letterbox(width, height, (SIDE - width) // 2, (SIDE - height) // 2)
    canvas = resized.embed(box.left, box.top, SIDE, SIDE, extend="black")
    pixels = to_array(canvas).astype(np.float32) / 127.5 - 1.0
    return (pixels[np.newaxis], box)


def person_box(score: float, keypoints: Floats, width: int, height: int) -> Region:
    """A person's box from the four keypoints (probe pixels, rows: hip centre, full-body
    radius point, shoulder centre, upper-body radius point), normalised to the probe."""
    hips, body_edge, shoulders, upper_edge = keypoints.astype(float).tolist()
    body = math.dist(body_edge, hips)
    upper = math.dist(upper_edge, shoulders)
    return Region.from_corners(
        "person",
        score,
        (shoulders[0] - HALF_WIDTH * upper) / width,
        (shoulders[1] - HEAD_ABOVE_SHOULDERS * upper) / height,
        (shoulders[0] + HALF_WIDTH * upper) / width,
        (hips[1] + body) / height,
    )


class PeopleDetector:
    """People as Regions labelled 'person'. Thread-safe (the model runs under its lock)."""

    name = "people"

    def __init__(self, model: litert.TfliteModel, min_score: float = 0.5) -> None:
        self._model = model
        self._min_score = min_score

    def detect(self, probe: Probe) -> list[Region]:
        """People in normalised [0,1] coordinates of the probe (and of the upright source)."""
        batch, box = letterbox(probe)
        raw, logits = self._model.run(batch)
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits[0, :, 0], -80.0, 80.0)))
        keep = np.flatnonzero(scores >= self._min_score)
        found = [self._person(float(scores[i]), raw[0, i], int(i), box, probe) for i in keep]
        return suppress(found, NMS_OVERLAP)

    def _person(
        self, score: float, raw: Floats, index: int, box: Letterbox, probe: Probe
    ) -> Region:
        # Keypoints are offsets from the anchor in input pixels; back to probe pixels.
        points = raw[4:12].reshape(4, 2) / SIDE + anchors()[index]
        scale = np.array([probe.width / box.width, probe.height / box.height], dtype=np.float32)
        origin = np.array([box.left, box.top], dtype=np.float32)
        in_probe = (points * SIDE - origin) * scale
        return person_box(score, in_probe, probe.width, probe.height)

    def close(self) -> None:
        """Nothing native to free: the interpreter goes with the object."""


def build(settings: DetectorSettings) -> PeopleDetector:
    """The people detector the settings name; raises DetectorUnavailable when its model is
    missing or cannot be loaded."""
    model = litert.load("people", settings, settings.person_model, "PIXCAST_PERSON_MODEL")
    return PeopleDetector(model, settings.person_min_score)
