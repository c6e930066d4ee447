"""Saliency finds the one interesting thing on a plain background."""

from __future__ import annotations

import pytest
import pyvips

from detectors.base import DetectorSettings
from detectors.probe import Probe, probe_from_image
from detectors.saliency import build


def scene(width: int, height: int, spot: tuple[float, float]) -> Probe:
    """A flat grey picture with one small, saturated, edged square centred at `spot`."""
    grey = pyvips.Image.black(width, height).new_from_image([128, 128, 128])
    side = min(width, height) // 8
    square = pyvips.Image.black(side, side).new_from_image([230, 30, 40])
    left, top = round(spot[0] * width - side / 2), round(spot[1] * height - side / 2)
    return probe_from_image(grey.insert(square, left, top).copy(interpretation="srgb"))


@pytest.mark.parametrize(
    ("size", "spot"),
    [
        ((640, 427), (0.25, 0.3)),
        ((640, 427), (0.8, 0.75)),
        ((427, 640), (0.5, 0.85)),
        ((640, 640), (0.1, 0.1)),  # near a corner: the window slides back inside
    ],
)
def test_window_holds_the_interesting_spot(
    size: tuple[int, int], spot: tuple[float, float]
) -> None:
    found = build(DetectorSettings()).detect(scene(*size, spot))
    assert len(found) == 1
    region = found[0]
    assert region.label == "saliency" and region.contains(*spot)
    assert region.x >= 0 and region.right <= 1 and region.y >= 0 and region.bottom <= 1
    assert region.width * size[0] == pytest.approx(region.height * size[1], abs=1)  # square


def test_astronaut_window_holds_her_face(astronaut: Probe) -> None:
    """With a small window libvips' attention picks the helmet in her hands."""
    (region,) = build(DetectorSettings()).detect(astronaut)
    assert region.contains(0.44, 0.23)
    assert region.width == pytest.approx(0.75, abs=0.01)
