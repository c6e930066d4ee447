"""Fixtures for the library: every test that takes `database_url` runs twice, against
SQLite (the empty URL: a file under tmp_path) and against a real PostgreSQL server;
`make_client` builds an app on it (with settings overrides); a `served` pixcast runs
with each database and each place for originals (the directory, or S3 origins on the
session's S3 API server)."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from tests.browser.conftest import IMAGES, running_pixcast
from tests.library.postgres import fresh_database, postgres_server
from tests.s3server import MotoS3, aws_environment, new_bucket

_names = itertools.count()


@pytest.fixture(scope="session")
def postgres_socket() -> Iterator[Path]:
    with postgres_server() as socket_dir:
        yield socket_dir


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return ""
    socket_dir: Path = request.getfixturevalue("postgres_socket")
    return fresh_database(socket_dir, f"pixcast_test_{next(_names)}")


KEY, SECRET = "pixcast-key", "pixcast-secret"
OLD_KEY, OLD_SECRET = "retired-key", "retired-secret"


# The folders the SDK tests upload to; with S3 originals each is an S3 origin (the unsigned
# uploads' random ids stay in the directory).
S3_FOLDERS = ("sdk/", "versions/", "admin/", "keys/")
S3_PREFIX = "library/"


@pytest.fixture
def originals(tmp_path: Path) -> Path:
    root = tmp_path / "originals"
    root.mkdir()
    shutil.copy(IMAGES / "logo.png", root / "kept.png")
    return root


@pytest.fixture
def make_client(
    tmp_path: Path, originals: Path, database_url: str
) -> Iterator[Callable[..., TestClient]]:
    """Apps on the library under test; `make(**overrides)` changes their settings."""
    opened: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        values: dict[str, Any] = {
            "originals": originals, "cache_dir": tmp_path / "cache",
            "library_path": tmp_path / "library.sqlite3", "database_url": database_url,
            "api_key": (KEY,), "api_secret": (SECRET,), "render_threads": 2,
            "detectors": "saliency",
        }  # fmt: skip
        client = TestClient(create_app(Settings(**(values | overrides))))
        opened.append(client.__enter__())
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@dataclass(frozen=True)
class Served:
    """A pixcast started for real on loopback, with its originals and the SDK options
    (upload_prefix, cloud_name, api_key, api_secret) that point pycloudinary at it; with
    S3 originals, the bucket holding `S3_FOLDERS`."""

    url: str
    originals: Path
    sdk: dict[str, str]
    s3: MotoS3 | None = field(default=None, repr=False)  # its test keys stay out of reports
    bucket: str = ""

    def stored(self, key: str) -> bool:
        """Whether the original `<public id>.<format>` exists where this server keeps it."""
        if self.s3 is None:
            return (self.originals / key).is_file()
        listed = self.s3.client().list_objects_v2(Bucket=self.bucket, Prefix=S3_PREFIX + key)
        return any(item["Key"] == S3_PREFIX + key for item in listed.get("Contents", []))

    def object(self, key: str) -> bytes:
        assert self.s3 is not None
        found = self.s3.client().get_object(Bucket=self.bucket, Key=S3_PREFIX + key)
        data: bytes = found["Body"].read()
        return data


def s3_origins(bucket: str) -> str:
    """PIXCAST_ORIGINS mapping each of S3_FOLDERS to the same folder under S3_PREFIX."""
    return ",".join(f"{folder}=s3://{bucket}/{S3_PREFIX}{folder}" for folder in S3_FOLDERS)


@pytest.fixture(
    scope="module",
    params=[
        ("sqlite", "directory"),
        ("postgresql", "directory"),
        ("sqlite", "s3"),
        ("postgresql", "s3"),
    ],
    ids=lambda param: "-".join(param),
)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    database, storage = request.param
    root = tmp_path_factory.mktemp(f"pixcast-library-{database}-{storage}")
    environ = {
        "PIXCAST_API_KEY": f"{KEY},{OLD_KEY}",
        "PIXCAST_API_SECRET": f"{SECRET},{OLD_SECRET}",
        "PIXCAST_LIBRARY_PATH": str(root / "library.sqlite3"),
        "PIXCAST_UNSIGNED_UPLOAD_PRESETS": "open-preset",
    }
    if database == "postgresql":
        socket_dir: Path = request.getfixturevalue("postgres_socket")
        environ["PIXCAST_DATABASE_URL"] = fresh_database(socket_dir, f"pixcast_e2e_{next(_names)}")
    s3: MotoS3 | None = None
    bucket = ""
    if storage == "s3":
        s3 = request.getfixturevalue("moto_s3")
        bucket = new_bucket(s3)
        environ |= aws_environment(s3, root) | {"PIXCAST_ORIGINS": s3_origins(bucket)}
    with running_pixcast(root, environ) as url:
        sdk = {"upload_prefix": url, "cloud_name": "demo", "api_key": KEY, "api_secret": SECRET}
        yield Served(url, root / "originals", sdk, s3, bucket)
