"""Running `pixcast serve`: one process, or `--workers N` processes on one socket.

With N > 1 uvicorn binds the socket once and starts N worker processes (spawned, so each
imports pixcast afresh); the kernel spreads connections over them, a worker that dies
(even by SIGKILL) is replaced by the parent within a second, and SIGTERM reaches every
worker, each finishing its requests in flight. The workers share the cache directory
(diskcache is process-safe; server.keylocks keeps one render per key across them) and a
metrics directory, so `/metrics` from any one of them counts them all.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from server.accesslog import send_to_stdout
from server.app import create_app
from server.metrics import MULTIPROC_ENV, forget_dead_processes
from server.runtime import limit_malloc_arenas
from server.settings import Settings, load_settings

# The command line, for worker processes to build the same Settings (they also inherit
# the environment, and the config file is read again).
FLAGS_ENV = "PIXCAST_SERVE_FLAGS"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Seconds a worker waits for its requests in flight after SIGTERM, beyond the deadline.
SHUTDOWN_MARGIN = 5.0
# Seconds the parent waits for a worker to answer its health ping before it kills and
# replaces it (a dead worker is replaced at once). uvicorn's 5 s killed workers still
# importing their models on a busy machine, which then started over, again and again.
WORKER_HEALTHCHECK_SECONDS = 30


def serve(
    app: Starlette, settings: Settings, flags: Mapping[str, object | None], log_level: str
) -> None:
    """Serve until SIGTERM or SIGINT, then finish the requests in flight and stop. `app`
    serves when there is one process; worker processes build theirs from `flags`."""
    limit_malloc_arenas()
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": log_level,
        "access_log": False,  # pixcast writes its own (server.accesslog)
        "timeout_graceful_shutdown": settings.request_timeout + SHUTDOWN_MARGIN,
    }
    if settings.workers == 1:
        prepare_process(log_level)
        uvicorn.run(app, **common)
        return
    with metrics_directory():
        os.environ[FLAGS_ENV] = json.dumps({**_plain(flags), "log_level": log_level})
        uvicorn.run("server.workers:worker_app", factory=True, workers=settings.workers,
                    timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS, **common)  # fmt: skip


def worker_app() -> Starlette:
    """The app of one worker process, from the parent's flags and environment."""
    flags: dict[str, object | None] = json.loads(os.environ[FLAGS_ENV])
    prepare_process(str(flags.pop("log_level", "info")))
    forget_dead_processes()
    return create_app(load_settings(flags, os.environ))


def prepare_process(log_level: str) -> None:
    """Logging for one serving process: pixcast's loggers at the level asked for (uvicorn
    sets up only its own), and access lines bare on stdout."""
    logging.basicConfig(level=log_level.upper(), format=LOG_FORMAT)
    if log_level != "debug":
        # pyvips passes on every libvips info message: a dozen lines per render.
        logging.getLogger("pyvips").setLevel(logging.WARNING)
    send_to_stdout()


@contextmanager
def metrics_directory() -> Iterator[Path]:
    """An empty directory for the workers' metric files: the operator's
    PROMETHEUS_MULTIPROC_DIR (emptied first: old files would add stale counts), else
    a temporary one, removed afterwards."""
    given = os.environ.get(MULTIPROC_ENV)
    path = Path(given) if given else Path(tempfile.mkdtemp(prefix="pixcast-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(path)
    try:
        yield path
    finally:
        if not given:
            shutil.rmtree(path, ignore_errors=True)


def _plain(flags: Mapping[str, object | None]) -> dict[str, object]:
    """The flags that were given, as JSON-ready values."""
    return {name: value for name, value in flags.items() if value is not None}
