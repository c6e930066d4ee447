"""The application factory: `create_app(settings)` and the lifespan that builds its resources.

Resources (origin, result cache, render pool) are made once per app in the lifespan and
reach handlers through typed state, so several apps can live in one process (tests).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace

from starlette.applications import Starlette
from starlette.middleware import Middleware

from server.accesslog import AccessLog
from server.cache import ResultCache
from server.cachelayout import RESULTS, store_dir
from server.concurrency import RenderPool, SingleFlight
from server.detections import build_detection, close_detection
from server.library.service import build_library
from server.metrics import Metrics
from server.observe import Observe, count_detectors, observability_routes
from server.origins import build_origins
from server.routes import routes
from server.runtime import configure_vips
from server.security import check_security_settings, limits_for
from server.settings import Settings, SettingsError
from server.state import AppState, Services
from server.storage.config import build_shared, check_storage_settings
from server.storage.regions import share_detections
from transforms import pipeline
from transforms.errors import PixcastError
from transforms.grammar import parse_url


def create_app(settings: Settings) -> Starlette:
    """The ASGI app; raises SettingsError when a named transformation does not parse."""
    check_named_transformations(settings)
    check_security_settings(settings)
    check_storage_settings(settings)
    metrics = Metrics()
    observe = Middleware(Observe, metrics=metrics, access_log=AccessLog(settings.access_log))
    return Starlette(
        routes=[*observability_routes(metrics), *routes()],
        middleware=[observe],
        lifespan=lifespan_for(settings, metrics),
    )


def check_named_transformations(settings: Settings) -> None:
    """Parse every named transformation now, so a typo stops start-up, not a request."""
    table = settings.named_transformations
    for name in table:
        try:
            parse_url(f"/t_{name}/start-up-check", table)
        except PixcastError as error:
            raise SettingsError(f"named transformation {name!r}: {error.message}") from None


def lifespan_for(
    settings: Settings, metrics: Metrics | None = None
) -> Callable[[Starlette], AbstractAsyncContextManager[AppState]]:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[AppState]:
        configure_vips(settings)
        services = build_services(settings, metrics)
        detection, store = build_detection(settings)
        if services.shared is not None:  # replicas share detections through it
            services.shared.bind(asyncio.get_running_loop())
            detection = share_detections(detection, store, services.shared, settings)
        if metrics is not None:
            count_detectors(detection.detectors, metrics)
        library = build_library(settings, services.origins)
        services = replace(services, detection=detection, library=library)
        try:
            yield {"services": services}
        finally:
            services.cache.close()
            await services.origins.aclose()
            services.pool.close()
            close_detection(detection, store)
            if services.library is not None:
                services.library.close()
            if metrics is not None:
                metrics.close()

    return lifespan


def build_services(settings: Settings, observer: Metrics | None = None) -> Services:
    failed = observer.cache_write_failed if observer is not None else None
    shared, locks = build_shared(settings)
    return Services(
        settings=settings,
        origins=build_origins(settings, limits_for(settings)),
        cache=ResultCache(store_dir(settings.cache_dir, RESULTS), settings.cache_size_mb, failed),
        pool=RenderPool(settings.render_threads, settings.queue_limit, observer),
        # One render per key across the processes sharing the cache directory too, and
        # across the replicas sharing `result_storage` (server/storage/leases.py).
        flights=SingleFlight(locks),
        shared=shared,
        # Looked up now, not at import, so a test can wrap pipeline.render beforehand.
        render=pipeline.render,
        limits=limits_for(settings),
    )
