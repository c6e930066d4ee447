"""Browser tests: pixcast started for real (`pixcast serve` in a subprocess, on a free
loopback port) and Debian's Chromium driven by Playwright.

Playwright's own browser download is not possible here, so the tests launch
/usr/bin/chromium (Debian's `chromium` package, from scripts/system-packages.txt) and
fail, not skip, when it is missing. Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "examples" / "images"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
START_TIMEOUT = 90.0
SERVE = "import sys; from server.cli import main; sys.exit(main())"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"pixcast exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"pixcast did not answer within {START_TIMEOUT:.0f} s:\n{log.read_text()}")


@contextmanager
def running_pixcast(root: Path, environ: dict[str, str] | None = None) -> Iterator[str]:
    """A pixcast serving copies of examples/images from `root`, playground on; its base URL.

    `environ` adds PIXCAST_* settings to the server's environment.
    """
    originals = root / "originals"
    shutil.copytree(IMAGES, originals, ignore=shutil.ignore_patterns("*.md"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-c", SERVE, "serve", "--host", "127.0.0.1", "--port", str(port),
               "--originals", str(originals), "--cache-dir", str(root / "cache"),
               "--uploads-dir", str(root / "uploads"), "--playground", "true",
               "--library-path", str(root / "library.sqlite3"),
               "--models-dir", str(REPO / "models"), "--render-threads", "2",
               "--log-level", "warning"]  # fmt: skip
    log = root / "server.log"
    env = {**os.environ, **(environ or {})}
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=REPO, stdout=output, stderr=subprocess.STDOUT, env=env
        )
    try:
        wait_until_up(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a pixcast serving copies of examples/images, playground on."""
    with running_pixcast(tmp_path_factory.mktemp("pixcast-browser")) as url:
        yield url


OPERATOR = ("playground-key", "playground-secret")


@pytest.fixture(scope="package")
def guarded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same with an api_key/api_secret pair set (OPERATOR): signing needs it."""
    pair = {"PIXCAST_API_KEY": OPERATOR[0], "PIXCAST_API_SECRET": OPERATOR[1]}
    with running_pixcast(tmp_path_factory.mktemp("pixcast-guarded"), pair) as url:
        yield url


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/install-system-packages.sh (make test does)"
        )
    # Playwright gives every launch a new temporary profile (user-data-dir) of its own.
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh context per test; a screenshot of the last state goes to test-artifacts/."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    yield opened
    ARTIFACTS.mkdir(exist_ok=True)
    opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Console errors and uncaught exceptions of the page, as text."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text} at {message.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    return errors
