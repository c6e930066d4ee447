"""What the detectors know of one source as a whole: every listing detector's regions and the
tags they add up to, for `fl_getinfo` and for the upload API's auto-tagging."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from detectors.base import Region
from detectors.service import SourceRegions

LISTED = ("faces", "people", "objects", "text")
"""Detectors a description runs when they are on (saliency is a fallback, not a finding; the
landmarks describe faces, and run when a URL asks for them)."""


@dataclass(frozen=True)
class Tag:
    """A label the source earned, with the best confidence (0..1) any region gave it."""

    label: str
    confidence: float


def detections(regions: SourceRegions) -> dict[str, list[Region]]:
    """Runs every listed detector that is on (each at most once per source, and stored by
    source digest like every detection) and returns all regions found so far, by detector."""
    for name in LISTED:
        if _wanted(regions, name):
            regions.find(name)
    return dict(regions.found)


def tags(found: Mapping[str, list[Region]]) -> list[Tag]:
    """The union of every detector's labels, each with its best score, surest first."""
    best: dict[str, float] = {}
    for name, listed in found.items():
        if name == "saliency":
            continue
        for region in listed:
            best[region.label] = max(best.get(region.label, 0.0), region.score)
    ordered = sorted(best.items(), key=lambda item: (-item[1], item[0]))
    return [Tag(label, round(score, 3)) for label, score in ordered]


def source_tags(regions: SourceRegions) -> list[Tag]:
    """Auto-tagging in one call: run the listed detectors on a source and tag it."""
    return tags(detections(regions))


def _wanted(regions: SourceRegions, name: str) -> bool:
    if name == "people":
        return regions.people_wanted()
    return regions.available(name)
