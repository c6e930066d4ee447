"""A process killed (SIGKILL) at each stage of an upload leaves a library whose row names
bytes that exist and match it: the old asset or the new one, never a row without bytes,
never a partial file (or object, with S3 originals) in place."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

from server.library import ingest
from server.library.intake import Incoming
from server.library.service import Library, build_library
from server.origins import build_origins
from server.settings import Settings
from tests.browser.conftest import IMAGES, REPO
from tests.library.postgres import fresh_database
from tests.s3server import MotoS3
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


def crash_at(stage: str, tmp_path: Path, database_url: str, origins: str = "") -> None:
    command = [sys.executable, "-m", "tests.library.crashing", stage, str(tmp_path / "originals"),
               str(tmp_path / "library.sqlite3"), database_url, str(PHOTO), origins]  # fmt: skip
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


# With S3 originals: killed halfway through sending the PUT (the same key holds the old
# bytes), after the PUT (both formats' objects exist, the row is the old one), and after
# the commit (the old format's object not yet deleted).
S3_CASES = [("sending", "dogs.jpg", "old"), ("put", "logo.png", "old"),
            ("cleaning-s3", "logo.png", "new")]  # fmt: skip


@pytest.mark.parametrize(("stage", "old_file", "kept"), S3_CASES)
def test_a_kill_mid_upload_to_s3_leaves_a_consistent_asset(
    stage: str, old_file: str, kept: str, tmp_path: Path, aws_env: MotoS3, bucket: str
) -> None:
    origins = f"crash/=s3://{bucket}/assets/"
    old_bytes = (IMAGES / old_file).read_bytes()
    place_old_in_s3(tmp_path, origins, old_bytes)

    crash_at(stage, tmp_path, "", origins)  # the child reads the AWS environment too

    after = library_for(tmp_path, "")
    row = after.repository.get("upload", "crash/pic")
    after.close()
    assert row is not None and row.tags == (kept,)
    client = aws_env.client()
    stored = client.get_object(Bucket=bucket, Key=f"assets/pic.{row.format}")["Body"].read()
    assert hashlib.md5(stored).hexdigest() == row.etag and len(stored) == row.bytes
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    both = {"assets/pic.png", "assets/pic.jpg"}
    assert {item["Key"] for item in listed} == ({"assets/pic.jpg"} if stage == "sending" else both)
    if stage == "sending":
        assert stored == old_bytes  # the half-sent PUT replaced nothing
    assert not (tmp_path / "originals" / "crash").exists()


def place_old_in_s3(tmp_path: Path, origins: str, data: bytes) -> None:
    originals = tmp_path / "originals"
    originals.mkdir(exist_ok=True)
    prefix, _, base = origins.partition("=")
    settings = Settings(
        originals=originals, library_path=tmp_path / "library.sqlite3",
        cache_dir=tmp_path / "cache", origins={prefix: base},
    )  # fmt: skip
    delivery = build_origins(settings, Limits())
    library = build_library(settings, delivery)
    old = ingest.UploadOptions(public_id="crash/pic", tags=("old",))
    ingest.place(library, old, Incoming(data, "old"), Limits(), None)
    library.close()
    anyio.run(delivery.aclose)
