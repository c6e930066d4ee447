"""Cheap guards that run before any I/O: supported delivery types and configured limits.

Signatures, strict mode and the SSRF guard for fetched sources will live here too.
"""

from __future__ import annotations

from server.settings import Settings
from transforms.errors import BadRequest
from transforms.model import Delivery, Transformation


def check_request(t: Transformation, settings: Settings) -> None:
    """Refuse what this server cannot deliver safely yet (400, naming the parameter)."""
    check_delivery(t)
    check_limits(t, settings)


def check_delivery(t: Transformation) -> None:
    # private, authenticated and fetch need signatures and the SSRF guard; until they
    # exist, serving them as plain uploads would expose what they are meant to protect.
    if t.delivery is not Delivery.UPLOAD:
        raise BadRequest(
            f"Invalid delivery type: {t.delivery.value} (this server delivers upload only)"
        )


def check_limits(t: Transformation, settings: Settings) -> None:
    """The pipeline checks dpr too, but only after reading the original; this is earlier."""
    for step in t.steps:
        if step.dpr is not None and step.dpr > settings.max_dpr:
            raise BadRequest(
                f"Invalid dpr in transformation: {step.dpr:g} (at most {settings.max_dpr:g})"
            )
