"""Schema versions of the SQL store: create, check and upgrade with Alembic.

The migrations live in this package and run programmatically; users never see an
``alembic.ini``. On open (:func:`prepare_schema`):

* an empty database is created at the newest revision;
* an older SQLite store (a laptop) is upgraded in place;
* an older PostgreSQL store (a shared server) raises :class:`SchemaVersionError` naming
  the one command to run, ``loopml db upgrade --store-url <url>`` (:func:`upgrade_store`);
* a revision this loopml does not know (a newer loopml wrote it) raises
  :class:`SchemaVersionError` asking to upgrade loopml.

Upgrades take a lock first (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on
PostgreSQL), so server replicas starting together migrate once.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.core.errors import SchemaVersionError
from loopml.metadata.sql.engine import Database
from loopml.metadata.sql.schema import VERSION_TABLE

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

__all__ = [
    "HEAD_REVISION",
    "current_revision",
    "head_revision",
    "prepare_schema",
    "upgrade_store",
]

# The newest revision in migrations/versions. Opening an up-to-date store compares against
# this constant and a plain SELECT, so the common path never imports Alembic (~0.4 s);
# tests/metadata/test_migrations.py checks that it equals Alembic's head.
HEAD_REVISION = "0006"

_MIGRATIONS = Path(__file__).parent / "migrations"
# pg_advisory_xact_lock key: "loopml" in ASCII.
_ADVISORY_LOCK_KEY = 0x6C6F6F706D6C


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    """The newest schema revision this loopml knows."""
    head = _scripts().get_current_head()
    assert head is not None
    return head


def _known_revisions() -> set[str]:
    return {script.revision for script in _scripts().walk_revisions()}


def _read_revision(connection: Connection) -> str | None:
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    table = sa.table(VERSION_TABLE, sa.column("version_num", sa.String))
    versions = connection.execute(sa.select(table.c.version_num)).scalars().all()
    if len(versions) > 1:
        raise SchemaVersionError(
            f"metadata store has {len(versions)} schema revisions {versions!r}; it was "
            "migrated by a branched loopml: run `loopml db upgrade`",
            field="store_url",
        )
    return versions[0] if versions else None


def current_revision(db: Database) -> str | None:
    """The store's schema revision, or None for a store without loopml tables."""
    with db.connect(write=False) as connection:
        return _read_revision(connection)


def _upgrade(db: Database, revision: str) -> None:
    def work(connection: Connection) -> None:
        if db.dialect == "postgresql":
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY}
            )
        config = _config()
        config.attributes["connection"] = connection
        from alembic import command

        command.upgrade(config, revision)

    db.write(work)


def prepare_schema(db: Database) -> None:
    """Bring a store's schema to head where that is safe, else explain what to do.

    Raises:
        SchemaVersionError: the schema is from a newer loopml, or an older PostgreSQL
            schema needs ``loopml db upgrade``.
        StoreUnavailableError: the store cannot be reached.
    """
    current = current_revision(db)
    if current == HEAD_REVISION:
        return
    head = head_revision()
    if current is not None and current not in _known_revisions():
        raise SchemaVersionError(
            f"metadata store {db.display_url} has schema revision {current!r}, written by a "
            f"newer loopml (this one knows up to {head!r}): upgrade loopml: "
            "pip install -U loopml",
            field="store_url",
        )
    if current is None or db.is_sqlite:
        _upgrade(db, "head")
        return
    raise SchemaVersionError(
        f"metadata store {db.display_url} has schema revision {current!r}, older than "
        f"{head!r}: run `loopml db upgrade --store-url {db.display_url}`",
        field="store_url",
    )


def upgrade_store(url: str, revision: str = "head") -> str | None:
    """Upgrade the store at ``url`` to ``revision`` (the CLI's ``loopml db upgrade``).

    Args:
        url: The store URL.
        revision: Target revision; the newest by default.

    Returns:
        The store's revision after the upgrade.

    Raises:
        SchemaVersionError: the store was written by a newer loopml.
        StoreUnavailableError: the store cannot be reached.
    """
    db = Database(url)
    try:
        current = current_revision(db)
        if current is not None and current not in _known_revisions():
            raise SchemaVersionError(
                f"metadata store {db.display_url} has schema revision {current!r}, written by "
                "a newer loopml: upgrade loopml: pip install -U loopml",
                field="store_url",
            )
        _upgrade(db, revision)
        return current_revision(db)
    finally:
        db.close()
