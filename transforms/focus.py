"""Gravity → focus: the box of a step's input that a crop must keep, from detected regions.

Regions are normalised [0,1] coordinates of the upright original; a Mapping carries them
into the pixels of the image a step works on, through every crop, resize and pad before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from detectors import focus as choose
from detectors.base import DetectorUnavailable, Region, envelope
from detectors.service import PEOPLE_LABELS, SourceRegions
from transforms.errors import BadRequest
from transforms.geometry import Box, Plan
from transforms.model import Compass, Focus

FACE_MARGIN = 1.6
"""Face boxes from BlazeFace run from brow to chin; a crop "of the face" as people (and
Cloudinary's face thumbnails) mean it keeps hair and chin too: 1.6 times the box."""


@dataclass(frozen=True)
class Mapping:
    """Normalised original coordinates → pixels of the current image, an affine map that
    crops, resizes, pads, right-angle rotations and flips keep exact:
    px = a·nx + b·ny + c,  py = d·nx + e·ny + f.  `Mapping(w, h)` is a plain scale."""

    a: float
    e: float
    c: float = 0.0
    f: float = 0.0
    b: float = 0.0
    d: float = 0.0

    def point(self, nx: float, ny: float) -> tuple[float, float]:
        return (self.a * nx + self.b * ny + self.c, self.d * nx + self.e * ny + self.f)

    def box(self, region: Region) -> Box:
        """The region's bounding box in current pixels."""
        corners = [self.point(region.x, region.y), self.point(region.right, region.bottom)]
        (x0, x1), (y0, y1) = sorted(p[0] for p in corners), sorted(p[1] for p in corners)
        return Box(x0, y0, x1 - x0, y1 - y0)

    def normalised(self, box: Box) -> dict[str, float]:
        """A box of the current image in normalised original coordinates (for fl_getinfo)."""
        det = self.a * self.e - self.b * self.d
        corners = [(box.left, box.top), (box.left + box.width, box.top + box.height)]
        points = [self._inverse(x, y, det) for x, y in corners]
        (x0, x1), (y0, y1) = sorted(p[0] for p in points), sorted(p[1] for p in points)
        values = {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0}
        return {key: round(value, 4) + 0.0 for key, value in values.items()}

    def _inverse(self, x: float, y: float, det: float) -> tuple[float, float]:
        dx, dy = x - self.c, y - self.f
        return ((self.e * dx - self.b * dy) / det, (self.a * dy - self.d * dx) / det)

    def then(self, xx: float, xy: float, x0: float, yx: float, yy: float, y0: float) -> Mapping:
        """Follow with the pixel map x' = xx·x + xy·y + x0, y' = yx·x + yy·y + y0."""
        return Mapping(
            a=xx * self.a + xy * self.d, e=yx * self.b + yy * self.e,
            c=xx * self.c + xy * self.f + x0, f=yx * self.c + yy * self.f + y0,
            b=xx * self.b + xy * self.e, d=yx * self.a + yy * self.d,
        )  # fmt: skip

    def after(self, plan: Plan) -> Mapping:
        """The mapping once `plan` has cropped, resized and padded the image."""
        kx, ky = plan.size[0] / plan.box.width, plan.size[1] / plan.box.height
        x0 = plan.offset[0] - plan.box.left * kx
        y0 = plan.offset[1] - plan.box.top * ky
        return self.then(kx, 0.0, x0, 0.0, ky, y0)

    def shifted(self, dx: float, dy: float) -> Mapping:
        return self.then(1.0, 0.0, dx, 0.0, 1.0, dy)

    def rotated(self, turn: str, size: tuple[int, int]) -> Mapping:
        """After a right-angle turn ('d90', 'd180', 'd270' clockwise) or a flip ('h', 'v')
        of an image of `size` (before the turn)."""
        width, height = size
        return {
            "d90": lambda: self.then(0.0, -1.0, height, 1.0, 0.0, 0.0),
            "d180": lambda: self.then(-1.0, 0.0, width, 0.0, -1.0, height),
            "d270": lambda: self.then(0.0, 1.0, 0.0, -1.0, 0.0, width),
            "h": lambda: self.then(-1.0, 0.0, width, 0.0, 1.0, 0.0),
            "v": lambda: self.then(1.0, 0.0, 0.0, 0.0, -1.0, height),
        }[turn]()


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
    if gravity.kind in _LOCATORS:
        return _LOCATORS[gravity.kind](gravity, regions)
    if gravity.kind == "objects":
        return Found(
            choose.object_focus(_objects(gravity, regions), gravity.labels), Compass.CENTER
        )
    return _auto(gravity, regions)


def _faces(gravity: Focus, regions: SourceRegions) -> Found:
    """g_face, g_faces (BlazeFace boxes) and g_adv_face, g_adv_faces (boxes of the face
    landmarks); a fallback of `auto` goes on to g_auto when there is no face."""
    detector = "landmarks" if gravity.kind.startswith("adv_") else "faces"
    pick = choose.largest_face if gravity.kind.endswith("face") else choose.all_faces
    region = pick(regions.find(detector))
    if region is None and gravity.fallback == "auto":
        return _auto(Focus("auto", "auto"), regions)
    return Found(region, _compass(gravity.fallback), is_face=True)


def _eyes(gravity: Focus, regions: SourceRegions) -> Found:
    """g_adv_eyes: the box holding every eye of every face (from the face landmarks)."""
    return Found(choose.eyes(regions.find("landmarks")), _compass(gravity.fallback))


def _text(gravity: Focus, regions: SourceRegions) -> Found:
    """g_ocr_text: the box holding every line of text found."""
    return Found(envelope(regions.find("text"), "text"), _compass(gravity.fallback))


def _custom(gravity: Focus, regions: SourceRegions) -> Found:
    """g_custom: the largest of the source's stored custom coordinates; without any, the
    fallback (centre, or the face gravity named after the colon)."""
    region = max(regions.custom(), key=lambda r: r.area, default=None)
    if region is not None or gravity.fallback == "center":
        return Found(region, Compass.CENTER)
    return _faces(Focus(gravity.fallback, gravity.text, fallback="center"), regions)


def custom_regions(
    boxes: tuple[tuple[int, int, int, int], ...], size: tuple[int, int]
) -> list[Region]:
    """Custom coordinates, (x, y, width, height) in pixels of the upright original of
    `size`, as regions labelled 'custom' (clamped to the image; empty boxes dropped)."""
    width, height = size
    found = [
        Region.from_corners("custom", 1.0, x / width, y / height, (x + w) / width, (y + h) / height)
        for x, y, w, h in boxes
    ]
    return [region for region in found if region.area > 0]


_LOCATORS = {
    "face": _faces, "faces": _faces, "adv_face": _faces, "adv_faces": _faces,
    "adv_eyes": _eyes, "ocr_text": _text, "custom": _custom,
}  # fmt: skip


def _compass(fallback: str) -> Compass:
    return Compass(fallback) if fallback in Compass.__members__.values() else Compass.CENTER


def _objects(gravity: Focus, regions: SourceRegions) -> list[Region]:
    """The regions a gravity's labels (and _avoid labels) may name: faces, text, and objects
    and people; only the detectors those labels need run."""
    wanted = {*gravity.labels, *gravity.avoid}
    found = regions.find("faces") if wanted & choose.FACE_WORDS else []
    found += regions.find("text") if choose.TEXT_WORD in wanted else []
    others = wanted - choose.FACE_WORDS - {choose.TEXT_WORD}
    if not others:  # g_auto:faces and the like need the face detector only
        return found
    unknown = sorted(others - regions.labels())
    if unknown and not regions.available("objects"):
        # Off detectors say why: the people one for people, the object one for the rest.
        people = set(unknown) <= PEOPLE_LABELS and regions.configured("people")
        regions.find("people" if people else "objects")
    things = regions.things()
    if unknown:
        raise BadRequest(
            f"Invalid gravity in transformation: {gravity.text} (the object model knows "
            f"{', '.join(sorted(regions.labels()))}; not {', '.join(unknown)})"
        )
    return things + found


def _auto(gravity: Focus, regions: SourceRegions) -> Found:
    """g_auto: faces, then objects, then saliency, with whatever detectors are enabled;
    `auto:classic` uses saliency alone; `auto:<object>` prefers that object."""
    if gravity.labels:
        region = choose.object_focus(_objects(gravity, regions), gravity.labels)
        if region is not None:
            return Found(region, Compass.CENTER)
    pool = _pool(gravity, regions)
    region = choose.auto_focus(pool, gravity.avoid)
    if choose.TEXT_WORD in gravity.avoid:
        return _beside_text(region, pool)
    return Found(region, Compass.CENTER, is_face=region is not None and region.label == "faces")


def _beside_text(region: Region | None, pool: list[Region]) -> Found:
    """With text to avoid, the focus stays in the largest text-free band: the subject when
    it lies there, else the band itself."""
    band = choose.text_free(pool)
    if band is None or (region is not None and band.overlap(region) >= 0.99):
        return Found(region, Compass.CENTER, is_face=region is not None and region.label == "faces")
    return Found(band, Compass.CENTER)


def _pool(gravity: Focus, regions: SourceRegions) -> list[Region]:
    avoided = _objects(Focus("objects", gravity.text, avoid=gravity.avoid), regions)
    if gravity.algorithm == "classic":
        return _found(regions, "saliency") + avoided
    things = regions.things() if regions.labels() else []
    return _found(regions, "faces") + things + _found(regions, "saliency") + avoided


def _found(regions: SourceRegions, name: str) -> list[Region]:
    return regions.find(name) if regions.available(name) else []


def focus_box(found: Found, mapping: Mapping, zoom: float) -> Box | None:
    """The focus in the step's input pixels, widened by the face margin and by 1/zoom."""
    if found.region is None:
        return None
    box = mapping.box(found.region)
    factor = (FACE_MARGIN if found.is_face else 1.0) / zoom
    center = box.center
    width, height = box.width * factor, box.height * factor
    return Box(center[0] - width / 2, center[1] - height / 2, width, height)
