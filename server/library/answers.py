"""The upload and admin APIs' JSON: resources in Cloudinary's shape, and errors as
`{"error": {"message": ...}}` with the status and the same message in `X-Cld-Error`."""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.credentials import challenge
from server.errors import header_safe
from server.library.repository import Resource
from server.state import AppState
from transforms.errors import PixcastError

logger = logging.getLogger(__name__)

Endpoint = Callable[[Request[AppState]], Awaitable[Response]]
NO_STORE = {"cache-control": "no-store"}


def answer(content: object, status: int = 200) -> Response:
    return JSONResponse(content, status_code=status, headers=NO_STORE)


def error(status: int, message: str, basic: bool = False) -> Response:
    headers = NO_STORE | {"x-cld-error": header_safe(message)}
    if basic and status == 401:
        headers |= challenge()
    return JSONResponse({"error": {"message": message}}, status_code=status, headers=headers)


def api_guarded(basic: bool = False) -> Callable[[Endpoint], Endpoint]:
    """No exception leaves an API endpoint as anything but a Cloudinary-style error body."""

    def wrap(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def wrapper(request: Request[AppState]) -> Response:
            try:
                return await endpoint(request)
            except PixcastError as failure:
                return error(failure.status, failure.message, basic)
            except Exception:
                logger.exception("unhandled error for %s %s", request.method, request.url.path)
                return error(500, "Internal server error")

        return wrapper

    return wrap


def delivery_url(base: str, resource: Resource) -> str:
    return (
        f"{base}/image/{resource.type}/v{resource.version}/{resource.public_id}.{resource.format}"
    )


def response_signature(resource: Resource, secret: str) -> str:
    """What Cloudinary signs in an upload answer: public_id and version, then the secret."""
    payload = f"public_id={resource.public_id}&version={resource.version}{secret}"
    return hashlib.sha1(payload.encode()).hexdigest()


def resource_json(resource: Resource, base: str, details: bool = False) -> dict[str, Any]:
    """A resource as the admin API lists it; `details` adds context, coordinates, faces."""
    url = delivery_url(base, resource)
    found: dict[str, Any] = {
        "asset_id": hashlib.md5(f"{resource.type}/{resource.public_id}".encode()).hexdigest(),
        "public_id": resource.public_id,
        "version": resource.version,
        "format": resource.format,
        "resource_type": "image",
        "type": resource.type,
        "created_at": resource.created_at,
        "bytes": resource.bytes,
        "width": resource.width,
        "height": resource.height,
        "tags": list(resource.tags),
        "etag": resource.etag,
        "placeholder": False,
        "url": url,
        "secure_url": _secure(url),
    }
    if resource.context:
        found["context"] = {"custom": dict(resource.context)}
    if details:
        found["faces"] = [list(box) for box in resource.faces]
        found["coordinates"] = {
            "custom": [list(box) for box in resource.coordinates],
            "faces": [list(box) for box in resource.faces],
        }
        found["info"] = dict(resource.info)
        found["original_filename"] = resource.original_filename
    return found


def list_entry(resource: Resource) -> dict[str, Any]:
    """One entry of the client-side list `/image/list/<tag>.json`."""
    entry: dict[str, Any] = {
        "public_id": resource.public_id,
        "version": resource.version,
        "format": resource.format,
        "width": resource.width,
        "height": resource.height,
        "type": resource.type,
        "created_at": resource.created_at,
    }
    if resource.context:
        entry["context"] = {"custom": dict(resource.context)}
    return entry


def _secure(url: str) -> str:
    return "https://" + url.removeprefix("http://") if url.startswith("http://") else url
