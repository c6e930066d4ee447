"""The repository against SQLite and PostgreSQL: the same verbs, the same answers."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.library.repository import Repository, Resource, engine_url
from transforms.errors import BadRequest


def make(public_id: str, *names: str, type_: str = "upload") -> Resource:
    return Resource(
        public_id=public_id, type=type_, version=1700000000, format="jpg", width=40,
        height=30, bytes=1234, etag="e" * 32, created_at="2026-12-01T20:55:00Z",
        tags=names, context={"alt": "a dog"}, coordinates=((1, 2, 3, 4),),
    )  # fmt: skip


@pytest.fixture
def repository(database_url: str, tmp_path: Path) -> Iterator[Repository]:
    opened = Repository(engine_url(database_url, tmp_path / "library.sqlite3"))
    yield opened
    opened.close()


def test_save_get_replace_and_delete(repository: Repository) -> None:
    repository.save(make("team/alice", "sale", "dog"))
    found = repository.get("upload", "team/alice")
    assert found == make("team/alice", "dog", "sale")  # tags come back sorted
    assert repository.get("private", "team/alice") is None
    repository.save(make("team/alice", "cat"))
    assert repository.get("upload", "team/alice") == make("team/alice", "cat")
    assert repository.delete("upload", ["team/alice", "nobody"]) == ["team/alice"]
    assert repository.get("upload", "team/alice") is None
    assert repository.tag_names() == []


def test_pages_by_prefix_and_tag_with_a_cursor(repository: Repository) -> None:
    for index in range(5):
        repository.save(make(f"a/{index}", "even" if index % 2 == 0 else "odd"))
    repository.save(make("a_b", "even"))  # `_` is literal in a prefix, not a wildcard
    repository.save(make("b/0", "even"))
    first = repository.page("upload", prefix="a/", limit=2)
    assert [r.public_id for r in first.resources] == ["a/0", "a/1"]
    assert first.next_cursor is not None
    second = repository.page("upload", prefix="a/", cursor=first.next_cursor, limit=2)
    third = repository.page("upload", prefix="a/", cursor=second.next_cursor, limit=2)
    assert [r.public_id for r in second.resources + third.resources] == ["a/2", "a/3", "a/4"]
    assert third.next_cursor is None
    even = repository.page("upload", tag="even", limit=10).resources
    assert [r.public_id for r in even] == ["a/0", "a/2", "a/4", "a_b", "b/0"]
    assert repository.tag_names() == ["even", "odd"] and repository.tag_names("o") == ["odd"]
    with pytest.raises(BadRequest, match="Invalid next_cursor"):
        repository.page("upload", cursor="!!not-a-cursor")


def test_rename_moves_the_tags_too(repository: Repository) -> None:
    repository.save(make("old", "keep"))
    renamed = make("new", "keep")
    repository.rename("upload", "old", renamed)
    assert repository.get("upload", "old") is None
    assert repository.get("upload", "new") == renamed
    assert [r.public_id for r in repository.page(None, tag="keep").resources] == ["new"]


def test_an_untouched_sqlite_library_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "library.sqlite3"
    repository = Repository(engine_url("", path))
    assert not repository.exists() and not path.exists()
    repository.save(make("x"))
    assert repository.exists() and path.is_file()
    repository.close()
    again = Repository(engine_url("", path))
    assert again.get("upload", "x") == make("x")
    again.close()


def _first_use(url: str) -> int:
    opened = Repository(url)
    opened.save(make(f"p{os.getpid()}"))
    found = len(opened.page("upload", limit=100).resources)
    opened.close()
    return found


def test_processes_migrate_one_library_at_once(tmp_path: Path) -> None:
    """Worker processes reach a new SQLite file at the same moment: one migrates, the
    others wait for it and find the schema there."""
    url = engine_url("", tmp_path / "shared.sqlite3")
    context = multiprocessing.get_context("spawn")
    with context.Pool(3) as pool:
        counts = pool.map(_first_use, [url] * 3)
    assert sorted(counts)[-1] == 3 and all(count >= 1 for count in counts)
