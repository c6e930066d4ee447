"""The S3 backend (S3, MinIO, R2, GCS's S3 interface) on botocore: SigV4, the AWS credential
chain, `s3://bucket/prefix?endpoint=&region=&path_style=` URLs. Each blocking call runs in
a thread under a deadline, so a bucket that stops answering is a 504, not a stuck request.
`S3Storage.blocking` makes the same calls in the caller's thread, for code that already
runs on a worker thread (the library's uploads)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import anyio
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    NoCredentialsError,
    ReadTimeoutError,
)

from server.storage.base import Blob, StorageError, Version
from transforms.errors import GatewayTimeout, PayloadTooLarge

T = TypeVar("T")
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
_DENIED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"}
_OPTIONS = {"endpoint", "region", "path_style"}


@dataclass(frozen=True)
class S3Location:
    """A parsed `s3://bucket/prefix?...` URL."""

    bucket: str
    prefix: str
    endpoint: str | None = None
    region: str | None = None
    path_style: bool | None = None

    @classmethod
    def parse(cls, text: str) -> S3Location:
        """Raises ValueError naming what is wrong."""
        parts = urlsplit(text)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"expected s3://bucket/prefix, got {text!r}")
        options = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        unknown = set(options) - _OPTIONS
        if unknown:
            raise ValueError(f"unknown option(s) {sorted(unknown)} in {text!r}")
        prefix = parts.path.lstrip("/")
        style = options.get("path_style")
        return cls(
            parts.netloc,
            prefix if not prefix or prefix.endswith("/") else prefix + "/",
            options.get("endpoint"),
            options.get("region"),
            None if style is None else style.lower() in ("1", "true", "yes", "on"),
        )

    def url(self, key: str = "") -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"


def s3_client(location: S3Location, timeout: float) -> Any:
    """A botocore S3 client: the session's chain supplies credentials, region, endpoint
    (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL) unless the location names its own."""
    config = Config(
        connect_timeout=min(CONNECT_TIMEOUT, timeout),
        read_timeout=min(READ_TIMEOUT, timeout),
        retries={"mode": "standard", "total_max_attempts": 2},
        s3={"addressing_style": "path"} if location.path_style else None,
        user_agent_extra="pixcast",
    )
    session = botocore.session.get_session()
    return session.create_client(
        "s3", region_name=location.region, endpoint_url=location.endpoint, config=config
    )


class S3Storage:
    """Objects under one bucket's prefix. `max_bytes` caps what `get` reads (originals)."""

    def __init__(
        self,
        location: S3Location,
        timeout: float,
        max_bytes: int | None = None,
        client: Any = None,
    ) -> None:
        self.location = location
        self.bucket = location.bucket
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.client = client if client is not None else s3_client(location, timeout)

    def url(self, key: str) -> str:
        return self.location.url(key)

    async def get(
        self, key: str, since: Version | None = None, name: str | None = None
    ) -> Blob | None:
        return await self._call(lambda: self._get(key, since, name or key), name or key)

    async def put(self, key: str, data: bytes) -> Version:
        answer = await self._call(lambda: self._request("put_object", key, Body=data), key)
        return Version(answer.get("ETag"), None, len(data))

    async def create(self, key: str, data: bytes) -> bool:
        """Store `data` only if `key` does not exist (a conditional PUT); whether it did."""

        def write() -> Any:
            return self._request("put_object", key, Body=data, IfNoneMatch="*")

        try:
            await self._call(write, key)
        except _Conflict:
            return False
        return True

    async def delete(self, key: str) -> None:
        await self._call(lambda: self._request("delete_object", key), key)

    async def stat(self, key: str) -> Version | None:
        return await self._call(lambda: self._head(key), key)

    @property
    def blocking(self) -> BlockingS3:
        return BlockingS3(self)

    async def _call(self, work: Callable[[], T], name: str) -> T:
        try:
            with anyio.fail_after(self.timeout):
                return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        except TimeoutError:
            raise GatewayTimeout(f"Bucket {self.bucket} timed out: {name}") from None

    # --- blocking calls (in a worker thread) ---------------------------------------------

    def _request(self, operation: str, key: str, **arguments: Any) -> Any:
        try:
            call = getattr(self.client, operation)
            return call(Bucket=self.bucket, Key=self.location.prefix + key, **arguments)
        except ClientError as error:
            raise self._client_error(error) from None
        except (ConnectTimeoutError, ReadTimeoutError):
            raise GatewayTimeout(f"Bucket {self.bucket} timed out: {key}") from None
        except NoCredentialsError:
            raise StorageError(
                f"No credentials for bucket {self.bucket} (the AWS credential chain is empty)"
            ) from None
        except BotoCoreError as error:
            raise StorageError(f"Bucket {self.bucket} unreachable: {_first_line(error)}") from None

    def _get(self, key: str, since: Version | None, name: str) -> Blob | None:
        condition = {"IfNoneMatch": since.etag} if since is not None and since.etag else {}
        try:
            answer = self._request("get_object", key, **condition)
        except _Missing:
            return None
        except _Unchanged:
            assert since is not None
            return Blob(None, since)
        data = self._body(answer, name)
        modified = answer.get("LastModified")
        stamp = formatdate(modified.timestamp(), usegmt=True) if modified is not None else None
        return Blob(data, Version(answer.get("ETag"), stamp, len(data)))

    def _body(self, answer: Any, name: str) -> bytes:
        body = answer["Body"]
        try:
            declared = int(answer.get("ContentLength") or 0)
            if self.max_bytes is not None and declared > self.max_bytes:
                raise self._too_large(name)
            limit = None if self.max_bytes is None else self.max_bytes + 1
            data: bytes = body.read(limit)
        except (ConnectTimeoutError, ReadTimeoutError):
            raise GatewayTimeout(f"Bucket {self.bucket} timed out: {name}") from None
        except BotoCoreError as error:
            raise StorageError(f"Bucket {self.bucket} broke off: {_first_line(error)}") from None
        finally:
            body.close()
        if self.max_bytes is not None and len(data) > self.max_bytes:
            raise self._too_large(name)
        return data

    def _head(self, key: str) -> Version | None:
        try:
            answer = self._request("head_object", key)
        except _Missing:
            return None
        return Version(answer.get("ETag"), None, int(answer.get("ContentLength") or 0))

    def _client_error(self, error: ClientError) -> Exception:
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        if code in ("NoSuchKey", "404", "NotFound"):
            return _Missing()
        if status == 304 or code == "304":
            return _Unchanged()
        if status in (409, 412) or code in ("PreconditionFailed", "ConditionalRequestConflict"):
            return _Conflict()
        if code in _DENIED or status == 403:
            return StorageError(f"Bucket {self.bucket} refused access ({code or status})")
        return StorageError(f"Bucket {self.bucket} answered {status or '?'} {code}".rstrip())

    def _too_large(self, name: str) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"The original {name} is larger than the limit of {self.max_bytes} bytes"
        )


class BlockingS3:
    """One bucket prefix's objects, called in the caller's thread (never on the event loop):
    botocore's connect and read timeouts bound each call, as `request_timeout` allows."""

    def __init__(self, storage: S3Storage) -> None:
        self.storage = storage

    def get(self, key: str) -> bytes | None:
        """The whole object (within the storage's byte cap), or None when it is missing."""
        blob = self.storage._get(key, None, key)
        return None if blob is None else blob.data

    def put(self, key: str, data: bytes) -> Version:
        """One PUT of the whole object: readers see the old bytes or the new ones."""
        answer = self.storage._request("put_object", key, Body=data)
        return Version(answer.get("ETag"), None, len(data))

    def copy(self, old: str, new: str) -> None:
        """A copy inside the bucket (no bytes pass through pixcast); `old` stays."""
        source = {"Bucket": self.storage.bucket, "Key": self.storage.location.prefix + old}
        try:
            self.storage._request("copy_object", new, CopySource=source)
        except _Missing:
            raise StorageError(f"Bucket {self.storage.bucket} has no object {old}") from None

    def delete(self, key: str) -> None:
        """Removing a missing key is not an error (as S3 answers)."""
        self.storage._request("delete_object", key)

    def exists(self, key: str) -> bool:
        return self.storage._head(key) is not None


class _Missing(Exception):
    """No object at the key (turned into None by the caller)."""


class _Unchanged(Exception):
    """The object still matches the version asked about (a 304)."""


class _Conflict(Exception):
    """A conditional write lost: the object exists (or is being written)."""


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:200]
