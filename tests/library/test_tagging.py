"""Auto-tagging at upload reads the recognition's one tagging function (the tags
fl_getinfo lists): `person` and `text` become tags, `info.categorization` holds them in
Cloudinary's shape, and the upload's detections seed the detection cache, so the first
g_face or g_person delivery detects nothing again."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyvips
from starlette.testclient import TestClient

from server.settings import Settings
from tests.browser.conftest import IMAGES
from tests.library.test_http_upload import post, signed

REPO = Path(__file__).resolve().parents[2]
ASTRONAUT = (IMAGES / "astronaut.jpg").read_bytes()
# pixcast's defaults: every detector it ships (the make_client fixture has saliency only).
DEFAULTS = {"models_dir": REPO / "models", "detectors": Settings().detectors}


def runs(client: TestClient, detector: str) -> float:
    text = client.get("/metrics").text
    pattern = rf'pixcast_detector_runs_total\{{detector="{detector}",outcome="ok"\}} (\S+)'
    found = re.search(pattern, text)
    return float(found.group(1)) if found else 0.0


def categorized(client: TestClient, public_id: str, data: bytes, threshold: str) -> Any:
    fields = {"public_id": public_id, "categorization": "pixcast", "auto_tagging": threshold}
    answer = post(client, signed(fields | {"tags": "mine"}), data)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_people_and_faces_become_tags_in_cloudinarys_shape(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**DEFAULTS)  # pixcast's default detectors: faces, people...
    done = categorized(client, "astro", ASTRONAUT, "0.5")
    assert {"mine", "face", "person"} <= set(done["tags"])
    result = done["info"]["categorization"]["pixcast"]
    assert result["status"] == "complete"
    confidences = {item["tag"]: item["confidence"] for item in result["data"]}
    assert {"face", "person"} <= set(confidences)
    assert all(0.5 <= value <= 1 for value in confidences.values())
    # The same function as fl_getinfo's tags: the same labels and confidences.
    info = client.get("/image/upload/fl_getinfo/astro.jpg").json()
    assert {tag["label"]: tag["confidence"] for tag in info["tags"]} == confidences


def test_a_threshold_above_every_confidence_adds_no_tag(
    make_client: Callable[..., TestClient],
) -> None:
    done = categorized(make_client(**DEFAULTS), "astro", ASTRONAUT, "1")
    assert done["tags"] == ["mine"]
    assert done["info"]["categorization"]["pixcast"]["data"]  # still listed in info


def test_the_first_face_and_person_deliveries_do_not_detect_again(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**DEFAULTS)
    categorized(client, "astro", ASTRONAUT, "0.5")
    before = {name: runs(client, name) for name in ("faces", "people")}
    assert all(count >= 1 for count in before.values())  # the upload detected them
    for gravity in ("g_face", "g_person"):
        crop = client.get(f"/image/upload/c_thumb,{gravity},w_80,h_80/astro.jpg")
        assert crop.status_code == 200, crop.headers.get("x-cld-error")
    assert {name: runs(client, name) for name in ("faces", "people")} == before


def sign_png(words: str) -> bytes:
    text = pyvips.Image.text(words, font="DejaVuSans Bold 64", dpi=72)
    ink = text.embed(40, 60, text.width + 80, text.height + 120)
    white = (255 - ink).cast("uchar")
    image = white.bandjoin([white, white]).copy(interpretation="srgb")
    data: bytes = image.write_to_buffer(".png")
    return data


def test_text_becomes_a_tag_when_the_text_detector_is_on(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(models_dir=REPO / "models", detectors="faces,text,saliency")
    done = categorized(client, "sign", sign_png("Winter sale today"), "0.5")
    assert "text" in done["tags"]
    data = done["info"]["categorization"]["pixcast"]["data"]
    assert [item["tag"] for item in data] == ["text"]
