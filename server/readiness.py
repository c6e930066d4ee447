"""`/readyz`: should this process get traffic? `/healthz` only says it is up.

Ready means: start-up finished with every detector the operator asked for loaded (one
named in a `detectors` setting, or whose model setting was set; a default detector whose
default model is absent is just off), the result cache takes a write (when it cannot,
pixcast still serves, rendering without storing: the check says "degraded" but passes),
and the originals answer: the local directory is readable and every HTTP origin
(`origins`) answers at all (any status: a bucket root may well say 403). The answer is
JSON naming each check; 200 when all pass, else 503.
Results are kept for a couple of seconds so a storm of probes costs one check.
"""

from __future__ import annotations

import os
import time

import anyio
import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.concurrency import run_io
from server.detections import required_detectors
from server.state import AppState, Services
from transforms.errors import PixcastError

KEEP_SECONDS = 2.0
DEGRADED = "degraded: "
ORIGIN_TIMEOUT = 3.0
Checks = dict[str, str]


class Readiness:
    """The /readyz endpoint with its short memory of the last answer."""

    def __init__(self) -> None:
        self._last: tuple[float, Checks] | None = None
        self._lock = anyio.Lock()

    async def readyz(self, request: Request[AppState]) -> Response:
        checks = await self.checks(request.state["services"])
        ready = all(passes(value) for value in checks.values())
        return JSONResponse(
            {"ready": ready, "checks": checks},
            status_code=200 if ready else 503,
            headers={"cache-control": "no-store"},
        )

    async def checks(self, services: Services) -> Checks:
        async with self._lock:
            now = time.monotonic()
            if self._last is None or now - self._last[0] > KEEP_SECONDS:
                self._last = (now, await run_checks(services))
            return self._last[1]


def passes(value: str) -> bool:
    """A check passes when it is "ok" or only degraded (serving, but worse)."""
    return value == "ok" or value.startswith(DEGRADED)


async def run_checks(services: Services) -> Checks:
    checks = {"models": models(services), "cache": await cache(services)}
    checks["originals"] = local_originals(services)
    for prefix, base in services.settings.origins.items():
        checks[f"origin {prefix}"] = await http_origin(services, base)
    return checks


def models(services: Services) -> str:
    detection = services.detection
    if detection is None:
        return "not loaded yet"
    required = required_detectors(services.settings)
    missing = [off for name, off in detection.detectors.missing.items() if name in required]
    return "; ".join(str(off) for off in missing) if missing else "ok"


async def cache(services: Services) -> str:
    failure = services.cache.recent_failure()
    if failure is None:
        try:
            await run_io(services.cache.check_writable)
        except Exception as error:  # any failure is the answer, not a crash
            failure = str(error)
    if failure is None:
        return "ok"
    return f"{DEGRADED}not writable ({failure}); rendering without storing"


def local_originals(services: Services) -> str:
    root = services.settings.originals
    if not root.is_dir() or not os.access(root, os.R_OK | os.X_OK):
        return f"not readable: {root}"
    return "ok"


async def http_origin(services: Services, base: str) -> str:
    """Whether `base` answers at all, through the origins' own guarded client."""
    remote = services.origins.remote.client
    try:
        remote.guard.check_name(httpx.URL(base).host)
        await remote.client.head(base, timeout=ORIGIN_TIMEOUT)
    except PixcastError as refused:
        return f"unreachable: {refused.message}"
    except httpx.HTTPError as error:
        return f"unreachable: {type(error).__name__} {str(error)[:200]}".rstrip()
    return "ok"
