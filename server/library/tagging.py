"""Detection at upload, once per upload: the recognition's own listing (faces, people,
text, objects where a model is configured) through `detectors.summary`, the function
fl_getinfo uses too, turned into tags, Cloudinary's `info.categorization` and face boxes
in pixels. The results then seed the detection cache under the stored file's identity,
so the first `g_face` or `g_person` delivery does not detect again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from detectors import summary
from detectors.base import Region
from detectors.probe import probe_from_bytes
from detectors.service import RegionService
from server.library.repository import Box

# Categorization runs every listing detector that is on, as fl_getinfo does.
TAGGING_DETECTORS = summary.LISTED


@dataclass(frozen=True)
class Detections:
    """Regions by detector name (normalised [0,1], upright); `degraded` when one failed."""

    found: Mapping[str, list[Region]] = field(default_factory=dict)
    degraded: bool = False

    def regions(self, name: str) -> list[Region]:
        return self.found.get(name, [])

    def tags(self) -> list[summary.Tag]:
        """Every label found, with its best confidence, surest first (fl_getinfo's tags)."""
        return summary.tags(self.found)


def detect(service: RegionService | None, data: bytes, names: tuple[str, ...]) -> Detections:
    """Run the named detectors that are switched on, on one probe of `data` (blocking)."""
    if service is None or not names:
        return Detections()
    regions = service.for_source(None, lambda: probe_from_bytes(data))
    found = summary.detections(regions, names)
    return Detections(found, regions.degraded)


def seed(service: RegionService | None, source_key: str, detections: Detections) -> None:
    """Store the detections as delivery would have, under the stored file's source key."""
    if service is None or service.store is None or detections.degraded:
        return
    for name, regions in detections.found.items():
        service.store.put(f"{name}:{source_key}", regions)


def face_boxes(detections: Detections, width: int, height: int) -> tuple[Box, ...]:
    """Faces as (x, y, width, height) in pixels of the upright source."""
    return tuple(_pixels(region, width, height) for region in detections.regions("faces"))


def _pixels(region: Region, width: int, height: int) -> Box:
    return (
        round(region.x * width),
        round(region.y * height),
        round(region.width * width),
        round(region.height * height),
    )


def auto_tags(detections: Detections, threshold: float) -> tuple[str, ...]:
    """Labels found with a confidence of at least `threshold` (`face`, `person`, `text`,
    the object classes)."""
    return tuple(tag.label for tag in detections.tags() if tag.confidence >= threshold)


def categorization(detections: Detections, engine: str) -> dict[str, object]:
    """Cloudinary's `info.categorization.<engine>`: each label's best confidence."""
    data = [{"tag": tag.label, "confidence": tag.confidence} for tag in detections.tags()]
    return {"categorization": {engine: {"status": "complete", "data": data}}}
