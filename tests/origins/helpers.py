"""Test helpers for remote originals: image bytes, a fake upstream for httpx.MockTransport,
and a real upstream HTTP server on 127.0.0.1 (a thread, bounded waits, closed by the test).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pyvips

from server.settings import Settings


def gradient(width: int, height: int) -> pyvips.Image:
    xyz = pyvips.Image.xyz(width, height)
    red = xyz[0] * (255 / max(1, width - 1))
    green = xyz[1] * (255 / max(1, height - 1))
    return red.bandjoin([green, green * 0 + 96]).cast("uchar").copy(interpretation="srgb")


def jpeg(width: int = 400, height: int = 300) -> bytes:
    return bytes(gradient(width, height).jpegsave_buffer(Q=85))


def png(width: int = 64, height: int = 48) -> bytes:
    return bytes(gradient(width, height).pngsave_buffer())


def image_size(data: bytes) -> tuple[int, int]:
    image = pyvips.Image.new_from_buffer(data, "")
    return image.width, image.height


def make_settings(root: Path, **overrides: Any) -> Settings:
    """Settings over `root`/originals and `root`/cache; detectors off (they are not tested
    here and loading them is slow)."""
    originals = root / "originals"
    originals.mkdir(parents=True, exist_ok=True)
    values: dict[str, Any] = {
        "originals": originals,
        "cache_dir": root / "cache",
        "detectors": "",
    }
    return Settings(**(values | overrides))


# --- a fake upstream for httpx.MockTransport ---------------------------------------------


@dataclass
class FakeUpstream:
    """Routes URL → handler; records every request. Handlers return httpx.Responses."""

    routes: dict[str, Callable[[httpx.Request], httpx.Response]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get(str(request.url))
        if route is None:
            return httpx.Response(404, content=b"not here")
        return route(request)

    def transport(self, *args: object) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def image(self, url: str, data: bytes, **headers: str) -> None:
        self.routes[url] = lambda request: httpx.Response(200, content=data, headers=headers)

    def hits(self, url: str) -> int:
        return sum(1 for request in self.requests if str(request.url) == url)


class CountingStream(httpx.AsyncByteStream):
    """A body of `chunks` chunks of `size` bytes that counts how many were pulled."""

    def __init__(self, chunks: int, size: int, first: bytes = b"") -> None:
        self.chunks = chunks
        self.size = size
        self.first = first
        self.pulled = 0

    async def __aiter__(self) -> Any:
        for index in range(self.chunks):
            self.pulled += 1
            yield self.first if index == 0 and self.first else b"\0" * self.size


# --- a real upstream on 127.0.0.1 --------------------------------------------------------

Route = Callable[["UpstreamHandler"], None]


class UpstreamHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: UpstreamServer

    def do_GET(self) -> None:
        upstream = self.server.upstream
        upstream.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        route = upstream.routes.get(self.path)
        if route is None:
            self.reply(404, b"missing", "text/plain")
        else:
            route(self)

    def reply(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class UpstreamServer(ThreadingHTTPServer):
    daemon_threads = True
    upstream: Upstream


class Upstream:
    """An HTTP server on 127.0.0.1 (a free port) with a table of routes.

    `sent[path]` counts body bytes a streaming route managed to write before the client
    hung up, which tells whether pixcast stopped reading early.
    """

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.sent: dict[str, int] = {}
        self.stop = threading.Event()
        self.server = UpstreamServer(("127.0.0.1", 0), UpstreamHandler)
        self.server.upstream = self
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def hits(self, path: str) -> int:
        return sum(1 for seen, _ in self.requests if seen == path)

    # --- routes ---

    def image(self, path: str, data: bytes, etag: str | None = None, **headers: str) -> None:
        """`data` as a JPEG, answering 304 to a matching If-None-Match."""

        def route(handler: UpstreamHandler) -> None:
            if etag is not None and handler.headers.get("if-none-match") == etag:
                handler.send_response(304)
                handler.send_header("etag", etag)
                handler.send_header("content-length", "0")
                handler.end_headers()
                return
            extra = headers | ({"etag": etag} if etag else {})
            handler.reply(200, data, "image/jpeg", **extra)

        self.routes[path] = route

    def status(self, path: str, code: int) -> None:
        self.routes[path] = lambda handler: handler.reply(code, b"upstream says no", "text/plain")

    def redirect(self, path: str, location: str) -> None:
        def route(handler: UpstreamHandler) -> None:
            handler.send_response(302)
            handler.send_header("location", location)
            handler.send_header("content-length", "0")
            handler.end_headers()

        self.routes[path] = route

    def slow(self, path: str, data: bytes, seconds: float) -> None:
        def route(handler: UpstreamHandler) -> None:
            self.stop.wait(seconds)
            handler.reply(200, data, "image/jpeg")

        self.routes[path] = route

    def stream(self, path: str, head: bytes, total: int, declared: bool) -> None:
        """`total` bytes starting with `head`, with or without Content-Length (chunked)."""

        def route(handler: UpstreamHandler) -> None:
            handler.send_response(200)
            handler.send_header("content-type", "image/jpeg")
            if declared:
                handler.send_header("content-length", str(total))
            else:
                handler.send_header("transfer-encoding", "chunked")
            handler.end_headers()
            self.sent[path] = 0
            chunk = head + b"\0" * (65536 - len(head))
            for _ in range(total // len(chunk)):  # bounded
                if self.stop.is_set():
                    break
                try:
                    frame = chunk if declared else b"%x\r\n%s\r\n" % (len(chunk), chunk)
                    handler.wfile.write(frame)
                    handler.wfile.flush()
                except OSError:
                    handler.close_connection = True
                    return
                self.sent[path] += len(chunk)
                chunk = b"\0" * 65536
            if not declared:
                handler.wfile.write(b"0\r\n\r\n")

        self.routes[path] = route

    def truncated(self, path: str, data: bytes) -> None:
        """Declares all of `data`, sends half, then closes the connection."""

        def route(handler: UpstreamHandler) -> None:
            handler.send_response(200)
            handler.send_header("content-type", "image/jpeg")
            handler.send_header("content-length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data[: len(data) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)

        self.routes[path] = route


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(upstream: Upstream) -> Iterator[Upstream]:
    try:
        yield upstream
    finally:
        upstream.close()
