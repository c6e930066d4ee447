"""Bounded work: at most `render_threads` renders run, at most `queue_limit` wait, and past
that a request is refused at once with 503 and Retry-After instead of piling up."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.concurrency import Overloaded, RenderPool
from server.origins import LocalOrigin, Original, SourceIdentity
from server.settings import Settings
from tests.load.conftest import WAIT, Gate, metric


class Counting:
    """A PoolObserver that keeps the pool's reports."""

    def __init__(self) -> None:
        self.queued_now = 0
        self.started_count = 0
        self.finished_count = 0
        self.rejected_count = 0

    def queued(self, change: int) -> None:
        self.queued_now += change

    def started(self) -> None:
        self.started_count += 1

    def finished(self) -> None:
        self.finished_count += 1

    def rejected(self) -> None:
        self.rejected_count += 1


def test_pool_refuses_past_threads_plus_queue() -> None:
    release = threading.Event()
    observer = Counting()
    pool = RenderPool(1, queue_limit=1, observer=observer)

    async def scenario() -> list[object]:
        running = asyncio.ensure_future(pool.run(release.wait, WAIT))
        waiting = asyncio.ensure_future(pool.run(lambda: "second"))
        await asyncio.sleep(0.05)
        assert (pool.running, pool.waiting) == (1, 1)
        with pytest.raises(Overloaded):
            await pool.run(lambda: "third")
        release.set()
        return list(await asyncio.gather(running, waiting))

    try:
        assert asyncio.run(scenario()) == [True, "second"]
    finally:
        release.set()
        pool.close()
    assert (observer.started_count, observer.finished_count) == (2, 2)
    assert (observer.rejected_count, observer.queued_now) == (1, 0)


def test_a_caller_that_gives_up_leaves_the_queue() -> None:
    """A queued render whose caller was cancelled (deadline, client gone) never runs."""
    release = threading.Event()
    ran: list[str] = []
    pool = RenderPool(1, queue_limit=4)

    async def scenario() -> None:
        running = asyncio.ensure_future(pool.run(release.wait, WAIT))
        await asyncio.sleep(0.05)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await pool.run(ran.append, "abandoned")
        assert pool.waiting == 0
        release.set()
        await running

    try:
        asyncio.run(scenario())
    finally:
        release.set()
        pool.close()
    assert ran == []


def test_overload_answers_503_with_retry_after_at_once(
    make_settings: Callable[..., Settings], gate: Gate
) -> None:
    settings = make_settings(render_threads=1, queue_limit=1)
    with TestClient(create_app(settings)) as client, ThreadPoolExecutor(2) as pool:
        first = pool.submit(client.get, "/w_100/camera.jpg")
        gate.wait_for(1)  # the only thread is busy
        queued = pool.submit(client.get, "/w_110/camera.jpg")
        deadline = time.monotonic() + WAIT
        while "pixcast_renders_queued 1.0" not in client.get("/metrics").text:
            assert time.monotonic() < deadline, "the second render never queued"
            time.sleep(0.01)
        started = time.monotonic()
        refused = client.get("/w_120/camera.jpg")
        refused_in = time.monotonic() - started
        gate.open()
        answers = [first.result(WAIT), queued.result(WAIT)]
        text = client.get("/metrics").text
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["cache-control"] == "no-store"
    assert "Server busy" in refused.headers["x-cld-error"]
    assert refused_in < 1.0  # refused, not queued
    assert [a.status_code for a in answers] == [200, 200]
    assert metric(text, "pixcast_renders_rejected_total") == 1
    assert metric(text, "pixcast_requests_total", route="deliver", status="503") == 1
    assert metric(text, "pixcast_renders_total") == 2


def test_cache_hits_are_never_refused(make_settings: Callable[..., Settings], gate: Gate) -> None:
    """Backpressure is on renders only: a stored variant is served while renders queue."""
    settings = make_settings(render_threads=1, queue_limit=0)
    with TestClient(create_app(settings)) as client, ThreadPoolExecutor(1) as pool:
        gate.open()
        assert client.get("/w_90/camera.jpg").status_code == 200
        gate.close()
        busy = pool.submit(client.get, "/w_100/camera.jpg")
        gate.wait_for(1)
        hit = client.get("/w_90/camera.jpg")
        refused = client.get("/w_95/camera.jpg")
        gate.open()
        assert busy.result(WAIT).status_code == 200
    assert (hit.status_code, hit.headers["x-cache"]) == (200, "HIT")
    assert refused.status_code == 503


def test_waiting_requests_hold_no_original(
    make_settings: Callable[..., Settings], gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queue of requests for large originals must not be a queue of their bytes: the
    original is read only once the request's turn has come."""
    reads: list[str] = []
    real = LocalOrigin.read

    def recording(self: LocalOrigin, source: SourceIdentity) -> Original:
        reads.append(source.path.rsplit("/", 1)[-1])
        return real(self, source)

    monkeypatch.setattr(LocalOrigin, "read", recording)
    settings = make_settings(render_threads=1, queue_limit=4)
    with TestClient(create_app(settings)) as client, ThreadPoolExecutor(2) as pool:
        first = pool.submit(client.get, "/w_100/camera.jpg")
        gate.wait_for(1)
        second = pool.submit(client.get, "/w_100/other.jpg")
        deadline = time.monotonic() + WAIT
        while metric(client.get("/metrics").text, "pixcast_renders_queued") < 1:
            assert time.monotonic() < deadline, "the second request never queued"
            time.sleep(0.01)
        assert reads == ["camera.jpg"]
        gate.open()
        assert [first.result(WAIT).status_code, second.result(WAIT).status_code] == [200, 200]
    assert reads == ["camera.jpg", "other.jpg"]


def test_a_render_keeps_its_turn_after_its_caller_gave_up() -> None:
    """The bound is on renders really running: a render whose caller left still holds
    its thread's turn, so the next render starts only when it ends."""
    release = threading.Event()
    order: list[str] = []
    pool = RenderPool(1, queue_limit=1)

    def first() -> None:
        release.wait(WAIT)
        order.append("first ended")

    async def scenario() -> None:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await pool.run(first)
        second = asyncio.ensure_future(pool.run(order.append, "second ran"))
        await asyncio.sleep(0.05)
        assert order == [] and pool.running == 1
        release.set()
        async with asyncio.timeout(WAIT):
            await second

    try:
        asyncio.run(scenario())
    finally:
        release.set()
        pool.close()
    assert order == ["first ended", "second ran"]
