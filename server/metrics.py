"""pixcast's Prometheus metrics: their definitions, what feeds them, and `/metrics`.

One `Metrics` per app on its own registry, so tests can run several apps in one process.
Under `pixcast serve --workers N` each process writes its values to files in
`PROMETHEUS_MULTIPROC_DIR` (set by server.workers before the processes start) and
`/metrics`, answered by any one of them, adds up every process (prometheus-client's
multiprocess collector); gauges then add up the live processes.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.responses import Response

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# A process's live-gauge file, `gauge_livesum_<pid>.db` (prometheus-client's naming).
_PID_FILE = re.compile(r"^gauge_live\w*?_(\d+)\.db$")
# Seconds: cache hits take about a millisecond, cold renders of large sources seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class Metrics:
    """Every metric pixcast exports; also the render pool's observer (PoolObserver)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "pixcast_requests",
            "HTTP requests answered, by route and status",
            ["route", "status"],
            registry=r,
        )
        self.duration = Histogram(
            "pixcast_request_duration_seconds",
            "Time from request to the last body byte",
            ["route"],
            buckets=BUCKETS,
            registry=r,
        )
        self.phases = Histogram(
            "pixcast_phase_duration_seconds",
            "Time per request phase: queue, origin, cache, detect, render, encode",
            ["phase"],
            buckets=BUCKETS,
            registry=r,
        )
        self.cache_hits = Counter(
            "pixcast_cache_hits", "Variants served from the result cache", registry=r
        )
        self.cache_misses = Counter(
            "pixcast_cache_misses", "Variants not in the result cache when asked", registry=r
        )
        self.cache_write_failures = Counter(
            "pixcast_cache_write_failures",
            "Result cache writes that failed (disk full, read-only): served without storing",
            registry=r,
        )
        self.coalesced = Counter(
            "pixcast_coalesced",
            "Cache misses answered by an identical request's render (single-flight)",
            registry=r,
        )
        self.renders = Counter(
            "pixcast_renders",
            "Renders actually performed (started in a render thread)",
            registry=r,
        )
        self.rejected_renders = Counter(
            "pixcast_renders_rejected",
            "Renders refused with 503: threads busy, queue full",
            registry=r,
        )
        self.detector_runs = Counter(
            "pixcast_detector_runs",
            "Detector runs, by detector and outcome (ok, error)",
            ["detector", "outcome"],
            registry=r,
        )
        self.bytes_out = Counter(
            "pixcast_response_bytes", "Response body bytes sent, by route", ["route"], registry=r
        )
        self.in_flight = _live_gauge("pixcast_requests_in_flight", "Requests being answered", r)
        self.queued_renders = _live_gauge(
            "pixcast_renders_queued", "Renders waiting for a thread", r
        )
        self.running_renders = _live_gauge(
            "pixcast_renders_running", "Renders in a render thread", r
        )

    # --- the render pool's observer --------------------------------------------------------

    def queued(self, change: int) -> None:
        self.queued_renders.inc(change)

    def started(self) -> None:
        self.renders.inc()
        self.running_renders.inc()

    def finished(self) -> None:
        self.running_renders.dec()

    def rejected(self) -> None:
        self.rejected_renders.inc()

    # --- one answered request ---------------------------------------------------------------

    def observe(
        self, route: str, status: int, seconds: float, phases: Mapping[str, float], sent: int
    ) -> None:
        self.requests.labels(route, str(status)).inc()
        self.duration.labels(route).observe(seconds)
        for name, spent in phases.items():
            self.phases.labels(name).observe(spent)
        if sent:
            self.bytes_out.labels(route).inc(sent)

    def cache_write_failed(self) -> None:
        self.cache_write_failures.inc()

    def cache_status(self, x_cache: str | None, coalesced: bool) -> None:
        if x_cache == "HIT":
            self.cache_hits.inc()
        elif x_cache == "MISS":
            self.cache_misses.inc()
            if coalesced:
                self.coalesced.inc()

    def exposition(self) -> bytes:
        """The text format: this app's registry, or every process's under --workers N."""
        if not multiprocess_mode():
            return generate_latest(self.registry)
        # A replacement worker forgets the dead one as it starts, but it may still be
        # importing while the others answer: every read forgets the dead first.
        forget_dead_processes()
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return generate_latest(merged)

    def close(self) -> None:
        """A process leaving: its live gauges stop counting in the sum."""
        if multiprocess_mode():
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

    def endpoint(self) -> Response:
        """The `/metrics` answer."""
        headers = {"cache-control": "no-store"}
        return Response(self.exposition(), media_type=CONTENT_TYPE_LATEST, headers=headers)


def forget_dead_processes() -> list[int]:
    """Drop the live gauges of worker processes that died without closing (SIGKILL, OOM
    kill): otherwise their in-flight requests and renders would count for ever. A worker
    calls it as it starts, which is when the parent has just replaced a dead one, and
    before every /metrics read. Two workers may drop the same files at once."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory or not os.path.isdir(directory):
        return []
    pids = {int(match.group(1)) for match in map(_PID_FILE.match, os.listdir(directory)) if match}
    dead = sorted(pid for pid in pids if not _alive(pid))
    for pid in dead:
        with contextlib.suppress(FileNotFoundError):  # another worker dropped it first
            multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _live_gauge(name: str, documentation: str, registry: CollectorRegistry) -> Gauge:
    return Gauge(name, documentation, registry=registry, multiprocess_mode="livesum")
