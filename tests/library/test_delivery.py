"""Delivery reads the library: g_custom crops to the stored custom coordinates (and the
new ones after `explicit`), and eager renders at upload see the tags and coordinates just
stored. Real pixels: a source of four coloured quadrants, so a crop's colour says where
it was taken from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pyvips
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from tests.library.conftest import KEY, SECRET
from tests.library.test_http_upload import post, signed
from transforms.grammar import parse_url
from transforms.variables import reads_coordinates

RED, GREEN, BLUE, YELLOW = [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]
# 200x100: red top left, green top right, blue bottom left, yellow bottom right.
QUADRANTS = {(0, 0): RED, (100, 0): GREEN, (0, 50): BLUE, (100, 50): YELLOW}


def quadrants_png() -> bytes:
    image = pyvips.Image.black(200, 100, bands=3)
    for (x, y), colour in QUADRANTS.items():
        image = image.draw_rect(colour, x, y, 100, 50, fill=True)
    data: bytes = image.cast("uchar").copy(interpretation="srgb").write_to_buffer(".png")
    return data


def decoded(data: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "")


def colour_at(image: pyvips.Image, x: int, y: int) -> list[int]:
    return [round(value) for value in image.getpoint(x, y)[:3]]


def solid(image: pyvips.Image, colour: list[int]) -> bool:
    """Every pixel is `colour` (within PNG's exactness: none off)."""
    bands = [image.extract_band(index) for index in range(3)]
    return all(b.min() == b.max() == value for b, value in zip(bands, colour, strict=True))


def upload(client: TestClient, **fields: str) -> dict[str, Any]:
    answer = post(client, signed({"public_id": "quads", **fields}), quadrants_png())
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def explicit(client: TestClient, **fields: str) -> dict[str, Any]:
    body = signed({"public_id": "quads", "type": "upload", **fields})
    answer = client.post("/v1_1/demo/image/explicit", data=body)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


CUSTOM_CROP = "/image/upload/c_crop,g_custom/quads.png"


def test_g_custom_crops_the_stored_box_and_follows_explicit(client: TestClient) -> None:
    upload(client, custom_coordinates="100,0,100,50")
    first = decoded(client.get(CUSTOM_CROP).content)
    assert (first.width, first.height) == (100, 50) and solid(first, GREEN)

    explicit(client, custom_coordinates="0,50,100,50")
    again = client.get(CUSTOM_CROP)
    assert again.headers["x-cache"] == "MISS"  # the crop of the old box is not served
    second = decoded(again.content)
    assert (second.width, second.height) == (100, 50) and solid(second, BLUE)


def test_getinfo_and_the_admin_api_show_the_coordinates(client: TestClient) -> None:
    upload(client, custom_coordinates="100,0,100,50")
    info = client.get("/image/upload/fl_getinfo/quads.png").json()
    box = {key: info["custom"][0][key] for key in ("label", "x", "y", "width", "height")}
    assert box == {"label": "custom", "x": 0.5, "y": 0.0, "width": 0.5, "height": 0.5}
    explicit(client, custom_coordinates="0,50,100,50")
    info = client.get("/image/upload/fl_getinfo/quads.png").json()
    assert (info["custom"][0]["x"], info["custom"][0]["y"]) == (0.0, 0.5)
    detail = client.get("/v1_1/demo/resources/image/upload/quads", auth=(KEY, SECRET)).json()
    assert detail["coordinates"]["custom"] == [[0, 50, 100, 50]]


def test_without_coordinates_g_custom_falls_back_to_the_centre(client: TestClient) -> None:
    upload(client)
    crop = decoded(client.get("/image/upload/c_crop,g_custom,w_100,h_50/quads.png").content)
    assert (crop.width, crop.height) == (100, 50)
    corners = [colour_at(crop, x, y) for x, y in ((10, 10), (90, 10), (10, 40), (90, 40))]
    assert corners == [RED, GREEN, BLUE, YELLOW]
    assert "custom" not in client.get("/image/upload/fl_getinfo/quads.png").json()


def test_the_largest_stored_box_wins(client: TestClient) -> None:
    upload(client, custom_coordinates="0,0,20,20|100,50,100,50")
    crop = decoded(client.get(CUSTOM_CROP).content)
    assert (crop.width, crop.height) == (100, 50) and solid(crop, YELLOW)


def test_eager_renders_see_the_uploaded_tags_and_coordinates(client: TestClient) -> None:
    eager = "if_!sale!_in_tags/w_50/if_else/w_20/if_end|c_crop,g_custom"
    done = upload(client, tags="sale", custom_coordinates="100,0,100,50", eager=eager)
    tagged, custom = done["eager"]
    assert tagged["width"] == 50
    assert (custom["width"], custom["height"]) == (100, 50)
    delivered = client.get(custom["url"])
    assert delivered.headers["x-cache"] == "HIT"  # the eager render is the delivered one
    assert solid(decoded(delivered.content), GREEN)


@pytest.mark.parametrize(
    ("url", "reads"),
    [
        ("/image/upload/c_crop,g_custom/x.jpg", True),
        ("/image/upload/c_fill,g_custom:face,w_10,h_10/x.jpg", True),
        ("/image/upload/fl_getinfo/x.jpg", True),
        ("/image/upload/c_fill,g_face,w_10,h_10/x.jpg", False),
        ("/image/upload/w_10/x.jpg", False),
    ],
)
def test_only_urls_that_use_them_read_the_coordinates(url: str, reads: bool) -> None:
    assert reads_coordinates(parse_url(url).steps) is reads


@pytest.mark.parametrize(
    ("cloud_name", "path", "status"),
    [
        ("mine", "/mine/image/upload/w_20/quads.png", 200),
        ("mine", "/demo/image/upload/w_20/quads.png", 404),
        ("mine", "/demo/images/w_20/quads/seo.png", 404),
        ("mine", "/demo/w_20/quads.png", 404),
        ("mine", "/image/upload/w_20/quads.png", 200),
        ("", "/demo/image/upload/w_20/quads.png", 200),
        ("", "/anything/image/upload/quads.png", 200),
    ],
)
def test_delivery_answers_only_the_configured_cloud(
    tmp_path: Path, cloud_name: str, path: str, status: int
) -> None:
    (tmp_path / "originals").mkdir()
    (tmp_path / "originals" / "quads.png").write_bytes(quadrants_png())
    settings = Settings(
        originals=tmp_path / "originals", cache_dir=tmp_path / "cache", cloud_name=cloud_name
    )
    with TestClient(create_app(settings)) as client:
        answer = client.get(path)
    assert answer.status_code == status, answer.headers.get("x-cld-error")
    if status == 404:
        assert "unknown cloud name demo" in answer.headers["x-cld-error"]


def test_eager_renders_read_their_layers_like_delivery(client: TestClient) -> None:
    done = upload(client, eager="l_kept,w_20/fl_layer_apply")
    (overlaid,) = done["eager"]
    assert (overlaid["width"], overlaid["height"]) == (200, 100)
    delivered = client.get(overlaid["url"])
    assert delivered.status_code == 200 and delivered.headers["x-cache"] == "HIT"
    assert colour_at(decoded(delivered.content), 10, 10) == RED  # the corner is not covered
    assert colour_at(decoded(delivered.content), 100, 50) != YELLOW  # the logo is on top
