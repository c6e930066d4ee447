"""HEIC originals, tested with a real HEVC file that set-up makes (tests/hardening/heic.py).

The bundled libvips reads a HEIC's header but has no HEVC decoder (it decodes AV1, i.e.
AVIF, only), so pixcast decodes HEIC pixels with pillow-heif (transforms/heic.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import pyvips
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from tests.hardening.conftest import REPO
from tests.hardening.heic import heic_sample
from transforms.formats import sniff


@pytest.fixture
def client(make_settings: Callable[..., Settings], originals: Path) -> TestClient:
    data = heic_sample().read_bytes()
    (originals / "astronaut.heic").write_bytes(data)
    (originals / "cut.heic").write_bytes(data[: len(data) // 2])
    return TestClient(create_app(make_settings()))


def test_the_sample_is_a_real_hevc_heic() -> None:
    data = heic_sample().read_bytes()
    assert sniff(data) == "heic"
    assert pyvips.Image.new_from_buffer(data, "").get("heif-compression") == "hevc"
    assert (heic_sample().parent / "astronaut.heic.PROVENANCE.md").is_file()


def test_a_heic_original_renders_like_its_source(client: TestClient) -> None:
    with client:
        response = client.get("/w_128/f_png/astronaut.heic")
    assert response.status_code == 200, response.headers.get("x-cld-error")
    assert response.headers["content-type"] == "image/png"
    rendered = pyvips.Image.new_from_buffer(response.content, "")
    source = pyvips.Image.thumbnail(str(REPO / "examples" / "images" / "astronaut.jpg"), 128)
    assert (rendered.width, rendered.height) == (128, 128)
    difference = (rendered[:3].cast("float") - source.cast("float")).abs().avg()
    assert difference < 6.0  # lossy HEVC and JPEG of one photo: close, not equal


def test_a_heic_original_untransformed_is_its_bytes(client: TestClient, originals: Path) -> None:
    with client:
        response = client.get("/astronaut.heic")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/heic"
    assert response.content == (originals / "astronaut.heic").read_bytes()


def test_a_truncated_heic_is_a_422(client: TestClient) -> None:
    with client:
        response = client.get("/w_100/cut.heic")
    assert response.status_code == 422
    assert "heic" in response.headers["x-cld-error"]
