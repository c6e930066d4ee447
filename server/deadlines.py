"""The per-request deadline (`request_timeout`): past it, the request answers 504.

Everything the request awaits is cancelled (remote reads included); a render already
running is killed inside libvips at the deadline (transforms.limits.stopping_at_deadline)
or stops at its next step (check_deadline), so its thread and its turn in the render pool
come back at once instead of when the work would have ended.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

import anyio
from starlette.requests import Request
from starlette.responses import Response

from server.state import AppState
from transforms.errors import GatewayTimeout
from transforms.limits import deadline

Endpoint = Callable[[Request[AppState]], Awaitable[Response]]


def within_deadline(endpoint: Endpoint) -> Endpoint:
    """`endpoint` cut off after the app's `request_timeout` seconds with a 504."""

    @functools.wraps(endpoint)
    async def wrapper(request: Request[AppState]) -> Response:
        seconds = request.state["services"].settings.request_timeout
        try:
            with deadline(seconds), anyio.fail_after(seconds):
                return await endpoint(request)
        except TimeoutError:
            raise GatewayTimeout(
                f"The request took longer than {seconds:g} seconds (request_timeout)"
            ) from None

    return wrapper
