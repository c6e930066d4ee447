"""Uploads under an `origins` prefix mapped to S3 land in that bucket, at the key delivery
reads (the session's S3 API server, in-process app): overwrite, destroy and rename are seen
by the next delivery at once, a failed PUT keeps the old asset, and an HTTP-mapped prefix
refuses uploads."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import pyvips
from cloudinary.utils import api_sign_request
from starlette.testclient import TestClient

from server.app import create_app
from server.handlers import source_key
from server.library.blobs import OriginalsDirectory
from server.library.originals import LibraryOriginals
from server.origins import build_origins
from server.security import limits_for
from server.settings import Settings
from server.storage import s3
from server.storage.base import StorageError
from tests.browser.conftest import IMAGES
from tests.library.conftest import KEY, SECRET
from tests.s3server import MotoS3
from transforms.grammar import parse_url

API = "/v1_1/demo/image"
LOGO = (IMAGES / "logo.png").read_bytes()


def png(width: int) -> bytes:
    data: bytes = pyvips.Image.black(width, 10).write_to_buffer(".png")
    return data


@pytest.fixture
def client(tmp_path: Path, aws_env: MotoS3, bucket: str) -> Iterator[TestClient]:
    originals = tmp_path / "originals"
    originals.mkdir()
    settings = Settings(
        originals=originals, cache_dir=tmp_path / "cache",
        library_path=tmp_path / "library.sqlite3", api_key=(KEY,), api_secret=(SECRET,),
        render_threads=2, detectors="saliency",
        origins={"media/": f"s3://{bucket}/assets/", "cdn/": "https://cdn.example.com/img/"},
    )  # fmt: skip
    with TestClient(create_app(settings)) as opened:
        yield opened


def call(client: TestClient, action: str, fields: dict[str, str], data: bytes | None = None) -> Any:
    fields = {"timestamp": str(int(time.time()))} | fields
    fields |= {"api_key": KEY, "signature": api_sign_request(fields, SECRET)}
    files = {"file": ("pic.png", data, "image/png")} if data is not None else None
    return client.post(f"{API}/{action}", data=fields, files=files)


def objects(aws: MotoS3, bucket: str) -> dict[str, bytes]:
    listed = aws.client().list_objects_v2(Bucket=bucket).get("Contents", [])
    return {
        item["Key"]: aws.client().get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        for item in listed
    }


def test_an_upload_is_put_where_delivery_reads_it(
    client: TestClient, aws_env: MotoS3, bucket: str, tmp_path: Path
) -> None:
    done = call(client, "upload", {"public_id": "media/cat"}, LOGO)
    assert done.status_code == 200, done.text
    assert objects(aws_env, bucket) == {"assets/cat.png": LOGO}
    assert not (tmp_path / "originals" / "media").exists()
    delivered = client.get(f"/image/upload/v{done.json()['version']}/media/cat.png")
    assert delivered.status_code == 200 and delivered.content == LOGO
    # Outside the mapped prefix, the originals directory as before.
    assert call(client, "upload", {"public_id": "local/cat"}, LOGO).status_code == 200
    assert (tmp_path / "originals" / "local" / "cat.png").read_bytes() == LOGO
    assert list(objects(aws_env, bucket)) == ["assets/cat.png"]


def test_private_uploads_use_the_private_folder_as_delivery_does(
    client: TestClient, aws_env: MotoS3, bucket: str, tmp_path: Path
) -> None:
    """`private/media/cat` is not under `media/`: delivery reads it from the directory."""
    done = call(client, "upload", {"public_id": "media/cat", "type": "private"}, LOGO)
    assert done.status_code == 200, done.text
    assert (tmp_path / "originals" / "private" / "media" / "cat.png").read_bytes() == LOGO
    assert objects(aws_env, bucket) == {}


def test_an_overwrite_is_served_at_once_and_the_old_version_is_a_404(
    client: TestClient, aws_env: MotoS3, bucket: str
) -> None:
    first = call(client, "upload", {"public_id": "media/pic"}, png(20)).json()
    assert client.get("/image/upload/media/pic.png").content == png(20)  # now in the store
    second = call(client, "upload", {"public_id": "media/pic"}, png(30)).json()
    assert second["version"] > first["version"]
    assert client.get("/image/upload/media/pic.png").content == png(30)
    assert client.get("/image/upload/w_10/media/pic.png").status_code == 200
    assert client.get(f"/image/upload/v{first['version']}/media/pic.png").status_code == 404
    assert objects(aws_env, bucket) == {"assets/pic.png": png(30)}


def test_destroy_deletes_the_object_and_delivery_stops_at_once(
    client: TestClient, aws_env: MotoS3, bucket: str
) -> None:
    call(client, "upload", {"public_id": "media/gone"}, LOGO)
    assert client.get("/image/upload/w_10/media/gone.png").status_code == 200
    assert call(client, "destroy", {"public_id": "media/gone"}).json() == {"result": "ok"}
    assert objects(aws_env, bucket) == {}
    assert client.get("/image/upload/media/gone.png").status_code == 404
    assert client.get("/image/upload/w_10/media/gone.png").status_code == 404


def test_rename_within_the_bucket_and_out_of_it(
    client: TestClient, aws_env: MotoS3, bucket: str, tmp_path: Path
) -> None:
    call(client, "upload", {"public_id": "media/a"}, LOGO)
    assert client.get("/image/upload/media/a.png").status_code == 200
    moved = call(client, "rename", {"from_public_id": "media/a", "to_public_id": "media/b"})
    assert moved.status_code == 200, moved.text
    assert objects(aws_env, bucket) == {"assets/b.png": LOGO}
    assert client.get("/image/upload/media/a.png").status_code == 404
    assert client.get("/image/upload/media/b.png").content == LOGO
    out = call(client, "rename", {"from_public_id": "media/b", "to_public_id": "local/b"})
    assert out.status_code == 200, out.text
    assert objects(aws_env, bucket) == {}
    assert (tmp_path / "originals" / "local" / "b.png").read_bytes() == LOGO
    back = call(client, "rename", {"from_public_id": "local/b", "to_public_id": "media/c"})
    assert back.status_code == 200, back.text
    assert objects(aws_env, bucket) == {"assets/c.png": LOGO}
    assert not (tmp_path / "originals" / "local" / "b.png").exists()


def test_a_failed_put_leaves_the_old_asset(
    client: TestClient, aws_env: MotoS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = call(client, "upload", {"public_id": "media/kept"}, png(20)).json()

    def refuse(self: s3.BlockingS3, key: str, data: bytes) -> None:
        raise StorageError(f"Bucket {bucket} refused access (AccessDenied)")

    monkeypatch.setattr(s3.BlockingS3, "put", refuse)
    failed = call(client, "upload", {"public_id": "media/kept"}, png(30))
    assert failed.status_code == 502 and bucket in failed.json()["error"]["message"]
    assert objects(aws_env, bucket) == {"assets/kept.png": png(20)}
    current = client.get(f"/image/upload/v{first['version']}/media/kept.png")
    assert current.status_code == 200 and current.content == png(20)


def test_an_upload_under_an_http_origin_is_a_400_naming_the_folder(
    client: TestClient, tmp_path: Path
) -> None:
    refused = call(client, "upload", {"public_id": "cdn/cat"}, LOGO)
    assert refused.status_code == 400
    message = refused.json()["error"]["message"]
    assert "cdn/" in message and "HTTP origin" in message
    assert not (tmp_path / "originals" / "cdn").exists()
    moved = call(client, "upload", {"public_id": "local/x"}, LOGO)
    assert moved.status_code == 200
    renamed = call(client, "rename", {"from_public_id": "local/x", "to_public_id": "cdn/x"})
    assert renamed.status_code == 400 and "cdn/" in renamed.json()["error"]["message"]
    assert (tmp_path / "originals" / "local" / "x.png").is_file()


def test_detections_are_seeded_under_the_key_delivery_computes(
    tmp_path: Path, aws_env: MotoS3, bucket: str
) -> None:
    """The upload's detections are stored by the bytes' digest, as delivery names a remote
    original, so the first `g_face` after an upload finds them (tests/library/test_sdk.py
    counts the detector runs end to end)."""
    originals = tmp_path / "originals"
    originals.mkdir()
    settings = Settings(
        originals=originals, cache_dir=tmp_path / "cache",
        origins={"media/": f"s3://{bucket}/assets/"},
    )  # fmt: skip
    origins = build_origins(settings, limits_for(settings))
    seeded = LibraryOriginals(OriginalsDirectory(originals), origins).put("media/cat.png", LOGO)

    async def delivery_key() -> str:
        try:
            return source_key(await origins.locate(parse_url("/image/upload/media/cat.png")))
        finally:
            await origins.aclose()

    assert seeded == anyio.run(delivery_key)
    assert seeded != LibraryOriginals(OriginalsDirectory(originals)).put("media/cat.png", LOGO)


def test_another_replicas_upload_is_served_at_once(
    tmp_path: Path, aws_env: MotoS3, bucket: str
) -> None:
    """Two replicas share the bucket and the library, each with its own cache and a long
    remote_ttl: the one that served the old bytes revalidates its copy as soon as the
    library holds a newer upload, instead of an hour later."""
    originals = tmp_path / "originals"
    originals.mkdir()
    shared = {
        "originals": originals, "library_path": tmp_path / "library.sqlite3",
        "api_key": (KEY,), "api_secret": (SECRET,), "render_threads": 2,
        "detectors": "saliency", "remote_ttl": 3600,
        "origins": {"media/": f"s3://{bucket}/assets/"},
    }  # fmt: skip
    one = TestClient(create_app(Settings(**shared, cache_dir=tmp_path / "one")))
    two = TestClient(create_app(Settings(**shared, cache_dir=tmp_path / "two")))
    with one, two:
        first = call(one, "upload", {"public_id": "media/shared"}, png(20)).json()
        assert two.get("/image/upload/media/shared.png").content == png(20)
        assert two.get("/image/upload/w_10/media/shared.png").headers["x-cache"] == "MISS"
        time.sleep(1.1)  # versions count in seconds: the next upload is a later one
        second = call(one, "upload", {"public_id": "media/shared"}, png(30)).json()
        assert second["version"] > first["version"]
        assert two.get("/image/upload/media/shared.png").content == png(30)
        resized = two.get("/image/upload/w_10/media/shared.png")
        assert resized.headers["x-cache"] == "MISS"  # a new original: a new result
        assert pyvips.Image.new_from_buffer(resized.content, "").height == 3
