"""What the detectors know of one source as a whole: every listing detector's regions and the
tags they add up to, for `fl_getinfo` and for the upload API's auto-tagging."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from detectors.base import Region
from detectors.service import SourceRegions

LISTED = ("faces", "landmarks", "people", "objects", "text")
"""Detectors a description runs when they are on (saliency is a fallback, not a finding)."""

UNTAGGED = frozenset({"saliency", "landmarks"})
"""Detectors whose labels are no tags: saliency finds no thing, and landmarks re-find faces."""


@dataclass(frozen=True)
class Tag:
    """A label the source earned, with the best confidence (0..1) any region gave it."""

    label: str
    confidence: float


READ = ("text",)
"""Listed detectors whose regions can also be read: `detections(..., read=True)` lists
what their lines say (and only those that could be read) instead of their boxes."""


def detections(
    regions: SourceRegions, names: tuple[str, ...] = LISTED, read: bool = False
) -> dict[str, list[Region]]:
    """Runs the named listing detectors that are on (each at most once per source, and
    stored by source digest like every detection) and returns all regions found so far, by
    detector (the faces too when the landmarks needed them). With `read`, text regions are
    the read lines (recognition runs, once per source); without it, only where text is
    (the `text` tag needs no more)."""
    for name in names:
        if _wanted(regions, name):
            regions.find(name)
    found = dict(regions.found)
    for name in READ if read else ():
        if name in found:
            found[name] = regions.read(name)
    return found


@dataclass(frozen=True)
class FaceParts:
    """One face with what the landmarks found in it: its eyes and mesh points."""

    face: Region
    eyes: tuple[Region, ...]
    points: tuple[tuple[float, float], ...]


def face_parts(found: Mapping[str, list[Region]]) -> list[FaceParts]:
    """Each detected face with the eyes and landmarks lying inside it (none without the
    landmark detector). Landmark regions come face by face: face, eyes, then points."""
    groups: list[list[Region]] = []
    for region in found.get("landmarks", []):
        if region.label == "face" or not groups:
            groups.append([])
        groups[-1].append(region)
    return [_parts(face, groups) for face in found.get("faces", [])]


def _parts(face: Region, groups: list[list[Region]]) -> FaceParts:
    centre = face.center
    group = next((g for g in groups if g[0].contains(*centre)), [])
    eyes = tuple(r for r in group if r.label == "eye")
    points = tuple((r.x, r.y) for r in group if r.label == "landmark")
    return FaceParts(face, eyes, points)


def tags(found: Mapping[str, list[Region]]) -> list[Tag]:
    """The union of every detector's labels, each with its best score, surest first."""
    best: dict[str, float] = {}
    for name, listed in found.items():
        if name in UNTAGGED:
            continue
        for region in listed:
            best[region.label] = max(best.get(region.label, 0.0), region.score)
    ordered = sorted(best.items(), key=lambda item: (-item[1], item[0]))
    return [Tag(label, round(score, 3)) for label, score in ordered]


def _wanted(regions: SourceRegions, name: str) -> bool:
    if name == "people":
        return regions.people_wanted()
    return regions.available(name)
