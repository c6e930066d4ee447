"""Detections that outlive a request: the detectors' Regions on diskcache, keyed by the
source and by the detector configuration, so a new model never reads an old model's boxes."""

from __future__ import annotations

import hashlib
import json
import logging
from contextlib import AbstractContextManager
from pathlib import Path

import diskcache
import pyvips

from detectors.base import Detectors, DetectorSettings, Region, load_detectors
from detectors.probe import probe_from_image
from detectors.service import RegionService
from server.cachelayout import DETECTIONS, LOCKS, store_dir
from server.keylocks import KeyLocks
from server.nativelog import native_lines_to_log
from server.settings import Settings

log = logging.getLogger("pixcast.detections")

# Detections are small (a few boxes per source): 64 MiB holds hundreds of thousands.
_SIZE_LIMIT = 64 * 1024 * 1024
WARM_UP_SIDE = 640
# Seconds a detection waits for another process's detection of the same source.
LOCK_PATIENCE = 60.0


class DetectionStore:
    """A RegionStore on diskcache (process-safe); failures are logged and read as a miss."""

    def __init__(self, directory: Path, fingerprint: str, locks: KeyLocks) -> None:
        self._cache = diskcache.Cache(str(directory), size_limit=_SIZE_LIMIT)
        self._prefix = fingerprint
        self._locks = locks

    def hold(self, key: str) -> AbstractContextManager[bool]:
        """The cross-process lock for detecting `key` (given up after a minute)."""
        return self._locks.hold_blocking(f"detect:{self._prefix}:{key}", LOCK_PATIENCE)

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


# The setting that names each detector's model: setting it asks for that detector.
MODEL_SETTINGS = {"faces": "face_model", "objects": "object_model"}


def required_detectors(settings: Settings) -> frozenset[str]:
    """The detectors the operator asked for, which must load for /readyz to pass: every
    one in `detectors` when that was set, else those whose model setting was set. With
    the defaults, a detector whose default model is absent is simply off."""
    names = settings.detector_names
    if settings.is_given("detectors"):
        return frozenset(names)
    return frozenset(
        name for name in names if name in MODEL_SETTINGS and settings.is_given(MODEL_SETTINGS[name])
    )


def detector_settings(settings: Settings) -> DetectorSettings:
    return DetectorSettings(
        models_dir=settings.models_dir,
        face_model=settings.face_model,
        object_model=settings.object_model,
        label_aliases=dict(settings.label_aliases),
    )


def fingerprint(settings: DetectorSettings) -> str:
    """Names the models (file, size, mtime) and options, so a change invalidates old boxes."""
    parts = [repr(sorted(settings.label_aliases.items()))]
    for model in (settings.face_model, settings.object_model):
        path = settings.locate(model)
        stat = path.stat() if path else None
        parts.append(f"{model}:{stat.st_size}:{stat.st_mtime_ns}" if stat else f"{model}:-")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def warm_up(detectors: Detectors) -> None:
    """Run each detector once on a blank probe: native runtimes log (and allocate) on
    their first run, which then happens at start-up instead of in a request."""
    blank = pyvips.Image.black(WARM_UP_SIDE, WARM_UP_SIDE, bands=3) + 128
    probe = probe_from_image(blank.cast("uchar").copy(interpretation="srgb"))
    for name, detector in detectors.available.items():
        try:
            detector.detect(probe)
        except Exception:  # the first request will meet the same failure, and log it
            log.exception("warming up the %s detector failed", name)


def build_detection(settings: Settings) -> tuple[RegionService, DetectionStore]:
    """The detectors the settings enable, with their store under the cache directory."""
    wanted = detector_settings(settings)
    names = settings.detector_names
    optional = set(names) - required_detectors(settings)
    with native_lines_to_log():
        detectors = load_detectors(wanted, names, optional)
        warm_up(detectors)
    root = settings.cache_dir
    locks = KeyLocks(store_dir(root, LOCKS))
    store = DetectionStore(store_dir(root, DETECTIONS), fingerprint(wanted), locks)
    return RegionService(detectors, store), store


def close_detection(service: RegionService, store: DetectionStore) -> None:
    """Free the detectors (their runtimes log as they go: routed like at start) and the store."""
    with native_lines_to_log():
        service.detectors.close()
    store.close()
