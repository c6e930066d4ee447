"""The one place that reads and writes the library's metadata: SQLite (embedded, a file)
or PostgreSQL (shared by replicas), through SQLAlchemy, with Alembic migrations.

Every method is blocking and thread-safe: call it off the event loop (run_io).
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from server.library.schema import resources, tags
from transforms.errors import BadRequest

MIGRATIONS = Path(__file__).parent / "migrations"
# A box in source pixels: (x, y, width, height).
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Resource:
    """One asset's metadata; `created_at` is ISO 8601 UTC (`2026-12-01T20:55:00Z`)."""

    public_id: str
    type: str
    version: int
    format: str
    width: int
    height: int
    bytes: int
    etag: str
    created_at: str
    original_filename: str = ""
    tags: tuple[str, ...] = ()
    context: Mapping[str, str] = field(default_factory=dict)
    coordinates: tuple[Box, ...] = ()
    faces: tuple[Box, ...] = ()
    info: Mapping[str, Any] = field(default_factory=dict)

    def with_tags(self, names: Iterable[str]) -> Resource:
        return replace(self, tags=tuple(dict.fromkeys(names)))


@dataclass(frozen=True)
class Page:
    """A page of a listing; `next_cursor` is None on the last page."""

    resources: tuple[Resource, ...]
    next_cursor: str | None


def engine_url(database_url: str, library_path: Path) -> str:
    """The SQLAlchemy URL: PostgreSQL through psycopg 3, else SQLite at `library_path`."""
    if database_url:
        return database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"sqlite+pysqlite:///{library_path}"


class Repository:
    """The library's tables behind a few verbs; migrates itself on first use."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._engine: sa.Engine | None = None
        self._guard = threading.Lock()

    @property
    def engine(self) -> sa.Engine:
        with self._guard:
            if self._engine is None:
                self._engine = self._connect()
            return self._engine

    def _connect(self) -> sa.Engine:
        sqlite = self._url.startswith("sqlite")
        if sqlite:
            Path(self._url.partition(":///")[2]).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(self._url, connect_args={"timeout": 30} if sqlite else {})
        if sqlite:
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        with _migration_lock(self._url), engine.begin() as connection:
            _migrate(connection)
        return engine

    def exists(self) -> bool:
        """False for an SQLite library that was never written: lookups need not create it."""
        if self._engine is not None or not self._url.startswith("sqlite"):
            return True
        return Path(self._url.partition(":///")[2]).is_file()

    def close(self) -> None:
        with self._guard:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    # --- reading ---------------------------------------------------------------------

    def get(self, type_: str, public_id: str) -> Resource | None:
        with self.engine.connect() as connection:
            return _fetch(connection, type_, public_id)

    def page(
        self,
        type_: str | None,
        prefix: str = "",
        tag: str | None = None,
        cursor: str | None = None,
        limit: int = 10,
    ) -> Page:
        """Resources by (type, public_id), filtered by id prefix and tag, `limit` a page."""
        query = sa.select(resources).order_by(resources.c.type, resources.c.public_id)
        if type_ is not None:
            query = query.where(resources.c.type == type_)
        if prefix:
            query = query.where(resources.c.public_id.startswith(prefix, autoescape=True))
        if tag is not None:
            query = query.where(_has_tag(tag))
        if cursor:
            after = _decode_cursor(cursor)
            query = query.where(sa.tuple_(resources.c.type, resources.c.public_id) > after)
        with self.engine.connect() as connection:
            rows = connection.execute(query.limit(limit + 1)).mappings().all()
            found = tuple(_resource(connection, row) for row in rows[:limit])
        more = len(rows) > limit
        return Page(found, _encode_cursor(found[-1]) if more and found else None)

    def tag_names(self, prefix: str = "", limit: int = 500) -> list[str]:
        query = sa.select(tags.c.tag).distinct().order_by(tags.c.tag).limit(limit)
        if prefix:
            query = query.where(tags.c.tag.startswith(prefix, autoescape=True))
        with self.engine.connect() as connection:
            return [str(name) for name in connection.execute(query).scalars()]

    # --- writing ---------------------------------------------------------------------

    def save(self, resource: Resource) -> None:
        """Insert or replace the resource and its tags, in one transaction."""
        with self.engine.begin() as connection:
            _remove(connection, resource.type, resource.public_id)
            connection.execute(resources.insert().values(**_row(resource)))
            _insert_tags(connection, resource)

    def delete(self, type_: str, public_ids: Sequence[str]) -> list[str]:
        """Delete these resources; the ids that existed."""
        deleted: list[str] = []
        with self.engine.begin() as connection:
            for public_id in public_ids:
                if _remove(connection, type_, public_id):
                    deleted.append(public_id)
        return deleted

    def rename(self, type_: str, old: str, new: Resource) -> None:
        """Replace `old` by `new` (another public id), in one transaction."""
        with self.engine.begin() as connection:
            _remove(connection, type_, old)
            _remove(connection, new.type, new.public_id)
            connection.execute(resources.insert().values(**_row(new)))
            _insert_tags(connection, new)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA synchronous=FULL")  # a committed row survives a power cut
    cursor.close()


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    """Worker processes sharing one SQLite file migrate it one at a time (PostgreSQL
    replicas take an advisory lock instead, in _migrate)."""
    if not url.startswith("sqlite"):
        yield
        return
    with open(url.partition(":///")[2] + ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _migrate(connection: sa.Connection) -> None:
    # Imported here: only the first use of a library pays for Alembic.
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    if connection.dialect.name == "postgresql":
        # One replica migrates at a time; the others wait, then find nothing to do.
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(1534021)"))
    command.upgrade(config, "head")


def _has_tag(tag: str) -> sa.ColumnElement[bool]:
    match = sa.select(tags.c.public_id).where(
        tags.c.type == resources.c.type,
        tags.c.public_id == resources.c.public_id,
        tags.c.tag == tag,
    )
    return match.exists()


def _fetch(connection: sa.Connection, type_: str, public_id: str) -> Resource | None:
    query = sa.select(resources).where(
        resources.c.type == type_, resources.c.public_id == public_id
    )
    row = connection.execute(query).mappings().first()
    return None if row is None else _resource(connection, row)


def _resource(connection: sa.Connection, row: sa.RowMapping) -> Resource:
    query = sa.select(tags.c.tag).where(
        tags.c.type == row["type"], tags.c.public_id == row["public_id"]
    )
    names = tuple(sorted(str(name) for name in connection.execute(query).scalars()))
    values = {key: row[key] for key in row if key not in ("coordinates", "faces")}
    return Resource(
        **values,
        tags=names,
        coordinates=tuple(_box(item) for item in row["coordinates"]),
        faces=tuple(_box(item) for item in row["faces"]),
    )


def _box(item: Sequence[int]) -> Box:
    x, y, width, height = (int(value) for value in item)
    return (x, y, width, height)


def _row(resource: Resource) -> dict[str, Any]:
    return {
        "type": resource.type,
        "public_id": resource.public_id,
        "version": resource.version,
        "format": resource.format,
        "width": resource.width,
        "height": resource.height,
        "bytes": resource.bytes,
        "etag": resource.etag,
        "created_at": resource.created_at,
        "original_filename": resource.original_filename,
        "context": dict(resource.context),
        "coordinates": [list(box) for box in resource.coordinates],
        "faces": [list(box) for box in resource.faces],
        "info": dict(resource.info),
    }


def _remove(connection: sa.Connection, type_: str, public_id: str) -> bool:
    connection.execute(tags.delete().where(tags.c.type == type_, tags.c.public_id == public_id))
    gone = connection.execute(
        resources.delete().where(resources.c.type == type_, resources.c.public_id == public_id)
    )
    return gone.rowcount > 0


def _insert_tags(connection: sa.Connection, resource: Resource) -> None:
    rows = [
        {"type": resource.type, "public_id": resource.public_id, "tag": name}
        for name in dict.fromkeys(resource.tags)
    ]
    if rows:
        connection.execute(tags.insert(), rows)


def _encode_cursor(last: Resource) -> str:
    raw = json.dumps([last.type, last.public_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        type_, public_id = json.loads(raw)
        return str(type_), str(public_id)
    except (binascii.Error, ValueError, TypeError):
        raise BadRequest(f"Invalid next_cursor: {cursor[:60]}") from None
