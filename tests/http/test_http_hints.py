"""Client hints: w_auto and dpr_auto read Sec-CH-* (and the legacy) hint headers, answer
with Accept-CH and a Vary naming exactly the hints consulted, and cache per value used."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import pyvips
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from tests.http.conftest import gradient, save


def size(body: bytes) -> tuple[int, int]:
    image = pyvips.Image.new_from_buffer(body, "")
    return (image.width, image.height)


@pytest.fixture
def wide(originals: Path) -> str:
    save(gradient(1600, 800), originals / "wide.jpg")
    return "wide.jpg"


def test_w_auto_step_rounds_the_width_hint_up(client: TestClient, wide: str) -> None:
    response = client.get(f"/c_scale,w_auto:50/{wide}", headers={"sec-ch-width": "412"})
    assert response.status_code == 200
    assert size(response.content) == (450, 225)
    assert response.headers["vary"] == "Sec-CH-Width"
    assert "Sec-CH-Width" in response.headers["accept-ch"]


ALL = "Sec-CH-Width, Width, Sec-CH-Viewport-Width, Viewport-Width"


@pytest.mark.parametrize(
    ("url", "headers", "width", "vary"),
    [
        ("/w_auto/{}", {"sec-ch-width": "412"}, 500, "Sec-CH-Width"),
        ("/w_auto/{}", {"width": "301"}, 400, "Sec-CH-Width, Width"),
        ("/w_auto:100:300/{}", {}, 300, ALL),
        ("/w_auto/{}", {}, 1600, ALL),
        ("/w_auto/{}", {"sec-ch-viewport-width": "360"}, 400, ALL.rpartition(",")[0]),
        ("/c_limit,w_auto/{}", {"sec-ch-width": "3000"}, 1600, "Sec-CH-Width"),
        ("/w_auto:breakpoints/{}", {"sec-ch-width": "410"}, 450, "Sec-CH-Width"),
        ("/w_auto:breakpoints_100_1000_20_10:700/{}", {}, 700, ALL),
    ],
)  # fmt: skip
def test_w_auto_forms(
    client: TestClient, wide: str, url: str, headers: dict[str, str], width: int, vary: str
) -> None:
    response = client.get(url.format(wide), headers=headers)
    assert response.status_code == 200, response.headers.get("x-cld-error")
    assert size(response.content)[0] == width
    assert response.headers["vary"] == vary


@pytest.mark.parametrize(
    ("headers", "height", "vary"),
    [
        ({"sec-ch-dpr": "2.625"}, 450, "Sec-CH-DPR"),  # rounded up to 3
        ({"dpr": "2"}, 300, "Sec-CH-DPR, DPR"),
        ({}, 150, "Sec-CH-DPR, DPR"),
        ({"sec-ch-dpr": "9"}, 600, "Sec-CH-DPR"),  # capped at max_dpr (4)
    ],
)
def test_dpr_auto(
    client: TestClient, wide: str, headers: dict[str, str], height: int, vary: str
) -> None:
    response = client.get(f"/c_scale,h_150/dpr_auto/{wide}", headers=headers)
    assert response.status_code == 200, response.headers.get("x-cld-error")
    assert size(response.content)[1] == height
    assert response.headers["vary"] == vary


def test_w_auto_is_capped_at_the_output_limit(
    make_settings: Callable[..., Settings], wide: str
) -> None:
    with TestClient(create_app(make_settings(max_output_side=1000))) as client:
        response = client.get(f"/w_auto/{wide}", headers={"sec-ch-width": "5000"})
    assert response.status_code == 200
    assert size(response.content)[0] == 1000


def test_the_cache_holds_the_rounded_value(client: TestClient, wide: str) -> None:
    first = client.get(f"/w_auto:100/{wide}", headers={"sec-ch-width": "420"})
    same = client.get(f"/w_auto:100/{wide}", headers={"sec-ch-width": "480"})
    other = client.get(f"/w_auto:100/{wide}", headers={"sec-ch-width": "520"})
    assert first.headers["x-cache"] == "MISS"
    assert same.headers["x-cache"] == "HIT"  # 480 rounds to the same 500
    assert other.headers["x-cache"] == "MISS"
    assert size(other.content)[0] == 600


def test_f_auto_and_hints_vary_together(client: TestClient, wide: str) -> None:
    response = client.get(
        f"/f_auto/w_auto/{wide}", headers={"sec-ch-width": "200", "accept": "image/webp"}
    )
    assert response.headers["vary"] == "Accept, Sec-CH-Width"


def test_no_hints_no_accept_ch(client: TestClient, wide: str) -> None:
    response = client.get(f"/w_200/{wide}")
    assert "accept-ch" not in response.headers
    assert "vary" not in response.headers


def test_breakpoints_json_is_a_400_that_says_why(client: TestClient, wide: str) -> None:
    response = client.get(f"/w_auto:breakpoints:json/{wide}")
    assert response.status_code == 400
    assert "JSON" in response.headers["x-cld-error"]


def test_w_auto_inside_a_layer_is_a_400(client: TestClient, wide: str) -> None:
    response = client.get(f"/l_camera/c_scale,w_auto/fl_layer_apply/{wide}")
    assert response.status_code == 400
    assert "inside a layer" in response.headers["x-cld-error"]
