"""Remote originals from a real HTTP server on 127.0.0.1, through the real guarded client.

Loopback is refused by default; these tests allow 127.0.0.0/8 with
`allow_private_networks`, as an operator would for an origin on a private network.
"""

from __future__ import annotations

import ipaddress
import time
from pathlib import Path
from typing import Any

import diskcache
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from tests.origins.helpers import Upstream, closed_port, image_size, jpeg, make_settings

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


def app_client(tmp_path: Path, upstream: Upstream, **overrides: Any) -> TestClient:
    values: dict[str, Any] = {
        "origins": {"web/": upstream.url("/")},
        "fetch_allowed_hosts": ("127.0.0.1",),
        "allow_private_networks": LOOPBACK,
        "request_timeout": 5.0,
    }
    return TestClient(create_app(make_settings(tmp_path, **(values | overrides))))


def remote_store_size(tmp_path: Path) -> int:
    with diskcache.Cache(str(tmp_path / "cache" / "remote-originals")) as store:
        return len(store)


def test_http_origin_over_a_real_connection(tmp_path: Path, upstream: Upstream) -> None:
    upstream.image("/cat.jpg", jpeg(400, 300))
    with app_client(tmp_path, upstream) as client:
        response = client.get("/c_fill,w_100,h_100/web/cat.jpg")
    assert response.status_code == 200, response.text
    assert image_size(response.content) == (100, 100)
    path, headers = upstream.requests[0]
    assert path == "/cat.jpg"
    assert headers["host"] == f"127.0.0.1:{upstream.port}"
    assert headers["accept-encoding"] == "identity"


def test_fetch_over_a_real_connection(tmp_path: Path, upstream: Upstream) -> None:
    upstream.image("/dir/dog.jpg", jpeg(200, 100))
    with app_client(tmp_path, upstream) as client:
        response = client.get(f"/image/fetch/w_50/{upstream.url('/dir/dog.jpg')}")
    assert response.status_code == 200, response.text
    assert image_size(response.content) == (50, 25)


def test_loopback_is_refused_unless_allowed(tmp_path: Path, upstream: Upstream) -> None:
    upstream.image("/cat.jpg", jpeg())
    with app_client(tmp_path, upstream, allow_private_networks=()) as client:
        response = client.get("/w_10/web/cat.jpg")
    assert response.status_code == 403
    assert (
        response.headers["x-cld-error"] == "Remote source refused: 127.0.0.1 is a loopback address"
    )
    assert upstream.requests == []


@pytest.mark.parametrize(
    "location",
    [
        "http://10.0.0.1/cat.jpg",
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://[::ffff:192.168.1.1]/cat.jpg",
        "http://[fd00:ec2::254]/latest/",
    ],
)
def test_redirect_to_a_private_address_is_refused(
    tmp_path: Path, upstream: Upstream, location: str
) -> None:
    upstream.redirect("/moved.jpg", location)
    with app_client(tmp_path, upstream) as client:
        response = client.get("/w_10/web/moved.jpg")
    assert response.status_code == 403
    assert response.headers["x-cld-error"].startswith("Remote source refused")


def test_redirect_within_the_upstream_is_followed(tmp_path: Path, upstream: Upstream) -> None:
    upstream.redirect("/old.jpg", "/new.jpg")
    upstream.image("/new.jpg", jpeg(60, 40))
    with app_client(tmp_path, upstream) as client:
        response = client.get("/web/old.jpg")
    assert response.status_code == 200
    assert image_size(response.content) == (60, 40)


@pytest.mark.parametrize(("code", "status"), [(404, 404), (410, 404), (500, 502), (502, 502)])
def test_upstream_status_codes(tmp_path: Path, upstream: Upstream, code: int, status: int) -> None:
    upstream.status("/cat.jpg", code)
    with app_client(tmp_path, upstream) as client:
        response = client.get("/w_10/web/cat.jpg")
    assert response.status_code == status
    assert response.headers["x-cld-error"]


def test_connection_refused_is_502(tmp_path: Path, upstream: Upstream) -> None:
    origins = {"web/": f"http://127.0.0.1:{closed_port()}/"}
    with app_client(tmp_path, upstream, origins=origins) as client:
        response = client.get("/w_10/web/cat.jpg")
    assert response.status_code == 502
    assert response.headers["x-cld-error"].startswith("Remote source unreachable")


def test_slow_upstream_is_504_within_the_deadline(tmp_path: Path, upstream: Upstream) -> None:
    upstream.slow("/cat.jpg", jpeg(), seconds=5)
    with app_client(tmp_path, upstream, request_timeout=0.5) as client:
        started = time.perf_counter()
        response = client.get("/w_10/web/cat.jpg")
        took = time.perf_counter() - started
    assert response.status_code == 504
    # Whichever deadline fires first, the fetch's or the request's, names a timeout.
    assert "timed out" in response.headers["x-cld-error"] or "took longer" in response.text
    assert took < 2.0


@pytest.mark.parametrize("declared", [True, False])
def test_oversized_body_is_413_and_reading_stops(
    tmp_path: Path, upstream: Upstream, declared: bool
) -> None:
    """With Content-Length the answer comes before the body; without, at the cap."""
    total = 512 * 65536  # 32 MiB on offer: more than socket buffers can swallow
    upstream.stream("/huge.jpg", jpeg(), total, declared)
    with app_client(tmp_path, upstream, max_source_bytes=300_000) as client:
        response = client.get("/w_10/web/huge.jpg")
    assert response.status_code == 413
    assert "larger than the limit of 300000 bytes" in response.headers["x-cld-error"]
    assert _settled(upstream, "/huge.jpg") < total  # pixcast hung up before the end
    assert remote_store_size(tmp_path) == 0


def _settled(upstream: Upstream, path: str) -> int:
    """The bytes a streaming route wrote, once it stopped writing (bounded wait)."""
    last = -1
    for _ in range(100):
        now = upstream.sent.get(path, 0)
        if now == last:
            return now
        last = now
        time.sleep(0.05)
    return last


def test_truncated_transfer_is_502_and_nothing_is_kept(tmp_path: Path, upstream: Upstream) -> None:
    upstream.truncated("/cut.jpg", jpeg(400, 300))
    with app_client(tmp_path, upstream) as client:
        response = client.get("/w_10/web/cut.jpg")
    assert response.status_code == 502
    assert remote_store_size(tmp_path) == 0


def test_html_with_an_image_content_type_is_415(tmp_path: Path, upstream: Upstream) -> None:
    def route(handler: Any) -> None:
        handler.reply(200, b"<!doctype html><title>Login</title>" * 20, "image/jpeg")

    upstream.routes["/login.jpg"] = route
    with app_client(tmp_path, upstream) as client:
        response = client.get("/web/login.jpg")
    assert response.status_code == 415
    assert response.headers["x-cld-error"] == "Unsupported image format: web/login is not an image"


def test_etag_revalidation_with_a_real_304(tmp_path: Path, upstream: Upstream) -> None:
    data = jpeg(120, 90)
    upstream.image("/cat.jpg", data, etag='"abc"')
    with app_client(tmp_path, upstream, remote_ttl=0) as client:
        first = client.get("/web/cat.jpg")
        second = client.get("/web/cat.jpg")
    assert first.content == second.content == data
    conditional = [headers.get("if-none-match") for _, headers in upstream.requests]
    assert conditional == [None, '"abc"']
