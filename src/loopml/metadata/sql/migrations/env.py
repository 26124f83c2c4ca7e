"""Alembic environment: runs on the connection that ``migrate.py`` hands over.

That connection already holds the write transaction (``BEGIN IMMEDIATE`` on SQLite, an
advisory lock on PostgreSQL), so the current revision is read under the lock and several
processes opening one store together migrate it once.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from loopml.metadata.sql.schema import VERSION_TABLE, Base


def run_migrations(connection: Connection) -> None:
    """Run the pending migrations inside the caller's transaction."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


# Alembic installs its proxy while it runs this file; a plain import (pytest's doctest
# collection, say) must not start a migration.
if getattr(context, "_proxy", None) is not None:
    run_migrations(context.config.attributes["connection"])
