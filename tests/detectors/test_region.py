"""Region helpers, envelope and non-maximum suppression, in tables."""

from __future__ import annotations

import pytest

from detectors.base import Region, envelope, suppress


def box(x: float, y: float, w: float, h: float, score: float = 0.9, label: str = "face") -> Region:
    return Region(label, score, x, y, w, h)


@pytest.mark.parametrize(
    ("region", "area", "center", "right", "bottom"),
    [
        (box(0.0, 0.0, 1.0, 1.0), 1.0, (0.5, 0.5), 1.0, 1.0),
        (box(0.2, 0.4, 0.2, 0.5), 0.1, (0.3, 0.65), 0.4, 0.9),
        (box(0.5, 0.5, 0.0, 0.0), 0.0, (0.5, 0.5), 0.5, 0.5),
    ],
)
def test_measures(
    region: Region, area: float, center: tuple[float, float], right: float, bottom: float
) -> None:
    assert region.area == pytest.approx(area)
    assert region.center == pytest.approx(center)
    assert (region.right, region.bottom) == pytest.approx((right, bottom))


@pytest.mark.parametrize(
    ("corners", "expected"),
    [
        ((0.1, 0.2, 0.3, 0.6), (0.1, 0.2, 0.2, 0.4)),
        ((0.3, 0.6, 0.1, 0.2), (0.1, 0.2, 0.2, 0.4)),  # corners in any order
        ((-0.2, -0.1, 0.5, 1.3), (0.0, 0.0, 0.5, 1.0)),  # clamped to the image
        ((1.2, 0.5, 1.5, 0.7), (1.0, 0.5, 0.0, 0.2)),  # wholly outside: empty at the edge
    ],
)
def test_from_corners(
    corners: tuple[float, float, float, float], expected: tuple[float, ...]
) -> None:
    region = Region.from_corners("face", 0.5, *corners)
    assert (region.x, region.y, region.width, region.height) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("a", "b", "iou", "overlap"),
    [
        (box(0, 0, 0.5, 0.5), box(0, 0, 0.5, 0.5), 1.0, 1.0),
        (box(0, 0, 0.5, 0.5), box(0.5, 0.5, 0.5, 0.5), 0.0, 0.0),  # touching corners
        (box(0, 0, 0.4, 0.4), box(0.2, 0, 0.4, 0.4), 1 / 3, 0.5),
        (box(0, 0, 0.8, 0.8), box(0.1, 0.1, 0.2, 0.2), 0.04 / 0.64, 1.0),  # one inside
        (box(0, 0, 0, 0), box(0, 0, 0, 0), 0.0, 0.0),  # degenerate boxes share nothing
    ],
)
def test_iou_and_overlap(a: Region, b: Region, iou: float, overlap: float) -> None:
    assert a.iou(b) == pytest.approx(iou)
    assert b.iou(a) == pytest.approx(iou)
    assert a.overlap(b) == pytest.approx(overlap)


@pytest.mark.parametrize(
    ("point", "inside"),
    [((0.3, 0.3), True), ((0.2, 0.2), True), ((0.6, 0.6), True), ((0.61, 0.3), False)],
)
def test_contains(point: tuple[float, float], inside: bool) -> None:
    assert box(0.2, 0.2, 0.4, 0.4).contains(*point) is inside


def test_union_keeps_the_better_score() -> None:
    joined = box(0.1, 0.2, 0.1, 0.1, score=0.6).union(box(0.5, 0.6, 0.2, 0.3, score=0.8))
    assert (joined.x, joined.y, joined.right, joined.bottom) == pytest.approx((0.1, 0.2, 0.7, 0.9))
    assert joined.score == 0.8


def test_scaled_maps_a_window_into_its_parent() -> None:
    # A face filling the right half of a tile that covers the probe's lower-right quarter.
    inner = box(0.5, 0.0, 0.5, 1.0).scaled(0.5, 0.5, 0.5, 0.5)
    assert (inner.x, inner.y, inner.width, inner.height) == pytest.approx((0.75, 0.5, 0.25, 0.5))


@pytest.mark.parametrize(
    ("regions", "expected"),
    [
        ([], None),
        ([box(0.1, 0.1, 0.1, 0.1)], (0.1, 0.1, 0.1, 0.1)),
        ([box(0.1, 0.1, 0.1, 0.1), box(0.6, 0.7, 0.2, 0.2)], (0.1, 0.1, 0.7, 0.8)),
    ],
)
def test_envelope(regions: list[Region], expected: tuple[float, ...] | None) -> None:
    result = envelope(regions, "faces")
    if expected is None:
        assert result is None
    else:
        assert result is not None and result.label == "faces"
        assert (result.x, result.y, result.width, result.height) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("regions", "kept_scores"),
    [
        ([], []),
        # The same face twice: the better one stays.
        ([box(0.1, 0.1, 0.2, 0.2, 0.7), box(0.11, 0.1, 0.2, 0.2, 0.9)], [0.9]),
        # A face cut by a tile edge lies inside the whole one: it goes, though its IoU is low.
        ([box(0.1, 0.1, 0.2, 0.2, 0.9), box(0.1, 0.1, 0.08, 0.2, 0.8)], [0.9]),
        # Two faces side by side both stay.
        ([box(0.1, 0.1, 0.2, 0.2, 0.9), box(0.35, 0.1, 0.2, 0.2, 0.8)], [0.9, 0.8]),
        # A face inside a person is not suppressed by it: labels are kept apart.
        ([box(0.1, 0.1, 0.8, 0.8, 0.6, "person"), box(0.3, 0.2, 0.1, 0.1, 0.9)], [0.9, 0.6]),
    ],
)
def test_suppress(regions: list[Region], kept_scores: list[float]) -> None:
    assert [r.score for r in suppress(regions)] == kept_scores
