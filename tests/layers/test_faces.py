"""Layers placed on detected faces (`g_faces`, `g_face`) with the real face detector: one
sticker per face, sized relative to each face with fl_region_relative."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import pyvips

from detectors.probe import Probe, probe_from_image
from detectors.service import RegionService
from tests.layers.imaging import GREEN, opaque, render_url, solid
from transforms.errors import BadRequest

IMAGES = Path(__file__).resolve().parents[2] / "examples" / "images"
STICKER = {"sticker": solid(10, 10, GREEN)}
REGION_RELATIVE = "/l_sticker/c_scale,fl_region_relative,w_1.3/fl_layer_apply,{gravity}/x.png"


def astronaut() -> pyvips.Image:
    return pyvips.Image.new_from_file(str(IMAGES / "astronaut.jpg"))


def two_astronauts() -> pyvips.Image:
    """The photo beside a smaller mirrored copy: two faces of different sizes."""
    small = astronaut().flip("horizontal").resize(0.6)
    return astronaut().join(small.embed(0, 0, small.width, 512, extend="white"), "horizontal")


def stickers(image: pyvips.Image) -> list[int]:
    """The pixel count of each separate pure-green patch, largest first."""
    pixels = image.numpy()[..., :3].astype(int)
    green = (pixels[..., 0] < 30) & (pixels[..., 1] > 225) & (pixels[..., 2] < 30)
    mask = pyvips.Image.new_from_array(green.astype(np.uint8) * 255)
    labels = mask.labelregions().numpy()
    counts = np.bincount(labels[green])
    return sorted((int(c) for c in counts if c), reverse=True)


@pytest.mark.parametrize(
    ("image", "gravity", "count"),
    [(astronaut, "g_faces", 1), (two_astronauts, "g_faces", 2), (two_astronauts, "g_face", 1)],
)
def test_one_sticker_per_face(
    detection: RegionService, image: Callable[[], pyvips.Image], gravity: str, count: int
) -> None:
    base = image()
    out = render_url(REGION_RELATIVE.format(gravity=gravity), base, STICKER, detection=detection)
    assert (out.width, out.height) == (base.width, base.height)
    assert len(stickers(out)) == count
    assert stickers(base) == []


def test_stickers_are_sized_relative_to_each_face(detection: RegionService) -> None:
    """w_1.3 with fl_region_relative: 1.3 times each face's width (square stickers), so the
    big face gets the big sticker; without the flag the sticker keeps its 10 px."""
    base = two_astronauts()
    regions = detection.for_source(None, lambda: _probe(base)).find("faces")
    widths = sorted((r.width * base.width * 1.3 for r in regions), reverse=True)
    found = stickers(render_url(REGION_RELATIVE.format(gravity="g_faces"), base, STICKER,
                                detection=detection))  # fmt: skip
    assert len(found) == len(widths) == 2
    for area, width in zip(found, widths, strict=True):
        assert abs(area - width * width) < 0.1 * width * width
    plain = render_url("/l_sticker/fl_layer_apply,g_faces/x.png", base, STICKER,
                       detection=detection)  # fmt: skip
    assert stickers(plain) == [100, 100]


def test_sticker_is_centred_on_the_face(detection: RegionService) -> None:
    base = astronaut()
    face = detection.for_source(None, lambda: _probe(base)).find("faces")[0]
    out = render_url(REGION_RELATIVE.format(gravity="g_face"), base, STICKER, detection=detection)
    cx = round((face.x + face.width / 2) * base.width)
    cy = round((face.y + face.height / 2) * base.height)
    assert tuple(int(v) for v in out(cx, cy))[:3] == GREEN[:3]


def test_no_face_leaves_the_layer_out(detection: RegionService) -> None:
    """Cloudinary: overlay gravity face with no face found → the overlay is ignored."""
    base = opaque(120, 80, (40, 90, 200, 255))
    out = render_url(REGION_RELATIVE.format(gravity="g_faces"), base, STICKER, detection=detection)
    assert (out.width, out.height) == (120, 80)
    assert stickers(out) == []
    assert out.extract_band(0).max() == 40


def test_faces_need_the_detector() -> None:
    with pytest.raises(BadRequest, match="needs the faces detector"):
        render_url(REGION_RELATIVE.format(gravity="g_faces"), astronaut(), STICKER)


def test_region_relative_needs_a_face_gravity() -> None:
    with pytest.raises(BadRequest, match="fl_region_relative needs g_face or g_faces"):
        render_url(REGION_RELATIVE.format(gravity="g_north"), astronaut(), STICKER)


def _probe(image: pyvips.Image) -> Probe:
    return probe_from_image(image)
