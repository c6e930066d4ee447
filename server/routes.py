"""The URL map: health and favicon first, then every other path is a delivery URL."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from server.handlers import deliver, health, no_favicon
from server.library.routes import library_routes
from server.playground.routes import playground_routes


def routes() -> list[BaseRoute]:
    # GET routes answer HEAD too (Starlette adds it); other methods get 405.
    return [
        Route("/healthz", health, methods=["GET"]),
        Route("/favicon.ico", no_favicon, methods=["GET"]),
        *library_routes(),  # the upload and admin APIs, /image/list/<tag>.json
        *playground_routes(),  # they hand their paths to deliver when it is off
        Route("/{path:path}", deliver, methods=["GET"]),
    ]
