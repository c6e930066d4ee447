"""Gravity → focus: the box of a step's input that a crop must keep, from detected regions.

Regions are normalised [0,1] coordinates of the upright original; a Mapping carries them
into the pixels of the image a step works on, through every crop, resize and pad before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from detectors import focus as choose
from detectors.base import DetectorUnavailable, Region
from detectors.service import SourceRegions
from transforms.errors import BadRequest
from transforms.geometry import Box, Plan
from transforms.model import Compass, Focus

FACE_MARGIN = 1.6
"""Face boxes from BlazeFace run from brow to chin; a crop "of the face" as people (and
Cloudinary's face thumbnails) mean it keeps hair and chin too: 1.6 times the box."""


@dataclass(frozen=True)
class Mapping:
    """Normalised original coordinates → pixels of the current image: p = n * s + o."""

    sx: float
    sy: float
    ox: float = 0.0
    oy: float = 0.0

    def box(self, region: Region) -> Box:
        return Box(region.x * self.sx + self.ox, region.y * self.sy + self.oy,
                   region.width * self.sx, region.height * self.sy)  # fmt: skip

    def normalised(self, box: Box) -> dict[str, float]:
        """A box of the current image in normalised original coordinates (for fl_getinfo)."""
        x, y = (box.left - self.ox) / self.sx, (box.top - self.oy) / self.sy
        values = {"x": x, "y": y, "width": box.width / self.sx, "height": box.height / self.sy}
        return {key: round(value, 4) for key, value in values.items()}

    def after(self, plan: Plan) -> Mapping:
        """The mapping once `plan` has cropped, resized and padded the image."""
        kx, ky = plan.size[0] / plan.box.width, plan.size[1] / plan.box.height
        return Mapping(self.sx * kx, self.sy * ky, (self.ox - plan.box.left) * kx + plan.offset[0],
                       (self.oy - plan.box.top) * ky + plan.offset[1])  # fmt: skip

    def shifted(self, dx: float, dy: float) -> Mapping:
        return Mapping(self.sx, self.sy, self.ox + dx, self.oy + dy)


@dataclass(frozen=True)
class Found:
    """The focus of one gravity: a region (None when nothing was found) and its fallback."""

    region: Region | None
    fallback: Compass | None
    is_face: bool = False


def locate(gravity: Focus, regions: SourceRegions) -> Found:
    """Resolve a detection gravity to a region of the original, or to its fallback."""
    try:
        return _locate(gravity, regions)
    except DetectorUnavailable as off:
        raise BadRequest(f"Gravity {gravity.text} cannot be used: {off.public}") from None


def _locate(gravity: Focus, regions: SourceRegions) -> Found:
    if gravity.kind in ("face", "faces"):
        pick = choose.largest_face if gravity.kind == "face" else choose.all_faces
        region = pick(regions.find("faces"))
        if region is None and gravity.fallback == "auto":
            return _auto(Focus("auto", "auto"), regions)
        return Found(region, _compass(gravity.fallback), is_face=True)
    if gravity.kind == "objects":
        return Found(
            choose.object_focus(_objects(gravity, regions), gravity.labels), Compass.CENTER
        )
    return _auto(gravity, regions)


def _compass(fallback: str) -> Compass:
    return Compass(fallback) if fallback in Compass.__members__.values() else Compass.CENTER


def _objects(gravity: Focus, regions: SourceRegions) -> list[Region]:
    found = regions.find("objects")
    known = regions.labels() | choose.FACE_WORDS
    unknown = [label for label in (*gravity.labels, *gravity.avoid) if label not in known]
    if unknown:
        raise BadRequest(
            f"Invalid gravity in transformation: {gravity.text} (the object model knows "
            f"{', '.join(sorted(regions.labels()))}; not {', '.join(unknown)})"
        )
    return found + (regions.find("faces") if set(gravity.labels) & choose.FACE_WORDS else [])


def _auto(gravity: Focus, regions: SourceRegions) -> Found:
    """g_auto: faces, then objects, then saliency, with whatever detectors are enabled;
    `auto:classic` uses saliency alone; `auto:<object>` prefers that object."""
    if gravity.labels:
        region = choose.object_focus(_objects(gravity, regions), gravity.labels)
        if region is not None:
            return Found(region, Compass.CENTER)
    pool = _pool(gravity, regions)
    region = choose.auto_focus(pool, gravity.avoid)
    return Found(region, Compass.CENTER, is_face=region is not None and region.label == "faces")


def _pool(gravity: Focus, regions: SourceRegions) -> list[Region]:
    names = ["saliency"] if gravity.algorithm == "classic" else ["faces", "objects", "saliency"]
    if gravity.avoid:
        _objects(Focus("objects", gravity.text, labels=gravity.avoid), regions)
    return [r for name in names if regions.available(name) for r in regions.find(name)]


def focus_box(found: Found, mapping: Mapping, zoom: float) -> Box | None:
    """The focus in the step's input pixels, widened by the face margin and by 1/zoom."""
    if found.region is None:
        return None
    box = mapping.box(found.region)
    factor = (FACE_MARGIN if found.is_face else 1.0) / zoom
    center = box.center
    width, height = box.width * factor, box.height * factor
    return Box(center[0] - width / 2, center[1] - height / 2, width, height)
