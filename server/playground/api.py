"""The playground's JSON endpoints: what the server offers, the image list, validation as
you type, and uploads. Errors are JSON too: `{"ok": false, "error": "..."}` with the status
the error carries and the same `X-Cld-Error` header as delivery.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.concurrency import run_io
from server.credentials import Credentials
from server.errors import header_safe
from server.playground import library, uploads
from server.playground.describe import CROP_MODES, EFFECTS
from server.playground.explain import Explanation, Invalid, Span, explain
from server.playground.gallery import gallery
from server.settings import Settings
from server.signing import sign_url
from server.state import AppState
from transforms.effects import REGISTRY
from transforms.effects.params import Int, Number
from transforms.errors import BadRequest, PixcastError
from transforms.model import Compass, Format

logger = logging.getLogger(__name__)

Endpoint = Callable[[Request[AppState]], Awaitable[Response]]
LIST_LIMIT = 200
UPLOADS_BASE = "/playground/uploads"
_FOCUS_GRAVITIES = ("face", "faces", "auto")
_QUALITIES = ("auto", "auto:best", "auto:good", "auto:eco", "auto:low", "90", "80", "60", "40")
NO_STORE = {"cache-control": "no-store"}


def answer(content: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(content, status_code=status, headers=NO_STORE | (headers or {}))


def refusal(status: int, message: str) -> Response:
    """An error as JSON, with the message in X-Cld-Error as delivery does."""
    body = {"ok": False, "error": message}
    return answer(body, status, {"x-cld-error": header_safe(message)})


def json_guarded(endpoint: Endpoint) -> Endpoint:
    """No exception leaves an endpoint as anything but a JSON answer."""

    @functools.wraps(endpoint)
    async def wrapper(request: Request[AppState]) -> Response:
        try:
            return await endpoint(request)
        except PixcastError as error:
            return refusal(error.status, error.message)
        except Exception:
            logger.exception("unhandled error for %s %s", request.method, request.url.path)
            return refusal(500, "Internal server error")

    return wrapper


def settings_of(request: Request[AppState]) -> Settings:
    return request.state["services"].settings


def require_operator(request: Request[AppState]) -> None:
    """With an api_secret set, signing and uploads need HTTP Basic api_key:api_secret (401)."""
    settings = settings_of(request)
    if settings.api_secret:
        Credentials.of(settings).check_basic(request.headers.get("authorization"))


def upload_limits(settings: Settings) -> uploads.UploadLimits:
    return uploads.UploadLimits(max_bytes=settings.upload_max_mb * uploads.MEGABYTE)


# --- GET /playground/api/config ----------------------------------------------------------


@json_guarded
async def config(request: Request[AppState]) -> Response:
    """What this server offers: controls' choices, limits, examples, signing."""
    settings = settings_of(request)
    limits = upload_limits(settings)
    return answer(
        {
            "crop_modes": [mode.value for mode in CROP_MODES],
            "gravities": [c.value for c in Compass if c is not Compass.XY_CENTER]
            + list(_FOCUS_GRAVITIES),
            "formats": [f.value for f in Format],
            "qualities": list(_QUALITIES),
            "effects": [_effect(name) for name in sorted(REGISTRY)],
            "max_dpr": settings.max_dpr,
            "named_transformations": dict(settings.named_transformations),
            "uploads": {
                "max_bytes": limits.max_bytes,
                "max_pixels": limits.max_pixels,
                "formats": uploads.READABLE,
            },
            "signing": signing_status(settings),
            "examples": gallery(settings.named_transformations, settings.max_dpr),
        }
    )


def _effect(name: str) -> dict[str, object]:
    """An effect and the numeric parameter the page's slider drives (the first one), if any.

    The full parameter list is left out on purpose: the page never needs it (explain
    describes each parameter) and it would double this answer's size.
    """
    spec = REGISTRY[name]
    numeric = next((p for p in spec.params if isinstance(p, Int | Number)), None)
    return {
        "name": name,
        "description": EFFECTS.get(name, ""),
        "slider": _slider(numeric) if numeric is not None else None,
    }


def _slider(param: Int | Number) -> dict[str, object]:
    default = param.default if isinstance(param.default, int | float) else None
    return {"name": param.name, "low": param.low, "high": param.high, "default": default}


def signing_status(settings: Settings) -> dict[str, object]:
    """Whether this server checks signatures (an api_secret is set) and needs them (strict)."""
    if not settings.api_secret:
        note = "URL signing is off on this server (no api_secret), so there is no signed URL"
        return {"enabled": False, "strict": False, "note": note}
    note = "Signed with this server's first api_secret; signing asks for api_key:api_secret"
    if settings.strict:
        note += "; strict mode is on, so only signed URLs (or strict_allowed ones) render"
    return {"enabled": True, "strict": settings.strict, "note": note}


# --- GET /playground/api/sign?path= ------------------------------------------------------


@json_guarded
async def sign(request: Request[AppState]) -> Response:
    """The delivery path with a signature, as the SDKs would sign it (first api_secret)."""
    settings = settings_of(request)
    path = request.query_params.get("path", "")
    if not settings.api_secret:
        return refusal(404, "URL signing is off on this server (no api_secret)")
    require_operator(request)
    if not path.startswith("/") or len(path) > 4000:
        raise BadRequest("Invalid path to sign: expected a delivery path such as /image/upload/...")
    return answer({"ok": True, "path": sign_url(path, settings.api_secret[0])})


# --- GET /playground/api/images?q= -------------------------------------------------------


@json_guarded
async def images(request: Request[AppState]) -> Response:
    """Originals and uploads whose name contains `q`, each with the base its URLs use."""
    settings = settings_of(request)
    query = request.query_params.get("q", "")[:200]
    originals = await run_io(library.search, settings.originals, query, LIST_LIMIT)
    uploaded = await run_io(library.search, settings.uploads_dir, query, LIST_LIMIT, True)
    return answer(
        {
            "originals": [_entry(e, "") for e in originals.entries],
            "uploads": [_entry(e, UPLOADS_BASE) for e in uploaded.entries],
            "truncated": originals.truncated or uploaded.truncated,
        }
    )


def _entry(entry: library.Entry, base: str) -> dict[str, object]:
    return {
        "public_id": entry.public_id,
        "file": entry.file,
        "extension": entry.extension,
        "bytes": entry.bytes,
        "base": base,
    }


# --- GET /playground/api/explain?t= ------------------------------------------------------


@json_guarded
async def explanation(request: Request[AppState]) -> Response:
    """`{"ok": true, canonical, tidy, components}` or `{"ok": false, error, parameter}`."""
    settings = settings_of(request)
    text = request.query_params.get("t", "")
    if len(text) > 4000:
        return answer({"ok": False, "error": "The transformation is too long", "parameter": None})
    try:
        found = explain(text, settings.named_transformations, settings.max_dpr)
    except Invalid as error:
        return answer({"ok": False, "error": error.message, "parameter": _span(text, error.span)})
    return answer(_explained(found))


def _span(text: str, span: Span | None) -> dict[str, object] | None:
    if span is None:
        return None
    return asdict(span) | {"text": text[span.start : span.end]}


def _explained(found: Explanation) -> dict[str, object]:
    return {
        "ok": True,
        "canonical": found.canonical,
        "tidy": found.tidy,
        "components": [
            {
                "text": component.text,
                "tidy": component.tidy,
                "span": asdict(component.span),
                "params": [
                    asdict(param.span)
                    | {
                        "text": param.text,
                        "field": param.field,
                        "explanation": param.explanation,
                        "expands_to": param.expands_to,
                    }
                    for param in component.params
                ],
            }
            for component in found.components
        ],
    }


# --- POST /playground/api/uploads?name= --------------------------------------------------


@json_guarded
async def upload(request: Request[AppState]) -> Response:
    """Store the request body (the file's bytes, not a form) in the uploads area."""
    settings = settings_of(request)
    require_operator(request)
    limits = upload_limits(settings)
    uploads.check_declared(request.headers.get("content-length"), limits)
    data = await uploads.read_capped(request.stream(), limits)
    name = request.query_params.get("name", "upload")[:200]
    stored = await run_io(uploads.store, settings.uploads_dir, name, data, limits)
    public_id = stored.name.rpartition(".")[0]
    entry = library.Entry(public_id, stored.name, stored.bytes, 0.0)
    return answer(
        {
            "ok": True,
            "image": _entry(entry, UPLOADS_BASE) | {"extension": entry.extension},
            "width": stored.width,
            "height": stored.height,
            "format": stored.format,
        },
        status=201,
    )
