"""Text on real pixels: words rendered with pixcast's own l_text (two fonts, two sizes, three
angles, three photos) read back through fl_getinfo; g_ocr_text keeps every line, the _avoid
form keeps them out, and e_blur_region/e_pixelate_region with g_ocr_text hide them. URLs that
need only where text is never run the recogniser; fl_getinfo reads each source once."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pytest

from detectors.base import DetectorSettings, Region, load_detectors
from detectors.probe import probe_from_bytes
from detectors.service import RegionService
from detectors.summary import detections, tags
from tests.focus.conftest import IMAGES, MODELS
from transforms.errors import BadRequest
from transforms.grammar import parse_url
from transforms.pipeline import render

PHRASES = (
    "Fresh bread daily", "Open seven days", "Garden market", "North station",
    "Harbour view hotel", "Mountain trail", "Coffee and books", "Winter sale today",
    "Parking behind", "Silver river bridge", "Quiet please", "Welcome home",
    "Green valley farm", "Library closed Monday", "Fast delivery", "Ocean breeze",
    "Main street", "Bakery and cafe", "Night train", "Lemon tea", "Old town square",
    "Bicycle repair", "Sunday brunch", "Exit only",
)  # fmt: skip
FONTS = ("DejaVuSans", "DejaVuSans-Bold")
SIZES = (56, 80)
ANGLES = (0, 10, -8)
PHOTOS = ("sample.jpg", "fig.jpg", "café terrace.jpg")


class MemoryStore:
    """Detections kept for the test session, so each composite is read once."""

    def __init__(self) -> None:
        self.kept: dict[str, list[Region]] = {}

    def get(self, key: str) -> list[Region] | None:
        return self.kept.get(key)

    def put(self, key: str, regions: list[Region]) -> None:
        self.kept[key] = regions

    def hold(self, key: str) -> AbstractContextManager[object]:
        return nullcontext()  # one process: the service's own lock is enough


@pytest.fixture(scope="module")
def reader() -> Iterator[RegionService]:
    detectors = load_detectors(DetectorSettings(models_dir=MODELS), ["faces", "text"])
    assert not detectors.missing, f"set-up must fetch the models: {detectors.missing}"
    yield RegionService(detectors, MemoryStore())
    detectors.close()


def _layer(phrase: str, font: str, size: int, angle: int, place: str) -> str:
    turn = f"/a_{angle}" if angle else ""
    text = phrase.replace(" ", "%20")
    return f"/l_text:{font}_{size}:{text},co_white,b_rgb:00000080{turn}/fl_layer_apply,{place}"


def _composites() -> Iterator[tuple[str, bytes]]:
    styles = zip(PHRASES, itertools.cycle(FONTS), itertools.cycle(SIZES), itertools.cycle(ANGLES))
    for index, (phrase, font, size, angle) in enumerate(styles):
        photo = (IMAGES / PHOTOS[index % len(PHOTOS)]).read_bytes()
        url = _layer(phrase, font, size, angle, "g_center") + "/x.png"
        yield phrase, render(parse_url(url), photo, None).data


def _info(url: str, data: bytes, reader: RegionService, key: str) -> dict[str, object]:
    rendered = render(parse_url(url), data, None, detection=reader, source_key=key)
    info: dict[str, object] = json.loads(rendered.data)
    return info


def _lines(info: dict[str, object]) -> list[dict[str, object]]:
    lines = info.get("text", [])
    assert isinstance(lines, list)
    return lines


def test_words_rendered_by_l_text_read_back(reader: RegionService) -> None:
    exact = total = 0
    for index, (phrase, data) in enumerate(_composites()):
        key = f"phrase-{index}"
        read = " ".join(
            str(line["text"]) for line in _lines(_info("/fl_getinfo/x.jpg", data, reader, key))
        )
        words = phrase.split()
        total += len(words)
        exact += sum(word in read.split() for word in words)
        crop = _info("/c_crop,g_ocr_text/fl_getinfo/x.jpg", data, reader, key)["crop"]
        assert isinstance(crop, dict)
        for line in _lines(_info("/fl_getinfo/x.jpg", data, reader, key)):
            box = Region(**line)
            assert crop["x"] - 0.002 <= box.x and box.right <= crop["x"] + crop["width"] + 0.002
            assert crop["y"] - 0.002 <= box.y and box.bottom <= crop["y"] + crop["height"] + 0.002
    assert exact / total >= 0.95, f"{exact} of {total} words read exactly"


def _signed(phrase: str, place: str) -> bytes:
    photo = (IMAGES / "sample.jpg").read_bytes()
    return render(
        parse_url(_layer(phrase, "DejaVuSans-Bold", 80, 0, place) + "/x.png"), photo, None
    ).data


def test_ocr_text_avoid_keeps_the_text_out(reader: RegionService) -> None:
    data = _signed("Harbour view hotel", "g_north,y_40")
    info = _info("/c_fill,g_ocr_text_avoid,w_400,h_200/fl_getinfo/x.jpg", data, reader, "north")
    lines, crop = _lines(info), info["crop"]
    assert lines and isinstance(crop, dict)
    for line in lines:
        assert Region(**line).bottom <= crop["y"], "the crop starts below the text"


@pytest.mark.parametrize("effect", ["e_blur_region", "e_pixelate_region"])
def test_region_effects_with_ocr_text_hide_it(reader: RegionService, effect: str) -> None:
    data = _signed("Parking behind", "g_south_east,x_60,y_60")
    before = _lines(_info("/fl_getinfo/x.jpg", data, reader, "plate"))
    assert [line["text"] for line in before] == ["Parking behind"]
    hidden = render(parse_url(f"/{effect},g_ocr_text/x.png"), data, None, detection=reader,
                    source_key="plate").data  # fmt: skip
    assert _lines(_info("/fl_getinfo/x.jpg", hidden, reader, f"hidden-{effect}")) == []


def test_ocr_gravity_without_the_text_models_is_a_400(tmp_path: Path) -> None:
    detectors = load_detectors(DetectorSettings(models_dir=tmp_path), ["text"])
    with pytest.raises(BadRequest, match="text detector is not enabled"):
        render(parse_url("/c_crop,g_ocr_text/a.jpg"), (IMAGES / "fig.jpg").read_bytes(), None,
               detection=RegionService(detectors))  # fmt: skip


class CountingRecogniser:
    """Stands in front of the pipeline's recogniser and counts the crops it is given."""

    def __init__(self, recognise: Callable[..., Any]) -> None:
        self.recognise = recognise
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.recognise(*args, **kwargs)


@pytest.fixture
def counted(reader: RegionService, monkeypatch: pytest.MonkeyPatch) -> CountingRecogniser:
    engine = reader.detectors.get("text")._engine  # type: ignore[attr-defined]
    counter = CountingRecogniser(engine.text_rec)
    monkeypatch.setattr(engine, "text_rec", counter)
    return counter


@pytest.mark.parametrize(
    "url",
    [
        "/c_crop,g_ocr_text/x.jpg",
        "/c_fill,g_ocr_text_avoid,w_400,h_200/x.jpg",
        "/e_blur_region,g_ocr_text/x.jpg",
        "/e_pixelate_region,g_ocr_text/x.jpg",
    ],
)
def test_urls_that_need_only_boxes_never_run_the_recogniser(
    reader: RegionService, counted: CountingRecogniser, url: str
) -> None:
    data = _signed("Fresh bread daily", "g_north,y_40")
    key = f"boxes-{url}"
    render(parse_url(url), data, None, detection=reader, source_key=key)
    regions = reader.for_source(key, lambda: probe_from_bytes(data))
    assert regions.find("text"), "the stored boxes hold the line"
    assert all(box.text == "" for box in regions.find("text"))
    assert counted.calls == 0


def test_getinfo_reads_the_words_once_per_source(
    reader: RegionService, counted: CountingRecogniser
) -> None:
    data = _signed("Silver river bridge", "g_center")
    first = _lines(_info("/fl_getinfo/x.jpg", data, reader, "read-once"))
    assert [line["text"] for line in first] == ["Silver river bridge"]
    assert counted.calls == 1
    again = _lines(_info("/c_crop,g_ocr_text/fl_getinfo/x.jpg", data, reader, "read-once"))
    assert again == first and counted.calls == 1, "the reading is stored by source"


def test_tags_from_boxes_alone_do_not_read(
    reader: RegionService, counted: CountingRecogniser
) -> None:
    data = _signed("Quiet please", "g_center")
    regions = reader.for_source("tags", lambda: probe_from_bytes(data))
    assert "text" in [tag.label for tag in tags(detections(regions))]
    assert counted.calls == 0
    assert [tag.label for tag in tags(detections(regions, read=True))] == ["text"]
    assert counted.calls == 1
