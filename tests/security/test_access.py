"""Who may ask: signed URLs, private and authenticated delivery, strict mode (HTTP level)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import SettingsError
from server.signing import sign_url
from tests.origins.helpers import image_size, jpeg, make_settings


def app_client(tmp_path: Path, **overrides: Any) -> TestClient:
    settings = make_settings(tmp_path, **overrides)
    (settings.originals / "image.jpg").write_bytes(jpeg(400, 300))
    for folder in ("private", "authenticated"):
        (settings.originals / folder).mkdir()
        (settings.originals / folder / "doc.jpg").write_bytes(jpeg(200, 100))
    return TestClient(create_app(settings))


def test_the_issue_vector_is_served(tmp_path: Path) -> None:
    with app_client(tmp_path, api_secret=("b",)) as client:
        response = client.get("/image/upload/s--Ai4Znfl3--/c_crop,h_20,w_10/v1234/image.jpg")
    assert response.status_code == 200, response.text
    assert image_size(response.content) == (10, 20)


def test_a_wrong_signature_is_401_even_where_none_is_needed(tmp_path: Path) -> None:
    with app_client(tmp_path, api_secret=("b",)) as client:
        response = client.get("/image/upload/s--Ai4Znfl4--/c_crop,h_20,w_10/v1234/image.jpg")
    assert response.status_code == 401
    assert response.headers["x-cld-error"] == (
        "Invalid signature: s--Ai4Znfl4-- does not match this URL"
    )


def test_without_a_secret_an_unneeded_signature_is_ignored(tmp_path: Path) -> None:
    """SDK code that signs every URL keeps working against a server with no secret."""
    with app_client(tmp_path) as client:
        response = client.get("/image/upload/s--AAAAAAAA--/w_10/image.jpg")
    assert response.status_code == 200


def test_rotation_serves_urls_signed_with_either_secret(tmp_path: Path) -> None:
    with app_client(tmp_path, api_secret=("new", "b")) as client:
        old = client.get("/image/upload/s--Ai4Znfl3--/c_crop,h_20,w_10/v1234/image.jpg")
        new = client.get(sign_url("/image/upload/w_30/image.jpg", "new"))
        gone = client.get(sign_url("/image/upload/w_30/image.jpg", "retired"))
    assert (old.status_code, new.status_code, gone.status_code) == (200, 200, 401)


@pytest.mark.parametrize("delivery", ["private", "authenticated"])
def test_signed_only_delivery_types(tmp_path: Path, delivery: str) -> None:
    with app_client(tmp_path, api_secret=("b",)) as client:
        unsigned = client.get(f"/image/{delivery}/w_50/doc.jpg")
        original = client.get(f"/image/{delivery}/doc.jpg")
        signed = client.get(sign_url(f"/image/{delivery}/w_50/doc.jpg", "b"))
        long = client.get(sign_url(f"/demo/image/{delivery}/doc.jpg", "b", long=True))
        as_upload = client.get(sign_url(f"/image/upload/w_50/{delivery}/doc.jpg", "b"))
    assert original.status_code == 401
    assert original.headers["x-cld-error"] == f"{delivery} delivery needs a signed URL"
    # A private original's transformed versions are public (as in Cloudinary).
    assert unsigned.status_code == (200 if delivery == "private" else 401)
    assert signed.status_code == 200
    assert image_size(signed.content) == (50, 25)
    assert long.status_code == 200 and long.content == jpeg(200, 100)
    # The same file is out of reach as an upload, signed or not.
    assert as_upload.status_code == 404


def test_private_transformations_need_a_signature_in_strict_mode(tmp_path: Path) -> None:
    """Issue 10: a transformed private URL answered 401 although Cloudinary serves it; it
    stays signed-only when strict mode guards every transformation."""
    with app_client(tmp_path, api_secret=("b",), strict=True) as client:
        unsigned = client.get("/image/private/w_50/doc.jpg")
        signed = client.get(sign_url("/image/private/w_50/doc.jpg", "b"))
    assert unsigned.status_code == 401
    assert signed.status_code == 200


def test_signed_only_without_a_secret_says_so(tmp_path: Path) -> None:
    with app_client(tmp_path) as client:
        response = client.get(sign_url("/image/private/doc.jpg", "b"))
    assert response.status_code == 401
    assert "has no api_secret" in response.headers["x-cld-error"]


STRICT = {
    "api_secret": ("b",),
    "strict": True,
    "strict_allowed": ("c_fill,w_100,h_100", "t_avatar", "w_50/e_grayscale"),
    "named_transformations": {"avatar": "c_thumb,w_64,h_64", "big": "w_300"},
}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/c_fill,w_100,h_100/image.jpg", 200),
        ("/h_100,w_100,c_fill/image.jpg", 200),  # parameter order is free
        ("/t_avatar/image.jpg", 200),
        ("/c_thumb,h_64,w_64/image.jpg", 200),  # what t_avatar expands to
        ("/w_50/e_grayscale/image.jpg", 200),
        ("/image.jpg", 200),  # the original itself is not a derived image
        ("/w_50/image.jpg", 401),  # a prefix of an allowed chain
        ("/c_fill,w_101,h_100/image.jpg", 401),
        ("/t_big/image.jpg", 401),  # named, but not allowed
        ("/t_avatar/e_sepia/image.jpg", 401),
        ("/image/fetch/w_10/https://example.org/x.jpg", 403),  # fetch is still off
    ],
)
def test_strict_mode(tmp_path: Path, path: str, status: int) -> None:
    with app_client(tmp_path, **STRICT) as client:
        response = client.get(path)
    assert response.status_code == status, response.text
    if status == 401:
        assert "this server is in strict mode" in response.headers["x-cld-error"]


def test_strict_mode_serves_signed_urls(tmp_path: Path) -> None:
    with app_client(tmp_path, **STRICT) as client:
        response = client.get(sign_url("/image/upload/w_77/image.jpg", "b"))
    assert response.status_code == 200
    assert image_size(response.content)[0] == 77


def test_strict_allowed_typo_stops_start_up(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, strict=True, strict_allowed=("w_abc",))
    with pytest.raises(SettingsError, match="strict_allowed entry 'w_abc': Invalid width"):
        create_app(settings)
