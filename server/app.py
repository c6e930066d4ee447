"""The application factory: `create_app(settings)` and the lifespan that builds its resources.

Resources (origin, result cache, render pool) are made once per app in the lifespan and
reach handlers through typed state, so several apps can live in one process (tests).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace

from starlette.applications import Starlette

from server.cache import ResultCache
from server.concurrency import RenderPool, SingleFlight
from server.detections import build_detection
from server.origins import LocalOrigin
from server.routes import routes
from server.settings import Settings, SettingsError
from server.state import AppState, Services
from transforms import pipeline
from transforms.errors import PixcastError
from transforms.formats import IMAGE_EXTENSIONS
from transforms.grammar import parse_url
from transforms.model import Limits


def create_app(settings: Settings) -> Starlette:
    """The ASGI app; raises SettingsError when a named transformation does not parse."""
    check_named_transformations(settings)
    return Starlette(routes=routes(), lifespan=lifespan_for(settings))


def check_named_transformations(settings: Settings) -> None:
    """Parse every named transformation now, so a typo stops start-up, not a request."""
    table = settings.named_transformations
    for name in table:
        try:
            parse_url(f"/t_{name}/start-up-check", table)
        except PixcastError as error:
            raise SettingsError(f"named transformation {name!r}: {error.message}") from None


def lifespan_for(
    settings: Settings,
) -> Callable[[Starlette], AbstractAsyncContextManager[AppState]]:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[AppState]:
        services = build_services(settings)
        detection, store = build_detection(settings)
        services = replace(services, detection=detection)
        try:
            yield {"services": services}
        finally:
            services.cache.close()
            detection.detectors.close()
            store.close()

    return lifespan


def build_services(settings: Settings) -> Services:
    return Services(
        settings=settings,
        origins=LocalOrigin(settings.originals, IMAGE_EXTENSIONS),
        cache=ResultCache(settings.cache_dir, settings.cache_size_mb),
        pool=RenderPool(settings.workers),
        flights=SingleFlight(),
        # Looked up now, not at import, so a test can wrap pipeline.render beforehand.
        render=pipeline.render,
        limits=Limits(max_dpr=settings.max_dpr),
    )
