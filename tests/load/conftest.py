"""Fixtures for the load tests: generated originals, settings, a render gate, metric reads.

`gate` holds every render at its start until the test opens it, so a test can line up
requests behind a running render without sleeping and guessing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pyvips
from prometheus_client.parser import text_string_to_metric_families

from server.settings import Settings
from transforms import pipeline

WAIT = 20.0  # seconds any wait in these tests may last before it fails


def gradient(width: int, height: int) -> pyvips.Image:
    xyz = pyvips.Image.xyz(width, height)
    red = xyz[0] * (255 / max(1, width - 1))
    green = xyz[1] * (255 / max(1, height - 1))
    return red.bandjoin([green, green * 0 + 96]).cast("uchar").copy(interpretation="srgb")


def jpeg(width: int, height: int) -> bytes:
    return bytes(gradient(width, height).jpegsave_buffer(Q=85))


@pytest.fixture
def originals(tmp_path: Path) -> Path:
    root = tmp_path / "originals"
    root.mkdir()
    (root / "camera.jpg").write_bytes(jpeg(400, 300))
    (root / "other.jpg").write_bytes(jpeg(320, 240))
    return root


@pytest.fixture
def make_settings(tmp_path: Path, originals: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "originals": originals,
            "cache_dir": tmp_path / "cache",
            "detectors": "",  # loading models is slow; the tests that need one ask for it
            "render_threads": 2,
        }
        return Settings(**(values | overrides))

    return make


class Gate:
    """Renders wait at their start until `open()`; `started` counts renders that began."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self._lock = threading.Lock()
        self.started = 0
        self.arrived = threading.Condition(self._lock)

    def open(self) -> None:
        self._open.set()

    def close(self) -> None:
        """Hold renders again, counting from zero."""
        with self._lock:
            self._open.clear()
            self.started = 0

    def wait_for(self, count: int) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: self.started >= count, WAIT), self.started

    def enter(self) -> None:
        with self.arrived:
            self.started += 1
            self.arrived.notify_all()
        assert self._open.wait(WAIT), "the gate was never opened"


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    """Wraps pipeline.render (before an app's lifespan looks it up) to pass the gate."""
    found = Gate()
    real = pipeline.render

    def gated(*args: Any) -> Any:
        found.enter()
        return real(*args)

    monkeypatch.setattr(pipeline, "render", gated)
    yield found
    found.open()  # never leave a render thread parked


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels`."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total
