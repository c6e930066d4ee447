"""One OpenCV for every library that imports cv2: mediapipe's opencv-contrib-python. rapidocr
declares opencv-python and ultralytics pulls it in; both builds write the same cv2 files, so
set-up installs rapidocr without dependencies and puts opencv-contrib-python on top."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import pyvips

from detectors.base import DetectorSettings
from detectors.faces import FaceDetector
from detectors.probe import Probe, probe_from_image
from detectors.text import build as build_text


def test_cv2_is_one_module_from_mediapipes_opencv() -> None:
    import cv2
    import rapidocr_onnxruntime.utils.load_image as rapidocr_images

    homes = [entry for entry in sys.path if (Path(entry) / "cv2" / "__init__.py").is_file()]
    assert len(homes) == 1, f"cv2 is found in {homes}"
    contrib = importlib.metadata.version("opencv-contrib-python")
    assert contrib.startswith(f"{cv2.__version__}."), "cv2 is mediapipe's build"
    assert rapidocr_images.cv2 is cv2
    assert hasattr(cv2, "ximgproc"), "the contrib modules are there"


def test_mediapipe_and_rapidocr_both_work_in_one_process(
    face_detector: FaceDetector, astronaut: Probe, models_dir: Path
) -> None:
    assert [face.label for face in face_detector.detect(astronaut)] == ["face"]
    sign = pyvips.Image.text("OPEN", dpi=400, font="DejaVu Sans Bold")
    canvas = (255 - sign.embed(40, 40, sign.width + 80, sign.height + 80)).cast("uchar")
    probe = probe_from_image(canvas.bandjoin([canvas, canvas]).copy(interpretation="srgb"))
    text = build_text(DetectorSettings(models_dir=models_dir))
    assert [line.text for line in text.read(probe, text.detect(probe))] == ["OPEN"]
