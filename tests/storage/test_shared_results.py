"""Shared result storage on a real S3 API server: two servers (separate cache directories,
as on two hosts) share one bucket. A cold burst spread over both renders at most twice
(the render lease in the bucket), a server that starts empty serves from the bucket, and
a bucket that stops answering leaves local hits alone. The bucket's key holds what the
local one does: the f_auto format and the client-hint width."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from server.app import create_app
from tests.load.conftest import WAIT, metric
from tests.origins.helpers import image_size, jpeg, make_settings
from tests.storage.conftest import MotoS3

URL = "/c_fill,w_160,h_120/media/cat.jpg"
BURST = 200


def replica(root: Path, bucket: str, **overrides: Any) -> TestClient:
    values: dict[str, Any] = {
        "origins": {"media/": f"s3://{bucket}/originals/"},
        "result_storage": f"s3://{bucket}/shared",
        "render_threads": 2,
    }
    return TestClient(create_app(make_settings(root, **(values | overrides))))


def renders(client: TestClient) -> float:
    return metric(client.get("/metrics").text, "pixcast_renders_total")


def shared_objects(s3: Any, bucket: str, folder: str) -> list[str]:
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"shared/{folder}/")
    return [item["Key"] for item in listing.get("Contents", [])]


def test_two_replicas_share_renders_through_the_bucket(
    tmp_path: Path, aws_env: MotoS3, bucket: str
) -> None:
    s3 = aws_env.client()
    s3.put_object(Bucket=bucket, Key="originals/cat.jpg", Body=jpeg(640, 480))
    with (
        replica(tmp_path / "a", bucket) as first,
        replica(tmp_path / "b", bucket) as second,
        ThreadPoolExecutor(16) as pool,
    ):
        clients = itertools.islice(itertools.cycle([first, second]), BURST)
        answers = [pool.submit(client.get, URL) for client in clients]
        responses = [answer.result(WAIT) for answer in answers]
        total = renders(first) + renders(second)
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert total == 1  # the lease: the second replica waited, then read the bucket
    assert len(shared_objects(s3, bucket, "results")) == 1
    assert shared_objects(s3, bucket, "locks") == []  # every lease was released
    # A third replica starting with an empty cache serves the variant from the bucket.
    with replica(tmp_path / "c", bucket) as fresh:
        again = fresh.get(URL)
        assert renders(fresh) == 0
    assert (again.status_code, again.headers["x-cache"]) == (200, "HIT")
    assert again.content == responses[0].content


def test_a_replica_keeps_its_local_hits_when_the_bucket_stops(
    tmp_path: Path, aws_env: MotoS3, bucket: str
) -> None:
    s3 = aws_env.client()
    s3.put_object(Bucket=bucket, Key="originals/cat.jpg", Body=jpeg(640, 480))
    s3.put_object(Bucket=bucket, Key="originals/dog.jpg", Body=jpeg(300, 300))
    with replica(tmp_path / "a", bucket, request_timeout=2.0) as client:
        assert client.get(URL).status_code == 200
        with aws_env.stopped():
            local = [client.get(URL) for _ in range(3)]
            missing = client.get("/w_100/media/dog.jpg")
        recovered = client.get("/w_100/media/dog.jpg")
    assert [(r.status_code, r.headers["x-cache"]) for r in local] == [(200, "HIT")] * 3
    assert missing.status_code == 504
    assert recovered.status_code == 200, recovered.text
    assert image_size(recovered.content) == (100, 100)


def test_a_shared_directory_works_as_result_storage(tmp_path: Path) -> None:
    """A directory every host mounts is the other writable backend."""
    originals = tmp_path / "originals"
    originals.mkdir()
    (originals / "cat.jpg").write_bytes(jpeg(640, 480))
    shared = tmp_path / "mounted"
    values: dict[str, Any] = {"originals": originals, "result_storage": str(shared)}
    with TestClient(create_app(make_settings(tmp_path / "a", **values))) as first:
        made = first.get("/c_fill,w_160,h_120/cat.jpg")
    with TestClient(create_app(make_settings(tmp_path / "b", **values))) as second:
        served = second.get("/c_fill,w_160,h_120/cat.jpg")
        assert renders(second) == 0
    assert (made.headers["x-cache"], served.headers["x-cache"]) == ("MISS", "HIT")
    assert served.content == made.content
    assert len(list((shared / "results").rglob("*"))) == 2  # a fan-out folder, one result
    assert list((shared / "locks").iterdir()) == []


def test_the_shared_key_keeps_accept_buckets_and_client_hints_apart(
    tmp_path: Path, aws_env: MotoS3, bucket: str
) -> None:
    """What f_auto negotiated and which width a client hint gave are part of the key in
    the bucket as in the local cache: an empty replica serves each from the bucket as it
    was rendered, and renders what no replica has asked for yet."""
    s3 = aws_env.client()
    s3.put_object(Bucket=bucket, Key="originals/cat.jpg", Body=jpeg(640, 480))
    asks = [
        ("/f_auto,w_160/media/cat.jpg", {"accept": "image/webp,*/*"}),
        ("/f_auto,w_160/media/cat.jpg", {"accept": "image/jpeg"}),
        ("/c_scale,w_auto/media/cat.jpg", {"sec-ch-width": "200"}),
        ("/c_scale,w_auto/media/cat.jpg", {"sec-ch-width": "400"}),
    ]
    with replica(tmp_path / "a", bucket) as first:
        made = [first.get(path, headers=headers) for path, headers in asks]
    with replica(tmp_path / "b", bucket) as fresh:
        served = [fresh.get(path, headers=headers) for path, headers in asks]
        assert renders(fresh) == 0
        avif = fresh.get(asks[0][0], headers={"accept": "image/avif,image/webp"})
        assert renders(fresh) == 1
    assert [r.headers["content-type"] for r in made[:2]] == ["image/webp", "image/jpeg"]
    assert [image_size(r.content)[0] for r in made[2:]] == [200, 400]
    assert [r.headers["x-cache"] for r in served] == ["HIT"] * 4
    assert [r.content for r in served] == [r.content for r in made]
    assert [r.headers["content-type"] for r in served] == [r.headers["content-type"] for r in made]
    assert (avif.headers["x-cache"], avif.headers["content-type"]) == ("MISS", "image/avif")
