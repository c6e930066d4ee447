"""pixcast beside thumbor and ipx, measured side by side in one run (`make bench-peers`).

Installs the peers into PEERS_HOME (default ~/.cache/pixcast-peers, never the checkout),
builds the image corpus there, starts thumbor (2 processes behind nginx), ipx and pixcast
on loopback, and drives each operation on each server in turn with wrk (one thread, 4
connections, bounded by `timeout`). Every pixcast request is uncached work (a new version
each time); the peers keep no result cache. Around each timed run it reads the servers'
CPU time from /proc, and what other processes used or the host took (interference). Every
server is stopped by its PID at the end. Usage:

    python bench/peers.py [-d 10] [-c 4] [-w 2] [--rounds 2] [--ops a,b,c,d,dcold]

imgproxy cannot be installed here: its figures are quoted from issue 11's table (another
run on the same kind of machine), labelled as such, and never enter a ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import peer_corpus
import peer_servers
import pyvips
from peer_servers import Server, log

HERE = Path(__file__).resolve().parent
SERVERS = ("thumbor", "ipx", "pixcast")
PEERS = ("thumbor", "ipx")
# Issue 11's table, imgproxy 3.31 (Go): not measured by this harness.
IMGPROXY_QUOTED = {"a": "41.1", "b": "39.5", "c": "13.9", "d": "55.1 (saliency)"}


@dataclass(frozen=True)
class Operation:
    key: str
    title: str
    expect: tuple[int, int, str]  # width, height, loader
    paths: dict[str, str]  # server → path; {V} a new version, {C} a new copy of the source


OPERATIONS = (
    Operation("a", "width 300, JPEG", (300, 225, "jpeg"), {
        "thumbor": "/unsafe/300x0/large.jpg",
        "ipx": "/w_300/large.jpg",
        "pixcast": "/image/upload/w_300/v{V}/large.jpg",
    }),
    Operation("b", "fill 300x300, JPEG", (300, 300, "jpeg"), {
        "thumbor": "/unsafe/300x300/center/middle/large.jpg",
        "ipx": "/s_300x300,fit_cover,pos_center/large.jpg",
        "pixcast": "/image/upload/c_fill,g_center,h_300,w_300/v{V}/large.jpg",
    }),
    Operation("c", "width 800, WebP", (800, 600, "webp"), {
        "thumbor": "/unsafe/800x0/filters:format(webp)/large.jpg",
        "ipx": "/w_800,f_webp/large.jpg",
        "pixcast": "/image/upload/f_webp,w_800/v{V}/large.jpg",
    }),
    # ipx has no face detector: sharp's "attention" saliency crop is its closest. pixcast
    # keeps a source's detections, so d is a warm detection; dcold detects every time.
    Operation("d", "face crop 200x200 of 1280x720", (200, 200, "jpeg"), {
        "thumbor": "/unsafe/200x200/smart/zidane.jpg",
        "ipx": "/s_200x200,fit_cover,pos_attention/zidane.jpg",
        "pixcast": "/image/upload/c_thumb,g_face,h_200,w_200/v{V}/zidane.jpg",
    }),
    Operation("dcold", "face crop, a new source each request", (200, 200, "jpeg"), {
        "pixcast": "/image/upload/c_thumb,g_face,h_200,w_200/zc/z{C}.jpg",
    }),
)  # fmt: skip


@dataclass
class Measured:
    server: str
    op: str
    round: int
    req_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    server_cpu_ms_per_req: float
    other_cpu_s: float


class Runner:
    """Runs wrk against one server and op at a time; tracks the {V}/{C} counter."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.counter = 1

    def measure(self, server: Server, op: Operation, round_: int) -> Measured | None:
        path = op.paths[server.name]
        if not self.check(server, op, path):
            return None
        self.wrk(server.base + path, self.args.warmup)
        best: Measured | None = None
        for attempt in range(self.args.retries + 1):
            got = self.timed(server, op, path, round_)
            if got is not None and (best is None or got.other_cpu_s < best.other_cpu_s):
                best = got
            if best is not None and best.other_cpu_s <= 0.1 * self.args.duration * os.cpu_count():
                break
            if attempt < self.args.retries:
                log(f"  {server.name} {op.key}: disturbed by other work, running it again")
        return best

    def check(self, server: Server, op: Operation, path: str) -> bool:
        """One request: HTTP 200 and the expected size and format, else a warning."""
        url = server.base + path.replace("{V}", str(self.counter)).replace("{C}", "0")
        self.counter += 1
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                data = response.read()
        except OSError as error:
            log(f"SKIP {server.name} {op.key}: {url} failed: {error}")
            return False
        image = pyvips.Image.new_from_buffer(data, "")
        loader = str(image.get("vips-loader")).removesuffix("load_buffer")
        got = (image.width, image.height, loader)
        if got != op.expect:
            log(f"WARNING {server.name} {op.key}: answered {got}, expected {op.expect}")
        return True

    def timed(self, server: Server, op: Operation, path: str, round_: int) -> Measured | None:
        cpu0, busy0 = server.cpu_seconds(), peer_servers.machine_busy_seconds()
        own0 = _children_cpu()
        summary = self.wrk(server.base + path, self.args.duration)
        server_cpu = server.cpu_seconds() - cpu0
        other = peer_servers.machine_busy_seconds() - busy0 - server_cpu - (_children_cpu() - own0)
        if summary is None:
            log(f"  {server.name} {op.key}: wrk gave no summary")
            return None
        ok = int(summary["requests"])
        errors = sum(int(v) for k, v in summary.items() if k.startswith("err_"))
        seconds = summary["duration_us"] / 1e6
        result = Measured(server.name, op.key, round_, round(ok / seconds, 1),
                          summary["p50_us"] / 1e3, summary["p99_us"] / 1e3, ok, errors,
                          round(1e3 * server_cpu / ok, 1) if ok else 0.0,
                          round(max(0.0, other), 2))  # fmt: skip
        log(f"  {server.name:8} {op.key:6} {result.req_s:7.1f} req/s  "
            f"cpu {result.server_cpu_ms_per_req:6.1f} ms/req  errors {errors}  "
            f"other cpu {result.other_cpu_s:.1f} s")  # fmt: skip
        return result

    def wrk(self, url: str, seconds: float) -> dict[str, float] | None:
        """wrk -t1 -cN for `seconds`, bounded by timeout(1); its JSON summary line."""
        command = ["timeout", "--kill-after=5", str(int(seconds) + 30),
                   "wrk", "-t1", f"-c{self.args.connections}", f"-d{int(seconds)}s",
                   "--timeout", "10s", "-s", str(peer_servers.WRK_SCRIPT), url,
                   "--", str(self.counter), str(self.args.copies)]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
        summary = peer_servers.wrk_summary(done.stdout)
        if summary is None:
            return None
        self.counter += int(summary["requests"]) + 100
        return summary


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- the report --------------------------------------------------------------------------


def figures(results: list[Measured], server: str, op: str) -> list[Measured]:
    return [r for r in results if r.server == server and r.op == op]


def joined(values: list[float | None]) -> str:
    """Figures of the rounds, "a / b"; "none" for a run in which no request completed."""
    shown = ["none" if v is None else f"{v:.1f}" for v in values]
    return " / ".join(shown) if shown else "-"


def rate(result: Measured) -> float | None:
    return result.req_s if result.requests else None


def cpu_per_request(result: Measured) -> float | None:
    return result.server_cpu_ms_per_req if result.requests else None


def ratios(results: list[Measured], op: str, against: tuple[str, ...]) -> str:
    """pixcast / the best peer of the same round, as a range over the rounds."""
    found = []
    for mine in figures(results, "pixcast", "dcold" if op == "dcold" else op):
        peers = [r.req_s for r in results if r.op == ("d" if op == "dcold" else op)
                 and r.server in against and r.round == mine.round]  # fmt: skip
        if mine.requests and peers and max(peers) > 0:
            found.append(mine.req_s / max(peers))
    if not found:
        return "-"
    low, high = min(found), max(found)
    return f"{low:.2f}" if round(low, 2) == round(high, 2) else f"{low:.2f}-{high:.2f}"


def table(results: list[Measured]) -> str:
    lines = [
        "| op | imgproxy 3.31 (quoted from issue 11) | thumbor x2 | ipx | pixcast "
        "| pixcast / best measured peer |",
        "|---|---|---|---|---|---|",
    ]
    for op in measured_ops(results):
        peer_op = "d" if op.key == "dcold" else op.key
        cells = [joined([rate(r) for r in figures(results, s, peer_op)]) for s in PEERS]
        if op.key == "dcold":
            cells[1] = "-"  # ipx has no face detection to run cold
        against = ("thumbor",) if op.key == "dcold" else PEERS
        mine = joined([rate(r) for r in figures(results, "pixcast", op.key)])
        quoted = IMGPROXY_QUOTED.get(op.key, "-")
        lines.append(f"| {op.key}: {op.title} | {quoted} | {' | '.join(cells)} | {mine} "
                     f"| {ratios(results, op.key, against)} |")  # fmt: skip
    return "\n".join(lines)


def measured_ops(results: list[Measured]) -> list[Operation]:
    return [op for op in OPERATIONS if any(r.op == op.key for r in results)]


def per_server(results: list[Measured], value: Callable[[Measured], float | None]) -> str:
    """One row per op, one column per server: `value` of each round."""
    lines = ["| op | " + " | ".join(SERVERS) + " |", "|---|" + "---|" * len(SERVERS)]
    for op in measured_ops(results):
        cells = [joined([value(r) for r in figures(results, s, op.key)])
                 for s in SERVERS]  # fmt: skip
        lines.append(f"| {op.key} | {' | '.join(cells)} |")
    return "\n".join(lines)


def report(results: list[Measured], args: argparse.Namespace) -> str:
    rounds = " / ".join(f"round {n + 1}" for n in range(args.rounds))
    return "\n".join([
        f"# bench-peers: {args.duration:g} s per op, wrk -t1 -c{args.connections}, "
        f"warm-up {args.warmup:g} s, {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M')}",
        "",
        f"Requests per second ({rounds}); every pixcast request uncached.",
        "",
        table(results),
        "",
        "imgproxy is not installed by this harness: its column is issue 11's table.",
        "d: ipx uses sharp's saliency crop (no face detector); pixcast's detection is warm.",
        "d cold: pixcast detects every request (a new source each time) / thumbor's d.",
        "",
        "Server CPU, ms per request (utime + stime of each server's processes, from /proc):",
        "",
        per_server(results, cpu_per_request),
        "",
        "CPU seconds other processes used, or the host took (steal), during each run",
        "(interference; the figures are only meaningful when these are near 0):",
        "",
        per_server(results, lambda r: r.other_cpu_s),
    ])  # fmt: skip


# --- main --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-d", "--duration", type=float, default=10.0, help="seconds per run")
    parser.add_argument("-c", "--connections", type=int, default=4)
    parser.add_argument("-w", "--warmup", type=float, default=2.0, help="seconds, not timed")
    parser.add_argument("--rounds", type=int, default=2, help="runs of every op")
    parser.add_argument("--pause", type=float, default=60.0, help="seconds between rounds")
    parser.add_argument("--retries", type=int, default=1, help="re-runs of a disturbed run")
    parser.add_argument("--ops", default=",".join(op.key for op in OPERATIONS))
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--copies", type=int, default=2000, help="sources for dcold")
    parser.add_argument("--setup-only", action="store_true", help="install and build only")
    return parser.parse_args(argv)


def run(args: argparse.Namespace, home: Path, scratch: Path) -> list[Measured]:
    images = home / "images"
    names = [n for n in SERVERS if n in args.servers.split(",")]
    chosen = [op for op in OPERATIONS if op.key in args.ops.split(",")]
    servers: list[Server] = []
    results: list[Measured] = []
    try:
        for name in names:
            log(f"starting {name}")
            servers.append(peer_servers.STARTERS[name](home, images, scratch))
        runner = Runner(args)
        for round_ in range(1, args.rounds + 1):
            if round_ > 1:
                time.sleep(args.pause)
            log(f"round {round_} of {args.rounds}")
            for op in chosen:
                for server in servers:
                    if server.name in op.paths:
                        got = runner.measure(server, op, round_)
                        results += [got] if got else []
    finally:
        for server in servers:
            server.stop()
            log(f"stopped {server.name} (pids {', '.join(str(p.pid) for p in server.processes)})")
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so every server started is stopped by its PID.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    home = peer_servers.peers_home()
    peer_servers.install(home)
    peer_corpus.build(home / "images", args.copies)
    if args.setup_only:
        return 0
    with tempfile.TemporaryDirectory(prefix="pixcast-peers-") as scratch:
        results = run(args, home, Path(scratch))
    text = report(results, args)
    print(text)
    out = home / "results" / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(text + "\n")
    (out / "results.json").write_text(json.dumps([asdict(r) for r in results], indent=1))
    log(f"results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
