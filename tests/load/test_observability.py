"""/metrics, /readyz, the access log and Server-Timing: what an operator watches."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.cache import ResultCache
from server.metrics import MULTIPROC_ENV
from server.settings import Settings
from server.timing import Timings
from tests.load.conftest import metric

SALIENT = "/c_fill,g_auto,w_100,h_100/camera.jpg"


def phases(response_header: str) -> dict[str, float]:
    parts = (part.strip().split(";dur=") for part in response_header.split(","))
    return {name: float(value) for name, value in parts}


def test_metrics_count_requests_renders_cache_and_bytes(
    make_settings: Callable[..., Settings],
) -> None:
    with TestClient(create_app(make_settings())) as client:
        first = client.get("/w_100/camera.jpg")
        client.get("/w_100/camera.jpg")
        client.get("/w_abc/camera.jpg")
        response = client.get("/metrics")
    text = response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert metric(text, "pixcast_renders_total") == 1
    assert metric(text, "pixcast_cache_misses_total") == 1
    assert metric(text, "pixcast_cache_hits_total") == 1
    assert metric(text, "pixcast_requests_total", route="deliver", status="200") == 2
    assert metric(text, "pixcast_requests_total", route="deliver", status="400") == 1
    assert metric(text, "pixcast_request_duration_seconds_count", route="deliver") == 3
    sent = metric(text, "pixcast_response_bytes_total", route="deliver")
    assert sent >= 2 * len(first.content)
    for phase in ("queue", "origin", "cache", "render", "encode"):
        assert metric(text, "pixcast_phase_duration_seconds_count", phase=phase) >= 1, phase
    assert metric(text, "pixcast_requests_in_flight") == 1  # this very request
    assert metric(text, "pixcast_renders_queued") == 0
    assert metric(text, "pixcast_renders_running") == 0


def test_detector_runs_and_the_detect_phase(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(detectors="saliency"))) as client:
        response = client.get(SALIENT)
        text = client.get("/metrics").text
    assert response.status_code == 200
    assert metric(text, "pixcast_detector_runs_total", detector="saliency", outcome="ok") == 1
    assert "detect" in phases(response.headers["server-timing"])


def test_server_timing_names_the_phases(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings())) as client:
        miss = phases(client.get("/w_100/camera.jpg").headers["server-timing"])
        hit = phases(client.get("/w_100/camera.jpg").headers["server-timing"])
    assert {"queue", "origin", "cache", "render", "encode", "total"} <= set(miss)
    assert {"origin", "cache", "total"} <= set(hit)
    assert "render" not in hit
    inside = sum(value for name, value in miss.items() if name != "total")
    assert inside <= miss["total"] + 0.5  # disjoint phases (rounded to 0.1 ms each)


def test_json_access_log_line(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pixcast.access")
    with TestClient(create_app(make_settings(access_log="json"))) as client:
        response = client.get("/w_100/camera.jpg?x=1", headers={"user-agent": "probe/1"})
    lines = [json.loads(r.message) for r in caplog.records if r.name == "pixcast.access"]
    assert len(lines) == 1
    line = lines[0]
    assert line["method"] == "GET"
    assert line["path"] == "/w_100/camera.jpg?x=1"
    assert (line["status"], line["route"], line["cache"]) == (200, "deliver", "MISS")
    assert line["bytes"] == len(response.content)
    assert line["coalesced"] is False
    assert line["user_agent"] == "probe/1"
    assert {"queue", "render", "encode"} <= set(line["phases_ms"])
    assert line["ms"] >= line["phases_ms"]["render"]


def test_text_access_log_line_and_off(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pixcast.access")
    with TestClient(create_app(make_settings())) as client:
        client.get("/w_100/camera.jpg")
    with TestClient(create_app(make_settings(access_log="off"))) as client:
        client.get("/w_100/camera.jpg")
    lines = [r.message for r in caplog.records if r.name == "pixcast.access"]
    assert len(lines) == 1
    assert lines[0].startswith('testclient "GET /w_100/camera.jpg" 200 ')
    assert " MISS " in lines[0] and " render=" in lines[0]


# --- readiness ----------------------------------------------------------------------------


def test_ready(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(detectors="saliency"))) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "ready": True,
        "checks": {"models": "ok", "cache": "ok", "originals": "ok"},
    }
    assert response.headers["cache-control"] == "no-store"


def test_not_ready_when_a_model_is_missing(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(detectors="objects", object_model="no-such-model.onnx")
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
        health = client.get("/healthz")
    assert response.status_code == 503
    assert "objects" in response.json()["checks"]["models"]
    assert health.status_code == 200  # up, just not ready


def test_degraded_but_ready_when_the_cache_cannot_write(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache that cannot store does not stop delivery (renders are served unstored),
    so taking the process out of traffic would only hurt: /readyz names it and passes."""

    def broken(self: ResultCache) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(ResultCache, "check_writable", broken)
    with TestClient(create_app(make_settings())) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["cache"] == (
        "degraded: not writable (disk full); rendering without storing"
    )


def test_not_ready_when_an_origin_is_unreachable(make_settings: Callable[..., Settings]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    settings = make_settings(
        origins={"media/": f"http://127.0.0.1:{port}/"},
        allow_private_networks=(ipaddress.ip_network("127.0.0.0/8"),),
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["origin media/"].startswith("unreachable: ConnectError")


def test_phases_are_disjoint() -> None:
    """The handler's `render` span holds the render thread's detect and encode phases;
    the wait for a turn (queue) comes before it."""
    timings = Timings()
    for name, seconds in (("queue", 2.0), ("origin", 1.0), ("render", 10.0), ("detect", 3.0)):
        timings.record(name, seconds)
    timings.record("encode", 4.0)
    assert timings.phases() == {
        "queue": 2.0,
        "origin": 1.0,
        "detect": 3.0,
        "render": 3.0,
        "encode": 4.0,
    }


# A worker that dies mid-render (SIGKILL, OOM): its renders count in no one's /metrics,
# even before its replacement has started. Each step is its own process, as under
# --workers N (prometheus_client chooses multiprocess values at import).
DIES_RENDERING = (
    "from server.metrics import Metrics; Metrics().started(); print(os.getpid(), flush=True); "
    "os._exit(9)"
)
READS_METRICS = (
    "from server.metrics import Metrics; sys.stdout.buffer.write(Metrics().exposition())"
)


def run_worker(code: str, directory: Path) -> str:
    env = os.environ | {MULTIPROC_ENV: str(directory)}
    command = [sys.executable, "-c", f"import os, sys; {code}"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60).stdout


def test_a_dead_workers_renders_leave_metrics_at_the_next_read(tmp_path: Path) -> None:
    dead = tmp_path / f"gauge_livesum_{run_worker(DIES_RENDERING, tmp_path).strip()}.db"
    assert dead.exists()
    text = run_worker(READS_METRICS, tmp_path)
    assert metric(text, "pixcast_renders_total") == 1  # counters stay: the work was done
    assert metric(text, "pixcast_renders_running") == 0
    assert not dead.exists()
