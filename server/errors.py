"""How failures become responses, in one place.

A PixcastError answers its status with a one-line plain-text body and the same message in
`X-Cld-Error` (as Cloudinary does). Anything else is a bug: its traceback goes to the log,
and the client gets a generic 500.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from server.responses import send
from transforms.errors import PixcastError

logger = logging.getLogger(__name__)

R = TypeVar("R", bound=Request[Any])
Endpoint = Callable[[R], Awaitable[Response]]

# A client error may become valid soon (an original is uploaded), so CDNs keep it briefly,
# as Cloudinary's first back-off step does; server errors are never stored.
CLIENT_ERROR_CACHE = "public, max-age=60"
SERVER_ERROR_CACHE = "no-store"
CRASH_MESSAGE = "Internal server error"
# 503 means overloaded (server.concurrency): clients and CDNs may try again this soon.
RETRY_AFTER_SECONDS = "1"


def header_safe(message: str) -> str:
    """The message as a one-line printable-ASCII header value: others are %-escaped (UTF-8)."""
    return "".join(
        char if " " <= char <= "~" and char != "%" else _escape(char) for char in message
    )


def _escape(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))


def error_response(method: str, status: int, message: str) -> Response:
    headers = {
        "content-type": "text/plain; charset=utf-8",
        "cache-control": CLIENT_ERROR_CACHE if status < 500 else SERVER_ERROR_CACHE,
        "x-cld-error": header_safe(message),
        "x-content-type-options": "nosniff",
    }
    if status == 503:
        headers["retry-after"] = RETRY_AFTER_SECONDS
    return send(method, status, (message + "\n").encode("utf-8"), headers)


def guarded(endpoint: Endpoint[R]) -> Endpoint[R]:
    """Wrap an endpoint so that no exception leaves it as anything but a response."""

    @functools.wraps(endpoint)
    async def wrapper(request: R) -> Response:
        try:
            return await endpoint(request)
        except PixcastError as error:
            logger.debug(
                "%s %s → %d %s", request.method, request.url.path, error.status, error.message
            )
            return error_response(request.method, error.status, error.message)
        except Exception:
            logger.exception("unhandled error for %s %s", request.method, request.url.path)
            return error_response(request.method, 500, CRASH_MESSAGE)

    return wrapper
