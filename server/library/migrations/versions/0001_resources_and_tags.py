"""Resources and their tags.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resources",
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
    op.create_table(
        "tags",
        sa.Column("type", sa.String(32), primary_key=True),
        sa.Column("public_id", sa.String(512), primary_key=True),
        sa.Column("tag", sa.String(255), primary_key=True),
    )
    op.create_index("tags_by_tag", "tags", ["tag"])


def downgrade() -> None:
    op.drop_index("tags_by_tag", "tags")
    op.drop_table("tags")
    op.drop_table("resources")
