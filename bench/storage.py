"""Shared result storage under load: real `pixcast serve` replicas sharing one bucket on a
moto S3 server (loopback), each with its own cache directory, as on separate hosts.

    python bench/storage.py burst [--rounds 5] [--burst 200]
        renders per burst of identical cold requests spread over two replicas;
    python bench/storage.py latency [--variants 200]
        a result-storage hit against a local hit: wall p50/p99 and the serving process's
        CPU time per request (CPU time does not depend on what else the machine runs);
    python bench/storage.py throughput [--seconds 30] [--clients 16]
        cold renders per second with one replica against two, driven by wrk (one wrk per
        replica, the connections split between them); on one 2-core machine the replicas
        share the same cores: see docs/storage.md for what that can show.

Add `--json out.json` to keep the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from peer_servers import WRK_SCRIPT, wrk_summary
from peer_servers import process_cpu as cpu_seconds
from run import _free_port, start_server

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "examples" / "images" / "sample.jpg"
BUCKET = "pixcast-bench"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto S3 server on loopback with the bench bucket; yields its endpoint."""
    port = _free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                httpx.put(f"{endpoint}/{BUCKET}", timeout=2).raise_for_status()
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()
        process.wait(30)


@contextmanager
def replicas(count: int, work: Path, endpoint: str) -> Iterator[list[str]]:
    """`count` pixcast servers sharing the bucket; yields their base URLs."""
    originals = work / "originals"
    originals.mkdir(exist_ok=True)
    if not (originals / "bench.jpg").exists():  # one identity for every replica
        shutil.copy(SOURCE, originals / "bench.jpg")
    os.environ.update(
        CREDENTIALS | {"AWS_ENDPOINT_URL_S3": endpoint, "AWS_DEFAULT_REGION": "us-east-1"}
    )
    extra = ["--result-storage", f"s3://{BUCKET}/shared", "--detectors", "", "--access-log", "off"]
    processes, bases = [], []
    try:
        for index in range(count):
            port = _free_port()
            cache = work / f"cache-{index}-{time.monotonic_ns()}"
            processes.append(start_server(originals, cache, port, extra))
            bases.append(f"http://127.0.0.1:{port}")
        yield bases
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)


async def renders(client: httpx.AsyncClient, bases: Sequence[str]) -> float:
    total = 0.0
    for base in bases:
        text = (await client.get(base + "/metrics")).text
        for line in text.splitlines():
            if line.startswith("pixcast_renders_total"):
                total += float(line.split()[-1])
    return total


async def burst(bases: Sequence[str], rounds: int, size: int) -> dict[str, Any]:
    counts = []
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=size)) as client:
        for round_ in range(rounds):
            path = f"/c_fill,w_{400 + round_},h_300/bench.jpg"
            before = await renders(client, bases)
            spread = itertools.islice(itertools.cycle(bases), size)
            answers = await asyncio.gather(*(client.get(base + path) for base in spread))
            assert all(answer.status_code == 200 for answer in answers)
            counts.append(await renders(client, bases) - before)
    return {"replicas": len(bases), "burst": size, "renders_per_burst": counts}


def server_pid(base: str) -> int:
    port = base.rsplit(":", 1)[1]
    out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True)
    return int(out.stdout.split("pid=", 1)[1].split(",", 1)[0])


async def timed(client: httpx.AsyncClient, base: str, paths: Sequence[str]) -> dict[str, Any]:
    """Sequential requests (one at a time): wall milliseconds, CPU ms of the server."""
    pid = server_pid(base)
    cpu = cpu_seconds(pid)
    walls, caches = [], set()
    for path in paths:
        started = time.perf_counter()
        response = await client.get(base + path)
        walls.append((time.perf_counter() - started) * 1000)
        caches.add(response.headers.get("x-cache"))
    cpu_ms = (cpu_seconds(pid) - cpu) * 1000 / len(paths)
    quantiles = statistics.quantiles(walls, n=100)
    return {
        "p50_ms": quantiles[49],
        "p99_ms": quantiles[98],
        "cpu_ms": cpu_ms,
        "x_cache": sorted(caches),
    }


async def latency(work: Path, endpoint: str, variants: int) -> dict[str, Any]:
    paths = [f"/c_fill,w_{100 + n},h_100/bench.jpg" for n in range(variants)]
    async with httpx.AsyncClient(timeout=60) as client:
        with replicas(1, work, endpoint) as (first,):
            for path in paths:  # render every variant into the bucket
                (await client.get(first + path)).raise_for_status()
        with replicas(1, work, endpoint) as (fresh,):
            shared = await timed(client, fresh, paths)  # local miss, bucket hit
            local = await timed(client, fresh, paths)  # copied locally by the first pass
    return {"variants": variants, "result_storage_hit": shared, "local_hit": local}


COUNTER_STRIDE = 10_000_000  # each wrk's {V} counter starts this far from the next one's


def wrk_processes(
    bases: Sequence[str], seconds: float, clients: int, blocks: Iterator[int]
) -> list[subprocess.Popen[str]]:
    """One wrk (one thread) per replica, its share of `clients` connections, each request
    a new version (a cold render), bounded by timeout(1). Every wrk counts versions from
    its own block, so no request repeats one an earlier run stored in the bucket (that
    would be a result-storage hit, not a render)."""
    share = max(1, clients // len(bases))
    path = "/c_fill,w_300,h_200/v{V}/bench.jpg"
    return [
        subprocess.Popen(
            wrk_command(base + path, seconds, share, next(blocks)),
            stdout=subprocess.PIPE,
            text=True,
        )
        for base in bases
    ]


def wrk_command(url: str, seconds: float, connections: int, block: int) -> list[str]:
    bound = ["timeout", "--kill-after=5", str(int(seconds) + 30)]
    load = ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "20s"]
    first = str(2 + block * COUNTER_STRIDE)
    return [*bound, *load, "-s", str(WRK_SCRIPT), url, "--", first]


def wrk_result(process: subprocess.Popen[str], seconds: float) -> dict[str, float]:
    out, _ = process.communicate(timeout=seconds + 60)
    summary = wrk_summary(out)
    if summary is None:
        raise RuntimeError("wrk gave no summary")
    return summary


def throughput(work: Path, endpoint: str, seconds: float, clients: int) -> dict[str, Any]:
    """Cold renders per second, driven by wrk: one replica, then two sharing the bucket;
    with each replica's CPU milliseconds per request."""
    figures: dict[str, Any] = {"clients": clients, "seconds": seconds}
    blocks = itertools.count()
    for count in (1, 2):
        with replicas(count, work, endpoint) as bases:
            pids = [server_pid(base) for base in bases]
            before = [cpu_seconds(pid) for pid in pids]
            loads = wrk_processes(bases, seconds, clients, blocks)
            summaries = [wrk_result(process, seconds) for process in loads]
            cpu = sum(cpu_seconds(pid) for pid in pids) - sum(before)
        answered = sum(s["requests"] for s in summaries)
        failed = sum(s["err_status"] + s["err_timeout"] + s["err_read"] for s in summaries)
        figures[f"{count}_replicas"] = {
            "rps": answered / seconds,
            "errors": failed,
            "server_cpu_ms_per_request": cpu * 1000 / max(answered, 1),
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["burst", "latency", "throughput"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--variants", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary, moto_server() as endpoint:
        work = Path(temporary)
        if args.mode == "burst":
            with replicas(2, work, endpoint) as bases:
                result = asyncio.run(burst(bases, args.rounds, args.burst))
        elif args.mode == "latency":
            result = asyncio.run(latency(work, endpoint, args.variants))
        else:
            result = throughput(work, endpoint, args.seconds, args.clients)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
