"""Layer sources on the server: every image an `l_`/`u_` layer names is located before
the cache lookup (its identity joins the result's key, so a changed overlay is a new
result) and read before the render, on the event loop: the render thread does no I/O.

Fetch layers (`l_fetch:`) follow fetch delivery's rules: off unless the host is allowed
(403), then the same remote store, byte cap and SSRF guard. A layer source that does not
exist is a 400 naming it: the URL's parameter is wrong, the requested image is there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from server.origins import Origins, SourceIdentity
from server.remote import FetchHosts, check_fetch_host, remote_url
from server.settings import Settings
from server.state import Services
from transforms.context import LayerSources
from transforms.errors import BadRequest, NotFound
from transforms.fonts import font_book
from transforms.model import Layer, LayerKind, Transformation
from transforms.steps.text import font_for


@dataclass(frozen=True)
class LocatedLayers:
    """The versions of a transformation's layer sources: each image's identity by its
    source (public id or URL), and the font files its text layers use."""

    images: tuple[tuple[str, SourceIdentity], ...] = ()
    fonts: tuple[str, ...] = ()

    @property
    def key(self) -> list[object]:
        """What the result cache key adds for the layers (empty without layers)."""
        return [[name, asdict(identity)] for name, identity in self.images] + list(self.fonts)

    def newest(self, identity: SourceIdentity) -> SourceIdentity:
        """`identity` carrying the latest modification time of it and its layers, for
        Last-Modified: a changed overlay makes the result newer."""
        latest = max([identity.mtime_ns, *(found.mtime_ns for _, found in self.images)])
        return replace(identity, mtime_ns=latest)


NO_LAYERS = LocatedLayers()


def check_layers(t: Transformation, settings: Settings) -> None:
    """Cheap guard before any I/O: fetch layers need fetch on and their host allowed (403)."""
    hosts = FetchHosts(settings.fetch_allowed_hosts)
    for layer in t.layers:
        if layer.kind is LayerKind.FETCH:
            check_fetch_host(remote_url(layer.source), hosts)


async def locate_layers(services: Services, t: Transformation) -> LocatedLayers:
    """The identity of every layer source (a stat, or the remote store's record)."""
    if not t.layers:
        return NO_LAYERS
    images: dict[str, SourceIdentity] = {}
    for layer in t.layers:
        if layer.kind is not LayerKind.TEXT and layer.source not in images:
            images[layer.source] = await _locate(services.origins, layer)
    fonts = font_book(services.settings.fonts_dir)
    used = {font_for(layer.style, fonts).identity for layer in t.layers if layer.style}
    return LocatedLayers(tuple(images.items()), tuple(sorted(used)))


async def _locate(origins: Origins, layer: Layer) -> SourceIdentity:
    try:
        if layer.kind is LayerKind.FETCH:
            return await origins.locate_fetch(layer.source)
        return await origins.locate_layer(layer.source)
    except NotFound:
        raise BadRequest(f"Layer resource not found - {layer.source}") from None


async def read_layers(
    services: Services, located: LocatedLayers
) -> tuple[LayerSources, LocatedLayers]:
    """The layer sources' bytes for the render, and the identities actually read."""
    fonts = font_book(services.settings.fonts_dir)
    if not located.images:
        return LayerSources(fonts=fonts), located
    read = [(name, await services.origins.read(identity)) for name, identity in located.images]
    images = {name: original.data for name, original in read}
    identities = tuple((name, original.identity) for name, original in read)
    return LayerSources(images, fonts), replace(located, images=identities)
