"""Each store has its own directory under the cache root, and `pixcast cache stats|verify|
purge` maintains them while servers run.

The story: the result cache lived at the cache root with the other stores in its
subfolders, so `diskcache.Cache(cache_dir).check(fix=True)` deleted the detection, remote
and lock stores as files it did not know.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import diskcache
import pytest
import pyvips
from starlette.testclient import TestClient

from server.app import create_app
from server.cachelayout import DETECTIONS, RESULTS, STORES
from server.cli import main
from server.settings import Settings
from tests.load.conftest import WAIT
from transforms import pipeline

SALIENT = "/c_fill,g_auto,w_80,h_80/camera.jpg"


def test_every_store_has_its_own_directory_and_fixing_one_spares_the_others(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    with TestClient(create_app(make_settings(detectors="saliency"))) as client:
        assert client.get(SALIENT).status_code == 200
    root = tmp_path / "cache"
    assert sorted(p.name for p in root.iterdir()) == sorted([*STORES, "locks"])
    with diskcache.Cache(str(root / DETECTIONS)) as detections:
        assert len(detections) == 1
    with diskcache.Cache(str(root / RESULTS)) as results:
        results.check(fix=True)  # what used to destroy the other stores
    with diskcache.Cache(str(root / DETECTIONS)) as detections:
        assert len(detections) == 1


def cache_cli(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, str]:
    status = main(["cache", "--cache-dir", str(root), *args])
    return status, capsys.readouterr().out


def test_stats_verify_and_purge_from_the_command_line(
    make_settings: Callable[..., Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "cache"
    with TestClient(create_app(make_settings())) as client:
        for url in ("/w_50/camera.jpg", "/w_60/camera.jpg", "/w_50/logo.png"):
            assert client.get(url).headers["x-cache"] == "MISS"
        status, out = cache_cli(capsys, root, "stats")
        assert status == 0 and "results: 3 entries" in out
        assert cache_cli(capsys, root, "verify") == (
            0,
            "results: ok\ndetections: ok\nremote-originals: ok\n",
        )
        status, out = cache_cli(capsys, root, "purge", "--public-id", "camera")
        assert (status, out) == (0, "purged 2 rendered variants of camera\n")
        assert client.get("/w_50/camera.jpg").headers["x-cache"] == "MISS"
        assert client.get("/w_50/logo.png").headers["x-cache"] == "HIT"
        status, out = cache_cli(capsys, root, "purge", "--all")
        assert (status, out) == (0, "purged 2 rendered variants of every public id\n")
        assert client.get("/w_50/logo.png").headers["x-cache"] == "MISS"


def test_verify_reports_a_damaged_store_and_fix_repairs_it(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    originals: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "cache"
    noise = pyvips.Image.gaussnoise(300, 300, mean=128, sigma=60).cast("uchar")
    noise.write_to_file(str(originals / "noise.png"))
    with TestClient(create_app(make_settings())) as client:
        assert client.get("/w_300/noise.png").status_code == 200
    big = next((root / RESULTS).rglob("*.val"), None)
    assert big is not None, "a 300 px noise PNG is stored in a file of its own"
    big.unlink()
    status, out = cache_cli(capsys, root, "verify")
    assert status == 1 and "results: " in out and "ok" not in out.splitlines()[0]
    assert cache_cli(capsys, root, "verify", "--fix")[0] == 0
    assert cache_cli(capsys, root, "verify") == (
        0,
        "results: ok\ndetections: ok\nremote-originals: ok\n",
    )


def test_a_missing_cache_root_is_an_error_not_a_new_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cache", "--cache-dir", str(tmp_path / "typo"), "stats"]) == 2
    assert "not an existing directory" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()


def test_a_render_in_flight_never_stores_into_a_purged_key(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The render began before the purge and ends after it: its answer is served, but the
    next request renders again instead of finding a result from before the purge."""
    started, release = threading.Event(), threading.Event()
    real = pipeline.render
    calls: list[float] = []

    def held(*args: Any) -> Any:
        calls.append(time.time())
        if len(calls) == 1:
            started.set()
            assert release.wait(WAIT)
        return real(*args)

    monkeypatch.setattr(pipeline, "render", held)
    with TestClient(create_app(make_settings())) as client, ThreadPoolExecutor(1) as pool:
        pending = pool.submit(client.get, "/w_50/camera.jpg")
        assert started.wait(WAIT)
        assert cache_cli(capsys, tmp_path / "cache", "purge", "--public-id", "camera")[0] == 0
        release.set()
        assert pending.result(WAIT).status_code == 200
        again = client.get("/w_50/camera.jpg")
    assert again.headers["x-cache"] == "MISS"
    assert len(calls) == 2
