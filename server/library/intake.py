"""The uploaded file's bytes, however they came: a multipart file part, a base64 data URI,
or a remote http(s) URL (the fetch allow-list and the SSRF guard apply). Sizes are capped
by max_source_bytes while reading; pixels are checked from the header before any decode.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

import pyvips
from starlette.datastructures import UploadFile

from server.remote import FetchHosts, check_fetch_enabled, check_fetch_host, remote_url
from server.state import Services
from transforms import formats
from transforms.errors import BadRequest, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from transforms.limits import check_source_bytes
from transforms.model import Limits

_DATA_URI = re.compile(r"^data:(?P<type>[\w.+/-]*)(?:;[\w=.-]+)*?;base64,(?P<data>.*)$", re.S)
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Incoming:
    """The file's bytes and the name it came with (for use_filename and the answer)."""

    data: bytes
    filename: str


@dataclass(frozen=True)
class Header:
    """What the header says: format (from the magic bytes), upright width and height."""

    format: str
    width: int
    height: int


async def read_file(services: Services, file: UploadFile | str | None) -> Incoming:
    if file is None or file == "":
        raise BadRequest("Missing required parameter - file")
    if isinstance(file, str):
        return await _from_text(services, file.strip())
    return await _from_part(file, services.limits)


async def _from_part(part: UploadFile, limits: Limits) -> Incoming:
    received = bytearray()
    while chunk := await part.read(_CHUNK):
        received += chunk
        check_source_bytes(len(received), limits)
    return Incoming(bytes(received), part.filename or "")


async def _from_text(services: Services, text: str) -> Incoming:
    match = _DATA_URI.match(text)
    if match is not None:
        return Incoming(_decoded(match.group("data"), services.limits), "")
    if text.startswith(("http://", "https://")):
        return await _fetched(services, text)
    raise BadRequest("Invalid file: expected a file part, a data: URI (base64) or an http(s) URL")


def _decoded(encoded: str, limits: Limits) -> bytes:
    check_source_bytes(len(encoded) * 3 // 4, limits)
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise BadRequest("Invalid file: the data URI is not valid base64") from None


async def _fetched(services: Services, url: str) -> Incoming:
    hosts = FetchHosts(services.settings.fetch_allowed_hosts)
    check_fetch_enabled(hosts)
    check_fetch_host(remote_url(url), hosts)
    name = url.rsplit("/", 1)[-1].split("?", 1)[0]
    fetched = await services.origins.fetch.client.get(url, name or "remote file", hosts)
    if fetched is None:  # only answers to conditional requests, which this is not
        raise BadRequest(f"Invalid file: {url} sent no body")
    return Incoming(fetched.data, name)


def check_header(data: bytes, limits: Limits) -> Header:
    """Format, size and pixel limits from the upload's header (blocking; no decode)."""
    found = formats.sniff(data[:4096])
    if found is None:
        raise UnsupportedMediaType("Invalid image file: not an image format pixcast reads")
    try:
        image = pyvips.Image.new_from_buffer(data, "", access="sequential")
        width, height, pages = image.width, image.height, _pages(image)
        orientation = image.get("orientation") if image.get_typeof("orientation") else 1
    except pyvips.Error:
        raise Unprocessable(
            f"Invalid image file: its {found.upper()} header does not decode"
        ) from None
    if width * height * pages > limits.max_source_pixels:
        raise PayloadTooLarge(
            f"Image too large: {width}x{height}x{pages} pixels, the limit is "
            f"{limits.max_source_pixels / 1e6:.0f} megapixels"
        )
    upright = (height, width) if int(orientation) >= 5 else (width, height)
    return Header(found, int(upright[0]), int(upright[1]))


def _pages(image: pyvips.Image) -> int:
    return int(image.get("n-pages")) if image.get_typeof("n-pages") else 1
