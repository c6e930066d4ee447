"""Detection once per source: results are stored by source key (shared across processes
through the store), identical concurrent detections run once (in one process by a thread
lock, across processes by the store's lock), and a detector failure degrades to "nothing
found" without being stored."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

from detectors.base import Detectors, Region
from detectors.probe import Probe

log = logging.getLogger("pixcast.detectors")


class RegionStore(Protocol):
    """Where detections outlive a request (the server uses diskcache)."""

    def get(self, key: str) -> list[Region] | None: ...

    def put(self, key: str, regions: list[Region]) -> None: ...

    def hold(self, key: str) -> AbstractContextManager[object]:
        """Exclusive across the processes sharing the store, while one detects `key`."""
        ...


class RegionService:
    """Built once at start-up with the detectors and a store; thread-safe."""

    def __init__(self, detectors: Detectors, store: RegionStore | None = None) -> None:
        self.detectors = detectors
        self.store = store
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def for_source(self, key: str | None, probe: Callable[[], Probe]) -> SourceRegions:
        """Regions of one source; `key` names its bytes (None: never stored)."""
        return SourceRegions(self, key, probe)

    def labels(self) -> frozenset[str]:
        """Object class names the object detector knows (empty when it is off)."""
        detector = self.detectors.available.get("objects")
        return frozenset(getattr(detector, "labels", frozenset()))

    def lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def release(self, key: str) -> None:
        with self._guard:
            self._locks.pop(key, None)


class SourceRegions:
    """Lazily found regions of one source, by detector name ('faces', 'objects',
    'saliency'), in normalised [0,1] coordinates of the upright source."""

    def __init__(self, service: RegionService, key: str | None, probe: Callable[[], Probe]):
        self._service = service
        self._key = key
        self._make_probe = probe
        self._probe: Probe | None = None
        self.found: dict[str, list[Region]] = {}
        self.degraded = False

    def find(self, name: str) -> list[Region]:
        """Regions from one detector; raises DetectorUnavailable when it is off."""
        if name not in self.found:
            detector = self._service.detectors.get(name)
            self.found[name] = self._stored_or_detected(name, detector.detect)
        return self.found[name]

    def available(self, name: str) -> bool:
        return name in self._service.detectors.available

    def labels(self) -> frozenset[str]:
        return self._service.labels()

    def _stored_or_detected(
        self, name: str, detect: Callable[[Probe], list[Region]]
    ) -> list[Region]:
        if self._key is None or self._service.store is None:
            return self._detect(name, detect)
        key = f"{name}:{self._key}"
        with self._service.lock(key), self._service.store.hold(key):
            stored = self._service.store.get(key)
            if stored is None:
                stored = self._detect(name, detect)
                if not self.degraded:
                    self._service.store.put(key, stored)
        self._service.release(key)
        return stored

    def _detect(self, name: str, detect: Callable[[Probe], list[Region]]) -> list[Region]:
        try:
            return detect(self.probe())
        except Exception:  # a failing detector must not fail the request
            log.exception("the %s detector failed; rendering without it", name)
            self.degraded = True
            return []

    def probe(self) -> Probe:
        if self._probe is None:
            self._probe = self._make_probe()
        return self._probe
