"""The page itself: index.html, versioned assets, the example page, and switching it off."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings, SettingsError, load_settings


def test_playground_redirects_to_its_index(client: TestClient) -> None:
    response = client.get("/playground", follow_redirects=False)
    assert response.status_code == 308 and response.headers["location"] == "/playground/"


def test_index_is_revalidated_and_locked_down(client: TestClient) -> None:
    response = client.get("/playground/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "<title>pixcast playground</title>" in response.text
    again = client.get("/playground/", headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304


def test_assets_are_versioned_immutable_and_gzipped(client: TestClient) -> None:
    index = client.get("/playground/").text
    links = re.findall(r'"assets/([a-z.]+)\?v=([0-9a-f]{16})"', index)
    assert sorted(name for name, _ in links) == ["playground.css", "playground.js"]
    for name, version in links:
        response = client.get(f"/playground/assets/{name}?v={version}")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["etag"] == f'"{version}"'
    raw = client.get("/playground/assets/playground.js", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert raw.headers["content-type"] == "text/javascript; charset=utf-8"
    assert len(gzip.compress(raw.content)) < len(raw.content) / 2


def test_unknown_assets_are_404(client: TestClient) -> None:
    assert client.get("/playground/assets/nope.js").status_code == 404
    assert client.get("/playground/assets/index.html").status_code == 404


def test_example_page_is_served(client: TestClient) -> None:
    response = client.get("/playground/site/")
    assert response.status_code == 200 and "<picture" in response.text
    assert response.headers["content-type"].startswith("text/html")
    assert client.get("/playground/site", follow_redirects=False).status_code == 308
    assert client.get("/playground/site/../../pyproject.toml").status_code == 404
    assert client.get("/playground/site/%2e%2e/%2e%2e/pyproject.toml").status_code == 404


def test_every_example_page_image_is_delivered(client: TestClient) -> None:
    """The page's URLs name the sample images; the fixture originals hold two of them."""
    page = client.get("/playground/site/").text
    urls = set(re.findall(r'(/image/upload/[^\s"]+/(?:astronaut\.jpg|logo\.png))', page))
    assert len(urls) >= 8
    for url in urls:
        response = client.get(url, headers={"accept": "image/avif,image/webp,*/*"})
        assert response.status_code == 200, (url, response.headers.get("x-cld-error"))


def test_switched_off_the_paths_are_delivery_urls(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(playground=False))) as client:
        for path in ("/playground/", "/playground/api/config", "/playground/site/"):
            response = client.get(path)
            assert response.status_code == 404
            assert response.headers["x-cld-error"].startswith("Resource not found")
        upload = client.post("/playground/api/uploads", content=b"x")
        assert upload.status_code == 404


def test_settings_read_playground_and_upload_settings() -> None:
    settings = load_settings(
        {"uploads_dir": "/tmp/pixcast-uploads"},
        {"PIXCAST_PLAYGROUND": "yes", "PIXCAST_UPLOAD_MAX_MB": "5"},
    )
    assert settings.playground is True and settings.upload_max_mb == 5
    assert str(settings.uploads_dir) == "/tmp/pixcast-uploads"
    assert Settings().playground is False
    with pytest.raises(SettingsError, match=r"playground \(from environment PIXCAST_PLAYGROUND\)"):
        load_settings({}, {"PIXCAST_PLAYGROUND": "maybe"})
    with pytest.raises(SettingsError, match="upload_max_mb must be between 1 and 1024, got 0"):
        load_settings({"upload_max_mb": "0"}, {})
