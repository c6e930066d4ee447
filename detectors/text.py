"""Text: PaddleOCR's PP-OCRv4 models (Apache-2.0) through rapidocr-onnxruntime's own pipeline
(detection, direction, recognition) on onnxruntime. Each recognised line is a Region
labelled 'text' whose `text` is what it reads."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from detectors.base import FETCH_COMMAND, DetectorSettings, DetectorUnavailable, Region
from detectors.probe import Probe

READ_SIZE = 1280
"""Long side, in pixels, of the view text is read on (where the source has that many)."""

MIN_SCORE = 0.5
"""Recognition confidence a line needs (the pipeline's own default)."""


class TextDetector:
    """Lines of text as Regions (the box holding each line's quadrilateral). Thread-safe:
    one pipeline, run under a lock."""

    name = "text"

    def __init__(self, models: Sequence[Path], min_score: float = MIN_SCORE) -> None:
        rapidocr = _import_rapidocr()
        detection, recognition, direction = (str(path) for path in models)
        self._engine: Any = rapidocr.RapidOCR(
            det_model_path=detection,
            rec_model_path=recognition,
            cls_model_path=direction,
            text_score=min_score,
            intra_op_num_threads=1,
            det_unclip_ratio=1.8,
            inter_op_num_threads=1,
        )
        self._lock = threading.Lock()

    def detect(self, probe: Probe) -> list[Region]:
        """Text lines in normalised [0,1] coordinates of the probe (and of the upright source).
        Lines are looked for on the probe; where there are some, they are read on a larger
        view (READ_SIZE), as the recogniser runs words together below ~30 px letters."""
        if not self._run(probe, read=False):
            return []
        view = probe.larger(READ_SIZE)
        return [_region(line, view) for line in self._run(view, read=True)]

    def _run(self, probe: Probe, read: bool) -> list[Any]:
        bgr = np.ascontiguousarray(probe.pixels[:, :, ::-1])
        with self._lock:
            lines, _ = self._engine(bgr, use_cls=read, use_rec=read)
        return list(lines or [])

    def close(self) -> None:
        """Nothing native to free: the sessions go with the object."""


def _region(line: Sequence[Any], probe: Probe) -> Region:
    quad, text, score = line
    corners = np.asarray(quad, dtype=np.float64)
    (left, top), (right, bottom) = corners.min(axis=0).tolist(), corners.max(axis=0).tolist()
    w, h = probe.width, probe.height
    box = Region.from_corners("text", float(score), left / w, top / h, right / w, bottom / h)
    return Region(box.label, box.score, box.x, box.y, box.width, box.height, str(text))


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
