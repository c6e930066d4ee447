"""Faces for effects: the detected faces of the original in pixels of the current image,
following right-angle turns and flips, for `e_blur_faces` and `e_pixelate_faces`."""

from __future__ import annotations

from detectors.base import DetectorUnavailable, Region
from detectors.probe import probe_from_image
from detectors.service import SourceRegions
from transforms import geometry
from transforms.context import Context
from transforms.effects.registry import Box as EffectBox
from transforms.errors import BadRequest
from transforms.focus import Mapping
from transforms.model import (
    Angle,
    AngleMode,
)

_TURNS: dict[Angle, str] = {90: "d90", 180: "d180", 270: "d270"}


_TURNS |= {AngleMode.HFLIP: "h", AngleMode.VFLIP: "v"}


def turned(
    mapping: Mapping | None, angles: tuple[Angle, ...], size: tuple[int, int]
) -> Mapping | None:
    """Detections follow right-angle turns and flips; any other angle loses them."""
    for angle in angles:
        if mapping is None or angle in (0, AngleMode.IGNORE):
            continue
        if angle not in _TURNS:
            return None
        mapping = mapping.rotated(_TURNS[angle], size)
        size = (size[1], size[0]) if angle in (90, 270) else size
    return mapping


FACE_SPREAD = 1.3
"""Face boxes run from brow to chin; anonymising covers the forehead and cheeks too."""


def face_boxes(context: Context, effect: str) -> tuple[EffectBox, ...]:
    """Detected faces in pixels of the current image, for e_blur_faces/e_pixelate_faces."""
    if context.detection is None:
        raise BadRequest(f"Effect {effect} needs the faces detector, which is not enabled")
    if context.mapping is not None and context.regions is not None:
        regions, mapping = context.regions, context.mapping
    else:  # after a rotation: find the faces again on the image as it is now
        regions, mapping = _current_regions(context), Mapping(*context.size)
    faces = _faces(regions, effect)
    return tuple(_pixel_box(mapping.box(face), context.size) for face in faces)


def _current_regions(context: Context) -> SourceRegions:
    assert context.detection is not None
    current = context.image
    return context.detection.for_source(None, lambda: probe_from_image(current))


def _faces(regions: SourceRegions, effect: str) -> list[Region]:
    try:
        return regions.find("faces")
    except DetectorUnavailable as off:
        raise BadRequest(f"Effect {effect} cannot be used: {off.public}") from None


def _pixel_box(box: geometry.Box, size: tuple[int, int]) -> EffectBox:
    width, height = box.width * FACE_SPREAD, box.height * FACE_SPREAD
    left = max(0, round(box.center[0] - width / 2))
    top = max(0, round(box.center[1] - height / 2))
    right = min(size[0], round(box.center[0] + width / 2))
    bottom = min(size[1], round(box.center[1] + height / 2))
    return EffectBox(left, top, right - left, bottom - top)
