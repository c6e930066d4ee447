"""Focus geometry in tables: regions in, the box a gravity keeps out. No pixels."""

from __future__ import annotations

import pytest

from detectors.base import Region
from detectors.focus import (
    all_faces,
    auto_focus,
    avoided,
    faces,
    largest_face,
    object_focus,
    objects,
)


def r(label: str, score: float, x: float, y: float, w: float, h: float) -> Region:
    return Region(label, score, x, y, w, h)


SMALL_FACE = r("face", 0.95, 0.70, 0.10, 0.05, 0.05)
BIG_FACE = r("face", 0.80, 0.20, 0.20, 0.20, 0.20)
TWIN_FACE = r("face", 0.90, 0.60, 0.40, 0.20, 0.20)  # as big as BIG_FACE, surer
PERSON = r("person", 0.85, 0.10, 0.10, 0.40, 0.85)
SMALL_PERSON = r("person", 0.95, 0.80, 0.60, 0.05, 0.15)
DOG = r("dog", 0.70, 0.55, 0.50, 0.40, 0.45)
CAT = r("cat", 0.90, 0.05, 0.70, 0.20, 0.25)
SALIENT = r("saliency", 1.0, 0.50, 0.00, 0.50, 0.50)


def corners(region: Region | None) -> tuple[float, ...] | None:
    if region is None:
        return None
    return tuple(round(v, 6) for v in (region.x, region.y, region.right, region.bottom))


@pytest.mark.parametrize(
    ("regions", "expected"),
    [
        ([], None),
        ([PERSON, SALIENT], None),
        ([SMALL_FACE], SMALL_FACE),
        ([SMALL_FACE, BIG_FACE], BIG_FACE),  # area wins over score
        ([BIG_FACE, TWIN_FACE], TWIN_FACE),  # equal areas: score decides
    ],
)
def test_largest_face(regions: list[Region], expected: Region | None) -> None:
    assert largest_face(regions) == expected


@pytest.mark.parametrize(
    ("regions", "expected"),
    [
        ([], None),
        ([DOG], None),
        ([BIG_FACE], (0.2, 0.2, 0.4, 0.4)),
        ([SMALL_FACE, BIG_FACE, PERSON], (0.2, 0.1, 0.75, 0.4)),
    ],
)
def test_all_faces(regions: list[Region], expected: tuple[float, ...] | None) -> None:
    assert corners(all_faces(regions)) == expected


def test_faces_are_best_first() -> None:
    assert faces([BIG_FACE, PERSON, SMALL_FACE, TWIN_FACE]) == [SMALL_FACE, TWIN_FACE, BIG_FACE]


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["person"], [SMALL_PERSON, PERSON]),
        (["cat", "dog"], [CAT, DOG]),
        (["dog", "cat"], [CAT, DOG]),  # best score first, whatever the URL's order
        (["faces"], [SMALL_FACE, BIG_FACE]),
        (["face"], [SMALL_FACE, BIG_FACE]),
        (["horse"], []),
    ],
)
def test_objects(labels: list[str], expected: list[Region]) -> None:
    scene = [BIG_FACE, PERSON, SMALL_PERSON, DOG, CAT, SMALL_FACE, SALIENT]
    assert objects(scene, labels) == expected


@pytest.mark.parametrize(
    ("labels", "expected", "label"),
    [
        (["person"], (0.1, 0.1, 0.85, 0.95), "person"),
        (["cat", "dog"], (0.05, 0.5, 0.95, 0.95), "cat:dog"),
        (["cat"], (0.05, 0.7, 0.25, 0.95), "cat"),
        (["horse"], None, None),
    ],
)
def test_object_focus(
    labels: list[str], expected: tuple[float, ...] | None, label: str | None
) -> None:
    focus = object_focus([PERSON, SMALL_PERSON, DOG, CAT, BIG_FACE], labels)
    assert corners(focus) == expected
    assert (focus.label if focus else None) == label


@pytest.mark.parametrize(
    ("regions", "avoid", "expected"),
    [
        # Faces first, all of them.
        ([SALIENT, DOG, SMALL_FACE, BIG_FACE], [], (0.2, 0.1, 0.75, 0.4)),
        # No faces: the most prominent object (area x score), not the surest one.
        ([SALIENT, SMALL_PERSON, DOG], [], corners(DOG)),
        # Nothing detected but saliency.
        ([SALIENT], [], corners(SALIENT)),
        ([], [], None),
        # Avoiding faces: objects next.
        ([SALIENT, DOG, BIG_FACE], ["faces"], corners(DOG)),
        # Avoiding the person also drops the face inside it.
        ([BIG_FACE, PERSON, DOG], ["person"], corners(DOG)),
        # Avoiding the dog: the person remains.
        ([PERSON, DOG], ["dog"], corners(PERSON)),
        # Everything avoided: no focus, the caller falls back to the centre.
        ([DOG], ["dog"], None),
        # Saliency mostly inside an avoided object goes too.
        ([r("saliency", 1.0, 0.6, 0.55, 0.3, 0.3), DOG], ["dog"], None),
    ],
)
def test_auto_focus(
    regions: list[Region], avoid: list[str], expected: tuple[float, ...] | None
) -> None:
    assert corners(auto_focus(regions, avoid)) == expected


def test_avoided_lists_what_to_leave_out() -> None:
    assert avoided([BIG_FACE, PERSON, SMALL_PERSON, DOG], ["person"]) == [SMALL_PERSON, PERSON]
