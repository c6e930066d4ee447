"""The servers bench/peers.py compares: installing thumbor and ipx into a scratch home,
starting them and pixcast on loopback, their CPU time, and stopping each by its PID.

Nothing is installed into the checkout: thumbor gets its own virtualenv and ipx its own
node_modules under PEERS_HOME (default ~/.cache/pixcast-peers).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The versions measured; thumbor's face detector needs OpenCV's CascadeClassifier (< 5).
THUMBOR_REQUIREMENTS = ("thumbor==7.8.0", "opencv-python-headless<5")
IPX_PACKAGE = "ipx@3"
THUMBOR_INSTANCES = 2  # thumbor is one process per core in production, behind nginx
STARTUP_SECONDS = 60
HZ = os.sysconf("SC_CLK_TCK")
# Every request a new one, and one JSON summary line (bench/peers.py and bench/storage.py).
WRK_SCRIPT = ROOT / "bench" / "wrk_uncached.lua"


def peers_home() -> Path:
    return Path(os.environ.get("PEERS_HOME", "~/.cache/pixcast-peers")).expanduser()


def log(message: str) -> None:
    print(f"bench-peers: {message}", file=sys.stderr, flush=True)


# --- installing --------------------------------------------------------------------------


def install(home: Path) -> None:
    """thumbor (pip, its own virtualenv) and ipx (npm) under `home`; idempotent."""
    home.mkdir(parents=True, exist_ok=True)
    for tool in ("wrk", "nginx", "node", "npm"):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench-peers: {tool} is missing (make bench-peers installs it)")
    venv = home / "thumbor-venv"
    if not (venv / "bin" / "thumbor").exists():
        log(f"installing {' '.join(THUMBOR_REQUIREMENTS)} into {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "pip"), "install", "--quiet", *THUMBOR_REQUIREMENTS]
        subprocess.run(pip, check=True)
    ipx = home / "ipx"
    if not (ipx / "node_modules" / "ipx" / "bin" / "ipx.mjs").exists():
        log(f"installing {IPX_PACKAGE} into {ipx}")
        ipx.mkdir(exist_ok=True)
        (ipx / "package.json").write_text('{"name": "pixcast-peer-ipx", "private": true}\n')
        npm = ["npm", "install", "--no-audit", "--no-fund", "--silent", IPX_PACKAGE]
        subprocess.run(npm, cwd=ipx, check=True)


# --- running -----------------------------------------------------------------------------


@dataclass
class Server:
    """One server under test: the processes started for it (their children count too)."""

    name: str
    port: int
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> set[int]:
        return descendants({p.pid for p in self.processes if p.poll() is None})

    def cpu_seconds(self) -> float:
        return sum(process_cpu(pid) for pid in self.pids())

    def stop(self) -> None:
        """SIGTERM to every recorded PID (last started first), SIGKILL after 15 s."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def descendants(roots: set[int]) -> set[int]:
    """`roots` and every process below them (nginx workers, forked children)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat_fields(int(entry))
            if stat:
                parents[int(entry)] = int(stat[1])
    found = set(roots)
    grew = True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found


def process_cpu(pid: int) -> float:
    """utime + stime of every thread of `pid`, in seconds (0 once it is gone)."""
    stat = _stat_fields(pid)
    return (int(stat[11]) + int(stat[12])) / HZ if stat else 0.0


def wrk_summary(stdout: str) -> dict[str, float] | None:
    """The summary WRK_SCRIPT prints at the end of a wrk run; None if wrk gave none."""
    lines = [line for line in stdout.splitlines() if line.startswith("WRKJSON ")]
    if not lines:
        return None
    summary: dict[str, float] = json.loads(lines[-1].removeprefix("WRKJSON "))
    return summary


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy since boot (all cores), with the time the
    host took from this virtual machine's CPUs for others (steal): both slow a run."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:9]]
    return (sum(values) - values[3] - values[4]) / HZ


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name: state, ppid, ... (None when it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _spawn(command: list[str], logfile: Path, **kwargs: object) -> subprocess.Popen[bytes]:
    with logfile.open("ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **kwargs)  # type: ignore[call-overload, no-any-return]


def wait_until_up(server: Server, path: str) -> None:
    """Poll `path` until it answers (any HTTP status), bounded by STARTUP_SECONDS."""
    until = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < until:
        if any(p.poll() is not None for p in server.processes):
            raise RuntimeError(f"{server.name} exited while starting (see its log)")
        try:
            with urllib.request.urlopen(server.base + path, timeout=5):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{server.name} did not answer on {server.base} in {STARTUP_SECONDS} s")


def start_pixcast(home: Path, images: Path, scratch: Path) -> Server:
    """`pixcast serve` with its defaults, a fresh cache and no access log."""
    server = Server("pixcast", free_port())
    pixcast = Path(sys.executable).parent / "pixcast"
    command = [str(pixcast), "serve", "--host", "127.0.0.1", "--port", str(server.port),
               "--originals", str(images), "--cache-dir", str(scratch / "pixcast-cache"),
               "--access-log", "off", "--detectors", "faces",
               "--models-dir", str(ROOT / "models"), "--log-level", "warning"]  # fmt: skip
    server.processes.append(_spawn(command, scratch / "pixcast.log"))
    wait_until_up(server, "/healthz")
    return server


THUMBOR_CONF = """\
# thumbor for bench/peers.py: files from the corpus, nothing stored between requests.
LOADER = 'thumbor.loaders.file_loader'
FILE_LOADER_ROOT_PATH = {images!r}
ALLOW_UNSAFE_URL = True
SECURITY_KEY = 'bench-peers-loopback-only'
STORAGE = 'thumbor.storages.no_storage'
RESULT_STORAGE = None
ENGINE = 'thumbor.engines.pil'
QUALITY = 80
RESPECT_ORIENTATION = True
DETECTORS = ['thumbor.detectors.face_detector', 'thumbor.detectors.feature_detector']
FACE_DETECTOR_CASCADE_FILE = 'haarcascade_frontalface_alt.xml'
ENGINE_THREADPOOL_SIZE = 0
MAX_AGE = 0
"""

NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
pid {scratch}/nginx.pid;
error_log {scratch}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {scratch}/nginx-tmp; proxy_temp_path {scratch}/nginx-tmp;
  fastcgi_temp_path {scratch}/nginx-tmp; uwsgi_temp_path {scratch}/nginx-tmp;
  scgi_temp_path {scratch}/nginx-tmp;
  upstream thumbor {{ least_conn; {upstreams} keepalive 16; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{ proxy_pass http://thumbor; proxy_http_version 1.1;
                 proxy_set_header Connection ""; proxy_read_timeout 60s; }}
  }}
}}
"""


def start_thumbor(home: Path, images: Path, scratch: Path) -> Server:
    """THUMBOR_INSTANCES thumbor processes behind nginx (least_conn, keep-alive)."""
    server = Server("thumbor", free_port())
    conf = scratch / "thumbor.conf"
    conf.write_text(THUMBOR_CONF.format(images=str(images)))
    ports = [free_port() for _ in range(THUMBOR_INSTANCES)]
    binary = str(home / "thumbor-venv" / "bin" / "thumbor")
    for port in ports:
        command = [binary, "--ip=127.0.0.1", f"--port={port}", f"--conf={conf}",
                   "--log-level=warning"]  # fmt: skip
        server.processes.append(_spawn(command, scratch / f"thumbor-{port}.log"))
    for port in ports:
        wait_until_up(Server("thumbor instance", port, server.processes), "/healthcheck")
    (scratch / "nginx-tmp").mkdir(exist_ok=True)
    upstreams = " ".join(f"server 127.0.0.1:{port};" for port in ports)
    nginx_conf = scratch / "nginx.conf"
    nginx_conf.write_text(NGINX_CONF.format(scratch=scratch, upstreams=upstreams, port=server.port))
    command = ["nginx", "-p", str(scratch), "-c", str(nginx_conf)]
    server.processes.append(_spawn(command, scratch / "nginx.log"))
    wait_until_up(server, "/healthcheck")
    return server


def start_ipx(home: Path, images: Path, scratch: Path) -> Server:
    """ipx 3 (Node, sharp) serving the corpus directory."""
    server = Server("ipx", free_port())
    cli = home / "ipx" / "node_modules" / "ipx" / "bin" / "ipx.mjs"
    command = ["node", str(cli), "serve", "--dir", str(images), "--host", "127.0.0.1",
               "--port", str(server.port)]  # fmt: skip
    env = {**os.environ, "IPX_FS_DIR": str(images)}
    server.processes.append(_spawn(command, scratch / "ipx.log", cwd=home / "ipx", env=env))
    wait_until_up(server, "/w_10/zidane.jpg")
    return server


STARTERS = {"thumbor": start_thumbor, "ipx": start_ipx, "pixcast": start_pixcast}
