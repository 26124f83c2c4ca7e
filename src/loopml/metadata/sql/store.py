"""The SQL metadata store: SQLite for a laptop, PostgreSQL for a team."""

from __future__ import annotations

from loopml.core.audit import AuditEvent
from loopml.metadata.auth_base import BaseAuthStore
from loopml.metadata.base import BaseMetadataStore
from loopml.metadata.sql.approvals import SqlApprovalStore
from loopml.metadata.sql.audit import list_audit_events
from loopml.metadata.sql.auth import SqlAuthStore
from loopml.metadata.sql.datasets import SqlDatasetStore
from loopml.metadata.sql.engine import Database
from loopml.metadata.sql.migrate import prepare_schema
from loopml.metadata.sql.models import SqlRegisteredModelStore
from loopml.metadata.sql.projects import SqlExperimentStore, SqlProjectStore
from loopml.metadata.sql.runs import SqlRunStore

__all__ = ["SqlMetadataStore"]


class SqlMetadataStore(
    SqlProjectStore,
    SqlExperimentStore,
    SqlRunStore,
    SqlDatasetStore,
    SqlRegisteredModelStore,
    SqlApprovalStore,
    SqlAuthStore,
    BaseMetadataStore,
    BaseAuthStore,
):
    """:class:`~loopml.metadata.base.BaseMetadataStore` on SQLAlchemy.

    It is also the :class:`~loopml.metadata.auth_base.BaseAuthStore` of a team server's
    users and tokens.

    Opening the store creates an empty database at the newest schema and upgrades an older
    SQLite store in place; an older PostgreSQL store asks for ``loopml db upgrade``.

    The store may be shared by the threads of a process (each call takes its own pooled
    connection) and opened by several processes at once; on SQLite, writers queue on the
    database lock (WAL, ``BEGIN IMMEDIATE``, retried while busy) instead of failing.

    Args:
        url: ``sqlite:///path/to/loopml.db`` or ``postgresql://user:password@host/db``
            (``postgresql://`` uses psycopg 3).

    Raises:
        StoreUnavailableError: the database cannot be reached or created.
        SchemaVersionError: the schema needs ``loopml db upgrade`` or a newer loopml.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     with SqlMetadataStore(f"sqlite:///{folder}/loopml.db") as store:
        ...         store.ensure_project("churn").name
        'churn'
    """

    def __init__(self, url: str) -> None:
        self._db = Database(url)
        try:
            prepare_schema(self._db)
        except BaseException:
            self._db.close()
            raise

    @property
    def url(self) -> str:
        """The store URL, password hidden."""
        return self._db.display_url

    def list_audit_events(
        self,
        *,
        project_id: str | None = None,
        entity_name: str | None = None,
        after_seq: int = 0,
        limit: int = 1000,
    ) -> list[AuditEvent]:
        return list_audit_events(
            self._db,
            project_id=project_id,
            entity_name=entity_name,
            after_seq=after_seq,
            limit=limit,
        )

    def close(self) -> None:
        self._db.close()

    def __repr__(self) -> str:
        return f"SqlMetadataStore({self.url!r})"
