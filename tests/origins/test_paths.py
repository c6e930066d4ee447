"""Hostile public ids never leave their root, locally or on an HTTP origin, and never 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from tests.origins.helpers import FakeUpstream, jpeg, make_settings

BUCKET = "https://bucket.example.com/assets/"
HOSTILE = [
    "/w_10/../secret.jpg",
    "/w_10/%2e%2e/secret.jpg",
    "/w_10/%2E%2E%2Fsecret.jpg",
    "/w_10/a/%2e%2e/%2e%2e/secret.jpg",
    "/w_10/%2Fetc%2Fpasswd",
    "/w_10/a%00b.jpg",
    "/w_10/a%5C..%5Csecret.jpg",
    "/w_10/media/..%2F..%2Fsecret.jpg",
    "/w_10/media/%2e%2e/secret.jpg",
    "/w_10/media/a%00.jpg",
]


@pytest.fixture
def client(tmp_path: Path, fake: FakeUpstream) -> TestClient:
    settings = make_settings(tmp_path, origins={"media/": BUCKET})
    (tmp_path / "secret.jpg").write_bytes(jpeg())  # just outside the originals
    fake.image("https://bucket.example.com/secret.jpg", jpeg())
    return TestClient(create_app(settings))


@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_public_ids_are_refused(client: TestClient, fake: FakeUpstream, path: str) -> None:
    with client:
        response = client.get(path)
    assert response.status_code in (400, 404), response.text
    assert response.headers["x-cld-error"]
    assert fake.requests == []  # nothing was asked of the origin either


def test_upload_urls_cannot_reach_the_signed_folders(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    for folder in ("private", "authenticated"):
        (settings.originals / folder).mkdir()
        (settings.originals / folder / "x.jpg").write_bytes(jpeg())
    (settings.originals / "private.jpg").write_bytes(jpeg(30, 20))
    with TestClient(create_app(settings)) as client:
        for folder in ("private", "authenticated", "Private"):
            response = client.get(f"/w_10/{folder}/x.jpg")
            assert response.status_code == 404
            assert response.headers["x-cld-error"] == f"Resource not found - {folder}/x"
        # A file named like the folder is an ordinary upload original.
        assert client.get("/private.jpg").content == jpeg(30, 20)
