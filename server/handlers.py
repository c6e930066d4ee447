"""The delivery flow of one request: parse → locate → cache → render → respond.

Parsing and limits come before any I/O; the original is only read on a cache miss; the
render runs in the bounded pool, once per cache key however many clients ask at once.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from urllib.parse import quote_from_bytes

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from server import responses
from server.cache import result_key
from server.concurrency import run_io
from server.deadlines import within_deadline
from server.errors import guarded
from server.layers import NO_LAYERS, LocatedLayers, locate_layers, read_layers
from server.library.versions import check_version, source_facts
from server.origins import Original, SourceIdentity
from server.security import check_request
from server.state import AppState, Services
from server.storage import results
from server.timing import Timings
from transforms import formats
from transforms.context import LayerSources
from transforms.errors import UnsupportedMediaType
from transforms.grammar import parse_url
from transforms.hints import apply_hints
from transforms.model import Rendered, Transformation
from transforms.steps.load import open_original
from transforms.variables import NO_FACTS, SourceFacts

# Printable ASCII passes through as the client sent it; spaces and raw non-ASCII bytes
# (some clients send UTF-8 unescaped) become %XX so the grammar decodes them as UTF-8.
_PATH_SAFE = "".join(chr(code) for code in range(0x21, 0x7F))
# An SVG served as it is, opened on its own: no script runs and nothing outside it loads
# (inline styles and data: images still render); `sandbox` gives it an opaque origin.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


async def health(request: Request[AppState]) -> Response:
    return PlainTextResponse("ok")


async def no_favicon(request: Request[AppState]) -> Response:
    """Browsers ask for it on every visit: answer 404 without an error log or X-Cld-Error."""
    return Response(status_code=404, headers={"cache-control": "public, max-age=86400"})


@guarded
@within_deadline
async def deliver(request: Request[AppState]) -> Response:
    services = request.state["services"]
    timings = Timings.current()
    t = parse_url(request_path(request), services.settings.named_transformations)
    check_request(t, services.settings)
    t, hints = apply_hints(t, request.headers, services.limits)  # w_auto, dpr_auto
    with timings.measure("origin"):
        stored_at = await check_version(services, t)
        t, source = await services.origins.resolve(t, stored_at)  # d_ if it is missing
        original = await services.origins.read(source) if not t.steps else None
    if original is not None:
        found = await run_io(require_image, original, t.public_id)
        if t.extension is None or t.extension.value == found:
            return original_response(request, services, t, original, found, timings)
    rendered, identity, x_cache = await variant(request, services, t, source, original, timings)
    response = variant_response(request, services, t, rendered, identity, x_cache, timings)
    return responses.with_hints(response, hints)


def source_key(identity: SourceIdentity) -> str:
    """Names the original's bytes for the detection store: a remote original's digest (the
    same on every replica), a local file's identity (not a hash of its bytes)."""
    if identity.digest:
        return identity.digest[:32]
    return hashlib.sha256(repr(identity).encode()).hexdigest()[:32]


def request_path(request: Request[AppState]) -> str:
    """The percent-encoded path as the client sent it (the grammar decodes it once)."""
    raw = request.scope.get("raw_path") or request.scope["path"].encode("utf-8")
    return quote_from_bytes(raw, safe=_PATH_SAFE)


def require_image(original: Original, public_id: str) -> str:
    """The original's format from its magic bytes (its file name may say otherwise), after
    libvips has read its header as that format: what is served untransformed is an image
    (415 otherwise, 422 for a header that does not parse)."""
    if formats.sniff(original.data) is None:
        raise UnsupportedMediaType(f"Unsupported image format: {public_id} is not an image")
    found, _image = open_original(original.data)
    return found


async def variant(
    request: Request[AppState],
    services: Services,
    t: Transformation,
    source: SourceIdentity,
    original: Original | None,
    timings: Timings,
) -> tuple[Rendered, SourceIdentity, str]:
    """The rendered variant from the cache, else rendered now; with X-Cache HIT or MISS."""
    accept = request.headers.get("accept")
    with timings.measure("origin"):
        layers, facts = await variant_inputs(services, t)
    key = result_key(t, source, accept, layers.key, facts)
    with timings.measure("cache"):
        cached = await results.lookup(services.cache, services.shared, key)
    if cached is not None:
        return cached, layers.newest(source), "HIT"

    async def render() -> tuple[Rendered, SourceIdentity]:
        return await render_and_store(services, t, source, original, accept, timings, layers, facts)

    async def stored(waited: bool) -> tuple[Rendered, SourceIdentity] | None:
        # Another process or replica rendered it while this one waited for the key's lock;
        # or, with the lock found free, another process on this host stored it and let go
        # after this one's first look (the local cache tells; no second bucket request).
        if waited:
            found = await results.lookup(services.cache, services.shared, key)
        else:
            found = await run_io(services.cache.get, key)
        return None if found is None else (found, source)

    (rendered, identity), shared = await services.flights.run(key, render, stored)
    timings.notes["coalesced"] = shared
    return rendered, layers.newest(identity), "MISS"


async def variant_inputs(
    services: Services, t: Transformation
) -> tuple[LocatedLayers, SourceFacts | None]:
    """What a variant reads besides its original, each part of its cache key: its layers'
    sources (a changed overlay is a new result) and the asset's stored facts (changed
    tags or custom coordinates are a new result)."""
    return await locate_layers(services, t), await source_facts(services, t)


async def render_and_store(
    services: Services,
    t: Transformation,
    source: SourceIdentity,
    original: Original | None,
    accept: str | None,
    timings: Timings,
    layers: LocatedLayers = NO_LAYERS,
    facts: SourceFacts | None = None,
) -> tuple[Rendered, SourceIdentity]:
    miss = Miss(services, t, accept, layers, facts, timings, started=time.time())
    # The turn comes first: requests waiting for one hold no original's bytes.
    async with services.pool.slot() as turn:
        if original is None and source.remote:
            with timings.measure("origin"):
                original = await services.origins.read(source)
        with timings.measure("origin"):
            sources, miss.layers = await read_layers(services, layers)
        rendered, read, share = await turn.run(miss.blocking, source, original, sources)
    if share:
        with timings.measure("cache"):
            await results.share(services.shared, miss.key(read), rendered)
    return rendered, read.identity


@dataclass
class Miss:
    """One variant's render and the keeping of its result. What blocks (a local
    original's read, the render, the local cache's write) runs in the render thread, in
    one hand-off: a thread hop costs more CPU than a local read or write of this size."""

    services: Services
    t: Transformation
    accept: str | None
    layers: LocatedLayers
    facts: SourceFacts | None
    timings: Timings
    started: float  # time.time(): a purge from then on keeps this render's result out

    def blocking(
        self, source: SourceIdentity, original: Original | None, sources: LayerSources
    ) -> tuple[Rendered, Original, bool]:
        """Read the original (unless given), render, keep the result in the local cache;
        whether the shared storage should have it too."""
        services = self.services
        if original is None:
            with self.timings.measure("origin"):
                original = services.origins.local.read(source)
        with self.timings.measure("render"):
            rendered = services.render(
                self.t, original.data, self.accept, services.limits, services.detection,
                source_key(original.identity), sources, self.facts or NO_FACTS,
            )  # fmt: skip
        if not rendered.cacheable:  # a crop degraded by a failed detector is not kept
            return rendered, original, False
        shared = services.shared is not None
        with self.timings.measure("cache"):
            share = results.keep(services.cache, self.key(original), rendered,
                                 self.t.public_id, self.started, shared)  # fmt: skip
        return rendered, original, share

    def key(self, original: Original) -> str:
        """Keyed by the versions actually read: if a file changed since locate(), the
        entry belongs to the new version, never to the old one."""
        return result_key(self.t, original.identity, self.accept, self.layers.key, self.facts)


def original_response(
    request: Request[AppState],
    services: Services,
    t: Transformation,
    original: Original,
    found: str,
    timings: Timings,
) -> Response:
    """No steps and no format change: the original's bytes, as they are, never cached
    (an SVG with a policy that keeps its scripts and external loads from running)."""
    headers = {
        "content-type": formats.media_type(found),
        "cache-control": responses.cache_control(t, services.settings.cache_control_max_age),
        **responses.substitute(t),
        "x-cache": "PASS",
    }
    if found == "svg":
        headers["content-security-policy"] = SVG_POLICY
    return finish(request, original.data, original.identity, headers, timings)


def variant_response(
    request: Request[AppState],
    services: Services,
    t: Transformation,
    rendered: Rendered,
    identity: SourceIdentity,
    x_cache: str,
    timings: Timings,
) -> Response:
    headers = {
        "content-type": rendered.media_type,
        "cache-control": responses.cache_control(t, services.settings.cache_control_max_age),
        **responses.substitute(t),
        "x-cache": x_cache,
    }
    if rendered.negotiated:
        headers["vary"] = "Accept"
    method = rendered.info.get("background_removal")
    if isinstance(method, str):  # e_background_removal says how it cut the image out
        headers["x-background-removal"] = method
    download = t.flag("attachment")
    if download is not None:
        name = download.argument or t.public_id.rsplit("/", 1)[-1]
        headers["content-disposition"] = responses.attachment(name, rendered.format)
    return finish(request, rendered.data, identity, headers, timings)


def finish(
    request: Request[AppState],
    body: bytes,
    identity: SourceIdentity,
    headers: dict[str, str],
    timings: Timings,
) -> Response:
    """Add validators and timings, then answer 304, HEAD or the full body."""
    etag = responses.entity_tag(body)
    headers |= {
        "etag": etag,
        "last-modified": responses.http_date(identity.mtime),
        "x-content-type-options": "nosniff",
        "server-timing": timings.header(),
    }
    if responses.is_not_modified(request.headers, etag, identity.mtime):
        return responses.not_modified(headers)
    return responses.send(request.method, 200, body, headers)
