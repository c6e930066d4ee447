"""examples/deploy/nginx/pixcast.conf, run for real: nginx on 127.0.0.1 in front of two
`pixcast serve` processes sharing one cache directory.

Proves that a repeated request is answered by nginx without reaching pixcast, that the
f_auto variants are kept apart by Vary, and that stopping one pixcast process (SIGTERM,
as a deploy does) loses no request.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.load.conftest import WAIT, jpeg, metric
from tests.load.serving import Server, free_port, start

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "examples" / "deploy" / "nginx" / "pixcast.conf"
MAIN = """\
{user}
daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/client-body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    include {root}/pixcast.conf;
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(found).exists(), "nginx is missing: run scripts/install-system-packages.sh"
    return found


@dataclass
class Stack:
    base: str
    pixcasts: list[Server]

    def pixcast_deliveries(self) -> float:
        """Delivery requests that reached pixcast, both processes together."""
        return sum(
            metric(httpx.get(p.base + "/metrics").text, "pixcast_requests_total", route="deliver")
            for p in self.pixcasts
        )


def write_config(root: Path, port: int, upstreams: list[int]) -> Path:
    """The example, with this test's ports and directories (nothing else changes)."""
    text = CONFIG.read_text()
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{port};",
        "server 127.0.0.1:8081 ": f"server 127.0.0.1:{upstreams[0]} ",
        "server 127.0.0.1:8082 ": f"server 127.0.0.1:{upstreams[1]} ",
        "/var/cache/nginx/pixcast": str(root / "cache"),
    }
    for old, new in replacements.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (root / "pixcast.conf").write_text(text)
    user = "user root root;" if os.geteuid() == 0 else ""
    main = root / "nginx.conf"
    main.write_text(MAIN.format(root=root, user=user))
    return main


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    originals = tmp_path / "originals"
    originals.mkdir()
    (originals / "camera.jpg").write_bytes(jpeg(400, 300))
    cache = tmp_path / "pixcast-cache"
    pixcasts = [start(originals, cache, tmp_path / f"pixcast-{n}.log") for n in (1, 2)]
    root = tmp_path / "nginx"
    root.mkdir()
    port = free_port()
    main = write_config(root, port, [p.port for p in pixcasts])
    nginx = subprocess.Popen(
        [nginx_binary(), "-p", str(root), "-c", str(main), "-e", str(root / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", nginx, root)
        yield Stack(f"http://127.0.0.1:{port}", pixcasts)
    finally:
        nginx.send_signal(signal.SIGQUIT)  # graceful stop
        try:
            nginx.wait(WAIT)
        except subprocess.TimeoutExpired:
            nginx.kill()
            nginx.wait(WAIT)
        for pixcast in pixcasts:
            pixcast.stop()


def wait_for(url: str, nginx: subprocess.Popen[bytes], root: Path) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        assert nginx.poll() is None, (root / "error.log").read_text()
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail(f"nginx did not answer {url} within {WAIT} s")


def test_a_repeated_request_is_served_by_nginx(stack: Stack) -> None:
    url = stack.base + "/c_fill,w_200,h_150/camera.jpg"
    first = httpx.get(url)
    second = httpx.get(url)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.headers["x-cache-status"] == "MISS"
    assert second.headers["x-cache-status"] == "HIT"
    assert second.content == first.content
    assert stack.pixcast_deliveries() == 1


ACCEPTS = {
    "image/avif": "image/avif,image/webp,*/*",
    "image/webp": "image/webp,*/*",
    "image/jpeg": "*/*",
}


def test_f_auto_variants_are_kept_apart_by_vary(stack: Stack) -> None:
    url = stack.base + "/c_fill,w_120,h_90/f_auto/camera.jpg"
    for _round in range(2):
        for media_type, accept in ACCEPTS.items():
            response = httpx.get(url, headers={"accept": accept})
            assert response.status_code == 200
            assert response.headers["content-type"] == media_type
            assert response.headers["vary"] == "Accept"
    assert stack.pixcast_deliveries() == len(ACCEPTS)  # the second round: all from nginx


def test_stopping_one_pixcast_loses_no_request(stack: Stack) -> None:
    """Four clients send distinct URLs (so every request reaches pixcast) while one of
    the two processes is stopped; nginx retries on the other, and all succeed."""
    urls = [f"{stack.base}/w_{width}/camera.jpg" for width in range(100, 260)]
    stopped: list[int] = []

    def fetch(url: str) -> int:
        if url.endswith("/w_140/camera.jpg"):
            stopped.append(stack.pixcasts[0].stop())
        return httpx.get(url, timeout=WAIT).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(fetch, urls))
    assert statuses == [200] * len(urls)
    assert stopped == [-signal.SIGTERM]  # a graceful exit (uvicorn re-raises the signal)
    served_by_first = stack.pixcasts[0].output().count('"GET /w_')
    served_by_second = stack.pixcasts[1].output().count('"GET /w_')
    assert served_by_first > 0 and served_by_second > 0
    assert served_by_first + served_by_second >= len(urls)
