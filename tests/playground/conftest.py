"""Fixtures for the playground's JSON endpoints: a few real sample photos as originals, an
empty uploads area, and a TestClient on an app with the playground switched on."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "examples" / "images"


@pytest.fixture
def originals(tmp_path: Path) -> Path:
    """astronaut.jpg and logo.png from examples/images, one in a folder, and a text file."""
    root = tmp_path / "originals"
    (root / "team").mkdir(parents=True)
    shutil.copy(IMAGES / "astronaut.jpg", root / "astronaut.jpg")
    shutil.copy(IMAGES / "logo.png", root / "logo.png")
    shutil.copy(IMAGES / "astronaut.jpg", root / "team" / "Eileen.JPG")
    (root / "notes.txt").write_text("not an image\n")
    (root / ".hidden.jpg").write_bytes((IMAGES / "logo.png").read_bytes())
    return root


@pytest.fixture
def make_settings(tmp_path: Path, originals: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "originals": originals,
            "cache_dir": tmp_path / "cache",
            "uploads_dir": tmp_path / "uploads",
            "playground": True,
            "render_threads": 2,
        }
        return Settings(**(values | overrides))

    return make


@pytest.fixture
def client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings())) as test_client:
        yield test_client


def png_bytes(width: int, height: int) -> bytes:
    """A small opaque PNG made with pyvips."""
    import pyvips

    image = pyvips.Image.black(width, height, bands=3).linear([1, 1, 1], [40, 120, 200])
    return bytes(image.cast("uchar").copy(interpretation="srgb").pngsave_buffer())
