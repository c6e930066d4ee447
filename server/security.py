"""Cheap guards that run before any I/O: who may ask (signatures, strict mode, delivery
types, fetch hosts) and how much (limits). Each refusal is a clear 4xx.

Order: fetch switched on (403), signature (401), limits (400), fetch host (403).
"""

from __future__ import annotations

import functools

from server.layers import check_layers
from server.remote import FetchHosts, check_fetch_enabled, check_fetch_host, remote_url
from server.settings import Settings, SettingsError
from server.signing import verify
from transforms.errors import NotFound, PixcastError, Unauthorized
from transforms.grammar import canonical_steps, parse_steps
from transforms.limits import check_steps
from transforms.model import Delivery, Limits, Transformation

SIGNED_ONLY = (Delivery.PRIVATE, Delivery.AUTHENTICATED)


def check_request(t: Transformation, settings: Settings) -> None:
    check_cloud_name(t, settings)
    hosts = FetchHosts(settings.fetch_allowed_hosts)
    if t.delivery is Delivery.FETCH:
        check_fetch_enabled(hosts)
    check_access(t, settings)
    check_steps(t.steps, limits_for(settings))
    if t.delivery is Delivery.FETCH:
        check_fetch_host(remote_url(t.public_id), hosts)
    check_layers(t, settings)


def check_cloud_name(t: Transformation, settings: Settings) -> None:
    """With `cloud_name` set, a URL that names another `<cloud>` is a 404, as Cloudinary
    answers for a cloud it does not know; URLs without the segment, and any name when the
    setting is empty, pass."""
    wanted, given = settings.cloud_name, t.cloud_name
    if wanted and given is not None and given != wanted:
        raise NotFound(f"Resource not found - unknown cloud name {given}")


def limits_for(settings: Settings) -> Limits:
    return Limits(
        max_source_pixels=int(settings.max_source_megapixels * 1_000_000),
        max_output_side=settings.max_output_side,
        max_dpr=settings.max_dpr,
        max_source_bytes=settings.max_source_bytes,
        max_animation_pixels=int(settings.max_animation_megapixels * 1_000_000),
        max_components=settings.max_components,
        max_source_pages=settings.max_source_pages,
    )


def check_access(t: Transformation, settings: Settings) -> None:
    """401 unless the URL is signed or needs no signature.

    A signature that is present but wrong is refused whatever the delivery type (it
    means a tampered URL); with no secret configured, one that is not needed is ignored.
    """
    if t.signature is not None and settings.api_secret:
        if verify(t.signature, t.signed_part, settings.api_secret):
            return
        raise Unauthorized(f"Invalid signature: s--{t.signature}-- does not match this URL")
    if t.delivery in SIGNED_ONLY and not _public_derivative(t, settings):
        raise Unauthorized(f"{t.delivery.value} delivery needs a signed URL{_no_secret(settings)}")
    if settings.strict and t.steps and not strict_allows(t, settings):
        raise Unauthorized(
            f"Transformation {canonical_steps(t.steps)} needs a signed URL: this server is "
            f"in strict mode and it is not in strict_allowed{_no_secret(settings)}"
        )


def _public_derivative(t: Transformation, settings: Settings) -> bool:
    """Cloudinary's `private` type guards the original only: a transformed version is
    public, unless strict mode is on (then it needs a signature like any other)."""
    return t.delivery is Delivery.PRIVATE and bool(t.steps) and not settings.strict


def _no_secret(settings: Settings) -> str:
    return "" if settings.api_secret else " (and this server has no api_secret to check one)"


def strict_allows(t: Transformation, settings: Settings) -> bool:
    """Strict mode's allow-list, compared in canonical form: parameter order is free."""
    named = tuple(sorted(settings.named_transformations.items()))
    return canonical_steps(t.steps) in _allowed(settings.strict_allowed, named)


@functools.lru_cache(maxsize=16)
def _allowed(entries: tuple[str, ...], named: tuple[tuple[str, str], ...]) -> frozenset[str]:
    table = dict(named)
    return frozenset(canonical_steps(parse_steps(entry, table)) for entry in entries)


def check_security_settings(settings: Settings) -> None:
    """Parse strict_allowed at start-up, so a typo stops the server, not a request."""
    named = tuple(sorted(settings.named_transformations.items()))
    for entry in settings.strict_allowed:
        try:
            _allowed((entry,), named)
        except PixcastError as error:
            raise SettingsError(f"strict_allowed entry {entry!r}: {error.message}") from None
