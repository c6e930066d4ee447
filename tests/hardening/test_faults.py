"""Faults tried for real, on real `pixcast serve` processes: a worker killed mid-render,
and a result cache whose disk fills up."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyvips

from server.cachelayout import RESULTS
from server.maintenance import verify
from tests.load.conftest import WAIT, metric
from tests.load.serving import Server, free_port, start, wait_until_healthy
from tests.load.test_processes import SLOW, make_big_original

QUICK = "/c_fill,w_64,h_48/camera.jpg"


def connection_inode(server_port: int, client_port: int) -> int | None:
    """The socket inode of the server's end of one loopback TCP connection (/proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(address.split(":")[1], 16) for address in fields[1:3])
        if (local, remote) == (server_port, client_port):
            return int(fields[9])
    return None


def holder(pids: list[int], inode: int) -> int | None:
    """Which of `pids` holds the socket `inode`."""
    wanted = f"socket:[{inode}]"
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) == wanted:
                    return pid
    return None


def worker_serving(server: Server, client: socket.socket) -> int:
    """The worker process that accepted `client`'s connection."""
    client_port = client.getsockname()[1]
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        inode = connection_inode(server.port, client_port)
        pid = holder(server.workers(), inode) if inode else None
        if pid is not None:
            return pid
        time.sleep(0.05)
    raise AssertionError("no worker holds the connection")


def slow_request(server: Server) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)
    client.sendall(f"GET {SLOW} HTTP/1.1\r\nHost: pixcast\r\nConnection: close\r\n\r\n".encode())
    return client


def answer_to(client: socket.socket) -> bytes:
    """Everything the server sent before closing (a bounded read: the socket has a timeout)."""
    received = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := client.recv(65536):
            received += chunk
    return received


def wait_until_rendering(server: Server) -> None:
    deadline = time.monotonic() + WAIT
    while metric(httpx.get(server.base + "/metrics").text, "pixcast_renders_running") < 1:
        assert time.monotonic() < deadline, "the render never started"
        time.sleep(0.05)


REPLACE_SECONDS = 60.0  # a new worker imports pixcast afresh: slow on a busy machine


def replaced(server: Server, victim: int) -> list[int]:
    deadline = time.monotonic() + REPLACE_SECONDS
    while time.monotonic() < deadline:
        workers = server.workers()
        if len(workers) == 2 and victim not in workers:
            return workers
        time.sleep(0.1)
    raise AssertionError(f"the killed worker was not replaced: {server.workers()}")


def test_a_worker_killed_mid_render_is_replaced_and_the_other_keeps_serving(
    originals: Path, tmp_path: Path
) -> None:
    make_big_original(originals)
    cache = tmp_path / "cache"
    server = start(
        originals, cache, tmp_path / "server.log", "--workers", "2", "--log-level", "info"
    )
    try:
        with slow_request(server) as client:
            victim = worker_serving(server, client)
            wait_until_rendering(server)
            os.kill(victim, signal.SIGKILL)
            cut_off = answer_to(client)
        meanwhile = [httpx.get(server.base + QUICK, timeout=WAIT) for _ in range(10)]
        workers = replaced(server, victim)
        with httpx.Client(base_url=server.base, timeout=WAIT) as client:
            after = [client.get(QUICK) for _ in range(10)]
            slow = client.get(SLOW)
            gauges = client.get("/metrics").text
    finally:
        server.stop()
    assert cut_off == b""  # its client loses the connection, never half an answer
    assert [a.status_code for a in meanwhile + after] == [200] * 20
    assert slow.status_code == 200 and slow.headers["x-cache"] == "MISS"
    assert len(workers) == 2
    # The dead worker's live gauges went with it (its replacement dropped them).
    assert metric(gauges, "pixcast_renders_running") == 0
    assert metric(gauges, "pixcast_requests_in_flight") == 1  # the /metrics request itself
    assert f"Child process [{victim}] died" in server.output()  # the parent saw it, replaced it
    assert verify(cache, fix=False) == {store: [] for store in verify(cache, fix=False)}


# --- a disk that fills up ------------------------------------------------------------------

FILE_LIMIT = 2 * 1024 * 1024  # bytes any file of the server may reach (RLIMIT_FSIZE)
BIG = "/w_1200/f_png/noise.png"  # about 2.5 MB of PNG: more than any file may hold


def limit_file_size() -> None:
    """In the server's process, before exec: files stop growing at FILE_LIMIT (writes
    beyond it fail with EFBIG, as on a full disk, instead of killing the process)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


def start_on_a_small_disk(originals: Path, cache: Path, log: Path) -> Server:
    port = free_port()
    command = [str(Path(sys.executable).parent / "pixcast"), "serve",
               "--port", str(port), "--originals", str(originals), "--cache-dir", str(cache),
               "--detectors", "", "--log-level", "info"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXCAST_")}
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=env, preexec_fn=limit_file_size
        )
    server = Server(process, port, log)
    wait_until_healthy(server)
    return server


def test_a_full_disk_keeps_serving_counts_reports_once_and_readyz_says_so(
    originals: Path, tmp_path: Path
) -> None:
    noise = pyvips.Image.gaussnoise(1200, 900, mean=128, sigma=70).cast("uchar")
    noise.bandjoin([noise, noise]).copy(interpretation="srgb").write_to_file(
        str(originals / "noise.png"), compression=1
    )
    cache = tmp_path / "cache"
    server = start_on_a_small_disk(originals, cache, tmp_path / "server.log")
    try:
        with httpx.Client(base_url=server.base, timeout=WAIT) as client:
            big = [client.get(BIG) for _ in range(3)]
            small = [client.get(QUICK) for _ in range(2)]
            ready = client.get("/readyz")
            failures = metric(client.get("/metrics").text, "pixcast_cache_write_failures_total")
    finally:
        server.stop()
    assert [(a.status_code, a.headers["x-cache"]) for a in big] == [(200, "MISS")] * 3
    assert len(big[0].content) > FILE_LIMIT
    assert [a.headers["x-cache"] for a in small] == ["MISS", "HIT"]  # small entries still fit
    assert failures == 3
    assert ready.status_code == 200
    assert ready.json()["checks"]["cache"].startswith("degraded: not writable (")
    assert "File too large" in ready.json()["checks"]["cache"]
    reports = [line for line in server.output().splitlines() if "cache write failed" in line]
    assert len(reports) == 1, server.output()
    assert "Traceback" not in server.output()
    assert verify(cache, fix=False)[RESULTS] == []
