"""Detections shared by replicas: the local store, then the shared storage (by detector
fingerprint and source key). Detection runs in render threads, so the shared storage is
reached through blocking calls with a short deadline."""

from __future__ import annotations

import json
import logging
from contextlib import AbstractContextManager

from detectors.base import Region
from detectors.service import RegionService
from server.detections import DetectionStore, detector_settings, fingerprint
from server.settings import Settings
from server.storage.shared import SharedStore, detection_path

log = logging.getLogger("pixcast.storage")
WAIT = 5.0  # seconds a render thread waits for the shared storage


class SharedDetections:
    """A RegionStore in two tiers; failures of the shared tier read as a miss."""

    def __init__(self, local: DetectionStore, shared: SharedStore, fingerprint: str) -> None:
        self.local = local
        self.shared = shared
        self.fingerprint = fingerprint

    def get(self, key: str) -> list[Region] | None:
        found = self.local.get(key)
        if found is not None:
            return found
        data = self.shared.get_now(detection_path(self.fingerprint, key), WAIT)
        if data is None:
            return None
        try:
            regions = [Region(**item) for item in json.loads(data)]
        except (ValueError, TypeError):
            log.warning("shared detections for %s do not decode; detecting again", key)
            return None
        self.local.put(key, regions)
        return regions

    def hold(self, key: str) -> AbstractContextManager[object]:
        """This machine's lock for detecting `key` (replicas may each detect once)."""
        return self.local.hold(key)

    def put(self, key: str, regions: list[Region]) -> None:
        self.local.put(key, regions)
        data = json.dumps([vars(region) for region in regions]).encode()
        self.shared.put_now(detection_path(self.fingerprint, key), data, WAIT)


def share_detections(
    service: RegionService, local: DetectionStore, shared: SharedStore, settings: Settings
) -> RegionService:
    """`service` with its store backed by the shared storage."""
    models = fingerprint(detector_settings(settings))
    return RegionService(service.detectors, SharedDetections(local, shared, models))
