"""The playground's static files, read once: index.html points at its CSS and JavaScript
with a content hash, so they can be cached for a year while index.html is revalidated.
Bodies are gzipped once in advance for clients that accept it.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).parent / "static"
INDEX = "index.html"
_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}
_ASSET_LINK = re.compile(r'"assets/([A-Za-z0-9_.-]+)"')


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    media_type: str
    etag: str


def _asset(name: str, body: bytes) -> Asset:
    digest = hashlib.sha256(body).hexdigest()[:16]
    packed = gzip.compress(body, compresslevel=9, mtime=0)
    media_type = _MEDIA_TYPES.get(Path(name).suffix, "application/octet-stream")
    return Asset(body, packed, media_type, f'"{digest}"')


@functools.cache
def assets() -> dict[str, Asset]:
    """Every file in static/ by name; index.html with `?v=<hash>` on its asset links."""
    loaded = {
        path.name: _asset(path.name, path.read_bytes())
        for path in sorted(STATIC.iterdir())
        if path.is_file() and path.name != INDEX
    }

    def versioned(match: re.Match[str]) -> str:
        name = match.group(1)
        found = loaded.get(name)
        return f'"assets/{name}?v={found.etag.strip(chr(34))}"' if found else match.group(0)

    index = _ASSET_LINK.sub(versioned, (STATIC / INDEX).read_text(encoding="utf-8"))
    loaded[INDEX] = _asset(INDEX, index.encode("utf-8"))
    return loaded
