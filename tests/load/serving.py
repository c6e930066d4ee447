"""Real `pixcast serve` processes for the load and deploy tests: started on a free
loopback port, waited for through /healthz, stopped with SIGTERM (every wait bounded)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

STARTUP_SECONDS = 30.0
STOP_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal the server and wait for it to exit; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_SECONDS)
            raise

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def workers(self) -> list[int]:
        """Process ids of the worker processes (Linux /proc): the spawned children, not
        multiprocessing's resource tracker."""
        pid = self.process.pid
        found = [
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
        return [child for child in found if b"spawn_main" in _cmdline(child)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def start(originals: Path, cache: Path, log: Path, *flags: str) -> Server:
    port = free_port()
    command = [str(Path(sys.executable).parent / "pixcast"), "serve",
               "--host", "127.0.0.1", "--port", str(port),
               "--originals", str(originals), "--cache-dir", str(cache),
               "--detectors", "", "--log-level", "warning", *flags]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXCAST_")}
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
    server = Server(process, port, log)
    wait_until_healthy(server)
    return server


def wait_until_healthy(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"pixcast serve exited during start-up:\n{server.output()}")
        try:
            if httpx.get(f"{server.base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    server.process.kill()
    server.process.wait(STOP_SECONDS)
    raise AssertionError(f"pixcast serve did not answer /healthz in {STARTUP_SECONDS} s")
