"""What pixcast's server loses to the work itself: op (a) of `make bench-peers` (width 300
of a 4000x3000 JPEG) done in-process, without a server, by N processes for S seconds.

    python bench/floors.py [JPEG] [--seconds 10] [--processes 2] [--only render,request]

Four floors, each a rate (renders/s over all processes) with the CPU each render took, to
set beside the server's req/s and CPU per request for the same op and image in
`make bench-peers`:

- decode: libjpeg-turbo's decode at 1/8 (simplejpeg), nothing else;
- chain: that decode, libvips' lanczos3 resize to 300 wide and a q80 JPEG encode;
- render: `transforms.pipeline.render` of `w_300`, pixcast's whole render without a server;
- request: pixcast's whole request path (routing, origin, cache, single-flight, render,
  response) called as an ASGI app in-process, one request at a time per process and each
  a new version: the server without HTTP and without concurrent requests. One at a time,
  every hand-off to a thread wakes one that slept, the dearest case: a loaded server
  pays less per hand-off, so this shows the request path's hand-offs at their largest.

JPEG defaults to the corpus bench-peers builds (`$PEERS_HOME/images/large.jpg`).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from peer_servers import ROOT, peers_home

FLOORS = ("decode", "chain", "render", "request")
WIDTH = 300


def _work(name: str, source: Path) -> Callable[[], object]:
    """The work of one floor, as a call; imports stay in the worker process."""
    if name == "request":
        return _request(source)
    data = source.read_bytes()
    import pyvips
    import simplejpeg

    sys.path.insert(0, str(ROOT))
    from transforms import pipeline
    from transforms.grammar import parse_url

    pyvips.cache_set_max(0)
    eighth = pyvips.Image.new_from_buffer(data, "", access="sequential")
    least = {"min_width": -(-eighth.width // 8), "min_height": -(-eighth.height // 8)}

    def decode() -> object:
        return simplejpeg.decode_jpeg(data, "RGB", **least)

    def chain() -> object:
        pixels = simplejpeg.decode_jpeg(data, "RGB", **least)
        height, width, bands = pixels.shape
        image = pyvips.Image.new_from_memory(pixels.data, width, height, bands, "uchar")
        return image.resize(WIDTH / width, kernel="lanczos3").jpegsave_buffer(Q=80)

    transformation = parse_url(f"/image/upload/w_{WIDTH}/large.jpg")

    def render() -> object:
        return pipeline.render(transformation, data, None)

    return {"decode": decode, "chain": chain, "render": render}[name]


def _request(source: Path) -> Callable[[], object]:
    """One uncached GET of `w_300` through the app, on this process's own event loop."""
    sys.path.insert(0, str(ROOT))
    from starlette.types import Message, Scope

    from server.app import create_app
    from server.settings import load_settings

    settings = load_settings(
        {"originals": str(source.parent), "cache_dir": tempfile.mkdtemp(prefix="floors-"),
         "detectors": "", "access_log": "off"}, environ={},
    )  # fmt: skip
    app = create_app(settings)
    loop = asyncio.new_event_loop()
    # The lifespan stays open for the process's life (held here: a lifespan collected
    # as garbage would close the app's render pool).
    lifespan = app.router.lifespan_context(app)
    state = loop.run_until_complete(lifespan.__aenter__())
    versions = iter(range(1, 10**9))

    async def get(path: str) -> int:
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        scope: Scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": b"", "root_path": "", "headers": [(b"host", b"127.0.0.1")],
            "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": dict(state or {}),
        }  # fmt: skip
        await app(scope, receive, send)
        return int(str(sent[0]["status"]))

    def request() -> object:
        assert lifespan is not None
        path = f"/image/upload/w_{WIDTH}/v{next(versions)}/{source.stem}.jpg"
        status = loop.run_until_complete(get(path))
        if status != 200:
            raise SystemExit(f"floors: {path} answered {status}")
        return status

    return request


def _cpu_seconds() -> float:
    """This process's CPU time, every thread's (libvips' and the app's too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _worker(
    name: str, source: str, seconds: float, done: multiprocessing.Queue[tuple[int, float]]
) -> None:
    try:
        work = _work(name, Path(source))
        work()  # warm: imports, libvips' operation cache, simplejpeg's tables
        count, end, cpu = 0, time.monotonic() + seconds, _cpu_seconds()
        while time.monotonic() < end:
            work()
            count += 1
    except BaseException:
        done.put((-1, 0.0))  # the parent stops at once instead of waiting for a count
        raise
    done.put((count, _cpu_seconds() - cpu))


def rate(name: str, source: Path, seconds: float, processes: int) -> tuple[float, float]:
    """Renders per second of one floor, over `processes` processes, and the CPU
    milliseconds each took."""
    done: multiprocessing.Queue[tuple[int, float]] = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_worker, args=(name, str(source), seconds, done))
               for _ in range(processes)]  # fmt: skip
    for worker in workers:
        worker.start()
    counts = [done.get(timeout=seconds + 120) for _ in workers]
    for worker in workers:
        worker.join()
    if min(count for count, _cpu in counts) < 0:
        raise SystemExit(f"floors: the {name} floor failed in a worker (its error is above)")
    total = sum(count for count, _cpu in counts)
    return total / seconds, 1000 * sum(cpu for _count, cpu in counts) / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jpeg", nargs="?", type=Path, default=peers_home() / "images/large.jpg")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--only", default=",".join(FLOORS), help="e.g. render,request")
    args = parser.parse_args()
    if not args.jpeg.is_file():
        parser.error(f"{args.jpeg} is missing: run `make bench-peers` once, or name a JPEG")
    names = args.only.split(",")
    if not set(names) <= set(FLOORS):
        parser.error(f"--only takes floors among {', '.join(FLOORS)}")
    for name in names:
        per_second, cpu_ms = rate(name, args.jpeg, args.seconds, args.processes)
        print(f"floors: {name:7s} {per_second:6.1f} /s  {cpu_ms:5.1f} ms CPU each"
              f"  ({args.processes} processes)")  # fmt: skip


if __name__ == "__main__":
    main()
