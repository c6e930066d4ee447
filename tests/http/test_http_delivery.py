"""Delivery through the whole app: status codes, content, headers, HEAD and the URL forms."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips
from starlette.testclient import TestClient


def decoded(body: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(body, "")


def test_fill_delivers_exact_size_jpeg(client: TestClient) -> None:
    response = client.get("/c_fill,w_300,h_200/camera.jpg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert int(response.headers["content-length"]) == len(response.content)
    image = decoded(response.content)
    assert (image.width, image.height) == (300, 200)
    assert image.get("vips-loader") == "jpegload_buffer"


@pytest.mark.parametrize(
    "path",
    [
        "/c_fill,w_300,h_200/camera.jpg",
        "/image/upload/c_fill,w_300,h_200/camera.jpg",
        "/image/upload/c_fill,w_300,h_200/v1700000000/camera.jpg",
        "/demo/image/upload/c_fill,w_300,h_200/camera.jpg",
    ],
)
def test_all_three_url_forms(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert decoded(response.content).width == 300


def test_extension_finds_original_and_chooses_output(client: TestClient) -> None:
    """`/w_300/camera.png` finds camera.jpg (the public id has no extension), delivers PNG."""
    response = client.get("/w_300/camera.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    image = decoded(response.content)
    assert (image.width, image.height) == (300, 225)
    assert image.get("vips-loader") == "pngload_buffer"


def test_no_transformation_serves_original_bytes(client: TestClient, originals: Path) -> None:
    for path in ("/camera.jpg", "/camera", "/image/upload/camera.jpg", "/camera.jpeg"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.content == (originals / "camera.jpg").read_bytes()
        assert response.headers["content-type"] == "image/jpeg"
        assert response.headers["x-cache"] == "PASS"


def test_no_transformation_but_other_extension_converts(client: TestClient) -> None:
    response = client.get("/logo.webp")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert decoded(response.content).width == 200


def test_content_type_of_original_comes_from_its_bytes(client: TestClient, originals: Path) -> None:
    """A PNG saved under a .jpg name is served as PNG, because the bytes say so."""
    (originals / "mislabelled.jpg").write_bytes((originals / "logo.png").read_bytes())
    response = client.get("/mislabelled")
    assert response.headers["content-type"] == "image/png"


def test_non_ascii_name_with_space(client: TestClient) -> None:
    response = client.get("/w_100/caf%C3%A9%20terrace.jpg")
    assert response.status_code == 200
    assert decoded(response.content).width == 100


def test_folders_in_public_id(client: TestClient) -> None:
    response = client.get("/image/upload/w_60/v1/team/alice.jpg")
    assert response.status_code == 200
    assert decoded(response.content).width == 60


def test_head_has_get_headers_and_no_body(client: TestClient) -> None:
    get = client.get("/c_fill,w_120,h_90/camera.webp")
    head = client.head("/c_fill,w_120,h_90/camera.webp")
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-length", "etag", "last-modified", "cache-control"):
        assert head.headers[name] == get.headers[name], name


def test_head_of_an_error_has_no_body(client: TestClient) -> None:
    response = client.head("/w_abc/camera.jpg")
    assert response.status_code == 400
    assert response.content == b""
    assert response.headers["x-cld-error"].startswith("Invalid width")


def test_attachment_with_name(client: TestClient) -> None:
    response = client.get("/fl_attachment:my_pic,w_50/camera.png")
    assert response.headers["content-disposition"] == 'attachment; filename="my_pic.png"'


def test_attachment_defaults_to_public_id_basename(client: TestClient) -> None:
    response = client.get("/fl_attachment/v1/team/alice.jpg")
    assert response.headers["content-disposition"] == 'attachment; filename="alice.jpg"'


def test_attachment_name_of_non_ascii_id_is_sanitised(client: TestClient) -> None:
    response = client.get("/fl_attachment,w_40/caf%C3%A9%20terrace.webp")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="caf_ terrace.webp"')
    assert "filename*=UTF-8''caf%C3%A9%20terrace.webp" in disposition


def test_getinfo_is_json(client: TestClient) -> None:
    response = client.get("/w_100,fl_getinfo/camera.jpg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    info = response.json()
    assert info["input"]["width"] == 400
    assert info["output"]["width"] == 100


def test_server_timing(client: TestClient) -> None:
    timing = client.get("/w_100/camera.jpg").headers["server-timing"]
    names = {part.split(";")[0].strip() for part in timing.split(",")}
    assert {"total", "render", "cache"} <= names


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok")


def test_favicon_is_a_quiet_404(client: TestClient) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 404
    assert "x-cld-error" not in response.headers


def test_other_methods_are_not_allowed(client: TestClient) -> None:
    assert client.post("/w_100/camera.jpg").status_code == 405
