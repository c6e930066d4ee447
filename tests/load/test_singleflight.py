"""Single-flight: identical concurrent requests render once, within a process and across
the processes that share a cache directory; a remote original is fetched once however
many variants of it are asked for at the same time."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.keylocks import KeyLocks
from server.settings import Settings
from server.storage import results
from tests.load.conftest import WAIT, Gate, jpeg, metric
from transforms.model import Rendered

URL = "/c_fill,w_120,h_90/camera.jpg"


def test_a_burst_of_identical_requests_renders_once(
    make_settings: Callable[..., Settings], gate: Gate, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pixcast.access")
    with TestClient(create_app(make_settings(access_log="json"))) as client:
        with ThreadPoolExecutor(8) as pool:
            answers = [pool.submit(client.get, URL) for _ in range(8)]
            gate.wait_for(1)
            _wait_in_flight(client, 8)
            gate.open()
            responses = [answer.result(WAIT) for answer in answers]
        text = client.get("/metrics").text
    assert gate.started == 1
    assert {r.status_code for r in responses} == {200}
    assert len({r.headers["etag"] for r in responses}) == 1
    assert metric(text, "pixcast_renders_total") == 1
    assert metric(text, "pixcast_cache_misses_total") == 8
    assert metric(text, "pixcast_coalesced_total") == 7
    lines = [json.loads(r.message) for r in caplog.records if r.name == "pixcast.access"]
    delivered = [line for line in lines if line["route"] == "deliver"]
    assert sorted(line["coalesced"] for line in delivered) == [False] + [True] * 7


def test_processes_sharing_a_cache_render_once(
    make_settings: Callable[..., Settings], gate: Gate
) -> None:
    """Two apps on one cache directory stand for two worker processes: the second waits
    for the first's cross-process lock, then serves what the first stored."""
    settings = make_settings()
    with (
        TestClient(create_app(settings)) as first,
        TestClient(create_app(settings)) as second,
        ThreadPoolExecutor(2) as pool,
    ):
        leading = pool.submit(first.get, URL)
        gate.wait_for(1)
        following = pool.submit(second.get, URL)
        _wait_in_flight(second, 2)  # its request, and the /metrics read itself
        time.sleep(0.2)  # past its cache lookup, onto the lock
        gate.open()
        answers = [leading.result(WAIT), following.result(WAIT)]
        second_metrics = second.get("/metrics").text
    assert gate.started == 1
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].content == answers[1].content
    assert answers[1].headers["x-cache"] == "MISS"
    assert metric(second_metrics, "pixcast_renders_total") == 0
    assert metric(second_metrics, "pixcast_coalesced_total") == 1


def test_a_lock_found_free_still_finds_what_its_last_holder_stored(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race between a process's first look in the cache and its lock: the other
    process stored the render and let the lock go in between. The lock is free then, and
    the result is in the cache; the second process serves it instead of rendering again."""
    settings = make_settings()
    with (
        TestClient(create_app(settings)) as first,
        TestClient(create_app(settings)) as second,
    ):
        assert first.get(URL).headers["x-cache"] == "MISS"  # rendered, stored, unlocked
        looks: list[str] = []
        real = results.lookup

        async def looked_too_early(*args: Any) -> Rendered | None:
            looks.append(args[2])
            # The second's first look, made before the first had stored: a miss.
            return None if len(looks) == 1 else await real(*args)

        monkeypatch.setattr(results, "lookup", looked_too_early)
        answer = second.get(URL)
        second_metrics = second.get("/metrics").text
    assert len(looks) == 1  # the look under the free lock is the local cache's alone
    assert answer.status_code == 200 and answer.headers["x-cache"] == "MISS"
    assert metric(second_metrics, "pixcast_renders_total") == 0
    assert metric(second_metrics, "pixcast_coalesced_total") == 1


def _wait_in_flight(client: TestClient, count: int) -> None:
    deadline = time.monotonic() + WAIT
    while metric(client.get("/metrics").text, "pixcast_requests_in_flight") < count:
        assert time.monotonic() < deadline, f"fewer than {count} requests arrived"
        time.sleep(0.01)


# --- the cross-process lock itself --------------------------------------------------------


def test_key_lock_reports_a_wait_and_cleans_up(tmp_path: Path) -> None:
    locks = KeyLocks(tmp_path / "locks")
    order: list[str] = []

    async def holder(name: str, pause: float) -> bool:
        async with locks.hold("key") as waited:
            order.append(name)
            await asyncio.sleep(pause)
            return waited

    async def scenario() -> list[bool]:
        first = asyncio.ensure_future(holder("first", 0.1))
        await asyncio.sleep(0.01)
        return list(await asyncio.gather(first, holder("second", 0)))

    assert asyncio.run(scenario()) == [False, True]
    assert order == ["first", "second"]
    assert list((tmp_path / "locks").iterdir()) == []  # no lock file left behind


HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(60)
"""


def test_a_dead_holder_releases_its_key(tmp_path: Path) -> None:
    """A worker killed mid-render must not leave its key locked for the others."""
    locks = KeyLocks(tmp_path / "locks")
    path = locks.path("key")
    command = [sys.executable, "-c", HOLD, str(path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE) as holder:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"

        async def take() -> bool:
            async with locks.hold("key") as waited:
                return waited

        async def scenario() -> bool:
            waiter = asyncio.ensure_future(take())
            await asyncio.sleep(0.1)
            assert not waiter.done()
            holder.kill()
            async with asyncio.timeout(WAIT):
                return await waiter

        try:
            assert asyncio.run(scenario()) is True
        finally:
            holder.kill()


# --- origin fetches -----------------------------------------------------------------------


class SlowUpstream(ThreadingHTTPServer):
    """An HTTP origin on 127.0.0.1 that takes 0.3 s per image and counts its GETs."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.gets = 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _SlowHandler)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class _SlowHandler(BaseHTTPRequestHandler):
    server: SlowUpstream

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.gets += 1
        time.sleep(0.3)  # every variant's request arrives while this one is under way
        self.send_response(200)
        self.send_header("content-type", "image/jpeg")
        self.send_header("content-length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[SlowUpstream]:
    server = SlowUpstream(jpeg(400, 300))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(WAIT)


def test_variants_of_one_remote_original_fetch_it_once(
    make_settings: Callable[..., Settings], upstream: SlowUpstream
) -> None:
    settings = make_settings(
        origins={"media/": upstream.base},
        allow_private_networks=(ipaddress.ip_network("127.0.0.0/8"),),
    )
    urls = [f"/w_{width}/media/cat.jpg" for width in (40, 60, 80, 100, 120)]
    with TestClient(create_app(settings)) as client, ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(client.get, urls))
    assert [a.status_code for a in answers] == [200] * 5
    assert upstream.gets == 1


def test_processes_sharing_a_cache_fetch_a_remote_original_once(
    make_settings: Callable[..., Settings], upstream: SlowUpstream
) -> None:
    settings = make_settings(
        origins={"media/": upstream.base},
        allow_private_networks=(ipaddress.ip_network("127.0.0.0/8"),),
    )
    with (
        TestClient(create_app(settings)) as first,
        TestClient(create_app(settings)) as second,
        ThreadPoolExecutor(4) as pool,
    ):
        answers = [
            pool.submit(client.get, f"/w_{width}/media/cat.jpg")
            for client, width in ((first, 40), (second, 60), (first, 80), (second, 100))
        ]
        statuses = [answer.result(WAIT).status_code for answer in answers]
    assert statuses == [200] * 4
    assert upstream.gets == 1
