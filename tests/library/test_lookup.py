"""The read-only lookup delivery uses: tags, context, custom coordinates and version of an
asset; None for files the library does not know, without creating an SQLite file."""

from __future__ import annotations

from pathlib import Path

from server.library.service import build_library
from server.settings import Settings
from tests.library.test_repository import make


def test_lookup_answers_what_delivery_needs(tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "library.sqlite3"
    settings = Settings(originals=tmp_path, library_path=path, database_url=database_url)
    library = build_library(settings)
    try:
        assert library.lookup("upload", "team/alice") is None
        assert database_url or not path.exists()  # a lookup never creates the SQLite file
        library.repository.save(make("team/alice", "sale"))
        found = library.lookup("upload", "team/alice")
        assert found is not None and found.tags == ("sale",)
        assert (found.version, found.context, found.coordinates) == (
            1700000000,
            {"alt": "a dog"},
            ((1, 2, 3, 4),),
        )
        assert library.key(found) == "team/alice.jpg"
        assert library.lookup("private", "team/alice") is None
    finally:
        library.close()
