"""`d_<public id>`: a placeholder rendered with the request's transformations when the
original is missing, with X-Cld-Error and short-lived caching."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from tests.origins.helpers import FakeUpstream, image_size, jpeg, make_settings, png


def app_client(tmp_path: Path, **overrides: Any) -> TestClient:
    settings = make_settings(tmp_path, fetch_allowed_hosts=("example.org",), **overrides)
    (settings.originals / "placeholders").mkdir()
    (settings.originals / "placeholders" / "avatar.png").write_bytes(png(64, 48))
    (settings.originals / "camera.jpg").write_bytes(jpeg(400, 300))
    (settings.originals / "private").mkdir()
    (settings.originals / "private" / "secret.jpg").write_bytes(jpeg(10, 10))
    return TestClient(create_app(settings))


@pytest.mark.parametrize(
    "path",
    [
        "/d_placeholders:avatar.png,w_32/missing.jpg",
        "/image/upload/w_32/d_placeholders:avatar.png/v3/missing.jpg",
        "/d_placeholders:avatar,w_32/missing.jpg",
    ],
)
def test_missing_original_renders_the_placeholder(tmp_path: Path, path: str) -> None:
    with app_client(tmp_path) as client:
        response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["x-cld-error"] == "Resource not found - missing"
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["content-type"] == "image/jpeg"  # the URL's extension decides
    assert image_size(response.content) == (32, 24)


def test_placeholder_without_transformations_is_its_bytes(tmp_path: Path) -> None:
    with app_client(tmp_path) as client:
        response = client.get("/d_placeholders:avatar.png/missing.png")
    assert response.status_code == 200
    assert response.headers["x-cache"] == "PASS"
    assert response.content == png(64, 48)
    assert response.headers["x-cld-error"] == "Resource not found - missing"


def test_existing_original_ignores_the_placeholder(tmp_path: Path) -> None:
    """d_ changes nothing when the original exists, so it shares the plain URL's entry."""
    with app_client(tmp_path) as client:
        plain = client.get("/w_100/camera.jpg")
        with_default = client.get("/w_100,d_placeholders:avatar.png/camera.jpg")
    assert with_default.status_code == 200
    assert "x-cld-error" not in with_default.headers
    assert with_default.headers["x-cache"] == "HIT"
    assert with_default.content == plain.content
    assert with_default.headers["cache-control"] == "public, max-age=86400"


def test_missing_placeholder_is_the_originals_404(tmp_path: Path) -> None:
    with app_client(tmp_path) as client:
        response = client.get("/d_nope.png,w_10/missing.jpg")
    assert response.status_code == 404
    assert response.headers["x-cld-error"] == "Resource not found - missing"


def test_placeholder_cannot_reach_signed_originals(tmp_path: Path) -> None:
    with app_client(tmp_path) as client:
        response = client.get("/d_private:secret.jpg,w_10/missing.jpg")
    assert response.status_code == 404


def test_all_missing_ids_share_one_placeholder_render(tmp_path: Path) -> None:
    with app_client(tmp_path) as client:
        first = client.get("/d_placeholders:avatar.png,w_20/one.jpg")
        second = client.get("/d_placeholders:avatar.png,w_20/two.jpg")
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "HIT")
    assert second.headers["x-cld-error"] == "Resource not found - two"


def test_fetch_404_falls_back_to_the_placeholder(tmp_path: Path, fake: FakeUpstream) -> None:
    fake.routes["https://example.org/gone.jpg"] = lambda r: httpx.Response(404)
    with app_client(tmp_path) as client:
        response = client.get(
            "/image/fetch/d_placeholders:avatar.png,w_16/https://example.org/gone.jpg"
        )
    assert response.status_code == 200
    assert response.headers["x-cld-error"] == "Resource not found - https://example.org/gone.jpg"
    assert image_size(response.content) == (16, 12)


def test_fetch_failure_is_not_hidden_by_the_placeholder(tmp_path: Path, fake: FakeUpstream) -> None:
    """Only a missing original is replaced: an upstream outage stays a 502."""
    fake.routes["https://example.org/down.jpg"] = lambda r: httpx.Response(503)
    with app_client(tmp_path) as client:
        response = client.get("/image/fetch/d_placeholders:avatar.png/https://example.org/down.jpg")
    assert response.status_code == 502


@pytest.mark.parametrize("value", ["..", "a:..:b", "a::b", ":a"])
def test_hostile_placeholder_ids_are_400(tmp_path: Path, value: str) -> None:
    with app_client(tmp_path) as client:
        response = client.get(f"/d_{value},w_10/missing.jpg")
    assert response.status_code == 400
    assert response.headers["x-cld-error"].startswith("Invalid default image")
