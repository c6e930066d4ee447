"""The upload and admin APIs over HTTP (TestClient): signatures as pycloudinary computes
them, every refusal a 4xx with a Cloudinary-style body, and nothing left on disk by one."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pyvips
from cloudinary.utils import api_sign_request
from starlette.testclient import TestClient

from server.signing import sign_url
from tests.browser.conftest import IMAGES
from tests.library.conftest import KEY, SECRET

UPLOAD = "/v1_1/demo/image/upload"
LOGO = (IMAGES / "logo.png").read_bytes()


def signed(fields: dict[str, str], algorithm: str = "sha1", secret: str = SECRET) -> dict[str, str]:
    fields = {"timestamp": str(int(time.time()))} | fields
    return fields | {"api_key": KEY, "signature": api_sign_request(fields, secret, algorithm)}


def post(client: TestClient, fields: dict[str, str], data: bytes = LOGO) -> Any:
    return client.post(UPLOAD, data=fields, files={"file": ("my logo.png", data, "image/png")})


def incoming(originals: Path) -> list[Path]:
    folder = originals / ".pixcast-incoming"
    return list(folder.iterdir()) if folder.is_dir() else []


def test_a_signed_upload_lands_in_the_originals(client: TestClient, originals: Path) -> None:
    answer = post(client, signed({"public_id": "a/b", "tags": "x,y"}))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["public_id"], body["format"], body["width"]) == ("a/b", "png", 256)
    assert (originals / "a" / "b.png").read_bytes() == LOGO
    assert client.get(f"/image/upload/v{body['version']}/a/b.png").content == LOGO
    assert incoming(originals) == []


def test_sha256_signatures_verify(client: TestClient) -> None:
    fields = signed({"public_id": "sha"}, "sha256") | {"signature_algorithm": "sha256"}
    assert post(client, fields).json()["public_id"] == "sha"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"signature": "0" * 40}, "Invalid Signature"),
        ({"signature": "abc"}, "40 (SHA-1) or 64 (SHA-256)"),
        ({"api_key": "nobody"}, "Unknown API key nobody"),
        ({"public_id": "tampered"}, "Invalid Signature"),
        ({"signature_algorithm": "sha256"}, "signature_algorithm is sha256"),
    ],
)
def test_bad_signatures_are_401(
    client: TestClient, originals: Path, change: dict[str, str], message: str
) -> None:
    answer = post(client, signed({"public_id": "never"}) | change)
    assert answer.status_code == 401 and message in answer.json()["error"]["message"]
    assert message in answer.headers["x-cld-error"]
    assert not (originals / "never.png").exists()


def test_a_stale_timestamp_is_401(client: TestClient) -> None:
    stale = str(int(time.time()) - 3700)
    fields = {"timestamp": stale, "public_id": "old"}
    fields |= {"api_key": KEY, "signature": api_sign_request(fields, SECRET)}
    answer = post(client, fields)
    assert answer.status_code == 401 and "Stale request" in answer.json()["error"]["message"]


def test_no_signature_and_no_preset_is_401(client: TestClient) -> None:
    answer = post(client, {"public_id": "anon"})
    assert answer.status_code == 401 and answer.json() == {
        "error": {"message": "Must supply api_key"}
    }


@pytest.mark.parametrize(
    ("public_id", "reason"),
    [
        ("../escape", "'..' path segments"),
        ("/absolute", "absolute paths"),
        ("bad\x01id", "control characters"),
        ("/".join("s" * 17), "folder levels"),
        ("private/x", "reserved"),
        ("x" * 300, "at most 255"),
    ],
)
def test_hostile_public_ids_are_400(
    client: TestClient, originals: Path, public_id: str, reason: str
) -> None:
    before = sorted(p.name for p in originals.rglob("*"))
    answer = post(client, signed({"public_id": public_id}))
    assert answer.status_code == 400 and reason in answer.json()["error"]["message"]
    assert sorted(p.name for p in originals.rglob("*")) == before


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"plain text, not a picture", 415, "not an image format"),
        (LOGO[:60], 422, "header does not decode"),
    ],
)
def test_files_that_are_not_images_are_refused(
    client: TestClient, originals: Path, data: bytes, status: int, message: str
) -> None:
    answer = post(client, signed({"public_id": "broken"}), data)
    assert answer.status_code == status and message in answer.json()["error"]["message"]
    assert not list(originals.glob("broken*")) and incoming(originals) == []


def test_the_source_limits_apply(make_client: Callable[..., TestClient], originals: Path) -> None:
    small = make_client(max_source_megapixels=0.01)
    answer = post(small, signed({"public_id": "big"}))
    assert answer.status_code == 413 and "Image too large" in answer.json()["error"]["message"]
    assert not list(originals.glob("big*"))


def test_a_data_uri_uploads(client: TestClient) -> None:
    uri = "data:image/png;base64," + base64.b64encode(LOGO).decode()
    answer = client.post(UPLOAD, data=signed({"public_id": "inline"}) | {"file": uri})
    assert answer.status_code == 200 and answer.json()["bytes"] == len(LOGO)


def test_a_remote_url_needs_the_fetch_allow_list(client: TestClient) -> None:
    fields = signed({"public_id": "remote"}) | {"file": "http://127.0.0.1:9/x.png"}
    answer = client.post(UPLOAD, data=fields)
    assert answer.status_code == 403 and "fetch" in answer.json()["error"]["message"].lower()


@pytest.mark.parametrize(
    ("path", "fields", "named"),
    [
        ("/v1_1/demo/video/upload", {}, "resource_type video"),
        ("/v1_1/demo/raw/upload", {}, "resource_type raw"),
        (UPLOAD, {"moderation": "manual"}, "moderation"),
        (UPLOAD, {"backup": "true"}, "backups"),
    ],
)
def test_what_pixcast_leaves_out_is_a_400_naming_it(
    client: TestClient, path: str, fields: dict[str, str], named: str
) -> None:
    answer = client.post(path, data=signed(fields), files={"file": ("a.png", LOGO, "image/png")})
    assert answer.status_code == 400 and named in answer.json()["error"]["message"]


def test_overwrite_false_keeps_the_existing_asset(client: TestClient, originals: Path) -> None:
    first = post(client, signed({"public_id": "keep"})).json()
    photo = (IMAGES / "astronaut.jpg").read_bytes()
    again = post(client, signed({"public_id": "keep", "overwrite": "false"}), photo).json()
    assert again["existing"] is True and again["version"] == first["version"]
    assert (originals / "keep.png").read_bytes() == LOGO and not (originals / "keep.jpg").exists()


def test_explicit_and_tags_change_metadata(client: TestClient) -> None:
    post(client, signed({"public_id": "meta", "tags": "one"}))
    path = "/v1_1/demo/image/explicit"
    fields = {"public_id": "meta", "type": "upload", "tags": "two,three", "context": "k=v"}
    done = client.post(path, data=signed(fields | {"eager": "w_16"})).json()
    assert done["tags"] == ["three", "two"] and done["context"] == {"custom": {"k": "v"}}
    assert done["eager"][0]["width"] == 16
    assert client.get(done["eager"][0]["url"]).headers["x-cache"] == "HIT"
    tags = "/v1_1/demo/image/tags"
    removed = client.post(
        tags, data=signed({"tag": "two", "public_ids": "meta", "command": "remove"})
    )
    assert removed.json() == {"public_ids": ["meta"]}
    listed = client.get("/image/list/three.json").json()["resources"]
    assert [r["public_id"] for r in listed] == ["meta"]
    assert client.get("/image/list/two.json").status_code == 404


def test_the_admin_api_needs_basic_credentials(client: TestClient) -> None:
    path = "/v1_1/demo/resources/image"
    anonymous = client.get(path)
    assert (
        anonymous.status_code == 401
        and "Missing credentials" in anonymous.json()["error"]["message"]
    )
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    assert client.get(path, auth=(KEY, "wrong")).status_code == 401
    assert client.get(path, auth=(KEY, SECRET)).json() == {"resources": []}
    bad = client.get(path, auth=(KEY, SECRET), params={"next_cursor": "%%%"})
    assert bad.status_code == 400 and "next_cursor" in bad.json()["error"]["message"]


def test_bodies_must_declare_a_length_within_the_limit(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(max_source_bytes=4096)
    big = post(client, signed({"public_id": "big"}), b"x" * 3_000_000)
    read = post(client, signed({"public_id": "read"}), b"x" * 20_000)
    assert read.status_code == 413 and "limit is 4096" in read.json()["error"]["message"]
    assert big.status_code == 413 and "Request too large" in big.json()["error"]["message"]
    chunked = client.post(
        UPLOAD,
        content=iter([b"--x\r\n"]),
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert chunked.status_code == 400 and "Content-Length" in chunked.json()["error"]["message"]
    fields = {f"f{index}": "v" for index in range(1001)}
    many = client.post(UPLOAD, data=fields)
    assert many.status_code == 400 and "Invalid request body" in many.json()["error"]["message"]


def test_cloud_name_limits_the_apis_to_one_cloud(make_client: Callable[..., TestClient]) -> None:
    client = make_client(cloud_name="mine")
    other = post(client, signed({"public_id": "c"}))
    assert (
        other.status_code == 401 and other.json()["error"]["message"] == "Invalid cloud_name demo"
    )
    fields = signed({"public_id": "c"})
    files = {"file": ("a.png", LOGO, "image/png")}
    assert client.post("/v1_1/mine/image/upload", data=fields, files=files).status_code == 200
    admin = client.get("/v1_1/demo/resources/image", auth=(KEY, SECRET))
    assert admin.status_code == 401


def test_a_bad_eager_transformation_stores_nothing(client: TestClient, originals: Path) -> None:
    answer = post(client, signed({"public_id": "eager", "eager": "w_100|c_nonsense"}))
    assert answer.status_code == 400 and "crop mode" in answer.json()["error"]["message"]
    assert not list(originals.glob("eager*"))


def test_private_uploads_need_signed_delivery(client: TestClient, originals: Path) -> None:
    body = post(client, signed({"public_id": "secret/pic", "type": "private"})).json()
    assert body["type"] == "private" and (originals / "private" / "secret" / "pic.png").is_file()
    assert client.get(f"/image/private/v{body['version']}/secret/pic.png").status_code == 401
    assert client.get("/image/upload/secret/pic.png").status_code == 404
    signed_url = sign_url("/image/private/w_20/secret/pic.png", SECRET)
    assert client.get(signed_url).status_code == 200


def test_rename_refuses_a_taken_id_unless_overwrite(client: TestClient, originals: Path) -> None:
    post(client, signed({"public_id": "from"}))
    post(client, signed({"public_id": "to"}), (IMAGES / "astronaut.jpg").read_bytes())
    path = "/v1_1/demo/image/rename"
    fields = {"from_public_id": "from", "to_public_id": "to"}
    refused = client.post(path, data=signed(fields))
    assert refused.status_code == 400 and "already exists" in refused.json()["error"]["message"]
    moved = client.post(path, data=signed(fields | {"overwrite": "true"})).json()
    assert (moved["public_id"], moved["format"]) == ("to", "png")
    assert sorted(p.name for p in originals.iterdir() if p.is_file()) == ["kept.png", "to.png"]


def test_tag_conditions_read_the_stored_tags(client: TestClient) -> None:
    post(client, signed({"public_id": "promo", "tags": "sale,new"}))
    url = "/image/upload/if_!sale!_in_tags/w_100/if_else/w_50/if_end/promo.png"
    assert width(client.get(url).content) == 100
    fields = {"tag": "sale", "public_ids": "promo", "command": "remove"}
    assert client.post("/v1_1/demo/image/tags", data=signed(fields)).status_code == 200
    again = client.get(url)
    assert width(again.content) == 50 and again.headers["x-cache"] == "MISS"


def width(data: bytes) -> int:
    return int(pyvips.Image.new_from_buffer(data, "").width)
