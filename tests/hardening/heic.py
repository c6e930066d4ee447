"""The HEIC test original set-up makes (scripts/make_heic.py: HEVC, from a public-domain
sample, with its provenance beside it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hardening.conftest import REPO

HEIC_DIR = REPO / "var" / "test-images"


def heic_sample() -> Path:
    path = HEIC_DIR / "astronaut.heic"
    if not path.is_file():
        pytest.fail(f"{path} is missing: set-up makes it (python scripts/make_heic.py)")
    return path
