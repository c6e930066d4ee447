"""Detection once per source: results are stored by source key (shared across processes
through the store), identical concurrent detections run once (in one process by a thread
lock, across processes by the store's lock), and a detector failure degrades to "nothing
found" without being stored."""

from __future__ import annotations

import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Protocol, cast

from detectors.base import Detectors, DetectorUnavailable, Reader, Refiner, Region
from detectors.matte import Matte, border_matte
from detectors.probe import Probe

log = logging.getLogger("pixcast.detectors")


PEOPLE_LABELS = frozenset({"person"})

KEPT_MATTES = 16
"""Source mattes kept in memory (a 640 px matte is 1.6 MB)."""


class Segmenter(Protocol):
    """A detector that also makes mattes (the segmentation model)."""

    def segment(self, probe: Probe, people: Sequence[Region] = ()) -> Matte: ...


class RegionStore(Protocol):
    """Where detections outlive a request (the server uses diskcache)."""

    def get(self, key: str) -> list[Region] | None: ...

    def put(self, key: str, regions: list[Region]) -> None: ...

    def hold(self, key: str) -> AbstractContextManager[object]:
        """Exclusive across the processes sharing the store, while one detects `key`."""
        ...


class RegionService:
    """Built once at start-up with the detectors and a store; thread-safe."""

    def __init__(
        self,
        detectors: Detectors,
        store: RegionStore | None = None,
    ) -> None:
        self.detectors = detectors
        self.store = store
        self.mattes: OrderedDict[str, Matte] = OrderedDict()
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def for_source(
        self, key: str | None, probe: Callable[[], Probe], custom: Sequence[Region] = ()
    ) -> SourceRegions:
        """Regions of one source; `key` names its bytes (None: never stored). `custom` are
        the custom coordinates stored with the source (the library's, read by delivery)."""
        return SourceRegions(self, key, probe, custom)

    def labels(self) -> frozenset[str]:
        """Labels a URL may name as objects: the object model's classes, and 'person' when
        the people detector is on (empty when both are off)."""
        return self.object_labels() | (PEOPLE_LABELS if self.people_wanted() else frozenset())

    def object_labels(self) -> frozenset[str]:
        """Class names the object model knows (empty when it is off)."""
        detector = self.detectors.available.get("objects")
        return frozenset(getattr(detector, "labels", frozenset()))

    def people_wanted(self) -> bool:
        """Whether people come from the people detector: it is on, and no configured object
        model finds people itself (its classes come on top, and one source of person boxes
        keeps g_auto from weighing a person twice)."""
        has_people = "people" in self.detectors.available
        return has_people and not (PEOPLE_LABELS & self.object_labels())

    def keep_matte(self, key: str, matte: Matte) -> None:
        """Mattes are pixels: the last few stay in memory, by source key."""
        with self._guard:
            self.mattes[key] = matte
            while len(self.mattes) > KEPT_MATTES:
                self.mattes.popitem(last=False)

    def lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def release(self, key: str) -> None:
        with self._guard:
            self._locks.pop(key, None)


def _refine(refiner: Refiner, found: list[Region], probe: Probe) -> list[Region]:
    return refiner.refine(probe, found)


def _read(reader: Reader, boxes: list[Region], probe: Probe) -> list[Region]:
    return reader.read(probe, boxes)


READ_SUFFIX = "-read"
"""Readings are stored apart from their boxes, as '<detector>-read:<source key>'."""


class SourceRegions:
    """Lazily found regions of one source, by detector name ('faces', 'objects',
    'saliency'), in normalised [0,1] coordinates of the upright source."""

    def __init__(
        self,
        service: RegionService,
        key: str | None,
        probe: Callable[[], Probe],
        custom: Sequence[Region] = (),
    ):
        self._service = service
        self._key = key
        self._custom = list(custom)
        self._make_probe = probe
        self._probe: Probe | None = None
        self.found: dict[str, list[Region]] = {}
        self.readings: dict[str, list[Region]] = {}
        self.degraded = False

    def find(self, name: str) -> list[Region]:
        """Regions from one detector; raises DetectorUnavailable when it is off."""
        if name not in self.found:
            detector = self._service.detectors.get(name)
            detect = detector.detect
            if isinstance(detector, Refiner):
                found = self.find(detector.needs)
                detect = functools.partial(_refine, detector, found)
            self.found[name] = self._stored_or_detected(name, detect)
        return self.found[name]

    def read(self, name: str) -> list[Region]:
        """What the regions of a reading detector (text) say: its regions that could be
        read, with their `text`. Read at most once per source and stored like detections,
        so the boxes-only URLs never pay for it; raises DetectorUnavailable when it is off."""
        if name not in self.readings:
            reader = self._service.detectors.get(name)
            if not isinstance(reader, Reader):
                raise DetectorUnavailable(name, "it finds nothing to read", "Name 'text'.")
            boxes = self.find(name)
            read = functools.partial(_read, reader, boxes)
            stored = self._stored_or_detected(name + READ_SUFFIX, read) if boxes else []
            self.readings[name] = stored
        return self.readings[name]

    def available(self, name: str) -> bool:
        return name in self._service.detectors.available

    def configured(self, name: str) -> bool:
        """Whether the settings ask for this detector (on, or off for a reason)."""
        detectors = self._service.detectors
        return name in detectors.available or name in detectors.missing

    def labels(self) -> frozenset[str]:
        return self._service.labels()

    def matte(self) -> Matte:
        """The foreground matte: the people's, from the segmentation model, when the source
        shows people (a face or a person); else the border-colour fallback."""
        kept = self._service.mattes.get(self._key) if self._key else None
        if kept is None:
            kept = self._make_matte()
            if self._key and not self.degraded:
                self._service.keep_matte(self._key, kept)
        return kept

    def _make_matte(self) -> Matte:
        faces, people = self.people()
        if not faces and not people:
            return border_matte(self.probe())
        segmenter = cast(Segmenter, self._service.detectors.get("segmentation"))
        # Person boxes narrow the matte to the people; a face alone, to the whole picture.
        return segmenter.segment(self.probe(), people if len(people) >= len(faces) else [])

    def people(self) -> tuple[list[Region], list[Region]]:
        """The faces and the person boxes that the detectors which are on find."""
        faces = self.find("faces") if self.available("faces") else []
        things = self.things() if PEOPLE_LABELS & self.labels() else []
        return faces, [r for r in things if r.label in PEOPLE_LABELS]

    def custom(self) -> list[Region]:
        """The source's stored custom coordinates, labelled 'custom' (none when the source
        has none, or the URL does not read them)."""
        return list(self._custom)

    def people_wanted(self) -> bool:
        return self._service.people_wanted()

    def things(self) -> list[Region]:
        """Objects and people, from whichever of the two detectors are on; raises the
        object detector's DetectorUnavailable when neither is."""
        people = self.find("people") if self._service.people_wanted() else None
        if people is not None and not self.available("objects"):
            return people
        return self.find("objects") + (people or [])

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
