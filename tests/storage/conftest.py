"""A real S3 API server for the storage tests: moto's server mode in its own process on a
loopback port, started once per test session, with request authentication on (every call
must be signed by a known key: the bucket is private). Each test gets its own bucket and
an environment that points the AWS chain at that server and at nothing else."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
import httpx
import pytest

from tests.load.serving import free_port

STARTUP_SECONDS = 30.0
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}


@dataclass
class MotoS3:
    """The server process, its endpoint, and a signed key allowed everything."""

    process: subprocess.Popen[bytes]
    endpoint: str
    key_id: str
    secret: str

    def client(self, key_id: str | None = None, secret: str | None = None) -> Any:
        return botocore.session.get_session().create_client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=key_id or self.key_id,
            aws_secret_access_key=secret or self.secret,
            region_name="us-east-1",
        )

    @contextmanager
    def stopped(self) -> Iterator[None]:
        """The server stops answering (its process is paused: connections hang) for the
        block, then resumes."""
        self.process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.process.send_signal(signal.SIGCONT)


def _wait_until_up(endpoint: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            httpx.get(endpoint + "/moto-api/", timeout=2.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the moto S3 server did not start")


def _signed_user(endpoint: str) -> tuple[str, str]:
    """Create a user allowed s3:* (before authentication is on), then turn it on."""
    iam = botocore.session.get_session().create_client(
        "iam",
        endpoint_url=endpoint,
        aws_access_key_id="bootstrap",
        aws_secret_access_key="bootstrap",
        region_name="us-east-1",
    )
    iam.create_user(UserName="pixcast")
    iam.put_user_policy(UserName="pixcast", PolicyName="s3", PolicyDocument=json.dumps(POLICY))
    key = iam.create_access_key(UserName="pixcast")["AccessKey"]
    httpx.post(endpoint + "/moto-api/reset-auth", content=b"0", timeout=5.0).raise_for_status()
    return key["AccessKeyId"], key["SecretAccessKey"]


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3]:
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true"},
        )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        _wait_until_up(endpoint)
        key_id, secret = _signed_user(endpoint)
        yield MotoS3(process, endpoint, key_id, secret)
    finally:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture
def bucket(moto_s3: MotoS3) -> str:
    name = f"pixcast-{uuid.uuid4().hex[:12]}"
    moto_s3.client().create_bucket(Bucket=name)
    return name


@pytest.fixture
def aws_env(moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> MotoS3:
    """The AWS chain as pixcast reads it: keys and endpoint from the environment, no
    profile files, no instance metadata (nothing leaves the machine)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_s3.key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_s3.secret)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_s3.endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return moto_s3
