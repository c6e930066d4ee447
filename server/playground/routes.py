"""The playground's URL map, placed before delivery's catch-all route.

With the `playground` setting off, every path here is handed to delivery as it is, so a
server without the playground serves `/playground/...` exactly as any other delivery URL.
"""

from __future__ import annotations

import dataclasses
import functools
import mimetypes
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from server.errors import error_response
from server.handlers import deliver
from server.origins import LocalOrigin
from server.playground import api
from server.playground.assets import INDEX, Asset, assets
from server.state import AppState
from transforms.formats import IMAGE_EXTENSIONS

Endpoint = Callable[[Request[AppState]], Awaitable[Response]]
IMMUTABLE = "public, max-age=31536000, immutable"
# examples/site of a source checkout (what `make run` serves); absent from installed wheels.
SITE = Path(__file__).resolve().parents[2] / "examples" / "site"
# The page's own policy: everything from this server, images also from blob: (results).
CSP = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def playground_routes() -> list[BaseRoute]:
    return [
        Route("/playground", enabled(to_index), methods=["GET"]),
        Route("/playground/", enabled(index), methods=["GET"]),
        Route("/playground/assets/{name}", enabled(asset), methods=["GET"]),
        Route("/playground/api/config", enabled(api.config), methods=["GET"]),
        Route("/playground/api/images", enabled(api.images), methods=["GET"]),
        Route("/playground/api/explain", enabled(api.explanation), methods=["GET"]),
        Route("/playground/api/sign", enabled(api.sign), methods=["GET"]),
        Route("/playground/api/uploads", enabled(api.upload), methods=["POST"]),
        Route("/playground/uploads/{path:path}", enabled(deliver_upload), methods=["GET"]),
        Route("/playground/site", enabled(to_site), methods=["GET"]),
        Route("/playground/site/{path:path}", enabled(site), methods=["GET"]),
    ]


def enabled(endpoint: Endpoint) -> Endpoint:
    """The endpoint when the playground is on; delivery of the same path when it is off."""

    @functools.wraps(endpoint)
    async def wrapper(request: Request[AppState]) -> Response:
        if not request.state["services"].settings.playground:
            return await deliver(request)
        return await endpoint(request)

    return wrapper


async def to_index(request: Request[AppState]) -> Response:
    return RedirectResponse("/playground/", status_code=308)


async def to_site(request: Request[AppState]) -> Response:
    return RedirectResponse("/playground/site/", status_code=308)


async def index(request: Request[AppState]) -> Response:
    headers = {"content-security-policy": CSP, "referrer-policy": "no-referrer"}
    return send_asset(request, assets()[INDEX], "no-cache", headers)


async def asset(request: Request[AppState]) -> Response:
    found = assets().get(request.path_params["name"])
    if found is None or request.path_params["name"] == INDEX:
        return error_response(request.method, 404, "No such playground file")
    caching = IMMUTABLE if "v" in request.query_params else "no-cache"
    return send_asset(request, found, caching, {})


def send_asset(
    request: Request[AppState], found: Asset, caching: str, extra: dict[str, str]
) -> Response:
    """The asset (gzipped when accepted), or 304 when the client's copy is current."""
    headers = {
        "etag": found.etag,
        "cache-control": caching,
        "vary": "Accept-Encoding",
        "x-content-type-options": "nosniff",
        **extra,
    }
    if request.headers.get("if-none-match") == found.etag:
        return Response(status_code=304, headers=headers)
    body = found.body
    if "gzip" in request.headers.get("accept-encoding", "") and len(found.gzipped) < len(body):
        body, headers["content-encoding"] = found.gzipped, "gzip"
    return Response(body, media_type=found.media_type, headers=headers)


async def deliver_upload(request: Request[AppState]) -> Response:
    """Delivery with the uploads area as the origin: `/playground/uploads/<delivery URL>`."""
    services = request.state["services"]
    area = services.settings.uploads_dir
    area.mkdir(parents=True, exist_ok=True)
    origin = services.origins.with_local(LocalOrigin(area, IMAGE_EXTENSIONS))
    scope = dict(request.scope)
    prefix = api.UPLOADS_BASE
    scope["path"] = scope["path"][len(prefix) :]
    scope["raw_path"] = scope.get("raw_path", prefix.encode())[len(prefix) :]
    scope["state"] = {**scope["state"], "services": dataclasses.replace(services, origins=origin)}
    return await deliver(Request(scope, request.receive))


async def site(request: Request[AppState]) -> Response:
    """The example page of examples/site, in a source checkout."""
    name = request.path_params["path"] or "index.html"
    path = (SITE / name).resolve()
    if not SITE.is_dir() or not path.is_relative_to(SITE) or not path.is_file():
        return error_response(request.method, 404, "No such example file")
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    headers = {"cache-control": "no-cache"}
    return Response(path.read_bytes(), media_type=media_type, headers=headers)
