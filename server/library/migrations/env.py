"""Alembic's environment: migrations run on the connection the repository hands over."""

from __future__ import annotations

from alembic import context

from server.library.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
