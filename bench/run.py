"""pixcast's throughput benchmark: a real server on loopback versus in-process pyvips.

For each operation it measures requests/s and p50/p99 latency with N concurrent clients,
uncached (every request a new cache key: a different `v<n>` version component) and cached
(one URL repeated), and the same operation done in-process with pyvips by N worker
processes (the floor an HTTP server cannot beat). Usage:

    python bench/run.py [--seconds 15] [--clients 4] [--only fill300] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyvips

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "bench" / ".work" / "source-4000x3000.jpg"


@dataclass(frozen=True)
class Operation:
    name: str
    transformation: str
    floor: Callable[[bytes], bytes]
    public_id: str = "bench.jpg"

    def url(self, version: int) -> str:
        """A distinct version gives a distinct cache key for exactly the same work."""
        return f"/{self.transformation}/v{version}/{self.public_id}"


def _floor_width300(data: bytes) -> bytes:
    return bytes(pyvips.Image.thumbnail_buffer(data, 300).jpegsave_buffer(Q=80))


def _floor_fill300(data: bytes) -> bytes:
    image = pyvips.Image.thumbnail_buffer(data, 300, height=300, crop="centre")
    return bytes(image.jpegsave_buffer(Q=80))


def _floor_webp800(data: bytes) -> bytes:
    return bytes(pyvips.Image.thumbnail_buffer(data, 800).webpsave_buffer(Q=80, effort=4))


OPERATIONS = [
    Operation("width300", "w_300", _floor_width300),
    Operation("fill300", "c_fill,w_300,h_300", _floor_fill300),
    Operation("webp800", "w_800", _floor_webp800, "bench.webp"),
]


@dataclass
class Result:
    operation: str
    mode: str
    requests: int
    seconds: float
    errors: int

    latencies_ms: list[float]
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def summary(self) -> dict[str, object]:
        ordered = sorted(self.latencies_ms) or [0.0]
        return {
            "operation": self.operation,
            "mode": self.mode,
            "requests": self.requests,
            "errors": self.errors,
            "error_statuses": self.statuses,
            "requests_per_s": round(self.rate, 1),
            "p50_ms": round(statistics.median(ordered), 2),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        }


# --- the server ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    originals: Path, cache: Path, port: int, extra: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """`pixcast serve` on loopback with `extra` flags, once /healthz answers."""
    pixcast = Path(sys.executable).parent / "pixcast"
    command = [str(pixcast), "serve", "--host", "127.0.0.1", "--port", str(port),
               "--originals", str(originals), "--cache-dir", str(cache), *extra]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("pixcast did not start within 30 s")


async def _client(
    base: str, paths: Callable[[], str], until: float, result: Result, client: httpx.AsyncClient
) -> None:
    while time.monotonic() < until:
        started = time.perf_counter()
        response = await client.get(base + paths())
        result.latencies_ms.append((time.perf_counter() - started) * 1000)
        result.requests += 1
        if response.status_code != 200:
            result.errors += 1
            result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1


async def load(
    base: str, paths: Callable[[], str], clients: int, seconds: float, result: Result
) -> None:
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        until = time.monotonic() + seconds
        started = time.monotonic()
        await asyncio.gather(*(_client(base, paths, until, result, client) for _ in range(clients)))
        result.seconds = time.monotonic() - started


def http_runs(base: str, operation: Operation, clients: int, seconds: float) -> list[Result]:
    counter = iter(range(10**9))
    fresh = Result(operation.name, "uncached", 0, 0.0, 0, [])
    asyncio.run(load(base, lambda: operation.url(next(counter) + 1), clients, seconds, fresh))
    warm_url = operation.url(999_999_999)
    httpx.get(base + warm_url, timeout=60)
    warm = Result(operation.name, "cached", 0, 0.0, 0, [])
    asyncio.run(load(base, lambda: warm_url, clients, seconds, warm))
    return [fresh, warm]


# --- the in-process floor ------------------------------------------------------------------


def _floor_worker(name: str, seconds: float, queue: multiprocessing.Queue[list[float]]) -> None:
    operation = next(op for op in OPERATIONS if op.name == name)
    data = SOURCE.read_bytes()
    latencies = []
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        started = time.perf_counter()
        operation.floor(data)
        latencies.append((time.perf_counter() - started) * 1000)
    queue.put(latencies)


def floor_run(operation: Operation, processes: int, seconds: float) -> Result:
    queue: multiprocessing.Queue[list[float]] = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_floor_worker, args=(operation.name, seconds, queue))
               for _ in range(processes)]  # fmt: skip
    started = time.monotonic()
    for worker in workers:
        worker.start()
    latencies = [ms for _ in workers for ms in queue.get()]
    for worker in workers:
        worker.join()
    return Result(operation.name, f"pyvips x{processes}", len(latencies),
                  time.monotonic() - started, 0, latencies)  # fmt: skip


# --- main ----------------------------------------------------------------------------------


def ensure_source() -> None:
    if not SOURCE.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "make_source.py")], check=True)


def table(rows: list[dict[str, object]]) -> str:
    lines = ["| operation | mode | req/s | p50 ms | p99 ms | errors |", "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['operation']} | {row['mode']} | {row['requests_per_s']} | "
                     f"{row['p50_ms']} | {row['p99_ms']} | {row['errors']} |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--floor-processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--only", action="append", help="operation name(s) to run")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    args = parser.parse_args()
    ensure_source()
    chosen = [op for op in OPERATIONS if not args.only or op.name in args.only]
    rows = run_all(chosen, args.clients, args.seconds, args.floor_processes)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


def run_all(
    chosen: list[Operation], clients: int, seconds: float, processes: int
) -> list[dict[str, object]]:
    work = Path(tempfile.mkdtemp(prefix="pixcast-bench-"))
    originals = work / "originals"
    originals.mkdir()
    shutil.copy(SOURCE, originals / "bench.jpg")
    port = _free_port()
    server = start_server(originals, work / "cache", port)
    rows: list[dict[str, object]] = []
    try:
        for operation in chosen:
            results = http_runs(f"http://127.0.0.1:{port}", operation, clients, seconds)
            rows += [r.summary() for r in results]
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    rows += [floor_run(op, processes, seconds).summary() for op in chosen]
    return rows


if __name__ == "__main__":
    main()
