"""The detector plugin surface: Region (a labelled box in normalised [0,1] coordinates of the
upright source), the Detector protocol, DetectorUnavailable, and the registry that builds the
configured detectors once at start-up."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol, runtime_checkable

from detectors.probe import Probe

log = logging.getLogger("pixcast.detectors")

# Modules are imported only when their detector is asked for, so a server without
# mediapipe or ultralytics installed still starts (with that detector off).
_MODULES: Mapping[str, str] = {
    "faces": "detectors.faces",
    "people": "detectors.people",
    "landmarks": "detectors.landmarks",
    "text": "detectors.text",
    "segmentation": "detectors.segmentation",
    "objects": "detectors.objects",
    "saliency": "detectors.saliency",
}

FETCH_COMMAND = "python scripts/fetch_models.py --dest models"


@dataclass(frozen=True)
class Region:
    """A detected box; x, y, width, height are normalised [0,1] coordinates of the upright
    source (x to the right, y down), so the same Region fits every size of that image."""

    label: str
    score: float
    x: float
    y: float
    width: float
    height: float
    text: str = ""
    """What a text region reads (empty for every other kind)."""

    @classmethod
    def from_corners(
        cls, label: str, score: float, left: float, top: float, right: float, bottom: float
    ) -> Region:
        """Build from corners (normalised), clamped to the image."""
        left, right = sorted((_clamp01(left), _clamp01(right)))
        top, bottom = sorted((_clamp01(top), _clamp01(bottom)))
        return cls(label, score, left, top, right - left, bottom - top)

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.width / 2, self.y + self.height / 2)

    def contains(self, x: float, y: float) -> bool:
        """Whether the normalised point (x, y) lies inside this box (edges included)."""
        return self.x <= x <= self.right and self.y <= y <= self.bottom

    def intersection(self, other: Region) -> float:
        """Area shared with `other` (normalised units, 0 when apart)."""
        width = min(self.right, other.right) - max(self.x, other.x)
        height = min(self.bottom, other.bottom) - max(self.y, other.y)
        return max(width, 0.0) * max(height, 0.0)

    def iou(self, other: Region) -> float:
        """Intersection over union, 0..1."""
        shared = self.intersection(other)
        union = self.area + other.area - shared
        return shared / union if union > 0 else 0.0

    def overlap(self, other: Region) -> float:
        """Intersection over the smaller area, 0..1: 1 when one box lies inside the other."""
        smaller = min(self.area, other.area)
        return self.intersection(other) / smaller if smaller > 0 else 0.0

    def union(self, other: Region, label: str | None = None) -> Region:
        """The smallest box holding both; keeps the better score."""
        return Region.from_corners(
            label or self.label,
            max(self.score, other.score),
            min(self.x, other.x),
            min(self.y, other.y),
            max(self.right, other.right),
            max(self.bottom, other.bottom),
        )

    def scaled(self, sx: float, sy: float, dx: float = 0.0, dy: float = 0.0) -> Region:
        """Map from a window's normalised frame into its parent's: (x * sx + dx, y * sy + dy)."""
        return Region(
            self.label,
            self.score,
            self.x * sx + dx,
            self.y * sy + dy,
            self.width * sx,
            self.height * sy,
        )


def _clamp01(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def envelope(regions: Iterable[Region], label: str) -> Region | None:
    """The box holding every region (normalised), or None for no regions."""
    result: Region | None = None
    for region in regions:
        result = region if result is None else result.union(region)
    return None if result is None else replace(result, label=label)


def suppress(regions: Iterable[Region], threshold: float = 0.5) -> list[Region]:
    """Greedy non-maximum suppression, best score first. A box goes when it overlaps a kept
    box of the same label by more than `threshold` of the smaller one's area: the same face
    seen whole in one tile and cut in the next gives a small box inside a big one, which IoU
    alone would keep."""
    kept: list[Region] = []
    for region in sorted(regions, key=lambda r: r.score, reverse=True):
        if all(k.label != region.label or k.overlap(region) <= threshold for k in kept):
            kept.append(region)
    return kept


@runtime_checkable
class Detector(Protocol):
    """Finds regions on a probe. Built once at start-up, shared across worker threads, so
    `detect` must be thread-safe; `close` frees native resources at shutdown."""

    name: str

    def detect(self, probe: Probe) -> list[Region]: ...

    def close(self) -> None: ...


@runtime_checkable
class Refiner(Protocol):
    """A detector that looks closer at what another one found (face landmarks at the faces):
    `needs` names that detector, whose regions `refine` receives with the probe. Its
    `detect` (for the Detector protocol) finds nothing without them."""

    name: str
    needs: str

    def detect(self, probe: Probe) -> list[Region]: ...

    def refine(self, probe: Probe, found: list[Region]) -> list[Region]: ...

    def close(self) -> None: ...


@runtime_checkable
class Reader(Protocol):
    """A detector whose regions can also be read (text): `detect` says only where they are,
    cheaply; `read` returns the regions it found on that probe with their `text` filled
    in, leaving out those it cannot read."""

    name: str

    def detect(self, probe: Probe) -> list[Region]: ...

    def read(self, probe: Probe, boxes: Sequence[Region]) -> list[Region]: ...

    def close(self) -> None: ...


class DetectorUnavailable(Exception):
    """A detector pixcast cannot use, with what is missing and how to turn it on. Its text is
    written for the person running pixcast and for the user whose URL asked for it."""

    def __init__(self, detector: str, reason: str, remedy: str) -> None:
        self.detector = detector
        self.reason = reason
        self.remedy = remedy
        super().__init__(f"the {detector} detector is not available: {reason}. {remedy}")

    @property
    def public(self) -> str:
        """The message for a URL's user: what is off and how to enable it, without the
        reason, which may name paths on the server."""
        return f"the {self.detector} detector is not enabled on this pixcast server. {self.remedy}"

    def again(self) -> DetectorUnavailable:
        """A fresh copy to raise: raising one stored instance per request would grow its
        traceback without end."""
        return DetectorUnavailable(self.detector, self.reason, self.remedy)


@dataclass(frozen=True)
class DetectorSettings:
    """What the detectors need from pixcast's settings. Model paths that are relative are
    looked up in `models_dir` first, then in the working directory."""

    models_dir: Path = Path("models")
    face_model: str = "face_detection_full_range_sparse.tflite"
    face_min_score: float = 0.5
    person_model: str = "pose_detection.tflite"
    person_min_score: float = 0.5
    landmark_model: str = "face_landmark.tflite"
    segmentation_model: str = "selfie_segmentation.tflite"
    text_models: tuple[str, str, str] = (
        "ch_PP-OCRv4_det_infer.onnx",
        "ch_PP-OCRv4_rec_infer.onnx",
        "ch_ppocr_mobile_v2.0_cls_infer.onnx",
    )
    """Text detection, recognition and direction models (PaddleOCR PP-OCRv4)."""
    object_model: str = "yolo11n.pt"
    object_min_score: float = 0.25
    label_aliases: Mapping[str, str] = field(default_factory=dict)

    def locate(self, model: str) -> Path | None:
        """The existing model file this setting names, or None. Never a download."""
        path = Path(model).expanduser()
        candidates = [path] if path.is_absolute() else [self.models_dir / path, path]
        return next((c.resolve() for c in candidates if c.is_file()), None)


@dataclass
class Detectors:
    """The detectors pixcast could build, and why the others are off."""

    available: dict[str, Detector] = field(default_factory=dict)
    missing: dict[str, DetectorUnavailable] = field(default_factory=dict)

    def get(self, name: str) -> Detector:
        """The named detector; raises its DetectorUnavailable when it is off."""
        if name in self.available:
            return self.available[name]
        if name in self.missing:
            raise self.missing[name].again()
        raise DetectorUnavailable(
            name, "pixcast has no detector of that name", f"Known: {', '.join(_MODULES)}."
        )

    def close(self) -> None:
        for detector in self.available.values():
            detector.close()
        self.available.clear()


def build_detector(name: str, settings: DetectorSettings) -> Detector:
    """Build one detector by name ('faces', 'objects', 'saliency'); raises DetectorUnavailable."""
    if name not in _MODULES:
        raise DetectorUnavailable(name, "unknown detector", f"Known: {', '.join(_MODULES)}.")
    module = importlib.import_module(_MODULES[name])
    detector: Detector = module.build(settings)
    return detector


def load_detectors(
    settings: DetectorSettings,
    names: Iterable[str] = tuple(_MODULES),
    optional: Collection[str] = (),
) -> Detectors:
    """Build every named detector; each one that cannot be had is logged in one line (a
    warning, or info for the `optional` ones, which are on only if their model is there)
    and recorded, so a request that needs it can answer with the reason."""
    loaded = Detectors()
    for name in names:
        try:
            loaded.available[name] = build_detector(name, settings)
        except DetectorUnavailable as off:
            log.log(logging.INFO if name in optional else logging.WARNING, "%s", off)
            loaded.missing[name] = off
    return loaded
