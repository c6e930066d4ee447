"""Fixtures for the HTTP tests: generated originals, settings, and a TestClient.

The images are made with pyvips into tmp_path, so these tests do not depend on
examples/images. `render_calls` counts real renders, to tell cache hits from misses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pyvips
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from transforms import pipeline

# starlette.testclient warns (and pytest's filterwarnings=error fails) when it runs on
# `httpx` instead of `httpx2`; the dev dependencies install httpx2, so nothing is filtered.


def gradient(width: int, height: int, alpha: bool = False) -> pyvips.Image:
    """An RGB(A) gradient: red grows to the right, green downwards, blue is constant."""
    xyz = pyvips.Image.xyz(width, height)
    red = xyz[0] * (255 / max(1, width - 1))
    green = xyz[1] * (255 / max(1, height - 1))
    image = red.bandjoin([green, green * 0 + 96])
    if alpha:
        image = image.bandjoin(green * 0 + 200)
    return image.cast("uchar").copy(interpretation="srgb")


def save(image: pyvips.Image, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.write_to_file(str(path))
    return path


ImageWriter = Callable[..., Path]


@pytest.fixture
def write_image() -> ImageWriter:
    """`write_image(path, width, height, alpha=False, invert=False)`: a gradient file."""

    def write(
        path: Path, width: int, height: int, alpha: bool = False, invert: bool = False
    ) -> Path:
        image = gradient(width, height, alpha)
        return save(image.invert() if invert else image, path)

    return write


@pytest.fixture
def originals(tmp_path: Path) -> Path:
    """camera.jpg 400x300, logo.png 200x100 with alpha, a non-ASCII name, a broken file."""
    root = tmp_path / "originals"
    save(gradient(400, 300), root / "camera.jpg")
    save(gradient(200, 100, alpha=True), root / "logo.png")
    save(gradient(320, 240), root / "café terrace.jpg")
    save(gradient(120, 80), root / "team" / "alice.jpg")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG " * 20)
    (root / "notes.jpg").write_bytes(b"plain text, not an image\n")
    return root


@pytest.fixture
def make_settings(tmp_path: Path, originals: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "originals": originals,
            "cache_dir": tmp_path / "cache",
            "render_threads": 2,
        }
        return Settings(**(values | overrides))

    return make


@pytest.fixture
def render_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Wraps pipeline.render (before the app's lifespan picks it up) to record each call."""
    calls: list[str] = []
    real = pipeline.render

    def counting(t: Any, source: bytes, accept: str | None, *rest: Any) -> Any:
        calls.append(t.public_id)
        return real(t, source, accept, *rest)

    monkeypatch.setattr(pipeline, "render", counting)
    return calls


@pytest.fixture
def client(make_settings: Callable[..., Settings], render_calls: list[str]) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings())) as test_client:
        yield test_client
