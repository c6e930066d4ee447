"""pycloudinary, unchanged, against a pixcast on loopback (SQLite and PostgreSQL; originals
in the directory or in S3 origins): upload → deliver with g_face → tag → list by tag →
rename → destroy → 404, and the Admin API."""

from __future__ import annotations

import re

import cloudinary.api
import cloudinary.exceptions
import cloudinary.uploader
import httpx
import pytest
import pyvips

from tests.browser.conftest import IMAGES
from tests.library.conftest import OLD_KEY, OLD_SECRET, Served

ASTRONAUT = IMAGES / "astronaut.jpg"


def detector_runs(url: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    found = re.search(r'pixcast_detector_runs_total\{detector="faces",outcome="ok"\} (\S+)', text)
    return float(found.group(1)) if found else 0.0


def size_of(data: bytes) -> tuple[int, int]:
    image = pyvips.Image.new_from_buffer(data, "")
    return image.width, image.height


def test_the_sdk_round_trip(served: Served) -> None:
    sdk = served.sdk
    uploaded = cloudinary.uploader.upload(
        str(ASTRONAUT), public_id="sdk/astro", tags=["space", "nasa"], faces=True,
        context={"alt": "An astronaut", "caption": "a|b"}, custom_coordinates=[[10, 20, 30, 40]],
        categorization="pixcast", auto_tagging=0.5,
        eager=[{"width": 60, "height": 40, "crop": "fill"}],
        **sdk,
    )  # fmt: skip
    assert uploaded["public_id"] == "sdk/astro" and uploaded["resource_type"] == "image"
    assert (uploaded["format"], uploaded["type"]) == ("jpg", "upload")
    assert (uploaded["width"], uploaded["height"]) == size_of(ASTRONAUT.read_bytes())
    assert uploaded["bytes"] == ASTRONAUT.stat().st_size
    assert uploaded["original_filename"] == "astronaut"
    assert {"space", "nasa", "face"} <= set(uploaded["tags"])  # face: auto-tagged
    assert len(uploaded["faces"]) == 1 and uploaded["faces"][0][2] > 50
    data = uploaded["info"]["categorization"]["pixcast"]["data"]
    assert any(item["tag"] == "face" and item["confidence"] >= 0.5 for item in data)
    assert uploaded["eager"][0]["width"] == 60 and uploaded["eager"][0]["height"] == 40
    assert re.fullmatch(r"[0-9a-f]{32}", uploaded["etag"])
    version = uploaded["version"]
    assert uploaded["url"] == f"{served.url}/image/upload/v{version}/sdk/astro.jpg"

    assert served.stored("sdk/astro.jpg")  # where delivery reads it, directory or bucket
    if served.s3 is not None:
        assert served.object("sdk/astro.jpg") == ASTRONAUT.read_bytes()
        assert not (served.originals / "sdk" / "astro.jpg").exists()
    delivered = httpx.get(uploaded["url"])
    assert delivered.status_code == 200 and delivered.content == ASTRONAUT.read_bytes()
    before = detector_runs(served.url)
    assert before >= 1  # the upload ran the face detector
    face = httpx.get(f"{served.url}/image/upload/c_thumb,g_face,w_80,h_80/sdk/astro.jpg")
    assert face.status_code == 200 and size_of(face.content) == (80, 80)
    assert detector_runs(served.url) == before  # the upload's detection was reused

    assert cloudinary.uploader.add_tag("sale", ["sdk/astro"], **sdk)["public_ids"] == ["sdk/astro"]
    listed = httpx.get(f"{served.url}/image/list/sale.json").json()["resources"]
    assert [(r["public_id"], r["version"], r["format"]) for r in listed] == [
        ("sdk/astro", version, "jpg")
    ]
    by_tag = cloudinary.api.resources_by_tag("sale", **sdk)["resources"]
    assert [r["public_id"] for r in by_tag] == ["sdk/astro"]

    detail = cloudinary.api.resource("sdk/astro", **sdk)
    assert detail["context"]["custom"] == {"alt": "An astronaut", "caption": "a|b"}
    assert detail["coordinates"]["custom"] == [[10, 20, 30, 40]]
    assert "sale" in detail["tags"] and detail["faces"] == uploaded["faces"]
    assert "sale" in cloudinary.api.tags(**sdk)["tags"]

    moved = cloudinary.uploader.rename("sdk/astro", "sdk/renamed", **sdk)
    assert moved["public_id"] == "sdk/renamed"
    assert httpx.get(f"{served.url}/image/upload/sdk/astro.jpg").status_code == 404
    assert httpx.get(f"{served.url}/image/upload/w_30/sdk/renamed.jpg").status_code == 200
    assert served.stored("sdk/renamed.jpg") and not served.stored("sdk/astro.jpg")

    assert cloudinary.uploader.destroy("sdk/renamed", **sdk)["result"] == "ok"
    assert httpx.get(f"{served.url}/image/upload/w_30/sdk/renamed.jpg").status_code == 404
    assert httpx.get(f"{served.url}/image/upload/sdk/renamed.jpg").status_code == 404
    assert cloudinary.uploader.destroy("sdk/renamed", **sdk)["result"] == "not found"
    assert not served.stored("sdk/renamed.jpg") and not served.stored("sdk/astro.jpg")


def test_a_new_upload_is_a_new_version(served: Served) -> None:
    sdk = served.sdk
    first = cloudinary.uploader.upload(str(ASTRONAUT), public_id="versions/pic", **sdk)
    second = cloudinary.uploader.upload(str(IMAGES / "logo.png"), public_id="versions/pic", **sdk)
    assert second["version"] > first["version"] and second["format"] == "png"
    old = httpx.get(f"{served.url}/image/upload/v{first['version']}/versions/pic.jpg")
    assert old.status_code == 404
    old_variant = httpx.get(f"{served.url}/image/upload/w_20/v{first['version']}/versions/pic")
    assert old_variant.status_code == 404
    current = httpx.get(f"{served.url}/image/upload/versions/pic.png")
    assert current.content == (IMAGES / "logo.png").read_bytes()
    assert httpx.get(second["url"]).status_code == 200
    assert not served.stored("versions/pic.jpg")  # the old format is gone
    assert served.stored("versions/pic.png")


def test_the_admin_api_lists_pages_and_deletes(served: Served) -> None:
    sdk = served.sdk
    for index in range(3):
        cloudinary.uploader.upload(str(IMAGES / "logo.png"), public_id=f"admin/{index}", **sdk)
    first = cloudinary.api.resources(type="upload", prefix="admin/", max_results=2, **sdk)
    assert [r["public_id"] for r in first["resources"]] == ["admin/0", "admin/1"]
    rest = cloudinary.api.resources(
        type="upload", prefix="admin/", max_results=2, next_cursor=first["next_cursor"], **sdk
    )
    assert [r["public_id"] for r in rest["resources"]] == ["admin/2"] and "next_cursor" not in rest
    deleted = cloudinary.api.delete_resources(["admin/0", "admin/nope"], **sdk)["deleted"]
    assert deleted == {"admin/0": "deleted", "admin/nope": "not_found"}
    by_prefix = cloudinary.api.delete_resources_by_prefix("admin/", **sdk)["deleted"]
    assert by_prefix == {"admin/1": "deleted", "admin/2": "deleted"}
    assert cloudinary.api.resources(prefix="admin/", **sdk)["resources"] == []
    with pytest.raises(cloudinary.exceptions.NotFound):
        cloudinary.api.resource("admin/1", **sdk)


def test_the_retired_pair_still_signs_and_wrong_ones_are_401(served: Served) -> None:
    retired = served.sdk | {"api_key": OLD_KEY, "api_secret": OLD_SECRET}
    done = cloudinary.uploader.upload(str(IMAGES / "logo.png"), public_id="keys/old", **retired)
    assert done["public_id"] == "keys/old"
    wrong = served.sdk | {"api_secret": "not-the-secret"}
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired, match="Invalid Signature"):
        cloudinary.uploader.upload(str(IMAGES / "logo.png"), public_id="keys/x", **wrong)
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired, match="Invalid credentials"):
        cloudinary.api.resources(**wrong)
    stranger = served.sdk | {"api_key": "stranger"}
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired, match="Unknown API key"):
        cloudinary.uploader.upload(str(IMAGES / "logo.png"), **stranger)


def test_unsigned_uploads_need_an_unsigned_preset(served: Served) -> None:
    options = {"upload_prefix": served.url, "cloud_name": "demo"}
    done = cloudinary.uploader.unsigned_upload(str(IMAGES / "logo.png"), "open-preset", **options)
    assert len(done["public_id"]) == 20
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired, match="whitelisted"):
        cloudinary.uploader.unsigned_upload(str(IMAGES / "logo.png"), "closed", **options)
