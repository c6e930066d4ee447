"""Recall of the people detector (BlazePose, shipped) against the YOLO person model (tests
only) on the shipped samples plus composites: the astronaut pasted onto every sample photo
at three sizes and three places, and two people side by side. Run it for the figure:

    PYTHONPATH=. .venv/bin/python -m tests.detectors.people_recall
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyvips

from detectors.base import Detector, DetectorSettings, Region, build_detector
from detectors.probe import probe_from_image

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "examples" / "images"
BACKGROUNDS = ("sample.jpg", "fig.jpg", "café terrace.jpg", "dogs.jpg")
SIZES = (0.35, 0.55, 0.8)
"""The pasted photo's side, as a fraction of the background's height."""
PLACES = (0.0, 0.5, 1.0)
"""Where along the bottom edge it goes (0 left, 1 right)."""
REFERENCE_SCORE = 0.5
MATCH_IOU = 0.5


@dataclass(frozen=True)
class Scene:
    """One test photo and where people were pasted (normalised boxes)."""

    name: str
    image: pyvips.Image
    pasted: tuple[Region, ...]


@dataclass(frozen=True)
class Recall:
    found: int
    reference: int
    ignored: int
    """YOLO person boxes lying off every pasted person: its false detections (a dog, a rock)."""

    @property
    def value(self) -> float:
        return self.found / self.reference if self.reference else 0.0


def _paste(background: pyvips.Image, person: pyvips.Image, left: int, top: int) -> Region:
    w, h = background.width, background.height
    return Region("pasted", 1.0, left / w, top / h, person.width / w, person.height / h)


def scenes() -> Iterator[Scene]:
    astronaut = pyvips.Image.new_from_file(str(IMAGES / "astronaut.jpg"))
    yield Scene("astronaut", astronaut, (Region("pasted", 1.0, 0.0, 0.0, 1.0, 1.0),))
    for name in BACKGROUNDS:
        background = pyvips.Image.new_from_file(str(IMAGES / name))
        yield from _single(name, background, astronaut)
        yield _pair(name, background, astronaut)


def _single(name: str, background: pyvips.Image, astronaut: pyvips.Image) -> Iterator[Scene]:
    for size in SIZES:
        side = round(background.height * size)
        person = astronaut.resize(side / astronaut.width)
        for place in PLACES:
            left, top = round((background.width - side) * place), background.height - side
            image = background.insert(person, left, top)
            yield Scene(f"{name} {size} {place}", image, (_paste(background, person, left, top),))


def _pair(name: str, background: pyvips.Image, astronaut: pyvips.Image) -> Scene:
    side = round(min(background.height * 0.5, background.width * 0.45))
    person = astronaut.resize(side / astronaut.width)
    top = background.height - side
    right = background.width - side
    image = background.insert(person, 0, top).insert(person.fliphor(), right, top)
    boxes = (_paste(background, person, 0, top), _paste(background, person, right, top))
    return Scene(f"{name} pair", image, boxes)


def reference_boxes(found: list[Region], pasted: tuple[Region, ...]) -> tuple[list[Region], int]:
    """YOLO's sure person boxes that lie on a pasted person, and how many others it gave."""
    sure = [r for r in found if r.label == "person" and r.score >= REFERENCE_SCORE]
    on_person = [r for r in sure if any(r.intersection(p) > 0.5 * r.area for p in pasted)]
    return on_person, len(sure) - len(on_person)


def measure(people: Detector, yolo: Detector) -> Recall:
    found = reference = ignored = 0
    for scene in scenes():
        probe = probe_from_image(scene.image)
        wanted, others = reference_boxes(yolo.detect(probe), scene.pasted)
        got = people.detect(probe)
        reference, ignored = reference + len(wanted), ignored + others
        found += sum(any(g.iou(r) >= MATCH_IOU for g in got) for r in wanted)
    return Recall(found, reference, ignored)


def detectors(models_dir: Path) -> tuple[Detector, Detector]:
    settings = DetectorSettings(
        models_dir=models_dir,
        object_model="person-yolov8s.onnx",
        label_aliases={"Normal": "person", "Fall": "person"},
    )
    return build_detector("people", settings), build_detector("objects", settings)


def main() -> None:
    recall = measure(*detectors(REPO / "models"))
    print(
        f"people recall vs YOLO person boxes at IoU >= {MATCH_IOU}: {recall.found}/"
        f"{recall.reference} = {recall.value:.1%} ({recall.ignored} YOLO boxes off every "
        "pasted person not counted)"
    )


if __name__ == "__main__":
    main()
