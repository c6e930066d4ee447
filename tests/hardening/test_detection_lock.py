"""Detections coalesce across processes: two processes that need the same source's regions
at the same moment run the detector once; the other waits and reads the stored result.

The story: renders took a per-key lock shared by every process, detections only a thread
lock, so `--workers 2` could detect one original twice at once.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from multiprocessing.synchronize import Barrier
from pathlib import Path

from detectors.base import Detectors, Region
from detectors.probe import Probe, probe_from_image
from detectors.service import RegionService
from server.detections import DetectionStore
from server.keylocks import KeyLocks
from tests.load.conftest import WAIT, gradient

RUN_SECONDS = 0.5  # how long a detection lasts: the other process arrives meanwhile


class Recording:
    """A detector that notes each run in a file shared by the processes."""

    name = "faces"

    def __init__(self, runs: Path) -> None:
        self.runs = runs

    def detect(self, probe: Probe) -> list[Region]:
        with self.runs.open("a") as log:
            log.write(f"{os.getpid()}\n")
        time.sleep(RUN_SECONDS)
        return [Region("face", 0.9, 0.25, 0.25, 0.5, 0.5)]

    def close(self) -> None:
        pass


def detect_in_a_process(root: Path, barrier: Barrier, answer: Path) -> None:
    store = DetectionStore(root / "detections", "fingerprint", KeyLocks(root / "locks"))
    service = RegionService(Detectors(available={"faces": Recording(root / "runs")}), store)
    probe = probe_from_image(gradient(64, 48))
    barrier.wait(WAIT)
    try:
        found = service.for_source("source-1", lambda: probe).find("faces")
    finally:
        store.close()
    answer.write_text(json.dumps([vars(region) for region in found]))


def test_two_processes_detect_one_source_once(tmp_path: Path) -> None:
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(2)
    answers = [tmp_path / "first.json", tmp_path / "second.json"]
    processes = [
        spawn.Process(target=detect_in_a_process, args=(tmp_path, barrier, answer))
        for answer in answers
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(WAIT)
        assert process.exitcode == 0
    expected = [vars(Region("face", 0.9, 0.25, 0.25, 0.5, 0.5))]
    assert [json.loads(answer.read_text()) for answer in answers] == [expected, expected]
    assert len((tmp_path / "runs").read_text().split()) == 1
