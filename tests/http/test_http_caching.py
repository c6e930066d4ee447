"""The result cache and HTTP caching: hits, invalidation, validators, 304s, Vary."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.cache import ResultCache
from server.settings import Settings
from transforms import pipeline

ImageWriter = Callable[..., Path]

URL = "/c_fill,w_200,h_100/camera.jpg"


def test_second_request_is_a_hit_without_rendering(
    client: TestClient, render_calls: list[str]
) -> None:
    first = client.get(URL)
    second = client.get(URL)
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "HIT")
    assert render_calls == ["camera"]
    assert first.content == second.content
    assert first.headers["etag"] == second.headers["etag"]


def test_equivalent_urls_share_one_entry(client: TestClient, render_calls: list[str]) -> None:
    """Parameter order and URL form do not matter: the canonical form is the key."""
    client.get("/c_fill,w_200,h_100/camera.jpg")
    response = client.get("/image/upload/h_100,w_200,c_fill/camera.jpg")
    assert response.headers["x-cache"] == "HIT"
    assert len(render_calls) == 1


def test_cache_survives_a_restart(
    make_settings: Callable[..., Settings], render_calls: list[str]
) -> None:
    for _ in range(2):
        with TestClient(create_app(make_settings())) as client:
            client.get(URL)
    assert len(render_calls) == 1


def test_changed_original_is_never_served_stale(
    client: TestClient, originals: Path, render_calls: list[str], write_image: ImageWriter
) -> None:
    before = client.get(URL)
    path = write_image(originals / "camera.jpg", 400, 300, invert=True)
    # Same size and mtime would be indistinguishable by stat alone; make the change visible
    # the way a real edit is, with a later mtime.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    after = client.get(URL)
    assert after.headers["x-cache"] == "MISS"
    assert after.headers["etag"] != before.headers["etag"]
    assert len(render_calls) == 2


def test_replaced_original_with_same_mtime_and_size_misses(
    client: TestClient, originals: Path, render_calls: list[str]
) -> None:
    """`cp -p` keeps mtime and size; the new inode still tells the versions apart."""
    path = originals / "camera.jpg"
    client.get(URL)
    stat = path.stat()
    replacement = originals / "replacement.tmp"
    replacement.write_bytes(path.read_bytes())
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    replacement.replace(path)
    assert client.get(URL).headers["x-cache"] == "MISS"


def test_if_none_match_gives_304(client: TestClient) -> None:
    etag = client.get(URL).headers["etag"]
    for header in (etag, f'"nope", {etag}', f"W/{etag}", "*"):
        response = client.get(URL, headers={"if-none-match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert "cache-control" in response.headers
        assert "content-length" not in response.headers


def test_if_none_match_other_tag_gives_200(client: TestClient) -> None:
    client.get(URL)
    response = client.get(URL, headers={"if-none-match": '"something-else"'})
    assert response.status_code == 200


def test_head_304(client: TestClient) -> None:
    etag = client.get(URL).headers["etag"]
    assert client.head(URL, headers={"if-none-match": etag}).status_code == 304


def test_if_modified_since(client: TestClient) -> None:
    last_modified = client.get(URL).headers["last-modified"]
    assert client.get(URL, headers={"if-modified-since": last_modified}).status_code == 304
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get(URL, headers={"if-modified-since": old}).status_code == 200
    assert client.get(URL, headers={"if-modified-since": "garbage"}).status_code == 200


def test_if_none_match_wins_over_if_modified_since(client: TestClient) -> None:
    last_modified = client.get(URL).headers["last-modified"]
    headers = {"if-none-match": '"other"', "if-modified-since": last_modified}
    assert client.get(URL, headers=headers).status_code == 200


def test_original_passthrough_304(client: TestClient) -> None:
    etag = client.get("/camera.jpg").headers["etag"]
    assert client.get("/camera.jpg", headers={"if-none-match": etag}).status_code == 304


def test_vary_only_when_format_is_negotiated(client: TestClient) -> None:
    assert "vary" not in client.get("/w_100/camera.jpg").headers
    assert "vary" not in client.get("/f_webp,w_100/camera.jpg").headers
    negotiated = client.get("/f_auto,w_100/camera.jpg", headers={"accept": "image/webp"})
    assert negotiated.headers["vary"] == "Accept"
    assert negotiated.headers["content-type"] == "image/webp"


def test_vary_on_304_of_negotiated(client: TestClient) -> None:
    headers = {"accept": "image/webp"}
    etag = client.get("/f_auto,w_100/camera.jpg", headers=headers).headers["etag"]
    again = client.get("/f_auto,w_100/camera.jpg", headers=headers | {"if-none-match": etag})
    assert again.status_code == 304
    assert again.headers["vary"] == "Accept"


def test_negotiated_variants_are_cached_per_accept_bucket(
    client: TestClient, render_calls: list[str]
) -> None:
    url = "/f_auto,w_100/camera.jpg"
    webp = client.get(url, headers={"accept": "image/webp,*/*"})
    jpeg = client.get(url, headers={"accept": "image/png,*/*"})
    webp_again = client.get(url, headers={"accept": "text/html,image/webp;q=0.9"})
    assert webp.headers["content-type"] == "image/webp"
    assert jpeg.headers["content-type"] == "image/jpeg"
    assert webp_again.headers["x-cache"] == "HIT"
    assert webp_again.content == webp.content
    assert len(render_calls) == 2


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/w_100/camera.jpg", "public, max-age=86400"),
        ("/w_100/v12345/camera.jpg", "public, max-age=31536000, immutable"),
        ("/w_100,fl_immutable_cache/camera.jpg", "public, max-age=31536000, immutable"),
        ("/v7/camera.jpg", "public, max-age=31536000, immutable"),
        ("/camera.jpg", "public, max-age=86400"),
    ],
)
def test_cache_control(client: TestClient, path: str, expected: str) -> None:
    assert client.get(path).headers["cache-control"] == expected


def test_cache_control_max_age_setting(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(cache_control_max_age=60))) as client:
        assert client.get("/w_10/camera.jpg").headers["cache-control"] == "public, max-age=60"


def test_last_modified_is_the_originals_mtime(client: TestClient, originals: Path) -> None:
    os.utime(originals / "camera.jpg", (1_600_000_000, 1_600_000_000))
    response = client.get(URL)
    assert response.headers["last-modified"] == "Sun, 13 Sep 2020 12:26:40 GMT"


def test_failed_cache_write_still_delivers(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_set(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("diskcache.Cache.set", broken_set)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.headers["x-cache"] == "MISS"
    assert "result cache write failed" in caplog.text


def test_unreadable_cache_entry_is_a_miss(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c", 1)
    cache._cache.set("key", 12345)  # not what ResultCache writes
    assert cache.get("key") is None
    cache.close()


def test_concurrent_identical_requests_render_once(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No thundering herd: requests that miss together share one render (single-flight)."""
    calls: list[str] = []
    real = pipeline.render

    def slow(t: Any, source: bytes, accept: str | None, *rest: Any) -> Any:
        calls.append(t.public_id)
        time.sleep(0.3)  # long enough for every request to arrive while it runs
        return real(t, source, accept, *rest)

    monkeypatch.setattr(pipeline, "render", slow)
    with TestClient(create_app(make_settings())) as client, ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: client.get(URL), range(6)))
    assert len(calls) == 1
    assert {a.status_code for a in answers} == {200}
    assert len({a.headers["etag"] for a in answers}) == 1
