"""The face-crop benchmark: what detection adds to `c_thumb,g_face,w_200,h_200`.

On a 4000x3000 JPEG with a face pasted in (the astronaut, scaled to 600 px), one client
sends requests one at a time, each a new cache key, and the median latency is compared:

- g_center: the same crop with a compass gravity (no detection);
- warm:     g_face on a source whose detection is already stored (a new version each time);
- cold:     g_face on a source pixcast has never seen (a fresh copy of the file each time).

With `--detectors`, it measures instead the CPU time each detector adds cold (a source it
has not seen; the detector loaded and run once before), in this process, on the same photo
with a sign rendered on it: CPU time, not latency, so that the figure does not depend on
what else the machine is running. Warm, every detector costs 0 (its regions are stored).
`text` is where text is; `text_read` what it says, which only URLs listing the words need.

Usage: python bench/faces.py [--requests 25] [--json out.json] [--detectors]
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pyvips
from run import ROOT, SOURCE, _free_port, ensure_source, start_server

FACE_SOURCE_NAME = "faces.jpg"
TRANSFORM = "c_thumb,{gravity},w_200,h_200"


def make_face_source(target: Path) -> None:
    """The benchmark photo with the astronaut's head and shoulders pasted at (2400, 700)."""
    photo = pyvips.Image.new_from_file(str(SOURCE))
    astronaut = pyvips.Image.new_from_file(str(ROOT / "examples" / "images" / "astronaut.jpg"))
    portrait = astronaut.crop(96, 0, 320, 320).resize(600 / 320)
    photo.insert(portrait, 2400, 700).jpegsave(str(target), Q=90, subsample_mode="on")


def timed(client: httpx.Client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url}: {response.status_code} {response.headers.get('x-cld-error')}")
    return elapsed


def series(client: httpx.Client, base: str, urls: Callable[[int], str], count: int) -> float:
    """Median latency in ms over `count` requests (after one untimed warm-up)."""
    timed(client, base + urls(10_000))
    return statistics.median(timed(client, base + urls(i)) for i in range(1, count + 1))


def run(count: int) -> dict[str, float]:
    ensure_source()
    work = Path(tempfile.mkdtemp(prefix="pixcast-faces-"))
    originals = work / "originals"
    originals.mkdir()
    make_face_source(originals / FACE_SOURCE_NAME)
    for i in range(count + 1):
        shutil.copy(originals / FACE_SOURCE_NAME, originals / f"cold-{i}.jpg")
    shutil.copy(originals / FACE_SOURCE_NAME, originals / "cold-10000.jpg")
    port = _free_port()
    server = start_server(originals, work / "cache", port)
    try:
        return measure(f"http://127.0.0.1:{port}", count)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def measure(base: str, count: int) -> dict[str, float]:
    centre = TRANSFORM.format(gravity="g_center")
    face = TRANSFORM.format(gravity="g_face")
    with httpx.Client(timeout=60) as client:
        results = {
            "g_center_ms": series(client, base, lambda i: f"/{centre}/v{i}/faces.jpg", count),
            "warm_g_face_ms": series(client, base, lambda i: f"/{face}/v{i}/faces.jpg", count),
            "cold_g_face_ms": series(client, base, lambda i: f"/{face}/cold-{i}.jpg", count),
        }
    results["warm_ratio"] = results["warm_g_face_ms"] / results["g_center_ms"]
    results["cold_added_ms"] = results["cold_g_face_ms"] - results["g_center_ms"]
    return {key: round(value, 2) for key, value in results.items()}


DETECTORS = ("faces", "landmarks", "people", "text", "segmentation", "saliency")


def make_detector_source(target: Path) -> None:
    """The face photo with a sign on it, so the text detector reads something."""
    make_face_source(target)
    photo = pyvips.Image.new_from_file(str(target))
    sign = pyvips.Image.text("CAFE OPEN DAILY", dpi=900, font="DejaVu Sans Bold")
    plate = (255 - sign.embed(60, 40, sign.width + 120, sign.height + 80)).cast("uchar")
    plate = plate.bandjoin([plate, plate]).copy(interpretation="srgb")
    photo.insert(plate, 300, 2300).jpegsave(str(target) + ".sign.jpg", Q=90)


def cpu_ms(work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return (time.process_time() - started) * 1000


def detector_cpu() -> dict[str, float]:
    """Cold CPU ms per detector on the 4000x3000 photo, and the probe's own decode."""
    from detectors.base import DetectorSettings, load_detectors
    from detectors.probe import probe_from_bytes
    from detectors.service import RegionService

    ensure_source()
    work = Path(tempfile.mkdtemp(prefix="pixcast-detectors-"))
    make_detector_source(work / "photo.jpg")
    data = (work / "photo.jpg.sign.jpg").read_bytes()
    detectors = load_detectors(DetectorSettings(models_dir=ROOT / "models"), DETECTORS)
    service = RegionService(detectors)
    seen = service.for_source(None, lambda: probe_from_bytes(data))
    for name in DETECTORS:  # each loaded and run once, as a server that has started
        seen.find(name)
    seen.read("text")
    results = {"probe_decode_cpu_ms": cpu_ms(lambda: probe_from_bytes(data))}
    fresh = service.for_source(None, lambda: probe_from_bytes(data))
    fresh.probe()
    for name in DETECTORS:
        results[f"{name}_cpu_ms"] = cpu_ms(functools.partial(_find_again, fresh, name))
    results["matte_cpu_ms"] = cpu_ms(fresh.matte)
    # Reading what the text says runs only for URLs that list the words (fl_getinfo).
    results["text_read_cpu_ms"] = cpu_ms(functools.partial(fresh.read, "text"))
    detectors.close()
    shutil.rmtree(work, ignore_errors=True)
    return {key: round(value, 1) for key, value in results.items()}


def _find_again(regions: Any, name: str) -> None:
    # Landmarks refine the faces, which the line before has found (and measured).
    regions.found.pop(name, None)
    regions.find(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=25)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--detectors", action="store_true", help="cold CPU time per detector")
    args = parser.parse_args()
    results = detector_cpu() if args.detectors else run(args.requests)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
