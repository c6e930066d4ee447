"""Layers through the HTTP server: sources read from the origins before the render, a
changed layer source is a new result, missing ones and refused fetches are clear 4xx."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
import pyvips
from starlette.testclient import TestClient

from server import remote
from server.app import create_app
from server.settings import Settings, SettingsError
from tests.layers.imaging import BLUE, GREEN, RED, opaque, pixel, png, solid
from tests.origins.helpers import FakeUpstream
from transforms.fonts import BUNDLED

FETCHED = "https://example.org/badge.png"
FETCH_LAYER = "l_fetch:aHR0cHM6Ly9leGFtcGxlLm9yZy9iYWRnZS5wbmc="


@pytest.fixture
def originals(tmp_path: Path) -> Path:
    root = tmp_path / "originals"
    (root / "docs").mkdir(parents=True)
    (root / "private").mkdir()
    (root / "base.png").write_bytes(png(opaque(200, 100, BLUE)))
    (root / "logo.png").write_bytes(png(solid(20, 10, RED)))
    (root / "docs" / "badge.png").write_bytes(png(solid(30, 30, GREEN)))
    (root / "private" / "secret.png").write_bytes(png(solid(20, 10, GREEN)))
    return root


def settings(tmp_path: Path, originals: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "originals": originals,
        "cache_dir": tmp_path / "cache",
        "detectors": "",
        "render_threads": 2,
    }
    return Settings(**(values | overrides))


@pytest.fixture
def client(tmp_path: Path, originals: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings(tmp_path, originals))) as test_client:
        yield test_client


def decoded(content: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(content, "")


def test_overlay_from_the_originals(client: TestClient) -> None:
    response = client.get("/l_logo/fl_layer_apply,g_north_west/l_docs:badge,g_south_east/base.png")
    assert response.status_code == 200, response.text
    out = decoded(response.content)
    assert pixel(out, 0, 0) == RED[:3] and pixel(out, 199, 99) == GREEN[:3]
    assert pixel(out, 100, 50) == BLUE[:3]


def test_changed_layer_source_is_a_new_result(client: TestClient, originals: Path) -> None:
    url = "/l_logo,g_north_west/base.png"
    first = client.get(url)
    assert first.headers["x-cache"] == "MISS"
    assert client.get(url).headers["x-cache"] == "HIT"
    logo = originals / "logo.png"
    logo.write_bytes(png(solid(20, 10, GREEN)))
    later = os.stat(logo).st_mtime + 10
    os.utime(logo, (later, later))
    changed = client.get(url)
    assert changed.headers["x-cache"] == "MISS"
    assert changed.headers["etag"] != first.headers["etag"]
    assert pixel(decoded(changed.content), 0, 0) == GREEN[:3]
    # Last-Modified follows the newest of the original and its layers.
    modified = parsedate_to_datetime(changed.headers["last-modified"]).timestamp()
    assert modified == int(later)
    assert client.get(url).headers["x-cache"] == "HIT"


def test_layerless_results_keep_their_cache_entries(client: TestClient) -> None:
    """Adding layers to the key must not change the key of anything else."""
    first = client.get("/w_50/base.png")
    assert first.status_code == 200 and first.headers["x-cache"] == "MISS"
    assert client.get("/w_50/base.png").headers["x-cache"] == "HIT"


@pytest.mark.parametrize(
    ("url", "message"),
    [("/l_nope/base.png", "Layer resource not found - nope"),
     ("/l_docs:nope/fl_layer_apply/base.png", "Layer resource not found - docs/nope"),
     ("/u_private:secret/base.png", "Layer resource not found - private/secret"),
     ("/l_..:base/base.png", "Invalid layer in transformation"),
     ("/fl_layer_apply/base.png", "Invalid flag in transformation: layer_apply")],
)  # fmt: skip
def test_missing_or_invalid_layers_are_a_400(client: TestClient, url: str, message: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert message in response.headers["x-cld-error"]


def test_missing_base_is_still_a_404(client: TestClient) -> None:
    response = client.get("/l_logo/nope.png")
    assert response.status_code == 404


def test_fetch_layer_is_refused_when_fetch_is_off(client: TestClient) -> None:
    response = client.get(f"/{FETCH_LAYER}/base.png")
    assert response.status_code == 403
    assert "Fetch delivery is disabled" in response.headers["x-cld-error"]


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> FakeUpstream:
    fake = FakeUpstream()
    monkeypatch.setattr(remote, "transport_for", fake.transport)
    return fake


def test_fetch_layer_from_an_allowed_host(
    tmp_path: Path, originals: Path, upstream: FakeUpstream
) -> None:
    upstream.image(FETCHED, png(solid(20, 10, GREEN)))
    app = create_app(settings(tmp_path, originals, fetch_allowed_hosts=("example.org",)))
    with TestClient(app) as client:
        response = client.get(f"/{FETCH_LAYER}/fl_layer_apply,g_north_west/base.png")
        assert response.status_code == 200, response.text
        assert pixel(decoded(response.content), 0, 0) == GREEN[:3]
        again = client.get(f"/{FETCH_LAYER}/fl_layer_apply,g_north_west/base.png")
        assert again.headers["x-cache"] == "HIT"
        other = client.get(f"/{FETCH_LAYER}/fl_layer_apply,g_south_east/base.png")
        assert other.status_code == 200
    assert upstream.hits(FETCHED) == 1  # the remote store keeps it for the TTL


def test_fetch_layer_from_another_host_is_refused(
    tmp_path: Path, originals: Path, upstream: FakeUpstream
) -> None:
    app = create_app(settings(tmp_path, originals, fetch_allowed_hosts=("cdn.example.com",)))
    with TestClient(app) as client:
        response = client.get(f"/{FETCH_LAYER}/base.png")
    assert response.status_code == 403
    assert "example.org is not allowed" in response.headers["x-cld-error"]
    assert upstream.requests == []


def test_missing_fetch_layer_is_a_400(
    tmp_path: Path, originals: Path, upstream: FakeUpstream
) -> None:
    app = create_app(settings(tmp_path, originals, fetch_allowed_hosts=("example.org",)))
    with TestClient(app) as client:
        response = client.get(f"/{FETCH_LAYER}/base.png")
    assert response.status_code == 400
    assert f"Layer resource not found - {FETCHED}" in response.headers["x-cld-error"]


def test_text_layer_with_the_fonts_dir_setting(tmp_path: Path, originals: Path) -> None:
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    shutil.copy(BUNDLED / "DejaVuSans-Bold.ttf", fonts / "Brand.ttf")
    url = "/co_white,l_text:Brand_30:Hi%252C%20you/fl_layer_apply,g_north_west/base.png"
    with TestClient(create_app(settings(tmp_path, originals, fonts_dir=fonts))) as client:
        response = client.get(url)
        assert response.status_code == 200, response.text
        out = decoded(response.content)
        assert out.crop(0, 0, 60, 30).extract_band(0).max() == 255  # white text on blue
        assert out.crop(120, 40, 80, 60).extract_band(0).max() == 0
        # A changed font file is a new result too.
        assert client.get(url).headers["x-cache"] == "HIT"
        later = os.stat(fonts / "Brand.ttf").st_mtime + 10
        os.utime(fonts / "Brand.ttf", (later, later))
        assert client.get(url).headers["x-cache"] == "MISS"


def test_text_disallow_overflow_is_a_400(client: TestClient) -> None:
    url = "/l_text:Arial_80:Far%20too%20long/fl_layer_apply,fl_text_disallow_overflow/base.png"
    response = client.get(url)
    assert response.status_code == 400
    assert "fl_text_disallow_overflow" in response.headers["x-cld-error"]


def test_fonts_dir_must_exist(tmp_path: Path, originals: Path) -> None:
    with pytest.raises(SettingsError, match="fonts_dir must be an existing directory"):
        settings(tmp_path, originals, fonts_dir=tmp_path / "missing")
