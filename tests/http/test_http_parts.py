"""The HTTP edge's parts on their own: header rules, origin lookup, pool and single-flight."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import anyio
import pytest

from server import responses
from server.concurrency import RenderPool, SingleFlight
from server.errors import header_safe
from server.origins import LocalOrigin, check_public_id
from transforms.errors import BadRequest, NotFound
from transforms.formats import IMAGE_EXTENSIONS

# --- header rules ------------------------------------------------------------------------

TAG = '"abc"'


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('"abc"', True),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        ('"x",W/"abc" , "y"', True),
        ("*", True),
        (" * ", True),
        ('"abcd"', False),
        ('"ab,c"', False),
        ("abc", False),
        ("", False),
    ],
)
def test_none_match(header: str, matches: bool) -> None:
    assert responses.none_match(header, TAG) is matches


def test_entity_tag_is_strong_and_depends_on_bytes() -> None:
    tag = responses.entity_tag(b"one")
    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
    assert tag != responses.entity_tag(b"two")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("photo", 'attachment; filename="photo.jpg"'),
        ("my pic-1!", 'attachment; filename="my pic-1!.jpg"'),
        ('evil"\r\nX: y', 'attachment; filename="evil_X_ y.jpg"'),
        ("", 'attachment; filename="download.jpg"'),
    ],
)
def test_attachment_names_are_sanitised(name: str, expected: str) -> None:
    value = responses.attachment(name, "jpg")
    assert value.split("; filename*")[0] == expected
    assert "\r" not in value and "\n" not in value
    value.encode("latin-1")


def test_header_safe_is_latin1_and_one_line() -> None:
    assert header_safe("café\r\nSet-Cookie: x 100%") == "caf%C3%A9%0D%0ASet-Cookie: x 100%25"


# --- origins -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "public_id", ["", "..", "a/../b", "/etc/passwd", "a\\b", "a\0b", "a//b", "./a", "a/"]
)
def test_hostile_ids(public_id: str) -> None:
    with pytest.raises(BadRequest):
        check_public_id(public_id)


@pytest.mark.parametrize("public_id", ["a", "a b", "café", "folder/x", "x.y", "...a", "a..b"])
def test_plain_ids(public_id: str) -> None:
    check_public_id(public_id)


def test_lookup_order_and_case(tmp_path: Path) -> None:
    (tmp_path / "both.png").write_bytes(b"png")
    (tmp_path / "both.jpg").write_bytes(b"jpg")
    (tmp_path / "upper.JPG").write_bytes(b"JPG")
    (tmp_path / "bare").write_bytes(b"bare")
    origin = LocalOrigin(tmp_path, IMAGE_EXTENSIONS)
    assert origin.load("both").data == b"jpg"  # IMAGE_EXTENSIONS order: jpg before png
    assert origin.load("upper").data == b"JPG"
    assert origin.load("bare").data == b"bare"
    with pytest.raises(NotFound, match="Resource not found - absent"):
        origin.locate("absent")


def test_identity_changes_with_content(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    path.write_bytes(b"one")
    origin = LocalOrigin(tmp_path, IMAGE_EXTENSIONS)
    first = origin.locate("a")
    path.write_bytes(b"longer")
    assert origin.locate("a") != first
    assert origin.read(first).identity != first  # read() reports what it actually read


# --- pool and single-flight --------------------------------------------------------------


def test_pool_is_bounded() -> None:
    running, peak = 0, 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1

    async def main() -> None:
        pool = RenderPool(2)
        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(pool.run, work)

    anyio.run(main)
    assert peak == 2


def test_single_flight_shares_one_call() -> None:
    calls: list[int] = []
    results: list[tuple[int, bool]] = []

    async def slow() -> int:
        calls.append(1)
        await anyio.sleep(0.05)
        return 42

    async def main() -> None:
        flights: SingleFlight[int] = SingleFlight()

        async def ask() -> None:
            results.append(await flights.run("key", slow))

        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(ask)

    anyio.run(main)
    assert len(calls) == 1
    assert sorted(results) == [(42, False)] + [(42, True)] * 4


def test_single_flight_shares_errors_then_forgets_them() -> None:
    async def fail() -> int:
        await anyio.sleep(0.01)
        raise BadRequest("nope")

    async def succeed() -> int:
        return 1

    async def main() -> None:
        flights: SingleFlight[int] = SingleFlight()
        with pytest.raises(BadRequest):
            await flights.run("key", fail)
        assert await flights.run("key", succeed) == (1, False)

    anyio.run(main)
