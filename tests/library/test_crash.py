"""A process killed (SIGKILL) at each stage of an upload leaves a library whose row names
bytes that exist and match it: the old asset or the new one, never a row without bytes,
never a partial file in place."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server.library import ingest
from server.library.intake import Incoming
from server.library.service import Library, build_library
from server.settings import Settings
from tests.browser.conftest import IMAGES, REPO
from tests.library.postgres import fresh_database
from transforms.model import Limits

LOGO = (IMAGES / "logo.png").read_bytes()
PHOTO = IMAGES / "astronaut.jpg"
# Every stage on SQLite; PostgreSQL where it differs, inside its transaction (a child
# process costs seconds, so not every stage twice).
CASES = [
    ("writing", "sqlite"),
    ("renamed", "sqlite"),
    ("committing", "sqlite"),
    ("committing", "postgresql"),
    ("cleaning", "sqlite"),
]


def library_for(tmp_path: Path, database_url: str) -> Library:
    originals = tmp_path / "originals"
    originals.mkdir(exist_ok=True)
    settings = Settings(
        originals=originals, library_path=tmp_path / "library.sqlite3", database_url=database_url
    )
    return build_library(settings)


def crash_at(stage: str, tmp_path: Path, database_url: str) -> None:
    command = [sys.executable, "-m", "tests.library.crashing", stage, str(tmp_path / "originals"),
               str(tmp_path / "library.sqlite3"), database_url, str(PHOTO)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
    assert b"survived" not in done.stdout


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """SQLite (""), or a fresh PostgreSQL database: the case's second value."""
    if request.param == "sqlite":
        return ""
    socket_dir: Path = request.getfixturevalue("postgres_socket")
    return fresh_database(socket_dir, f"pixcast_crash_{os.getpid()}_{id(request)}")


@pytest.mark.parametrize(("stage", "database_url"), CASES, indirect=["database_url"])
def test_a_kill_mid_upload_leaves_a_consistent_asset(
    stage: str, tmp_path: Path, database_url: str
) -> None:
    before = library_for(tmp_path, database_url)
    old = ingest.UploadOptions(public_id="crash/pic", tags=("old",))
    ingest.place(before, old, Incoming(LOGO, "old.png"), Limits(), None)
    before.close()

    crash_at(stage, tmp_path, database_url)

    after = library_for(tmp_path, database_url)
    row = after.repository.get("upload", "crash/pic")
    after.close()
    assert row is not None
    stored = (tmp_path / "originals" / after.key(row)).read_bytes()
    assert hashlib.md5(stored).hexdigest() == row.etag and len(stored) == row.bytes
    expected = ("new",) if stage == "cleaning" else ("old",)
    assert row.tags == expected
    assert row.format == ("jpg" if stage == "cleaning" else "png")
    # A partial file the kill left behind is swept once it is older than any upload.
    incoming = tmp_path / "originals" / ".pixcast-incoming"
    left = len(list(incoming.iterdir()))
    assert left == (1 if stage == "writing" else 0)
    assert after.blobs.sweep(now=time.time() + 2 * 3600) == left
    assert list(incoming.iterdir()) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_kill_between_rename_and_commit_of_the_same_format_leaves_whole_bytes(
    tmp_path: Path, database_url: str
) -> None:
    """The documented window: the new bytes under the old row, both whole, none missing."""
    before = library_for(tmp_path, database_url)
    old = ingest.UploadOptions(public_id="crash/pic")
    ingest.place(
        before, old, Incoming((IMAGES / "dogs.jpg").read_bytes(), "old.jpg"), Limits(), None
    )
    before.close()
    crash_at("renamed", tmp_path, database_url)
    after = library_for(tmp_path, database_url)
    row = after.repository.get("upload", "crash/pic")
    after.close()
    assert row is not None and row.format == "jpg"
    assert (tmp_path / "originals" / "crash" / "pic.jpg").read_bytes() == PHOTO.read_bytes()
