"""Uploads: stored apart from the originals, within size and pixel limits, refused clearly."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import pyvips
from starlette.testclient import TestClient

from server.app import create_app
from server.playground import uploads
from server.settings import Settings
from tests.playground.conftest import IMAGES, png_bytes

URL = "/playground/api/uploads"


def test_upload_is_stored_listed_and_delivered(client: TestClient, tmp_path: Path) -> None:
    data = (IMAGES / "astronaut.jpg").read_bytes()
    response = client.post(URL, params={"name": "Café photo.JPG"}, content=data)
    assert response.status_code == 201
    answer = response.json()
    image = answer["image"]
    assert image["public_id"].startswith("cafe-photo-") and image["extension"] == "jpg"
    assert image["base"] == "/playground/uploads"
    assert (answer["width"], answer["height"], answer["format"]) == (512, 512, "jpg")
    assert (tmp_path / "uploads" / image["file"]).read_bytes() == data
    assert not (tmp_path / "originals" / image["file"]).exists()
    listed = client.get("/playground/api/images").json()["uploads"]
    assert [e["public_id"] for e in listed] == [image["public_id"]]
    url = f"/playground/uploads/image/upload/c_fill,w_64,h_48/{image['public_id']}.png"
    delivered = client.get(url)
    assert delivered.status_code == 200 and delivered.headers["content-type"] == "image/png"
    result = pyvips.Image.new_from_buffer(delivered.content, "")
    assert (result.width, result.height) == (64, 48)


def test_the_same_upload_is_stored_once(client: TestClient, tmp_path: Path) -> None:
    data = png_bytes(20, 10)
    first = client.post(URL, params={"name": "a.png"}, content=data).json()["image"]
    again = client.post(URL, params={"name": "a.png"}, content=data).json()["image"]
    assert first == again
    assert len(list((tmp_path / "uploads").iterdir())) == 1


def test_a_non_image_is_refused_with_a_clear_message(client: TestClient, tmp_path: Path) -> None:
    response = client.post(URL, params={"name": "notes.txt"}, content=b"hello, not a picture\n")
    assert response.status_code == 415
    assert response.json() == {
        "ok": False,
        "error": "That file is not an image pixcast can read "
        "(expected JPEG, PNG, WebP, AVIF, GIF, TIFF or HEIC)",
    }
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").iterdir())


def test_a_damaged_image_is_refused(client: TestClient) -> None:
    response = client.post(URL, params={"name": "x.png"}, content=png_bytes(8, 8)[:40])
    assert response.status_code == 422
    assert response.json()["error"] == "That PNG file is damaged: its header does not decode"


def test_an_empty_upload_is_refused(client: TestClient) -> None:
    response = client.post(URL, content=b"")
    assert response.status_code == 400
    assert response.json()["error"] == "The upload is empty: drop an image file"


def test_too_many_bytes_are_refused_from_content_length(
    make_settings: Callable[..., Settings],
) -> None:
    with TestClient(create_app(make_settings(upload_max_mb=1))) as client:
        response = client.post(URL, content=b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["error"] == (
        "The file is 2.0 MB; the playground accepts uploads up to 1 MB"
    )


def test_too_many_bytes_are_refused_while_streaming(make_settings: Callable[..., Settings]) -> None:
    """A chunked body has no Content-Length to refuse up front: the cap applies as it comes."""

    def body() -> object:
        for _ in range(3):
            yield b"\0" * (512 * 1024)

    with TestClient(create_app(make_settings(upload_max_mb=1))) as client:
        response = client.post(URL, content=body())  # type: ignore[arg-type]
    assert response.status_code == 413
    assert response.json()["error"] == (
        "The file is larger than that; the playground accepts uploads up to 1 MB"
    )


def test_too_many_pixels_are_refused_before_decoding() -> None:
    # 9000x6000 is 54 megapixels; only the header is read, so this stays fast.
    big = pyvips.Image.black(9000, 6000).cast("uchar")
    data = bytes(big.pngsave_buffer(compression=1))
    with pytest.raises(uploads.PayloadTooLarge) as refused:
        uploads.inspect(data, uploads.UploadLimits(max_bytes=len(data) + 1))
    assert refused.value.message == (
        "The image is 9000x6000 (54 megapixels); the playground accepts at most 50 megapixels"
    )


def test_the_oldest_uploads_go_beyond_the_count(tmp_path: Path) -> None:
    area = tmp_path / "area"
    limits = uploads.UploadLimits(max_bytes=1 << 20, max_files=2)
    names = []
    for index in range(3):
        stored = uploads.store(area, f"p{index}.png", png_bytes(4 + index, 4), limits)
        os.utime(area / stored.name, (1000 + index, 1000 + index))
        names.append(stored.name)
    uploads.store(area, "p3.png", png_bytes(9, 9), limits)
    left = sorted(p.name for p in area.iterdir())
    assert names[0] not in left and names[1] not in left and names[2] in left
    assert len(left) == 2


@pytest.mark.parametrize(
    ("filename", "stem"),
    [("My Photo.JPG", "my-photo"), ("../../etc/passwd", "passwd"), ("日本.png", "upload"),
     ("", "upload"), ("Crème brûlée!!.webp", "creme-brulee")],
)  # fmt: skip
def test_public_names_are_safe(filename: str, stem: str) -> None:
    name = uploads.public_name(filename, b"data")
    assert name.startswith(stem + "-") and len(name) == len(stem) + 9
