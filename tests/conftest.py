"""Fixtures every test package may share: the S3 API server (one per session), a fresh
bucket on it per test, and an environment that points the AWS chain at that server and at
nothing else."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.s3server import MotoS3, aws_environment, moto_server, new_bucket


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3]:
    with moto_server(tmp_path_factory.mktemp("moto") / "server.log") as server:
        yield server


@pytest.fixture
def bucket(moto_s3: MotoS3) -> str:
    return new_bucket(moto_s3)


@pytest.fixture
def aws_env(moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> MotoS3:
    """The AWS chain pointed at the test server alone."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in aws_environment(moto_s3, tmp_path).items():
        monkeypatch.setenv(name, value)
    return moto_s3
