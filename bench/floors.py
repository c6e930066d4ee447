"""What pixcast's server loses to the work itself: op (a) of `make bench-peers` (width 300
of a 4000x3000 JPEG) done in-process, without a server, by N processes for S seconds.

    python bench/floors.py [JPEG] [--seconds 10] [--processes 2]

Three floors, each a rate (renders/s over all processes), to set beside the server's
req/s for the same op and image in `make bench-peers`:

- decode: libjpeg-turbo's decode at 1/8 (simplejpeg), nothing else;
- chain: that decode, libvips' lanczos3 resize to 300 wide and a q80 JPEG encode;
- render: `transforms.pipeline.render` of `w_300`, pixcast's whole render without a server.

JPEG defaults to the corpus bench-peers builds (`$PEERS_HOME/images/large.jpg`).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections.abc import Callable
from pathlib import Path

from peer_servers import ROOT, peers_home

FLOORS = ("decode", "chain", "render")
WIDTH = 300


def _work(name: str, data: bytes) -> Callable[[], object]:
    """The work of one floor, as a call; imports stay in the worker process."""
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


def _worker(name: str, source: str, seconds: float, done: multiprocessing.Queue[int]) -> None:
    work = _work(name, Path(source).read_bytes())
    work()  # warm: imports, libvips' operation cache, simplejpeg's tables
    count, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        work()
        count += 1
    done.put(count)


def rate(name: str, source: Path, seconds: float, processes: int) -> float:
    """Renders per second of one floor, over `processes` processes."""
    done: multiprocessing.Queue[int] = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_worker, args=(name, str(source), seconds, done))
               for _ in range(processes)]  # fmt: skip
    for worker in workers:
        worker.start()
    total = sum(done.get(timeout=seconds + 120) for _ in workers)
    for worker in workers:
        worker.join()
    return total / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jpeg", nargs="?", type=Path, default=peers_home() / "images/large.jpg")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    if not args.jpeg.is_file():
        parser.error(f"{args.jpeg} is missing: run `make bench-peers` once, or name a JPEG")
    for name in FLOORS:
        per_second = rate(name, args.jpeg, args.seconds, args.processes)
        print(f"floors: {name:7s} {per_second:6.1f} /s  ({args.processes} processes)")


if __name__ == "__main__":
    main()
