"""A real S3 API server for the tests: moto's server mode in its own process on a loopback
port, with request authentication on (every call must be signed by a known key: buckets
are private). tests/conftest.py starts it once per session, for every package."""

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


@contextmanager
def moto_server(log: Path) -> Iterator[MotoS3]:
    """The server, stopped on the way out; its output goes to `log`."""
    port = free_port()
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


def aws_environment(moto: MotoS3, folder: Path) -> dict[str, str]:
    """The AWS chain as pixcast reads it: keys and endpoint from the environment, no
    profile files, no instance metadata (nothing leaves the machine)."""
    return {
        "AWS_ACCESS_KEY_ID": moto.key_id,
        "AWS_SECRET_ACCESS_KEY": moto.secret,
        "AWS_ENDPOINT_URL_S3": moto.endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(folder / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(folder / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def new_bucket(moto: MotoS3) -> str:
    name = f"pixcast-{uuid.uuid4().hex[:12]}"
    moto.client().create_bucket(Bucket=name)
    return name
