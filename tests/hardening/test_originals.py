"""Originals are read before work: served untransformed only once libvips has read their
header, and refused from the header when they would cost too much (never rasterised).

The stories: `/sample.jpg` with no transformation sent a file's bytes without reading
them, so a text file or a broken JPEG went out as image/jpeg; a 1x1 GIF of thousands of
frames passed the pixel limit and was decoded frame by frame; an SVG declaring a huge size
must never reach a rasteriser.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyvips
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from transforms.steps import load

HUGE_SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
    b'width="200000" height="200000"><rect width="100%" height="100%" fill="red"/></svg>'
)


def frames(count: int) -> pyvips.Image:
    """`count` frames of 2x2 pixels, stacked as libvips keeps animations and pages. Frame i
    spells i in binary, one bit per sample (0 or 255), so no two frames are alike even
    after a GIF writer's palette (it merges equal frames; random noise sometimes made two)."""
    assert count < 2**12  # 2x2 pixels x 3 bands
    bits = (np.arange(count)[:, None] >> np.arange(12)) & 1
    samples = (bits * 255).astype(np.uint8).reshape(2 * count, 2, 3)
    strip = pyvips.Image.new_from_memory(samples.tobytes(), 2, 2 * count, 3, "uchar")
    strip = strip.copy(interpretation="srgb")
    strip.set_type(pyvips.GValue.gint_type, "page-height", 2)
    return strip


@pytest.fixture
def client(make_settings: Callable[..., Settings], originals: Path) -> TestClient:
    (originals / "notes.jpg").write_bytes(b"plain text, not an image\n")
    (originals / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG " * 20)
    (originals / "fake.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00 not a PNG chunk" * 20)
    (originals / "huge.svg").write_bytes(HUGE_SVG)
    frames(1500).write_to_file(str(originals / "long.gif"))
    frames(1500).write_to_file(str(originals / "pages.tiff"))
    return TestClient(create_app(make_settings()))


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/notes.jpg", 415, "not an image"),
        ("/broken.jpg", 422, "could not be decoded"),
        ("/fake.png", 422, "could not be decoded"),
    ],
)
def test_an_untransformed_original_is_checked_before_it_is_served(
    client: TestClient, url: str, status: int, says: str
) -> None:
    with client:
        response = client.get(url)
    assert response.status_code == status
    assert says in response.headers["x-cld-error"]
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("name", ["camera.jpg", "logo.png", "long.gif"])
def test_a_valid_original_is_served_byte_for_byte(
    client: TestClient, originals: Path, name: str
) -> None:
    with client:
        response = client.get(f"/{name}")
    assert response.status_code == 200
    assert response.content == (originals / name).read_bytes()
    assert response.headers["x-cache"] == "PASS"


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/w_100/long.gif", 413, "1500 frames or pages (the limit is 1000)"),
        ("/w_100,pg_3/pages.tiff", 413, "1500 frames or pages (the limit is 1000)"),
        ("/w_100/huge.svg", 413, "40000.0 megapixels"),
        ("/huge.png", 413, "40000.0 megapixels"),  # a PNG of the SVG is a rasterisation
    ],
)
def test_costly_originals_are_refused_from_the_header_and_never_rasterised(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, url: str, status: int, says: str
) -> None:
    decoded: list[Any] = []
    real = load.load

    def recording(*args: Any, **kwargs: Any) -> pyvips.Image:
        decoded.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(load, "load", recording)
    with client:
        response = client.get(url)
    assert response.status_code == status, response.headers.get("x-cld-error")
    assert says in response.headers["x-cld-error"]
    assert decoded == []


def test_within_the_page_limit_an_animation_renders(
    make_settings: Callable[..., Settings], originals: Path
) -> None:
    frames(12).write_to_file(str(originals / "short.gif"))
    with TestClient(create_app(make_settings())) as client:
        response = client.get("/w_4/short.gif")
    assert response.status_code == 200
    assert pyvips.Image.new_from_buffer(response.content, "", n=-1).get("n-pages") == 12


LOGO_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><script>x()</script></svg>'
)


@pytest.mark.parametrize("url", ["/logo-art.svg", "/logo-art"])
def test_an_untransformed_svg_is_served_as_it_is_with_a_policy(
    make_settings: Callable[..., Settings], originals: Path, url: str
) -> None:
    (originals / "logo-art.svg").write_bytes(LOGO_SVG)
    with TestClient(create_app(make_settings())) as client:
        response = client.get(url)
        rasterised = client.get("/dn_144/logo-art.svg")
    assert response.status_code == 200
    assert response.content == LOGO_SVG
    assert response.headers["content-type"] == "image/svg+xml"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "sandbox" in response.headers["content-security-policy"]
    assert rasterised.headers["content-type"] == "image/png"
    assert pyvips.Image.new_from_buffer(rasterised.content, "").width == 80


def test_a_malformed_svg_is_unprocessable(
    make_settings: Callable[..., Settings], originals: Path
) -> None:
    (originals / "torn.svg").write_bytes(LOGO_SVG[:50])
    with TestClient(create_app(make_settings())) as client:
        response = client.get("/torn.svg")
    assert response.status_code == 422
    assert "could not be decoded" in response.headers["x-cld-error"]
