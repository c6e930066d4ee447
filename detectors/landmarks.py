"""Face landmarks: MediaPipe's 468-point face mesh (face_landmark.tflite, Apache-2.0) on
LiteRT, run on each face the face detector found. Gives the Advanced Facial Attributes
regions: the face as its landmarks outline it, each eye, and the mesh points themselves."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from detectors import litert
from detectors.base import DetectorSettings, Region
from detectors.probe import Probe, to_array

Floats = npt.NDArray[np.float32]

SIDE = 192
"""The model's square input, in pixels."""

ROI_SCALE = 1.5
"""The crop fed to the model, in face-box sides around the face (as the model card's
face-detection-to-landmarks graph takes it)."""

MIN_PRESENCE = 0.5
"""The model's own face-presence score a crop must reach to count as a face."""

RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398)
"""Mesh indices of each eye's contour (the person's right eye is on the image's left)."""

EYE_MARGIN = 0.25
"""Eye boxes grow by this much of their width on every side, so lids and lashes are in."""


class LandmarkDetector:
    """Per face: a 'face' Region bounding the mesh, two 'eye' Regions and 468 'landmark'
    points (zero-size Regions), all normalised to the probe. Thread-safe."""

    name = "landmarks"
    needs = "faces"

    def __init__(self, model: litert.TfliteModel) -> None:
        self._model = model

    def detect(self, probe: Probe) -> list[Region]:
        """Without faces to look at, nothing (the service passes them to `refine`)."""
        return []

    def refine(self, probe: Probe, found: list[Region]) -> list[Region]:
        """Landmark regions of every face in `found` (normalised probe coordinates)."""
        regions: list[Region] = []
        for face in found:
            if face.label == "face":
                regions.extend(self._face(probe, face))
        return regions

    def _face(self, probe: Probe, face: Region) -> list[Region]:
        left, top, side = _roi(probe, face)
        crop = probe.image.embed(-left, -top, side, side, extend="black")
        square = crop.thumbnail_image(SIDE, height=SIDE, size="force")
        batch = to_array(square).astype(np.float32)[np.newaxis] / 255.0
        mesh, presence = self._model.run(batch)
        score = 1.0 / (1.0 + math.exp(-float(presence.reshape(-1)[0])))
        if score < MIN_PRESENCE:
            return []
        points = mesh.reshape(-1, 3)[:, :2] * (side / SIDE) + (left, top)
        points = points / (probe.width, probe.height)
        return _regions(points, min(score, face.score))

    def close(self) -> None:
        """Nothing native to free: the interpreter goes with the object."""


def _roi(probe: Probe, face: Region) -> tuple[int, int, int]:
    """The square crop around a face, in probe pixels: left, top and side."""
    side = max(8, round(ROI_SCALE * max(face.width * probe.width, face.height * probe.height)))
    centre_x, centre_y = face.center
    return (
        round(centre_x * probe.width - side / 2),
        round(centre_y * probe.height - side / 2),
        side,
    )


def _regions(points: npt.NDArray[np.float64], score: float) -> list[Region]:
    face = _box("face", score, points, 0.0)
    eyes = [_box("eye", score, points[list(eye)], EYE_MARGIN) for eye in (RIGHT_EYE, LEFT_EYE)]
    marks = [Region("landmark", score, float(x), float(y), 0.0, 0.0) for x, y in points]
    return [face, *eyes, *marks]


def _box(label: str, score: float, points: npt.NDArray[np.float64], margin: float) -> Region:
    (x0, y0), (x1, y1) = points.min(axis=0).tolist(), points.max(axis=0).tolist()
    grow = margin * (x1 - x0)
    return Region.from_corners(label, score, x0 - grow, y0 - grow, x1 + grow, y1 + grow)


def build(settings: DetectorSettings) -> LandmarkDetector:
    """The landmark detector the settings name; raises DetectorUnavailable when its model is
    missing or cannot be loaded."""
    return LandmarkDetector(
        litert.load("landmarks", settings, settings.landmark_model, "PIXCAST_LANDMARK_MODEL")
    )
