"""Detected regions for effects: faces, eyes or text of the original in pixels of the current
image, following right-angle turns and flips, for `e_blur_faces`, `e_pixelate_faces`,
`e_redeye` and `e_blur_region`/`e_pixelate_region` with `g_ocr_text`."""

from __future__ import annotations

from dataclasses import dataclass

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
    Focus,
    Step,
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


@dataclass(frozen=True)
class Wanted:
    """Which detected regions an effect works on: a detector, its label, and how much to
    widen each box (1.0: as found)."""

    detector: str
    label: str
    spread: float = 1.0


DETECTED_EFFECTS: dict[str, Wanted] = {
    "blur_faces": Wanted("faces", "face", FACE_SPREAD),
    "pixelate_faces": Wanted("faces", "face", FACE_SPREAD),
    "redeye": Wanted("landmarks", "eye"),
}
"""Effects confined to detected regions, whatever the step's gravity."""

REGION_GRAVITIES: dict[str, Wanted] = {"ocr_text": Wanted("text", "text", 1.1)}
"""Gravities that give `e_blur_region` and `e_pixelate_region` their regions (g_ocr_text)."""

REGION_EFFECTS = ("blur_region", "pixelate_region")


def wanted_regions(step: Step) -> Wanted | None:
    """The detected regions a step's effect works on, or None for an effect that needs none."""
    if step.effect is None:
        return None
    if step.effect.name in REGION_EFFECTS and isinstance(step.gravity, Focus):
        return REGION_GRAVITIES.get(step.gravity.kind)
    return DETECTED_EFFECTS.get(step.effect.name)


def face_boxes(
    context: Context, effect: str, wanted: Wanted | None = None
) -> tuple[EffectBox, ...]:
    """Detected regions in pixels of the current image (faces unless `wanted` says other)."""
    wanted = wanted or DETECTED_EFFECTS["blur_faces"]
    if context.detection is None:
        raise BadRequest(
            f"Effect {effect} needs the {wanted.detector} detector, which is not enabled"
        )
    if context.mapping is not None and context.regions is not None:
        regions, mapping = context.regions, context.mapping
    else:  # after a rotation: find the faces again on the image as it is now
        regions, mapping = _current_regions(context), Mapping(*context.size)
    found = [r for r in _found(regions, effect, wanted.detector) if r.label == wanted.label]
    return tuple(_pixel_box(mapping.box(r), context.size, wanted.spread) for r in found)


def _current_regions(context: Context) -> SourceRegions:
    assert context.detection is not None
    current = context.image
    return context.detection.for_source(None, lambda: probe_from_image(current))


def _found(regions: SourceRegions, effect: str, detector: str) -> list[Region]:
    try:
        return regions.find(detector)
    except DetectorUnavailable as off:
        raise BadRequest(f"Effect {effect} cannot be used: {off.public}") from None


def _pixel_box(box: geometry.Box, size: tuple[int, int], spread: float) -> EffectBox:
    width, height = box.width * spread, box.height * spread
    left = max(0, round(box.center[0] - width / 2))
    top = max(0, round(box.center[1] - height / 2))
    right = min(size[0], round(box.center[0] + width / 2))
    bottom = min(size[1], round(box.center[1] + height / 2))
    return EffectBox(left, top, right - left, bottom - top)
