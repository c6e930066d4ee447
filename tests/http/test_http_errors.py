"""Bad input answers a 4xx with a short body and X-Cld-Error; never a 500 or a traceback."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from transforms import pipeline


def assert_error(response: httpx2.Response, status: int, starts: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text.startswith(starts)
    assert response.text.endswith("\n") and response.text.count("\n") == 1
    assert response.headers["x-cld-error"] == response.text.strip()
    assert "Traceback" not in response.text


def snapshot(root: Path, skip: Path) -> set[Path]:
    return {p for p in root.rglob("*") if skip not in p.parents and p != skip}


@pytest.mark.parametrize(
    "path",
    [
        "/w_100/..%2F..%2Fetc%2Fpasswd",
        "/w_100/%2e%2e/x.jpg",
        "/w_100/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd.jpg",
        "/w_100/team/%2e%2e/%2e%2e/camera.jpg",
        "/w_100/%2Fetc%2Fpasswd",
        "/w_100/x%00.jpg",
        "/w_100/..%5C..%5Cetc%5Cpasswd",
        "/w_100/team%5Calice.jpg",
        "/w_100/.%2Fcamera.jpg",
    ],
)
def test_hostile_public_ids_are_400(client: TestClient, tmp_path: Path, path: str) -> None:
    before = snapshot(tmp_path, tmp_path / "cache")
    response = client.get(path)
    assert response.status_code == 400, response.text
    assert response.headers["x-cld-error"]
    assert "root:" not in response.text
    assert snapshot(tmp_path, tmp_path / "cache") == before


def test_symlink_out_of_originals_is_refused(
    client: TestClient, originals: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.jpg"
    outside.write_bytes((originals / "camera.jpg").read_bytes())
    os.symlink(outside, originals / "leak.jpg")
    assert client.get("/w_100/leak.jpg").status_code == 400
    assert client.get("/leak.jpg").status_code == 400


def test_symlink_inside_originals_is_followed(client: TestClient, originals: Path) -> None:
    os.symlink(originals / "camera.jpg", originals / "alias.jpg")
    assert client.get("/w_100/alias.jpg").status_code == 200


def test_missing_original_is_404(client: TestClient) -> None:
    assert_error(client.get("/w_100/nothing-here.jpg"), 404, "Resource not found - nothing-here")
    assert_error(client.get("/nothing-here"), 404, "Resource not found - nothing-here")


def test_directory_is_not_an_original(client: TestClient) -> None:
    assert client.get("/w_100/team").status_code == 404


@pytest.mark.parametrize("path", ["/w_100/broken.jpg", "/broken.png", "/w_100/notes.jpg"])
def test_undecodable_original_is_415_or_422(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (415, 422), response.text
    assert response.headers["x-cld-error"]


def test_undecodable_original_without_transformation(client: TestClient) -> None:
    """No steps means passthrough, but only of something that is an image."""
    assert_error(client.get("/notes"), 415, "Unsupported image format")


@pytest.mark.parametrize(
    ("path", "starts"),
    [
        ("/w_abc/camera.jpg", "Invalid width in transformation: abc"),
        ("/c_nope,w_10/camera.jpg", "Invalid crop mode in transformation: nope"),
        ("/w_10,zz_1/camera.jpg", "Invalid transformation parameter"),
        ("/t_missing/camera.jpg", "Invalid named transformation: missing"),
        ("/dpr_5.0,w_10/camera.jpg", "Invalid dpr in transformation: 5"),
        ("/image/nope/w_10/camera.jpg", "Invalid delivery type: nope"),
        ("/", "Invalid URL"),
    ],
)
def test_bad_parameters_are_400(client: TestClient, path: str, starts: str) -> None:
    assert_error(client.get(path), 400, starts)


@pytest.mark.parametrize(
    ("path", "status", "starts"),
    [
        ("/image/private/camera.jpg", 401, "private delivery needs a signed URL"),
        ("/demo/image/authenticated/camera.jpg", 401, "authenticated delivery needs a signed"),
        ("/image/fetch/https:%2F%2Fexample.com%2Fa.jpg", 403, "Fetch delivery is disabled"),
    ],
)
def test_guarded_delivery_types_by_default(
    client: TestClient, path: str, status: int, starts: str
) -> None:
    """With the default settings (no secret, no fetch hosts) these say what is missing."""
    assert_error(client.get(path), status, starts)


def test_max_dpr_setting(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(max_dpr=2.0))) as client:
        assert client.get("/dpr_2.0,w_10/camera.jpg").status_code == 200
        assert_error(client.get("/dpr_2.5,w_10/camera.jpg"), 400, "Invalid dpr")


def test_non_ascii_error_message_is_escaped_in_header(client: TestClient) -> None:
    response = client.get("/w_100/caf%C3%A9-missing.jpg")
    assert response.status_code == 404
    assert response.text == "Resource not found - café-missing\n"
    assert response.headers["x-cld-error"] == "Resource not found - caf%C3%A9-missing"


def test_unexpected_exception_is_a_generic_500_and_not_cached(
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []

    def explode(*args: object) -> None:
        calls.append(1)
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(pipeline, "render", explode)
    with TestClient(create_app(make_settings())) as client:
        response = client.get("/w_77/camera.jpg")
        again = client.get("/w_77/camera.jpg")
    assert (response.status_code, again.status_code) == (500, 500)
    assert response.text == "Internal server error\n"
    assert "secret" not in response.text + str(response.headers)
    assert response.headers["cache-control"] == "no-store"
    assert "secret internal detail" in caplog.text
    assert len(calls) == 2
