"""The observing middleware: every HTTP request is timed, counted and logged once.

It installs the request's Timings (handlers and the render thread add their phases to
it through transforms.phases), counts the request in flight, and when the response has
been sent feeds /metrics and writes the access-log line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from detectors.base import Detector, Detectors, Region
from detectors.probe import Probe
from server.accesslog import AccessLog, AccessRecord
from server.metrics import Metrics
from server.readiness import Readiness
from server.state import AppState
from server.timing import Timings
from transforms import phases


class Observe:
    """ASGI middleware around the whole app (lifespan and websockets pass through)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, access_log: AccessLog) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        timings = Timings()
        response = _Response()

        async def observed(message: Message) -> None:
            response.see(message)
            await send(message)

        self.metrics.in_flight.inc()
        try:
            with phases.recording(timings):
                await self.app(scope, receive, observed)
        finally:
            self.metrics.in_flight.dec()
            self._record(scope, timings, response)

    def _record(self, scope: Scope, timings: Timings, response: _Response) -> None:
        route = route_name(scope)
        spent = timings.phases()
        total = timings.elapsed()
        coalesced = bool(timings.notes.get("coalesced"))
        self.metrics.observe(route, response.status, total, spent, response.sent)
        self.metrics.cache_status(response.x_cache, coalesced)
        self.access_log.write(
            AccessRecord(
                client=_client(scope),
                method=scope["method"],
                path=_path(scope),
                status=response.status,
                sent=response.sent,
                route=route,
                cache=response.x_cache or "-",
                coalesced=coalesced,
                total_ms=total * 1000,
                phases_ms={name: seconds * 1000 for name, seconds in spent.items()},
                user_agent=Headers(scope=scope).get("user-agent", ""),
            )
        )


class _Response:
    """What the app sent: status, X-Cache and the body bytes (500 if it sent nothing)."""

    def __init__(self) -> None:
        self.status = 500
        self.x_cache: str | None = None
        self.sent = 0

    def see(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            headers: Mapping[str, str] = Headers(raw=message.get("headers", []))
            self.x_cache = headers.get("x-cache")
        elif message["type"] == "http.response.body":
            self.sent += len(message.get("body", b""))


def route_name(scope: Scope) -> str:
    """The endpoint's name (`deliver`, `health`, ...): few values, so fit for a label."""
    endpoint = scope.get("endpoint")
    return getattr(endpoint, "__name__", None) or "unmatched"


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "-"


def _path(scope: Scope) -> str:
    raw = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string", b"")
    text = raw.decode("latin-1")
    return f"{text}?{query.decode('latin-1')}" if query else text


class CountedDetector:
    """A detector whose runs are counted (by outcome) and timed as the `detect` phase."""

    def __init__(self, inner: Detector, metrics: Metrics) -> None:
        self.inner = inner
        self.name = inner.name
        self.metrics = metrics

    def detect(self, probe: Probe) -> list[Region]:
        outcome = "error"
        try:
            with phases.phase("detect"):
                found = self.inner.detect(probe)
            outcome = "ok"
            return found
        finally:
            self.metrics.detector_runs.labels(self.name, outcome).inc()

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        # Detector-specific attributes (the object detector's `labels`) read through.
        return getattr(self.inner, name)


def count_detectors(detectors: Detectors, metrics: Metrics) -> None:
    """Wrap every loaded detector in place, so each run reaches /metrics."""
    for name, detector in list(detectors.available.items()):
        detectors.available[name] = CountedDetector(detector, metrics)


def observability_routes(exported: Metrics) -> list[BaseRoute]:
    """`/metrics` and `/readyz` (`/healthz` is with the other routes)."""
    readiness = Readiness()

    async def metrics(request: Request[AppState]) -> Response:
        return exported.endpoint()

    async def readyz(request: Request[AppState]) -> Response:
        return await readiness.readyz(request)

    return [
        Route("/metrics", metrics, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
