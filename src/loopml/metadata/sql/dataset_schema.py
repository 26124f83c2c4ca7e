"""Row classes of datasets, their versions and lineage, on the base of :mod:`.schema`.

Migration ``0005_datasets`` creates these tables; the migration test compares the two.
A version's Arrow schema, files, profile and validation report are JSON documents: they
are read and written whole, never queried column by column.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loopml.metadata.sql.schema import ID, Base

__all__ = ["DatasetRow", "DatasetVersionRow", "LineageRow"]


class DatasetRow(Base):
    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(ID, ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[int] = mapped_column(BigInteger)


class DatasetVersionRow(Base):
    __tablename__ = "dataset_versions"
    __table_args__ = (
        UniqueConstraint("dataset_id", "version"),
        UniqueConstraint("dataset_id", "content_hash"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ID, ForeignKey("datasets.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(80))
    n_rows: Mapped[int] = mapped_column(BigInteger)
    n_bytes: Mapped[int] = mapped_column(BigInteger)
    arrow_schema: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    source_uri: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[int] = mapped_column(BigInteger)
    profile: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    validation: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class LineageRow(Base):
    __tablename__ = "lineage"

    run_id: Mapped[str] = mapped_column(
        ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    dataset_version_id: Mapped[str] = mapped_column(
        ID, ForeignKey("dataset_versions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    direction: Mapped[str] = mapped_column(String(8), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
