"""The storage tests' S3 API server, bucket and AWS environment are tests/conftest.py's
(one server per session, shared with the library's tests)."""

from __future__ import annotations

from tests.s3server import MotoS3

__all__ = ["MotoS3"]
