"""HTTP representation rules: validators, Cache-Control, conditional requests, HEAD.

Everything here is a pure function of its arguments, so the header rules are testable
without a server.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import quote

from starlette.responses import Response

from transforms.hints import ACCEPT_CH
from transforms.model import Transformation

IMMUTABLE = "public, max-age=31536000, immutable"
# A `d_` placeholder stands in until the original exists: keep it as briefly as a 404.
SUBSTITUTE = "public, max-age=60"
_HEADER_SAFE = "".join(chr(code) for code in range(0x20, 0x7F) if chr(code) != "%")
# RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc excludes only DQUOTE.
_ENTITY_TAG = re.compile(r'\s*(?:W/)?("[^"]*")\s*(?:,|$)')
# Cloudinary's attachment names: letters, digits, `_ - !` and space.
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_\-! ]+")
# Headers a 304 repeats (RFC 9110 §15.4.5): validators and caching metadata only.
_NOT_MODIFIED_HEADERS = (
    "etag",
    "last-modified",
    "cache-control",
    "vary",
    "x-cache",
    "server-timing",
)


def entity_tag(data: bytes) -> str:
    """A strong ETag from the bytes themselves (128 bits of sha256, quoted)."""
    return f'"{hashlib.sha256(data).hexdigest()[:32]}"'


def http_date(seconds: float) -> str:
    return formatdate(seconds, usegmt=True)


def cache_control(t: Transformation, max_age: int) -> str:
    """Versioned URLs never change meaning, so caches may keep them for a year."""
    if t.substitute_for is not None:
        return SUBSTITUTE
    if t.version is not None or t.flag("immutable_cache") is not None:
        return IMMUTABLE
    return f"public, max-age={max_age}"


def substitute(t: Transformation) -> dict[str, str]:
    """`X-Cld-Error` naming the missing original when the `d_` placeholder answers."""
    if t.substitute_for is None:
        return {}
    # As server.errors.header_safe: printable ASCII stays, the rest is %-escaped UTF-8.
    return {"x-cld-error": quote(t.substitute_for, safe=_HEADER_SAFE)}


def attachment(name: str, extension: str) -> str:
    """A Content-Disposition for download as `<name>.<extension>`, safe for any name.

    `filename` keeps Cloudinary's character set (others become `_`); `filename*` (RFC 6266)
    carries the full Unicode name for clients that read it.
    """
    ascii_name = _UNSAFE_NAME.sub("_", name).strip(" _") or "download"
    value = f'attachment; filename="{ascii_name}.{extension}"'
    if ascii_name != name:
        clean = "".join(c for c in name if c.isprintable() and c not in '/\\"') or "download"
        value += f"; filename*=UTF-8''{quote(f'{clean}.{extension}', safe='')}"
    return value


def none_match(header: str, etag: str) -> bool:
    """If-None-Match with the weak comparison RFC 9110 §13.1.2 asks for (W/ is ignored)."""
    if header.strip() == "*":
        return True
    return etag in _ENTITY_TAG.findall(header)


def not_modified_since(header: str, modified: float) -> bool:
    """If-Modified-Since: True when the representation is no newer (second resolution)."""
    try:
        since = parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return False  # RFC 9110 §13.1.3: an invalid date is ignored
    return int(modified) <= since


def is_not_modified(request_headers: Mapping[str, str], etag: str, modified: float) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    if "if-none-match" in request_headers:
        return none_match(request_headers["if-none-match"], etag)
    since = request_headers.get("if-modified-since")
    return since is not None and not_modified_since(since, modified)


def not_modified(headers: Mapping[str, str]) -> Response:
    kept = {name: value for name, value in headers.items() if name in _NOT_MODIFIED_HEADERS}
    return Response(status_code=304, headers=kept)


def send(method: str, status: int, body: bytes, headers: Mapping[str, str]) -> Response:
    """A response with its Content-Length; HEAD gets the same headers and no body."""
    full = {**headers, "content-length": str(len(body))}
    return Response(b"" if method == "HEAD" else body, status_code=status, headers=full)


def with_hints(response: Response, hints: tuple[str, ...]) -> Response:
    """A response to a URL with w_auto or dpr_auto: Accept-CH asks browsers for the hints,
    and Vary names the hint headers that chose this variant (after Accept, if any)."""
    if not hints:
        return response
    vary = [v.strip() for v in response.headers.get("vary", "").split(",") if v.strip()]
    response.headers["vary"] = ", ".join([*vary, *hints])
    response.headers["accept-ch"] = ACCEPT_CH
    return response
