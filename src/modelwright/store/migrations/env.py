"""Alembic environment: always run with a connection handed in by ``modelwright.store.migrate``."""

from __future__ import annotations

from alembic import context

from modelwright.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through modelwright.store.migrate.upgrade()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
