"""HTTP origin mappings and fetch delivery against a fake upstream (httpx.MockTransport)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import diskcache
import httpx
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from tests.origins.helpers import CountingStream, FakeUpstream, image_size, jpeg, make_settings

BUCKET = "https://bucket.example.com/assets/"
CAT = "https://example.org/cat.jpg"


def app_client(tmp_path: Path, **overrides: Any) -> TestClient:
    values: dict[str, Any] = {
        "origins": {"media/": BUCKET},
        "fetch_allowed_hosts": ("example.org",),
    }
    return TestClient(create_app(make_settings(tmp_path, **(values | overrides))))


def remote_store_size(tmp_path: Path) -> int:
    with diskcache.Cache(str(tmp_path / "cache" / "remote-originals")) as store:
        return len(store)


def result_cache_size(tmp_path: Path) -> int:
    with diskcache.Cache(str(tmp_path / "cache" / "results")) as store:
        return len(store)


# --- HTTP origin mapping -----------------------------------------------------------------


def test_origin_mapping_fetches_prefix_rest_from_the_base_url(
    tmp_path: Path, fake: FakeUpstream
) -> None:
    fake.image(BUCKET + "cat.jpg", jpeg(400, 300))
    with app_client(tmp_path) as client:
        response = client.get("/image/upload/w_100/media/cat.jpg")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert image_size(response.content) == (100, 75)
    assert [str(r.url) for r in fake.requests] == [BUCKET + "cat.jpg"]


def test_origin_mapping_keeps_the_url_suffix_and_encodes_names(
    tmp_path: Path, fake: FakeUpstream
) -> None:
    """`.jpeg` stays `.jpeg` (not the format name) and a space is sent as %20."""
    fake.image(BUCKET + "team/my%20cat.jpeg", jpeg())
    with app_client(tmp_path) as client:
        response = client.get("/w_50/media/team/my%20cat.jpeg")
    assert response.status_code == 200, response.text
    assert str(fake.requests[0].url) == BUCKET + "team/my%20cat.jpeg"


def test_unmapped_public_ids_stay_local(tmp_path: Path, fake: FakeUpstream) -> None:
    with app_client(tmp_path) as client:
        response = client.get("/w_50/other/cat.jpg")
    assert response.status_code == 404
    assert response.headers["x-cld-error"] == "Resource not found - other/cat"
    assert fake.requests == []


def test_remote_original_is_fetched_once_for_many_variants(
    tmp_path: Path, fake: FakeUpstream
) -> None:
    fake.image(BUCKET + "cat.jpg", jpeg(), etag='"v1"')
    with app_client(tmp_path) as client:
        for width in (10, 20, 30):
            assert client.get(f"/w_{width}/media/cat.jpg").status_code == 200
    assert fake.hits(BUCKET + "cat.jpg") == 1


# --- fetch delivery ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/image/fetch/w_300/https://example.org/cat.jpg",
        "/image/fetch/w_300/https%3A%2F%2Fexample.org%2Fcat.jpg",
        "/demo/image/fetch/w_300/v7/https://example.org/cat.jpg",
    ],
)
def test_fetch_reads_the_remote_url(tmp_path: Path, fake: FakeUpstream, path: str) -> None:
    fake.image(CAT, jpeg(600, 400))
    with app_client(tmp_path) as client:
        response = client.get(path)
    assert response.status_code == 200, response.text
    assert image_size(response.content) == (300, 200)
    assert str(fake.requests[0].url) == CAT


def test_fetch_sends_identity_encoding_and_no_proxy_credentials(
    tmp_path: Path, fake: FakeUpstream
) -> None:
    fake.image(CAT, jpeg())
    with app_client(tmp_path) as client:
        client.get("/image/fetch/https://example.org/cat.jpg")
    sent = fake.requests[0].headers
    assert sent["accept-encoding"] == "identity"
    assert sent["user-agent"].startswith("pixcast/")


@pytest.mark.parametrize(
    ("hosts", "status", "message"),
    [
        ((), 403, "Fetch delivery is disabled on this server (list the hosts"),
        (("example.com",), 403, "Fetch from host example.org is not allowed"),
        (("*.org",), 200, ""),
        (("*.example.org",), 403, "Fetch from host example.org is not allowed"),
        (("*",), 200, ""),
    ],
)
def test_fetch_host_allow_list(
    tmp_path: Path, fake: FakeUpstream, hosts: tuple[str, ...], status: int, message: str
) -> None:
    fake.image(CAT, jpeg())
    with app_client(tmp_path, fetch_allowed_hosts=hosts) as client:
        response = client.get("/image/fetch/w_10/https://example.org/cat.jpg")
    assert response.status_code == status
    if message:
        assert response.headers["x-cld-error"].startswith(message)
        assert fake.requests == []  # refused before any I/O


@pytest.mark.parametrize(
    "remote",
    ["ftp://example.org/cat.jpg", "https://user:pw@example.org/cat.jpg", "example.org/cat.jpg"],
)
def test_fetch_refuses_urls_that_are_not_plain_http(
    tmp_path: Path, fake: FakeUpstream, remote: str
) -> None:
    with app_client(tmp_path, fetch_allowed_hosts=("*",)) as client:
        response = client.get(f"/image/fetch/{remote}")
    assert response.status_code == 400
    assert response.headers["x-cld-error"].startswith("Invalid remote URL")
    assert fake.requests == []


def test_fetch_redirect_to_a_host_off_the_list_is_refused(
    tmp_path: Path, fake: FakeUpstream
) -> None:
    fake.routes[CAT] = lambda r: httpx.Response(302, headers={"location": "https://evil.test/x"})
    with app_client(tmp_path) as client:
        response = client.get("/image/fetch/https://example.org/cat.jpg")
    assert response.status_code == 403
    assert "evil.test is not allowed" in response.headers["x-cld-error"]
    assert fake.hits("https://evil.test/x") == 0


def test_fetch_follows_an_allowed_redirect(tmp_path: Path, fake: FakeUpstream) -> None:
    fake.routes[CAT] = lambda r: httpx.Response(301, headers={"location": "/img/cat2.jpg"})
    fake.image("https://example.org/img/cat2.jpg", jpeg(40, 30))
    with app_client(tmp_path) as client:
        response = client.get("/image/fetch/https://example.org/cat.jpg")
    assert response.status_code == 200
    assert image_size(response.content) == (40, 30)


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://[::ffff:10.0.0.1]/x.jpg", "private"),
        ("http://127.0.0.1:8080/x.jpg", "loopback"),
        ("http://localhost/x.jpg", "loopback"),
        ("http://[fe80::1]/x.jpg", "link-local"),
    ],
)
def test_origin_redirect_to_a_private_address_is_refused(
    tmp_path: Path, fake: FakeUpstream, location: str, reason: str
) -> None:
    """Origins may redirect anywhere public, but every hop passes the SSRF guard."""
    fake.routes[BUCKET + "cat.jpg"] = lambda r: httpx.Response(302, headers={"location": location})
    with app_client(tmp_path) as client:
        response = client.get("/w_10/media/cat.jpg")
    assert response.status_code == 403
    assert response.headers["x-cld-error"].endswith(f"is a {reason} address")
    assert len(fake.requests) == 1


def test_redirects_are_capped(tmp_path: Path, fake: FakeUpstream) -> None:
    fake.routes[CAT] = lambda r: httpx.Response(302, headers={"location": CAT})
    with app_client(tmp_path) as client:
        response = client.get("/image/fetch/https://example.org/cat.jpg")
    assert response.status_code == 502
    assert "redirected more than 5 times" in response.headers["x-cld-error"]
    assert fake.hits(CAT) == 6


# --- upstream failures -------------------------------------------------------------------


def _raise(error: Exception) -> Any:
    def route(request: httpx.Request) -> httpx.Response:
        raise error

    return route


@pytest.mark.parametrize(
    ("route", "status", "message"),
    [
        (lambda r: httpx.Response(404), 404, "Resource not found - media/cat"),
        (lambda r: httpx.Response(410), 404, "Resource not found - media/cat"),
        (lambda r: httpx.Response(500), 502, "Remote source failed: bucket.example.com answered"),
        (lambda r: httpx.Response(503), 502, "Remote source failed"),
        (lambda r: httpx.Response(403), 502, "Remote source refused the request"),
        (_raise(httpx.ConnectError("refused")), 502, "Remote source unreachable: refused"),
        (_raise(httpx.ReadTimeout("slow")), 504, "Remote source timed out: media/cat"),
        (_raise(httpx.ConnectTimeout("slow")), 504, "Remote source timed out"),
        (_raise(httpx.RemoteProtocolError("cut")), 502, "Remote source unreachable: cut"),
        (
            lambda r: httpx.Response(200, content=b"<html>sorry</html>" * 10,
                                     headers={"content-type": "image/jpeg"}),
            415, "Unsupported image format: media/cat is not an image",
        ),
        (
            lambda r: httpx.Response(200, stream=CountingStream(1, 100, jpeg()),
                                     headers={"content-encoding": "gzip"}),
            502, "Remote source sent a gzip-encoded body",
        ),
    ],
)  # fmt: skip
def test_upstream_failures_map_to_statuses(
    tmp_path: Path, fake: FakeUpstream, route: Any, status: int, message: str
) -> None:
    fake.routes[BUCKET + "cat.jpg"] = route
    with app_client(tmp_path) as client:
        response = client.get("/w_10/media/cat.jpg")
        assert response.status_code == status
        assert response.headers["x-cld-error"].startswith(message)
        caching = "no-store" if status >= 500 else "public, max-age=60"
        assert response.headers["cache-control"] == caching
    # Nothing half-read or refused is kept, in either cache.
    assert remote_store_size(tmp_path) == 0
    assert result_cache_size(tmp_path) == 0


def test_content_length_over_the_cap_is_refused_before_reading(
    tmp_path: Path, fake: FakeUpstream
) -> None:
    body = CountingStream(chunks=100, size=65536)
    fake.routes[BUCKET + "cat.jpg"] = lambda r: httpx.Response(
        200, stream=body, headers={"content-length": str(100 * 65536)}
    )
    with app_client(tmp_path, max_source_bytes=1_000_000) as client:
        response = client.get("/w_10/media/cat.jpg")
    assert response.status_code == 413
    assert "larger than the limit of 1000000 bytes" in response.headers["x-cld-error"]
    assert body.pulled == 0
    assert remote_store_size(tmp_path) == 0


def test_streamed_body_over_the_cap_is_cut_off(tmp_path: Path, fake: FakeUpstream) -> None:
    body = CountingStream(chunks=100, size=65536, first=jpeg()[:65536].ljust(65536, b"\0"))
    fake.routes[BUCKET + "cat.jpg"] = lambda r: httpx.Response(200, stream=body)
    with app_client(tmp_path, max_source_bytes=200_000) as client:
        response = client.get("/w_10/media/cat.jpg")
    assert response.status_code == 413
    assert body.pulled == 4  # 4 x 64 KiB passes 200 000 bytes: reading stops there
    assert remote_store_size(tmp_path) == 0


def test_html_body_is_refused_after_its_first_bytes(tmp_path: Path, fake: FakeUpstream) -> None:
    body = CountingStream(chunks=50, size=65536, first=b"<!doctype html>" + b" " * 100)
    fake.routes[BUCKET + "cat.jpg"] = lambda r: httpx.Response(
        200, stream=body, headers={"content-type": "image/jpeg"}
    )
    with app_client(tmp_path) as client:
        response = client.get("/w_10/media/cat.jpg")
    assert response.status_code == 415
    assert body.pulled == 1


# --- revalidation ------------------------------------------------------------------------


def test_after_the_ttl_a_304_keeps_the_cached_copy(tmp_path: Path, fake: FakeUpstream) -> None:
    data = jpeg(80, 60)
    conditional: list[str | None] = []

    def route(request: httpx.Request) -> httpx.Response:
        conditional.append(request.headers.get("if-none-match"))
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304, headers={"etag": '"v1"'})
        return httpx.Response(200, content=data, headers={"etag": '"v1"'})

    fake.routes[CAT] = route
    with app_client(tmp_path, remote_ttl=0) as client:
        first = client.get("/image/fetch/https://example.org/cat.jpg")
        second = client.get("/image/fetch/https://example.org/cat.jpg")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content == data
    assert conditional == [None, '"v1"']
    assert first.headers["etag"] == second.headers["etag"]


def test_last_modified_is_used_when_there_is_no_etag(tmp_path: Path, fake: FakeUpstream) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    seen: list[str | None] = []

    def route(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("if-modified-since"))
        if request.headers.get("if-modified-since") == stamp:
            return httpx.Response(304)
        return httpx.Response(200, content=jpeg(), headers={"last-modified": stamp})

    fake.routes[CAT] = route
    with app_client(tmp_path, remote_ttl=0) as client:
        first = client.get("/image/fetch/w_20/https://example.org/cat.jpg")
        second = client.get("/image/fetch/w_20/https://example.org/cat.jpg")
    assert seen == [None, stamp]
    assert first.headers["last-modified"] == second.headers["last-modified"] == stamp
    assert second.headers["x-cache"] == "HIT"


def test_a_failed_revalidation_serves_the_cached_copy(tmp_path: Path, fake: FakeUpstream) -> None:
    data = jpeg(80, 60)
    fake.image(CAT, data, etag='"v1"')
    with app_client(tmp_path, remote_ttl=0) as client:
        assert client.get("/image/fetch/https://example.org/cat.jpg").content == data
        fake.routes[CAT] = lambda r: httpx.Response(503)
        stale = client.get("/image/fetch/https://example.org/cat.jpg")
        fake.routes[CAT] = _raise(httpx.ReadTimeout("slow"))
        # Within a minute of a failure the copy is served without asking again.
        again = client.get("/image/fetch/https://example.org/cat.jpg")
    assert stale.status_code == again.status_code == 200
    assert stale.content == again.content == data
    assert fake.hits(CAT) == 2


def test_a_changed_upstream_is_picked_up_after_the_ttl(tmp_path: Path, fake: FakeUpstream) -> None:
    fake.image(CAT, jpeg(80, 60), etag='"v1"')
    with app_client(tmp_path, remote_ttl=0) as client:
        old = client.get("/image/fetch/w_1.0/https://example.org/cat.jpg")
        fake.image(CAT, jpeg(40, 20), etag='"v2"')
        new = client.get("/image/fetch/w_1.0/https://example.org/cat.jpg")
    assert image_size(old.content) == (80, 60)
    assert image_size(new.content) == (40, 20)
    assert new.headers["x-cache"] == "MISS"


def test_a_404_on_revalidation_forgets_the_copy(tmp_path: Path, fake: FakeUpstream) -> None:
    fake.image(CAT, jpeg(), etag='"v1"')
    with app_client(tmp_path, remote_ttl=0) as client:
        assert client.get("/image/fetch/https://example.org/cat.jpg").status_code == 200
        fake.routes[CAT] = lambda r: httpx.Response(404)
        gone = client.get("/image/fetch/https://example.org/cat.jpg")
    assert gone.status_code == 404
    assert remote_store_size(tmp_path) == 1  # the body is left to age out; the record is gone


def test_within_the_ttl_the_upstream_is_not_asked(tmp_path: Path, fake: FakeUpstream) -> None:
    fake.image(CAT, jpeg(), etag='"v1"')
    with app_client(tmp_path, remote_ttl=3600) as client:
        for _ in range(3):
            assert client.get("/image/fetch/w_10/https://example.org/cat.jpg").status_code == 200
    assert fake.hits(CAT) == 1
