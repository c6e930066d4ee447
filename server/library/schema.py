"""The library's tables, as SQLAlchemy Core metadata; migrations/ creates and evolves them."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# One row per asset: (type, public_id) as Cloudinary names it, e.g. ("upload", "team/alice").
resources = sa.Table(
    "resources",
    metadata,
    sa.Column("type", sa.String(32), primary_key=True),
    sa.Column("public_id", sa.String(512), primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("format", sa.String(16), nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("etag", sa.String(64), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("original_filename", sa.String(512), nullable=False),
    sa.Column("context", sa.JSON, nullable=False),
    sa.Column("coordinates", sa.JSON, nullable=False),
    sa.Column("faces", sa.JSON, nullable=False),
    sa.Column("info", sa.JSON, nullable=False),
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("type", sa.String(32), primary_key=True),
    sa.Column("public_id", sa.String(512), primary_key=True),
    sa.Column("tag", sa.String(255), primary_key=True),
    sa.Index("tags_by_tag", "tag"),
)
