"""Face detection: mediapipe's Tasks FaceDetector with the full-range BlazeFace model, run on
the whole probe and on overlapping tiles of it so that faces down to 1/20 of the long side
are found; boxes are merged by non-maximum suppression, and unsure ones get a second look."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from detectors.base import FETCH_COMMAND, DetectorSettings, DetectorUnavailable, Region, suppress
from detectors.probe import Probe

Window = tuple[int, int, int, int]
"""left, top, right, bottom in probe pixels (right and bottom exclusive)."""

TILE_SIDE = 0.45
"""Largest tile side as a fraction of the probe's long side. The model sees 192x192 and finds
faces down to about 1/12 of its input; tiles of 0.4 of the long side (3x2 on a 3:2 photo)
reach 1/20 of the long side with margin (measured: every face down to 1/24 found, 54 places
each), where 2x2 tiles (0.57) already missed a quarter at 1/20."""

TILE_OVERLAP = 0.25
"""Fraction of a tile shared with its neighbour, so a face cut by one tile is whole in
the next."""

MIN_TILED_SIDE = 240
"""Below this long side (probe pixels) a face of 1/20 is 12 px or less: tiles cannot add one."""

SURE_SCORE = 0.8
"""Faces scoring below this get a second look. Tiles magnify everything, and the model then
also sees faces in badges and dogs (measured 0.63 and 0.67) about as surely as in real faces
of 1/20 of the long side (0.64 to 0.72)."""

LANES = 2
"""Model instances run side by side on one probe's windows: a cold detection takes about
two thirds of the time on 2 cores (measured 33 → 22 ms for 7 windows)."""

SECOND_LOOK = 4.0
"""Side of the second look's window, in face sizes, centred on the face."""

CONFIRM_SCORE = 0.65
"""What the second look must score. Measured on 100 pasted faces of 1/12 to 1/28 of the long
side: real faces 0.72 or more, the badge nothing, the dog 0.59."""


class FaceDetector:
    """Faces as Regions labelled 'face'. Thread-safe: mediapipe runs every call of one
    detector on its own single thread."""

    name = "faces"

    def __init__(self, model_path: Path, min_score: float = 0.5, lanes: int = LANES) -> None:
        self._mp = _import_mediapipe()
        options = self._mp.tasks.vision.FaceDetectorOptions(
            base_options=self._mp.tasks.BaseOptions(model_asset_path=str(model_path)),
            min_detection_confidence=min_score,
        )
        create = self._mp.tasks.vision.FaceDetector.create_from_options
        self._tasks = [create(options) for _ in range(max(1, lanes))]
        self._task = self._tasks[0]
        self._lanes = ThreadPoolExecutor(len(self._tasks), thread_name_prefix="pixcast-faces")

    def detect(self, probe: Probe) -> list[Region]:
        """Faces in normalised [0,1] coordinates of the probe (and so of the upright source)."""
        windows = [(0, 0, probe.width, probe.height), *tile_windows(probe.width, probe.height)]
        found = suppress(self._detect_windows(probe.pixels, windows))
        confirmed = (self._confirm(probe, region) for region in found)
        return suppress(region for region in confirmed if region is not None)

    def _detect_windows(self, pixels: npt.NDArray[np.uint8], windows: list[Window]) -> list[Region]:
        """The windows split across the lanes (mediapipe releases the GIL while it runs)."""
        count = len(self._tasks)
        jobs = [
            self._lanes.submit(self._run_lane, task, pixels, windows[lane::count])
            for lane, task in enumerate(self._tasks)
        ]
        return [region for job in jobs for region in job.result()]

    def _run_lane(
        self, task: Any, pixels: npt.NDArray[np.uint8], windows: list[Window]
    ) -> list[Region]:
        return [r for window in windows for r in self._detect_window(pixels, window, task)]

    def close(self) -> None:
        self._lanes.shutdown(wait=True)
        for task in self._tasks:
            task.close()

    def _confirm(self, probe: Probe, region: Region) -> Region | None:
        """The face itself if sure, else what a second look centred on it finds (or None)."""
        if region.score >= SURE_SCORE:
            return region
        window = around(region, probe.width, probe.height, SECOND_LOOK)
        again = [r for r in self._detect_window(probe.pixels, window) if r.overlap(region) > 0.5]
        best = max(again, key=lambda r: r.score, default=None)
        return best if best is not None and best.score >= CONFIRM_SCORE else None

    def _detect_window(
        self, pixels: npt.NDArray[np.uint8], window: Window, task: Any = None
    ) -> list[Region]:
        left, top, right, bottom = window
        crop = np.ascontiguousarray(pixels[top:bottom, left:right])
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=crop)
        result = (task or self._task).detect(image)
        height, width = pixels.shape[:2]
        return [
            _region(d, crop.shape[1], crop.shape[0]).scaled(
                (right - left) / width, (bottom - top) / height, left / width, top / height
            )
            for d in result.detections
        ]


def _region(detection: Any, width: int, height: int) -> Region:
    box = detection.bounding_box
    return Region.from_corners(
        "face",
        float(detection.categories[0].score),
        box.origin_x / width,
        box.origin_y / height,
        (box.origin_x + box.width) / width,
        (box.origin_y + box.height) / height,
    )


def tile_windows(width: int, height: int) -> list[Window]:
    """Overlapping tiles covering a width x height probe, each side at most TILE_SIDE of the
    long side; none for small probes."""
    long_side = max(width, height)
    if long_side < MIN_TILED_SIDE:
        return []
    tile = TILE_SIDE * long_side
    columns = _spans(width, _count(width, tile))
    rows = _spans(height, _count(height, tile))
    return [(x0, y0, x1, y1) for (y0, y1) in rows for (x0, x1) in columns]


def around(region: Region, width: int, height: int, scale: float) -> Window:
    """A square window `scale` times the region's larger side (in probe pixels), centred on
    it and moved (not cut) to stay inside the width x height probe where it fits."""
    side = scale * max(region.width * width, region.height * height)
    center_x, center_y = region.center
    left, right = _span_at(center_x * width, side, width)
    top, bottom = _span_at(center_y * height, side, height)
    return (left, top, right, bottom)


def _span_at(center: float, length: float, limit: int) -> tuple[int, int]:
    start = min(max(center - length / 2, 0.0), max(limit - length, 0.0))
    return (round(start), min(limit, round(start + length)))


def _count(side: int, tile: float) -> int:
    # The fewest tiles of at most `tile` that cover `side` with TILE_OVERLAP between them.
    return max(1, math.ceil((side / tile - TILE_OVERLAP) / (1 - TILE_OVERLAP) - 1e-9))


def _spans(side: int, count: int) -> list[tuple[int, int]]:
    length = side / (count - (count - 1) * TILE_OVERLAP)
    step = length * (1 - TILE_OVERLAP)
    return [(round(i * step), min(side, round(i * step + length))) for i in range(count)]


def _import_mediapipe() -> Any:
    try:
        import mediapipe
    except ImportError as missing:
        raise DetectorUnavailable(
            "faces", "mediapipe is not installed", "Install pixcast's 'faces' extra."
        ) from missing
    return mediapipe


def build(settings: DetectorSettings) -> FaceDetector:
    """The face detector the settings name; raises DetectorUnavailable when its model is
    missing or cannot be loaded."""
    path = settings.locate(settings.face_model)
    if path is None:
        raise DetectorUnavailable(
            "faces",
            f"the face model '{settings.face_model}' is not in {settings.models_dir}",
            f"Run `{FETCH_COMMAND}` (pixcast's set-up does) or set PIXCAST_FACE_MODEL.",
        )
    try:
        return FaceDetector(path, settings.face_min_score)
    except (RuntimeError, ValueError) as broken:
        raise DetectorUnavailable(
            "faces",
            f"the face model {path} could not be loaded ({broken})",
            f"Run `{FETCH_COMMAND}` again to restore it.",
        ) from broken
