"""The real `pixcast serve` command, started as a subprocess on a free loopback port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import pyvips

from server.cli import main

STARTUP_SECONDS = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def pixcast_command() -> Path:
    command = Path(sys.executable).parent / "pixcast"
    assert command.exists(), f"{command} missing: install the project (pip install -e .)"
    return command


def wait_until_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "pixcast serve exited during start-up"
        try:
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"pixcast serve did not answer /healthz within {STARTUP_SECONDS} s")


@pytest.fixture
def server(originals: Path, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    args = [str(pixcast_command()), "serve", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--originals", str(originals), "--cache-dir", str(tmp_path / "cache")]
    args += ["--render-threads", "2", "--log-level", "warning"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process)
        yield base
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
        assert b"Traceback" not in output, output.decode(errors="replace")


def test_serve_delivers_a_fill(server: str) -> None:
    response = httpx.get(f"{server}/c_fill,w_300,h_200/camera.jpg", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    image = pyvips.Image.new_from_buffer(response.content, "")
    assert (image.width, image.height) == (300, 200)
    assert image.get("vips-loader") == "jpegload_buffer"
    head = httpx.head(f"{server}/c_fill,w_300,h_200/camera.jpg", timeout=30)
    assert head.headers["x-cache"] == "HIT"
    assert head.headers["content-length"] == str(len(response.content))


def test_serve_error_over_the_wire(server: str) -> None:
    response = httpx.get(f"{server}/w_abc/camera.jpg", timeout=30)
    assert response.status_code == 400
    assert response.headers["x-cld-error"].startswith("Invalid width in transformation: abc")


def test_bad_setting_exits_2_with_a_message(
    originals: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["serve", "--originals", str(originals), "--port", "not-a-port"])
    assert code == 2
    assert "port (from flag --port): expected an integer" in capsys.readouterr().err
