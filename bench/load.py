"""pixcast under load: many clients, cold and warm URLs, a cold burst, peak memory.

Starts `pixcast serve` on loopback over two large JPEGs (4000x3000 and 7000x5000) and:

1. mixed: `--clients` (64) clients for `--seconds` (60), each request warm (one of a
   set of URLs rendered beforehand) or, with probability `--cold` (0.2), cold (a new
   `v<n>` version: a new cache key for the same work). Throughput, p50/p99 for warm,
   cold and all, answers by status;
2. burst: `--burst` (200) identical cold requests at once; how many renders happened,
   read from /metrics (`pixcast_renders_total`; the goal is 1);
3. floor: cold requests only, `--floor-seconds`, against the same operation done
   in-process by one pyvips process per CPU (bench/run.py's floor);

and samples the server's resident memory (all its processes) throughout: the peak.

    python bench/load.py [--seconds 60] [--clients 64] [--workers 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyvips
from run import OPERATIONS, SOURCE, _free_port, ensure_source, floor_run, start_server

# Transformations a media site asks for; each runs on both sources.
MIX = ("c_fill,w_300,h_300", "c_thumb,w_150,h_150", "w_800", "c_fill,ar_16:9,w_1200/q_auto")
SOURCES = ("bench.jpg", "large.jpg")
LARGE = (7000, 5000)  # 35 megapixels, under the default 50-megapixel limit


@dataclass
class Tally:
    """Latencies (ms) by kind (warm, cold) as the clients saw them, and as the server
    measured them (Server-Timing `total`: without the clients' own queueing); answers
    by status."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {"warm": [], "cold": []})
    server: dict[str, list[float]] = field(default_factory=lambda: {"warm": [], "cold": []})
    statuses: Counter[int] = field(default_factory=Counter)
    seconds: float = 0.0

    def add(self, kind: str, status: int, ms: float, server_ms: float | None) -> None:
        self.latencies[kind].append(ms)
        if server_ms is not None:
            self.server[kind].append(server_ms)
        self.statuses[status] += 1

    def summary(self) -> dict[str, object]:
        every = self.latencies["warm"] + self.latencies["cold"]
        return {
            "requests": len(every),
            "requests_per_s": round(len(every) / self.seconds, 1) if self.seconds else 0.0,
            "all": percentiles(every),
            "warm": percentiles(self.latencies["warm"]),
            "cold": percentiles(self.latencies["cold"]),
            "warm_in_server": percentiles(self.server["warm"]),
            "cold_in_server": percentiles(self.server["cold"]),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"count": 0, "p50_ms": 0.0, "p99_ms": 0.0}
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"count": len(ordered), "p50_ms": round(statistics.median(ordered), 2),
            "p99_ms": round(p99, 2)}  # fmt: skip


# --- memory --------------------------------------------------------------------------------


class MemorySampler:
    """Peak resident memory (MiB) of a process and all its descendants, every 0.2 s."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            total = sum(_status_kb(pid, "VmRSS") for pid in family(self.pid)) / 1024
            self.peak_mb = max(self.peak_mb, total)


def family(pid: int) -> list[int]:
    """`pid` and its descendants (Linux /proc)."""
    found = [pid]
    for parent in found:
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        found += [int(child) for child in children]
    return found


def _status_kb(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def note(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# --- the runs ------------------------------------------------------------------------------


class Urls:
    """Warm URLs (rendered before the run) and an endless supply of cold ones."""

    def __init__(
        self, operations: tuple[str, ...] = MIX, sources: tuple[str, ...] = SOURCES
    ) -> None:
        self.warm = [f"/{op}/v1/{source}" for op in operations for source in sources]
        self.operations = operations
        self.sources = sources
        self._next = 1_000

    def cold(self) -> str:
        self._next += 1
        op = self.operations[self._next % len(self.operations)]
        source = self.sources[(self._next // len(self.operations)) % len(self.sources)]
        return f"/{op}/v{self._next}/{source}"


async def client_loop(
    client: httpx.AsyncClient, urls: Urls, cold: float, until: float, tally: Tally
) -> None:
    while time.monotonic() < until:
        kind = "cold" if random.random() < cold else "warm"
        url = urls.cold() if kind == "cold" else random.choice(urls.warm)
        started = time.perf_counter()
        try:
            response = await client.get(url)
        except httpx.TransportError:
            tally.add(kind, 0, (time.perf_counter() - started) * 1000, None)  # no answer
            continue
        elapsed = (time.perf_counter() - started) * 1000
        tally.add(kind, response.status_code, elapsed, server_total(response))


def server_total(response: httpx.Response) -> float | None:
    """`total` from the Server-Timing header, in ms."""
    for part in response.headers.get("server-timing", "").split(","):
        name, _, duration = part.strip().partition(";dur=")
        if name == "total" and duration:
            return float(duration)
    return None


async def timed_run(base: str, urls: Urls, clients: int, seconds: float, cold: float) -> Tally:
    tally = Tally()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        for url in urls.warm:
            (await client.get(url)).raise_for_status()
        started = time.monotonic()
        until = started + seconds
        loops = (client_loop(client, urls, cold, until, tally) for _ in range(clients))
        await asyncio.gather(*loops)
        tally.seconds = time.monotonic() - started
    return tally


async def renders(client: httpx.AsyncClient) -> float:
    text = (await client.get("/metrics")).text
    lines = (line.split() for line in text.splitlines() if line.startswith("pixcast_renders_"))
    return sum(float(parts[1]) for parts in lines if parts[0] == "pixcast_renders_total")


async def burst(base: str, count: int) -> dict[str, object]:
    """`count` identical cold requests at once; renders counted by the server."""
    url = f"/c_fill,w_640,h_480/v{random.randrange(10**9)}/large.jpg"
    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        before = await renders(client)
        started = time.monotonic()
        answers = await asyncio.gather(*(client.get(url) for _ in range(count)))
        seconds = time.monotonic() - started
        after = await renders(client)
    statuses = Counter(a.status_code for a in answers)
    return {"requests": count, "renders": after - before, "seconds": round(seconds, 2),
            "statuses": {str(k): v for k, v in statuses.items()}}  # fmt: skip


# --- main ----------------------------------------------------------------------------------


def make_large(target: Path) -> None:
    """The benchmark photo scaled up to 7000x5000 (35 megapixels), q90."""
    photo = pyvips.Image.new_from_file(str(SOURCE))
    scale = max(LARGE[0] / photo.width, LARGE[1] / photo.height)
    photo.resize(scale).crop(0, 0, *LARGE).jpegsave(str(target), Q=90)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="mixed run (default 60)")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--cold", type=float, default=0.2, help="share of cold requests")
    parser.add_argument("--burst", type=int, default=200, help="identical cold requests")
    parser.add_argument("--floor-seconds", type=float, default=15.0, help="0: no floor run")
    parser.add_argument("--workers", type=int, default=1, help="pixcast worker processes")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    return parser.parse_args()


def main() -> None:
    args = parse()
    # This process has run libvips (the large source): forking it could copy a held
    # libvips lock into the floor's workers, so they start afresh.
    multiprocessing.set_start_method("spawn")
    ensure_source()
    work = Path(tempfile.mkdtemp(prefix="pixcast-load-"))
    try:
        results = run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def run(args: argparse.Namespace, work: Path) -> dict[str, object]:
    originals = work / "originals"
    originals.mkdir()
    shutil.copy(SOURCE, originals / "bench.jpg")
    note("making the 7000x5000 source")
    make_large(originals / "large.jpg")
    note("starting pixcast")
    port = _free_port()
    flags = ["--workers", str(args.workers), "--access-log", "off", "--detectors", ""]
    server = start_server(originals, work / "cache", port, flags)
    base = f"http://127.0.0.1:{port}"
    results: dict[str, object] = {"cpus": os.cpu_count(), "workers": args.workers}
    # The floor's operation (bench/run.py's fill300) on the floor's source, cold each time.
    floor_urls = Urls(("c_fill,w_300,h_300",), ("bench.jpg",))
    cold_only: Tally | None = None
    try:
        with MemorySampler(server.pid) as memory:
            note(f"mixed run: {args.clients} clients, {args.seconds:g} s")
            mixed = asyncio.run(timed_run(base, Urls(), args.clients, args.seconds, args.cold))
            results["mixed"] = {"clients": args.clients, "cold_share": args.cold,
                                **mixed.summary()}  # fmt: skip
            note(f"burst of {args.burst} identical cold requests")
            results["burst"] = asyncio.run(burst(base, args.burst))
            if args.floor_seconds > 0:
                note(f"cold only, {args.floor_seconds:g} s")
                cold_only = asyncio.run(
                    timed_run(base, floor_urls, args.clients, args.floor_seconds, 1.0)
                )
                results["cold_only"] = cold_only.summary()
        results["peak_rss_mb"] = round(memory.peak_mb, 1)
    finally:
        server.terminate()
        server.wait(timeout=60)
    if cold_only is not None:
        note("the in-process pyvips floor")
        floor = floor_run(OPERATIONS[1], os.cpu_count() or 2, args.floor_seconds)
        results["floor"] = floor.summary()
        cold_rate = len(cold_only.latencies["cold"]) / cold_only.seconds
        results["cold_vs_floor"] = round(cold_rate / floor.rate, 2)
    return results


if __name__ == "__main__":
    main()
