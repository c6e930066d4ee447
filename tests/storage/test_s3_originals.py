"""S3 originals from a private bucket on a real S3 API server (moto, loopback): signed
reads, the errors a bucket can answer with, revalidation of a replaced key, the byte cap
and magic-byte checks, a bucket that stops answering, and one fetch of an original for
processes sharing a cache."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import botocore.session
import diskcache
import httpx
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from tests.origins.helpers import image_size, jpeg, make_settings
from tests.storage.conftest import MotoS3


def s3_app(tmp_path: Path, bucket: str, **overrides: Any) -> TestClient:
    values: dict[str, Any] = {"origins": {"media/": f"s3://{bucket}/assets/"}}
    return TestClient(create_app(make_settings(tmp_path, **(values | overrides))))


def remote_store_size(tmp_path: Path) -> int:
    with diskcache.Cache(str(tmp_path / "cache" / "remote-originals")) as store:
        return len(store)


def test_a_private_bucket_is_read_with_signed_requests(
    tmp_path: Path, aws_env: MotoS3, bucket: str
) -> None:
    aws_env.client().put_object(Bucket=bucket, Key="assets/cat.jpg", Body=jpeg(400, 300))
    anonymous = httpx.get(f"{aws_env.endpoint}/{bucket}/assets/cat.jpg")
    assert anonymous.status_code == 403  # the bucket is private: unsigned reads fail
    with s3_app(tmp_path, bucket) as client:
        response = client.get("/c_fill,w_100,h_80/media/cat.jpg")
        original = client.get("/media/cat.jpg")
    assert response.status_code == 200, response.text
    assert image_size(response.content) == (100, 80)
    assert original.content == jpeg(400, 300)


def test_a_per_origin_endpoint_and_path_style(
    tmp_path: Path, aws_env: MotoS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    aws_env.client().put_object(Bucket=bucket, Key="cat.jpg", Body=jpeg(200, 100))
    base = f"s3://{bucket}?endpoint={aws_env.endpoint}&region=us-east-1&path_style=true"
    with s3_app(tmp_path, bucket, origins={"media/": base}) as client:
        response = client.get("/w_50/media/cat.jpg")
    assert response.status_code == 200, response.text
    assert image_size(response.content) == (50, 25)


def test_bad_credentials_are_a_502_naming_the_bucket(
    tmp_path: Path, aws_env: MotoS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws_env.client().put_object(Bucket=bucket, Key="assets/cat.jpg", Body=jpeg())
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with s3_app(tmp_path, bucket) as client:
        response = client.get("/w_100/media/cat.jpg")
    assert response.status_code == 502
    message = response.headers["x-cld-error"]
    assert bucket in message and "refused access" in message
    assert aws_env.key_id not in message and "not-the-secret" not in message


def test_a_missing_key_is_a_404(tmp_path: Path, aws_env: MotoS3, bucket: str) -> None:
    with s3_app(tmp_path, bucket) as client:
        response = client.get("/w_100/media/nope.jpg")
    assert response.status_code == 404
    assert response.headers["x-cld-error"] == "Resource not found - media/nope"


def test_a_missing_bucket_is_a_502_naming_it(tmp_path: Path, aws_env: MotoS3) -> None:
    with s3_app(tmp_path, "pixcast-no-such-bucket") as client:
        response = client.get("/w_100/media/cat.jpg")
    assert response.status_code == 502
    assert "pixcast-no-such-bucket" in response.headers["x-cld-error"]


def test_a_replaced_key_is_served_after_revalidation(
    tmp_path: Path, aws_env: MotoS3, bucket: str
) -> None:
    s3 = aws_env.client()
    s3.put_object(Bucket=bucket, Key="assets/cat.jpg", Body=jpeg(400, 300))
    with s3_app(tmp_path, bucket, remote_ttl=0) as client:
        first = client.get("/h_50/media/cat.jpg")
        unchanged = client.get("/h_50/media/cat.jpg")  # revalidated: ETag still matches
        s3.put_object(Bucket=bucket, Key="assets/cat.jpg", Body=jpeg(300, 300))
        replaced = [client.get("/h_50/media/cat.jpg") for _ in range(2)]
    assert image_size(first.content) == (67, 50)
    assert unchanged.headers["x-cache"] == "HIT"
    assert [image_size(r.content) for r in replaced] == [(50, 50), (50, 50)]
    assert replaced[0].headers["x-cache"] == "MISS"


def test_the_byte_cap_and_magic_bytes_apply(tmp_path: Path, aws_env: MotoS3, bucket: str) -> None:
    s3 = aws_env.client()
    s3.put_object(Bucket=bucket, Key="assets/big.jpg", Body=jpeg(800, 800))
    s3.put_object(Bucket=bucket, Key="assets/page.jpg", Body=b"<html>" + b"x" * 2000)
    with s3_app(tmp_path, bucket, max_source_bytes=4096) as client:
        big = client.get("/w_10/media/big.jpg")
        page = client.get("/w_10/media/page.jpg")
    assert big.status_code == 413
    assert "larger than the limit of 4096 bytes" in big.headers["x-cld-error"]
    assert page.status_code == 415
    assert page.headers["x-cld-error"] == "Unsupported image format: media/page is not an image"
    assert remote_store_size(tmp_path) == 0  # nothing refused was kept


def test_a_bucket_that_stops_answering(tmp_path: Path, aws_env: MotoS3, bucket: str) -> None:
    """Cached variants keep coming; what needs the bucket is a 504; then it recovers."""
    s3 = aws_env.client()
    s3.put_object(Bucket=bucket, Key="assets/cat.jpg", Body=jpeg())
    s3.put_object(Bucket=bucket, Key="assets/dog.jpg", Body=jpeg(200, 200))
    with s3_app(tmp_path, bucket, request_timeout=2.0) as client:
        assert client.get("/w_100/media/cat.jpg").status_code == 200
        with aws_env.stopped():
            cached = client.get("/w_100/media/cat.jpg")
            other_size = client.get("/w_60/media/cat.jpg")  # the original is kept locally
            unreachable = client.get("/w_100/media/dog.jpg")
        recovered = client.get("/w_100/media/dog.jpg")
    assert (cached.status_code, cached.headers["x-cache"]) == (200, "HIT")
    assert other_size.status_code == 200
    assert unreachable.status_code == 504
    assert recovered.status_code == 200, recovered.text
    assert image_size(recovered.content) == (100, 100)


def test_readiness_asks_the_bucket(
    tmp_path: Path, aws_env: MotoS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    overrides = {"result_storage": f"s3://{bucket}/shared"}
    with s3_app(tmp_path / "good", bucket, **overrides) as client:
        ready = client.get("/readyz").json()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with s3_app(tmp_path / "bad", bucket, **overrides) as client:
        refused = client.get("/readyz")
    assert ready["checks"]["origin media/"] == "ok"
    assert ready["checks"]["result storage"] == "ok"
    assert refused.status_code == 503
    assert refused.json()["checks"]["result storage"].startswith("unreachable: Bucket")


class CountedGets:
    """Counts the S3 GetObject requests every botocore client made in this process sends
    to the server, and holds each 0.3 s so that concurrent requests overlap."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.gets = 0
        self._lock = threading.Lock()
        create = botocore.session.Session.create_client

        def counted(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = create(session, *args, **kwargs)
            client.meta.events.register("before-send.s3.GetObject", self._sent)
            return client

        monkeypatch.setattr(botocore.session.Session, "create_client", counted)

    def _sent(self, **_: Any) -> None:
        with self._lock:
            self.gets += 1
        time.sleep(0.3)  # None: botocore still sends the request to the server


def test_processes_sharing_a_cache_fetch_an_s3_original_once(
    tmp_path: Path, aws_env: MotoS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws_env.client().put_object(Bucket=bucket, Key="assets/cat.jpg", Body=jpeg(400, 300))
    counted = CountedGets(monkeypatch)
    with (
        s3_app(tmp_path, bucket) as first,
        s3_app(tmp_path, bucket) as second,
        ThreadPoolExecutor(4) as pool,
    ):
        answers = [
            pool.submit(client.get, f"/w_{width}/media/cat.jpg")
            for client, width in ((first, 40), (second, 60), (first, 80), (second, 100))
        ]
        statuses = [answer.result(60).status_code for answer in answers]
    assert statuses == [200] * 4
    assert counted.gets == 1
