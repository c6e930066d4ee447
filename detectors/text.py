"""Text: PaddleOCR's PP-OCRv4 models (Apache-2.0) through rapidocr-onnxruntime's own parts
on onnxruntime. Finding where text is (detection, on a small view) and reading what it says
(direction and recognition, on a sharper one) are separate calls: most URLs need only the
boxes, and reading costs several times more."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from detectors.base import FETCH_COMMAND, DetectorSettings, DetectorUnavailable, Region
from detectors.probe import Probe

FIND_SIZE = 384
"""Long side, in pixels, of the view lines are looked for on: the detector's cost grows
faster than its pixels (about 60 ms of CPU here, 170 ms at 640), and lines from letters
about 8 px high are still found."""

READ_SIZE = 1280
"""Long side, in pixels, of the view text is read on (where the source has that many): the
recogniser runs words together below ~30 px letters."""

MIN_SCORE = 0.5
"""Recognition confidence a line needs to be listed as read (the pipeline's own default)."""

MATCH_IOU = 0.5
"""How well a line found again when reading must fit a stored box to be read in its place."""

Quad = npt.NDArray[np.float32]
"""A line's four corners, clockwise from the top left, normalised [0,1] (x, y)."""


class TextDetector:
    """Lines of text as Regions labelled 'text' (the box holding each line's quadrilateral);
    `read` fills in what they say. Thread-safe: one pipeline, run under a lock."""

    name = "text"

    def __init__(self, models: Sequence[Path], min_score: float = MIN_SCORE) -> None:
        rapidocr = _import_rapidocr()
        detection, recognition, direction = (str(path) for path in models)
        self._engine: Any = rapidocr.RapidOCR(
            det_model_path=detection,
            rec_model_path=recognition,
            cls_model_path=direction,
            det_limit_type="max",  # never enlarge the view: FIND_SIZE sets the cost
            det_unclip_ratio=1.8,
            det_box_thresh=0.4,
            intra_op_num_threads=1,
            inter_op_num_threads=1,
        )
        self._min_score = min_score
        self._lock = threading.Lock()

    def detect(self, probe: Probe) -> list[Region]:
        """Where the lines are, in normalised [0,1] coordinates of the probe (and of the
        upright source), scored by the detector; their `text` is empty."""
        return [_box(quad, score) for quad, score in self._find(probe, FIND_SIZE)]

    def read(self, probe: Probe, boxes: Sequence[Region]) -> list[Region]:
        """The boxes `detect` found in this probe, each with what it reads and the
        recogniser's confidence; boxes read with less than `min_score` are left out.
        Each is read along its line's quadrilateral, found again on the same small view."""
        if not boxes:
            return []
        quads = [quad for quad, _ in self._find(probe, FIND_SIZE)]
        view = probe.larger(READ_SIZE)
        corners = [_scaled(_quad_for(box, quads), view) for box in boxes]
        read = self._recognise(view, corners)
        return [
            replace(box, score=float(score), text=str(text))
            for box, (text, score) in zip(boxes, read, strict=True)
            if float(score) >= self._min_score
        ]

    def _find(self, probe: Probe, size: int) -> list[tuple[Quad, float]]:
        small = probe.smaller(size)
        bgr = _bgr(small)
        with self._lock:
            found = _detect_lines(self._engine.text_det, bgr)
        scale = np.array([small.width, small.height], dtype=np.float32)
        return [((quad / scale).astype(np.float32), score) for quad, score in found]

    def _recognise(self, view: Probe, corners: list[Quad]) -> list[tuple[str, float]]:
        bgr = _bgr(view)
        with self._lock:
            crops = self._engine.get_crop_img_list(bgr, corners)
            crops, _, _ = self._engine.text_cls(crops)
            read, _ = self._engine.text_rec(crops)
        return [(str(line[0]), float(line[1])) for line in read]

    def close(self) -> None:
        """Nothing native to free: the sessions go with the object."""


def _detect_lines(detector: Any, bgr: npt.NDArray[np.uint8]) -> list[tuple[Quad, float]]:
    """rapidocr's DBNet step (its own pre- and post-processing), keeping each line's score,
    which the pipeline drops; quads in pixels of `bgr`."""
    height, width = bgr.shape[:2]
    detector.preprocess_op = detector.get_preprocess(max(height, width))
    tensor = detector.preprocess_op(bgr)
    if tensor is None:
        return []
    maps = detector.infer(tensor)[0]
    quads, scores = detector.postprocess_op(maps, (height, width))
    found = []
    for quad, score in zip(quads, scores, strict=True):
        ordered = detector.order_points_clockwise(np.asarray(quad, dtype=np.float32))
        clipped = detector.clip_det_res(ordered, height, width)
        if min(_sides(clipped)) > 3:  # the pipeline's own filter for slivers
            found.append((clipped, float(score)))
    return sorted(found, key=lambda item: (float(item[0][0][1]), float(item[0][0][0])))


def _sides(quad: Quad) -> tuple[float, float]:
    return float(np.linalg.norm(quad[0] - quad[1])), float(np.linalg.norm(quad[0] - quad[3]))


def _box(quad: Quad, score: float) -> Region:
    (left, top), (right, bottom) = quad.min(axis=0).tolist(), quad.max(axis=0).tolist()
    return Region.from_corners("text", score, left, top, right, bottom)


def _quad_for(box: Region, quads: Sequence[Quad]) -> Quad:
    """The found line that fits the box best, else the box's own corners (a box stored from
    another probe of the same source)."""
    fits = [(box.iou(_box(quad, 0.0)), index) for index, quad in enumerate(quads)]
    best, index = max(fits, default=(0.0, -1))
    if best >= MATCH_IOU:
        return quads[index]
    x, y, right, bottom = box.x, box.y, box.right, box.bottom
    return np.array([[x, y], [right, y], [right, bottom], [x, bottom]], dtype=np.float32)


def _scaled(quad: Quad, view: Probe) -> Quad:
    return (quad * np.array([view.width, view.height], dtype=np.float32)).astype(np.float32)


def _bgr(probe: Probe) -> npt.NDArray[np.uint8]:
    return np.ascontiguousarray(probe.pixels[:, :, ::-1])


def _import_rapidocr() -> Any:
    try:
        import rapidocr_onnxruntime
    except ImportError as missing:
        raise DetectorUnavailable(
            "text", "rapidocr-onnxruntime is not installed", "Install pixcast's 'ocr' extra."
        ) from missing
    return rapidocr_onnxruntime


def build(settings: DetectorSettings) -> TextDetector:
    """The text detector with the models the settings name; raises DetectorUnavailable when
    one is missing or cannot be loaded."""
    paths = [settings.locate(model) for model in settings.text_models]
    missing = [model for model, path in zip(settings.text_models, paths, strict=True) if not path]
    if missing:
        raise DetectorUnavailable(
            "text",
            f"the text model '{missing[0]}' is not in {settings.models_dir}",
            f"Run `{FETCH_COMMAND}` (pixcast's set-up does).",
        )
    try:
        return TextDetector([path for path in paths if path])
    except DetectorUnavailable:
        raise
    except Exception as broken:  # onnxruntime and the pipeline fail in many ways; all mean off
        raise DetectorUnavailable(
            "text",
            f"the text models could not be loaded ({broken})",
            f"Run `{FETCH_COMMAND}` again to restore them.",
        ) from broken
