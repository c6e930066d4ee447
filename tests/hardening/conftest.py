"""Fixtures for the hardening tests: generated originals and settings in tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from server.settings import Settings
from tests.load.conftest import gradient

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def originals(tmp_path: Path) -> Path:
    root = tmp_path / "originals"
    root.mkdir()
    gradient(400, 300).write_to_file(str(root / "camera.jpg"), Q=85)
    gradient(200, 100).write_to_file(str(root / "logo.png"))
    return root


@pytest.fixture
def make_settings(tmp_path: Path, originals: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "originals": originals,
            "cache_dir": tmp_path / "cache",
            "detectors": "",  # the tests that need a detector ask for it
            "render_threads": 2,
        }
        return Settings(**(values | overrides))

    return make
