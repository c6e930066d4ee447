"""The storage interface on each writable backend (a directory; S3 on the moto server):
whole puts, revalidation by version, stat, delete, the conditional create the render
leases use, and the leases themselves (waiting, release, a dead holder's lease expiring)."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest

from detectors.base import Region
from server.detections import DetectionStore
from server.keylocks import KeyLocks
from server.storage.base import StorageError
from server.storage.directory import DirectoryStorage
from server.storage.leases import LeaseLocks
from server.storage.regions import SharedDetections
from server.storage.s3 import S3Location, S3Storage
from server.storage.shared import SharedStore
from tests.storage.conftest import MotoS3

T = TypeVar("T")
Backend = S3Storage | DirectoryStorage


def run(work: Callable[[], Awaitable[T]]) -> T:
    return anyio.run(work)


@pytest.fixture(params=["directory", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "directory":
        return DirectoryStorage(tmp_path / "store")
    request.getfixturevalue("aws_env")
    bucket = request.getfixturevalue("bucket")
    return S3Storage(S3Location.parse(f"s3://{bucket}/prefix"), timeout=5.0)


def test_put_get_revalidate_stat_delete(backend: Backend) -> None:
    async def scenario() -> list[Any]:
        missing = await backend.get("a/b.bin")
        version = await backend.put("a/b.bin", b"first")
        blob = await backend.get("a/b.bin")
        assert blob is not None
        unchanged = await backend.get("a/b.bin", since=blob.version)
        await backend.put("a/b.bin", b"second, longer")
        changed = await backend.get("a/b.bin", since=blob.version)
        stat = await backend.stat("a/b.bin")
        await backend.delete("a/b.bin")
        await backend.delete("a/b.bin")  # a missing key deletes quietly
        return [missing, version, blob, unchanged, changed, stat, await backend.stat("a/b.bin")]

    missing, version, blob, unchanged, changed, stat, gone = run(scenario)
    assert missing is None
    assert blob.data == b"first" and blob.version.etag == version.etag
    assert unchanged.data is None  # the version still holds: no bytes sent
    assert changed.data == b"second, longer"
    assert stat.size == len(b"second, longer")
    assert gone is None


def test_create_only_when_absent(backend: Backend) -> None:
    async def scenario() -> tuple[bool, bool, bytes | None]:
        first = await backend.create("locks/x", b"mine")
        second = await backend.create("locks/x", b"theirs")
        blob = await backend.get("locks/x")
        return first, second, None if blob is None else blob.data

    assert run(scenario) == (True, False, b"mine")


def test_directory_keys_cannot_leave_the_root(tmp_path: Path) -> None:
    storage = DirectoryStorage(tmp_path / "store")
    for key in ("../escape", "/abs", "a//b", ""):
        with pytest.raises(StorageError):
            storage.path(key)
    assert not (tmp_path / "escape").exists()


def test_a_lease_is_waited_for_then_taken(backend: Backend) -> None:
    first, second = LeaseLocks(backend, lease=30.0), LeaseLocks(backend, lease=30.0)
    order: list[str] = []

    async def hold(locks: LeaseLocks, name: str, pause: float) -> None:
        async with locks.hold("variant"):
            order.append(f"{name} in")
            await anyio.sleep(pause)
            order.append(f"{name} out")

    async def scenario() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(hold, first, "first", 0.5)
            await anyio.sleep(0.2)
            group.start_soon(hold, second, "second", 0.0)

    run(scenario)
    assert order == ["first in", "first out", "second in", "second out"]


def test_a_dead_holders_lease_expires(backend: Backend) -> None:
    clock = [1000.0]
    dead = LeaseLocks(backend, lease=10.0, clock=lambda: clock[0])
    alive = LeaseLocks(backend, lease=10.0, clock=lambda: clock[0] + 60.0)

    async def scenario() -> bool:
        path = "locks/" + hashlib.sha256(b"k").hexdigest()[:40]
        assert await backend.create(path, dead._claim())  # taken, never released
        with anyio.fail_after(5):
            async with alive.hold("k"):
                return True

    assert run(scenario)


def test_detections_are_shared_by_source_key(tmp_path: Path, aws_env: MotoS3, bucket: str) -> None:
    storage = S3Storage(S3Location.parse(f"s3://{bucket}/shared"), timeout=5.0)
    shared = SharedStore(storage)
    one = SharedDetections(
        DetectionStore(tmp_path / "one", "fp", KeyLocks(tmp_path / "locks")), shared, "fp"
    )
    two = SharedDetections(
        DetectionStore(tmp_path / "two", "fp", KeyLocks(tmp_path / "locks")), shared, "fp"
    )
    regions = [Region(label="face", score=0.9, x=0.1, y=0.2, width=0.3, height=0.4)]
    found: list[object] = []

    async def scenario() -> None:
        shared.bind(asyncio.get_running_loop())

        def in_a_render_thread() -> None:
            found.append(two.get("source"))
            one.put("source", regions)
            found.append(two.get("source"))

        thread = threading.Thread(target=in_a_render_thread)
        thread.start()
        for _ in range(1000):  # at most ten seconds
            if not thread.is_alive():
                break
            await asyncio.sleep(0.01)

    asyncio.run(scenario())
    assert found == [None, regions]
