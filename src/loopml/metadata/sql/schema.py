"""SQLAlchemy row classes of the SQL metadata store. They never leave ``metadata/sql/``.

Times are integer milliseconds since the epoch. Metric history lives in columnar chunks
(:class:`MetricChunkRow`), whose value bytes hold NaN and +/-Inf exactly. In
``latest_metrics`` a value of NaN is stored as NULL (SQLite cannot hold NaN in a REAL
column); +/-Inf are stored as they are. The Alembic migrations in
``migrations/versions`` create this schema; a test compares the two.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "VERSION_TABLE",
    "ArtifactRow",
    "Base",
    "BatchKeyRow",
    "ExperimentRow",
    "ExperimentTagRow",
    "LatestMetricRow",
    "MetricChunkRow",
    "ParamRow",
    "ProjectRow",
    "RunRow",
    "TagRow",
    "table_of",
]

# Alembic's version table, named so it cannot clash with another app's in a shared database.
VERSION_TABLE = "loopml_schema_version"

ID = String(32)
KEY = String(250)
# SQLite only autoincrements an INTEGER PRIMARY KEY (the rowid alias).
AUTO_ID = BigInteger().with_variant(Integer(), "sqlite")

_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)


class ProjectRow(Base):
    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(256), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[int] = mapped_column(BigInteger)


class ExperimentRow(Base):
    __tablename__ = "experiments"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(ID, ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class ExperimentTagRow(Base):
    __tablename__ = "experiment_tags"

    experiment_id: Mapped[str] = mapped_column(
        ID, ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    experiment_id: Mapped[str] = mapped_column(ID, ForeignKey("experiments.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[int] = mapped_column(BigInteger)
    end_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    parent_run_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("runs.id", ondelete="SET NULL"), nullable=True, index=True
    )
    user: Mapped[str] = mapped_column(String(256), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    environment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class ParamRow(Base):
    __tablename__ = "params"

    run_id: Mapped[str] = mapped_column(
        ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    # The value as a number when the text is a finite number, so ``params.lr > 0.01`` works.
    value_num: Mapped[float | None] = mapped_column(Float, nullable=True)


class TagRow(Base):
    __tablename__ = "tags"

    run_id: Mapped[str] = mapped_column(
        ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class MetricChunkRow(Base):
    """Many points of one metric key: little-endian int64/int64/float64 column bytes.

    ``min_step`` and ``max_step`` let a reader skip chunks outside a step range.
    """

    __tablename__ = "metric_chunks"
    __table_args__ = (Index(None, "run_id", "key", "id"),)

    id: Mapped[int] = mapped_column(AUTO_ID, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ID, ForeignKey("runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(KEY)
    n_points: Mapped[int] = mapped_column(Integer)
    min_step: Mapped[int] = mapped_column(BigInteger)
    max_step: Mapped[int] = mapped_column(BigInteger)
    step_bytes: Mapped[bytes] = mapped_column(LargeBinary)
    timestamp_bytes: Mapped[bytes] = mapped_column(LargeBinary)
    value_bytes: Mapped[bytes] = mapped_column(LargeBinary)


class LatestMetricRow(Base):
    __tablename__ = "latest_metrics"

    run_id: Mapped[str] = mapped_column(
        ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float | None] = mapped_column(Float(53), nullable=True)


class BatchKeyRow(Base):
    """Idempotency keys of applied ``log_batch`` calls."""

    __tablename__ = "batch_keys"

    run_id: Mapped[str] = mapped_column(
        ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(128), primary_key=True)


class ArtifactRow(Base):
    __tablename__ = "artifacts"

    run_id: Mapped[str] = mapped_column(
        ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(256))


# The search indexes (migration 0002) live only in the migration: they differ by dialect,
# because PostgreSQL's btree cannot hold the long text of a param or tag value.


def table_of(row: type[Base]) -> Table:
    """The Core table of a row class, for fast ``insert()``/``select()`` statements."""
    table = row.__table__
    assert isinstance(table, Table)
    return table
