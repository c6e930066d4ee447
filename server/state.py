"""The shared resources one app instance runs with, built in the lifespan.

Handlers reach them as `request.state["services"]` (typed through `AppState`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from detectors.service import RegionService
from server.cache import ResultCache
from server.concurrency import RenderPool, SingleFlight
from server.origins import Origins, SourceIdentity
from server.settings import Settings
from server.storage.shared import SharedStore
from transforms.context import LayerSources
from transforms.model import Limits, Rendered, Transformation
from transforms.variables import SourceFacts

if TYPE_CHECKING:
    from server.library.service import Library

# transforms.pipeline.render: (transformation, original bytes, Accept, limits, detection,
# source key, layer sources, the original's stored tags and context) → Rendered.
Renderer = Callable[
    [
        Transformation,
        bytes,
        str | None,
        Limits | None,
        RegionService | None,
        str | None,
        LayerSources | None,
        SourceFacts,
    ],
    Rendered,
]


@dataclass(frozen=True)
class Services:
    settings: Settings
    origins: Origins
    cache: ResultCache
    pool: RenderPool
    # One render per cache key at a time; the result carries the identity it was read as.
    flights: SingleFlight[tuple[Rendered, SourceIdentity]]
    render: Renderer
    limits: Limits
    detection: RegionService | None = None
    shared: SharedStore | None = None  # result_storage: results shared by replicas
    # The media library (server/library/); delivery only reads it.
    library: Library | None = None


class AppState(TypedDict):
    services: Services
