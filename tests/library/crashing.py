"""Run by test_crash.py in a child process: upload a new version of `crash/pic` and SIGKILL
this process at one named stage of the upload, as a power cut or an OOM kill would. With
an `origins` argument (`crash/=s3://bucket/prefix/`), the upload goes to that bucket."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSConnection

from server.library import blobs, ingest, repository
from server.library.intake import Incoming
from server.library.service import build_library
from server.origins import build_origins
from server.settings import Settings
from server.storage import s3
from transforms.model import Limits


def die(*_args: Any, **_kwargs: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(stage: str) -> None:
    """Replace the function that runs at `stage` by a sudden death."""
    if stage == "writing":  # the temporary file is being made durable
        blobs.os.fsync = die  # type: ignore[assignment]
    elif stage == "renamed":  # the bytes are in place, the row not yet written
        repository.Repository.save = die  # type: ignore[method-assign]
    elif stage == "committing":  # inside the row's transaction, before its commit
        repository._insert_tags = die  # type: ignore[assignment]
    elif stage == "cleaning":  # committed; the old format's file not yet removed
        blobs.OriginalsDirectory.delete = die  # type: ignore[method-assign]
    elif stage == "put":  # the object is in the bucket, the row not yet written
        repository.Repository.save = die  # type: ignore[method-assign]
    elif stage == "cleaning-s3":  # committed; the old format's object not yet removed
        s3.BlockingS3.delete = die  # type: ignore[method-assign]


def arm_sending(photo: bytes) -> None:
    """Die halfway through sending the PUT's body: the bucket has part of a request."""
    send = AWSConnection.send
    start = photo[:64]

    def sending(self: AWSConnection, data: Any) -> None:
        if isinstance(data, bytes) and start in data:
            send(self, data[: data.index(start) + len(photo) // 2])
            die()
        send(self, data)

    AWSConnection.send = sending  # type: ignore[method-assign]


def main(
    stage: str, originals: str, library_path: str, database_url: str, photo: str, origins: str = ""
) -> None:
    settings = Settings(
        originals=Path(originals), library_path=Path(library_path), database_url=database_url,
        cache_dir=Path(originals).parent / "cache",
        origins=dict([origins.split("=", 1)]) if origins else {},
    )  # fmt: skip
    library = build_library(settings, build_origins(settings, Limits()) if origins else None)
    options = ingest.UploadOptions(public_id="crash/pic", tags=("new",))
    incoming = Incoming(Path(photo).read_bytes(), "new.jpg")
    if stage == "sending":
        arm_sending(incoming.data)
    else:
        arm(stage)
    ingest.place(library, options, incoming, Limits(), None)
    print("survived", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
