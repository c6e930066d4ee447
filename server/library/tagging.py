"""Detection at upload, once per upload: faces and objects (where a model is configured)
through the detection service, turned into tags, Cloudinary's `info.categorization` and
face boxes in pixels. The results then seed the detection cache under the stored file's
identity, so the first `g_face` delivery does not detect again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from detectors.base import Region
from detectors.probe import probe_from_bytes
from detectors.service import RegionService
from server.library.repository import Box

# The detectors whose labels make tags; saliency finds regions, not things.
TAGGING_DETECTORS = ("faces", "objects")


@dataclass(frozen=True)
class Detections:
    """Regions by detector name (normalised [0,1], upright); `degraded` when one failed."""

    found: Mapping[str, list[Region]] = field(default_factory=dict)
    degraded: bool = False

    def regions(self, name: str) -> list[Region]:
        return self.found.get(name, [])


def detect(service: RegionService | None, data: bytes, names: tuple[str, ...]) -> Detections:
    """Run the named detectors that are switched on, on one probe of `data` (blocking).

    This is the one call into detection, so a richer tagging function can replace it.
    """
    if service is None:
        return Detections()
    regions = service.for_source(None, lambda: probe_from_bytes(data))
    found = {name: regions.find(name) for name in names if regions.available(name)}
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
    """Labels found with a confidence of at least `threshold` (faces tag as `face`)."""
    names = [
        _tag(name, region)
        for name, regions in detections.found.items()
        for region in regions
        if region.score >= threshold
    ]
    return tuple(dict.fromkeys(names))


def _tag(detector: str, region: Region) -> str:
    return "face" if detector == "faces" else region.label


def categorization(detections: Detections, engine: str) -> dict[str, object]:
    """Cloudinary's `info.categorization.<engine>`: each label's best confidence."""
    best: dict[str, float] = {}
    for name, regions in detections.found.items():
        for region in regions:
            tag = _tag(name, region)
            best[tag] = max(best.get(tag, 0.0), round(region.score, 4))
    data = [{"tag": tag, "confidence": score} for tag, score in sorted(best.items())]
    return {"categorization": {engine: {"status": "complete", "data": data}}}
