"""Face detection on a real photo, on photos without faces, and on composites: the
astronaut's face pasted at known places and sizes, down to 1/20 of the long side."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import pyvips

from detectors.base import DetectorSettings, DetectorUnavailable, Region
from detectors.faces import FaceDetector, around, build, tile_windows
from detectors.probe import Probe, probe_from_bytes
from tests.detectors.conftest import FACE_MODEL, IMAGES

ASTRONAUT_FACE_CENTER = (0.44, 0.23)
"""Measured on examples/images/astronaut.jpg: between the eyes (y 0.20) and the mouth (0.29)."""

FACE_CROP = (165, 60, 120, 120)
"""left, top, width, height of the astronaut's face (chin to hairline) in the 512 px photo."""

CANVAS = (3000, 2000)


@pytest.mark.parametrize(
    ("size", "grid"),
    [
        ((640, 427), (3, 2)),  # 3:2 landscape
        ((427, 640), (2, 3)),  # portrait
        ((640, 640), (3, 3)),
        ((640, 360), (3, 2)),  # 16:9
        ((640, 213), (3, 1)),  # 3:1 panorama
        ((239, 160), (0, 0)),  # too small for tiles to add a face
    ],
)
def test_tiles_cover_the_probe_with_overlap(size: tuple[int, int], grid: tuple[int, int]) -> None:
    width, height = size
    tiles = tile_windows(width, height)
    assert len(tiles) == grid[0] * grid[1]
    if tiles:
        assert {t[0] for t in tiles} >= {0} and max(t[2] for t in tiles) == width
        assert {t[1] for t in tiles} >= {0} and max(t[3] for t in tiles) == height
        assert all(max(r - x, b - y) <= 0.45 * max(size) + 1 for x, y, r, b in tiles)


@pytest.mark.parametrize(
    ("region", "size", "expected"),
    [
        (Region("face", 0.7, 0.45, 0.45, 0.1, 0.1), (640, 640), (192, 192, 448, 448)),
        (Region("face", 0.7, 0.0, 0.0, 0.1, 0.1), (640, 640), (0, 0, 256, 256)),  # moved in
        (Region("face", 0.7, 0.0, 0.0, 0.5, 0.5), (640, 640), (0, 0, 640, 640)),  # too big
        (Region("face", 0.7, 0.8, 0.4, 0.1, 0.2), (640, 320), (384, 32, 640, 288)),
    ],
)
def test_second_look_window(
    region: Region, size: tuple[int, int], expected: tuple[int, int, int, int]
) -> None:
    assert around(region, *size, 4.0) == expected


def test_astronaut_has_exactly_one_face(face_detector: FaceDetector, astronaut: Probe) -> None:
    found = face_detector.detect(astronaut)
    assert len(found) == 1, found
    face = found[0]
    assert face.label == "face" and face.score > 0.8
    assert face.contains(*ASTRONAUT_FACE_CENTER)
    assert 0.12 < face.width < 0.3 and 0.12 < face.height < 0.3


@pytest.mark.parametrize("name", ["sample.jpg", "fig.jpg", "café terrace.jpg"])
def test_photos_without_people_have_no_faces(face_detector: FaceDetector, name: str) -> None:
    probe = probe_from_bytes((IMAGES / name).read_bytes())
    assert face_detector.detect(probe) == []


@pytest.fixture(scope="module")
def canvas() -> pyvips.Image:
    """A 3000x2000 grey canvas with noise: texture for the detector, but no faces."""
    width, height = CANVAS
    noise = np.random.default_rng(7).normal(128, 30, (height, width, 3))
    grey = noise.clip(0, 255).astype(np.uint8)
    return pyvips.Image.new_from_memory(grey.tobytes(), width, height, 3, "uchar").gaussblur(2)


@pytest.fixture(scope="module")
def face() -> pyvips.Image:
    return pyvips.Image.new_from_file(str(IMAGES / "astronaut.jpg")).crop(*FACE_CROP)


PLACES = [(0.5, 0.5), (0.12, 0.15), (0.88, 0.85), (0.33, 0.62), (0.62, 0.3), (0.95, 0.1)]
"""Centres (normalised), including corners and the seams between tiles."""


@pytest.mark.parametrize(
    ("fraction", "place"),
    list(itertools.product([1 / 3, 1 / 6, 1 / 10, 1 / 14, 1 / 20], PLACES)),
    ids=lambda v: f"{v:.3f}" if isinstance(v, float) else f"{v[0]}x{v[1]}",
)
def test_pasted_face_is_found_where_it_was_put(
    face_detector: FaceDetector,
    canvas: pyvips.Image,
    face: pyvips.Image,
    fraction: float,
    place: tuple[float, float],
) -> None:
    side = round(max(CANVAS) * fraction)
    scaled = face.resize(side / face.width)
    center = _inside(place, side)
    left, top = round(center[0] * CANVAS[0] - side / 2), round(center[1] * CANVAS[1] - side / 2)
    photo = canvas.insert(scaled, left, top).jpegsave_buffer(Q=85)
    found = face_detector.detect(probe_from_bytes(photo))
    assert len(found) == 1, found
    assert found[0].contains(*center)


def _inside(place: tuple[float, float], side: int) -> tuple[float, float]:
    # Keep the whole face on the canvas.
    half_x, half_y = side / 2 / CANVAS[0], side / 2 / CANVAS[1]
    return (min(max(place[0], half_x), 1 - half_x), min(max(place[1], half_y), 1 - half_y))


def test_missing_model_is_unavailable_with_the_remedy(tmp_path: Path) -> None:
    with pytest.raises(DetectorUnavailable) as off:
        build(DetectorSettings(models_dir=tmp_path))
    assert off.value.detector == "faces"
    assert FACE_MODEL in str(off.value) and "fetch_models.py" in str(off.value)


def test_broken_model_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / FACE_MODEL).write_bytes(b"not a model")
    with pytest.raises(DetectorUnavailable, match="could not be loaded"):
        build(DetectorSettings(models_dir=tmp_path))
