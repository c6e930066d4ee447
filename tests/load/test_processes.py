"""`pixcast serve --workers N` and graceful shutdown, with real processes on loopback."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import pyvips

from server.maintenance import verify
from tests.load.conftest import WAIT, metric
from tests.load.serving import Server, start

BURST = "/c_fill,w_200,h_150/camera.jpg"
SLOW = "/w_3000,e_blur:400/big.png"  # about a second of work on one core


@pytest.fixture
def two_workers(originals: Path, tmp_path: Path) -> Iterator[Server]:
    server = start(originals, tmp_path / "cache", tmp_path / "server.log", "--workers", "2")
    try:
        yield server
    finally:
        assert server.stop() == 0
        assert "Traceback" not in server.output(), server.output()


def test_workers_are_processes_that_render_once_and_count_together(
    two_workers: Server,
) -> None:
    assert len(two_workers.workers()) == 2
    with httpx.Client(base_url=two_workers.base, timeout=WAIT) as client:
        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(lambda _: client.get(BURST), range(20)))
        assert {a.status_code for a in answers} == {200}
        assert len({a.headers["etag"] for a in answers}) == 1
        # Each /metrics read may be answered by either process: all show the same sums.
        reads = [client.get("/metrics").text for _ in range(6)]
    for text in reads:
        assert metric(text, "pixcast_renders_total") == 1
        assert metric(text, "pixcast_requests_total", route="deliver", status="200") == 20


def make_big_original(originals: Path) -> None:
    noise = pyvips.Image.gaussnoise(4000, 3000, mean=128, sigma=40).cast("uchar")
    noise.bandjoin([noise, noise]).copy(interpretation="srgb").write_to_file(
        str(originals / "big.jpg"), Q=90
    )


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_finishes_requests_in_flight(originals: Path, tmp_path: Path, workers: str) -> None:
    """Stopping a server mid-render: the render completes and is answered, the process
    exits cleanly, and the cache holds the finished entry and nothing half-written."""
    make_big_original(originals)
    cache = tmp_path / "cache"
    server = start(originals, cache, tmp_path / "server.log", "--workers", workers)
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(httpx.get, server.base + SLOW, timeout=WAIT)
        _wait_until_rendering(server)
        server.process.send_signal(signal.SIGTERM)
        response = pending.result(WAIT)
        # uvicorn re-raises the signal once it has shut down gracefully; its supervisor
        # of worker processes exits 0.
        assert server.stop() in (0, -signal.SIGTERM)
    output = server.output()
    assert "Traceback" not in output, output
    assert response.status_code == 200
    image = pyvips.Image.new_from_buffer(response.content, "")
    assert (image.width, image.height) == (3000, 2250)
    assert _cache_problems(cache) == []
    again = start(originals, cache, tmp_path / "again.log")
    try:
        replay = httpx.get(again.base + SLOW, timeout=WAIT)
    finally:
        again.stop()
    assert (replay.headers["x-cache"], replay.headers["etag"]) == ("HIT", response.headers["etag"])


def _wait_until_rendering(server: Server) -> None:
    deadline = time.monotonic() + WAIT
    while metric(httpx.get(server.base + "/metrics").text, "pixcast_renders_running") < 1:
        assert time.monotonic() < deadline, "the render never started"
        time.sleep(0.02)


def _cache_problems(cache: Path) -> list[str]:
    """diskcache's own consistency check of every store (its database and files)."""
    return [problem for found in verify(cache, fix=False).values() for problem in found]
