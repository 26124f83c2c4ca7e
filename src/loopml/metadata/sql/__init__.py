"""The SQL metadata store (SQLite, PostgreSQL); its row classes never leave this package."""

from __future__ import annotations

from loopml.metadata.sql.migrate import upgrade_store
from loopml.metadata.sql.store import SqlMetadataStore

__all__ = ["SqlMetadataStore", "upgrade_store"]
