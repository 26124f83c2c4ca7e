"""Records of the artifact files stored with runs (the bytes live in the artifact store)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from loopml.artifacts.hashing import check_digest
from loopml.artifacts.paths import check_relpath
from loopml.core.entities import ArtifactInfo
from loopml.core.errors import ValidationError
from loopml.metadata.sql.engine import Database
from loopml.metadata.sql.schema import ArtifactRow, table_of
from loopml.metadata.sql.snapshots import require_run

__all__ = ["list_artifacts", "record_artifact"]

artifacts = table_of(ArtifactRow)


def record_artifact(db: Database, run_id: str, artifact: ArtifactInfo) -> None:
    """Record (or replace) one artifact file of a run."""
    # The same allow-lists as the artifact store, so every backend records only what
    # could have been stored.
    check_relpath(artifact.path, field="artifact.path")
    check_digest(artifact.digest, field="artifact.digest")
    if isinstance(artifact.size, bool) or not isinstance(artifact.size, int) or artifact.size < 0:
        raise ValidationError(
            f"artifact {artifact.path!r}: size must be an integer >= 0", field="artifact.size"
        )
    insert = (postgresql.insert if db.dialect == "postgresql" else sqlite.insert)(artifacts)
    statement = insert.values(
        run_id=run_id, path=artifact.path, size=artifact.size, digest=artifact.digest
    ).on_conflict_do_update(
        index_elements=[artifacts.c.run_id, artifacts.c.path],
        set_={"size": insert.excluded.size, "digest": insert.excluded.digest},
    )

    def work(connection: Connection) -> None:
        require_run(connection, run_id, write=True)
        connection.execute(statement)

    db.write(work)


def list_artifacts(db: Database, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
    """The run's recorded files whose path starts with ``prefix``, by path."""
    query = sa.select(artifacts.c.path, artifacts.c.size, artifacts.c.digest).where(
        artifacts.c.run_id == run_id
    )
    if prefix:
        query = query.where(artifacts.c.path.startswith(prefix, autoescape=True))

    def work(connection: Connection) -> list[ArtifactInfo]:
        require_run(connection, run_id, write=False)
        return [ArtifactInfo(row.path, row.size, row.digest) for row in connection.execute(query)]

    # Sorted here: database collations order text differently.
    return sorted(db.read(work), key=lambda a: a.path)
