"""Detections that outlive a request: the detectors' Regions on diskcache, keyed by the
source and by the detector configuration, so a new model never reads an old model's boxes."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import diskcache

from detectors.base import DetectorSettings, Region, load_detectors
from detectors.service import RegionService
from server.settings import Settings

log = logging.getLogger("pixcast.detections")

# Detections are small (a few boxes per source): 64 MiB holds hundreds of thousands.
_SIZE_LIMIT = 64 * 1024 * 1024


class DetectionStore:
    """A RegionStore on diskcache (process-safe); failures are logged and read as a miss."""

    def __init__(self, directory: Path, fingerprint: str) -> None:
        self._cache = diskcache.Cache(str(directory), size_limit=_SIZE_LIMIT)
        self._prefix = fingerprint

    def get(self, key: str) -> list[Region] | None:
        try:
            raw = self._cache.get(f"{self._prefix}:{key}")
        except Exception:  # a broken cache must not fail the request
            log.exception("reading detections failed")
            return None
        return None if raw is None else [Region(**item) for item in json.loads(raw)]

    def put(self, key: str, regions: list[Region]) -> None:
        data = json.dumps([vars(region) for region in regions])
        try:
            self._cache.set(f"{self._prefix}:{key}", data)
        except Exception:
            log.exception("storing detections failed")

    def close(self) -> None:
        self._cache.close()


def detector_settings(settings: Settings) -> DetectorSettings:
    return DetectorSettings(
        models_dir=settings.models_dir,
        face_model=settings.face_model,
        person_model=settings.person_model,
        landmark_model=settings.landmark_model,
        segmentation_model=settings.segmentation_model,
        object_model=settings.object_model,
        label_aliases=dict(settings.label_aliases),
    )


def fingerprint(settings: DetectorSettings) -> str:
    """Names the models (file, size, mtime) and options, so a change invalidates old boxes."""
    parts = [repr(sorted(settings.label_aliases.items()))]
    models = (settings.face_model, settings.landmark_model, settings.person_model,
              settings.segmentation_model)  # fmt: skip
    for model in (*models, settings.object_model, *settings.text_models):
        path = settings.locate(model)
        stat = path.stat() if path else None
        parts.append(f"{model}:{stat.st_size}:{stat.st_mtime_ns}" if stat else f"{model}:-")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def build_detection(settings: Settings) -> tuple[RegionService, DetectionStore]:
    """The detectors the settings enable, with their store under the cache directory."""
    wanted = detector_settings(settings)
    detectors = load_detectors(wanted, settings.detector_names)
    store = DetectionStore(settings.cache_dir / "detections", fingerprint(wanted))
    return RegionService(detectors, store), store
