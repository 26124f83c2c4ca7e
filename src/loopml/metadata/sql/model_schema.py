"""Row classes of the model registry and the audit log, on the base of :mod:`.schema`.

Migration ``0006_registry`` creates these tables; the migration test compares the two.
``alias_changes`` keeps every move of every alias; ``audit_events`` is append-only and
hash-chained (see :mod:`loopml.core.audit`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from loopml.metadata.sql.schema import AUTO_ID, ID, Base

__all__ = [
    "AliasChangeRow",
    "ApprovalDecisionRow",
    "ApprovalRequestRow",
    "AuditEventRow",
    "ModelAliasRow",
    "ModelVersionRow",
    "RegisteredModelRow",
]


class RegisteredModelRow(Base):
    __tablename__ = "registered_models"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(ID, ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(256), default="")
    created_by: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[int] = mapped_column(BigInteger)
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    release_policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ModelVersionRow(Base):
    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "version"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    model_id: Mapped[str] = mapped_column(
        ID, ForeignKey("registered_models.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    flavor: Mapped[str] = mapped_column(String(64))
    package_path: Mapped[str] = mapped_column(String(1024))
    digest: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(BigInteger)
    run_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("runs.id", ondelete="SET NULL"), nullable=True, index=True
    )
    signature: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dataset_version_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[int] = mapped_column(BigInteger)
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    evaluation: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class ModelAliasRow(Base):
    __tablename__ = "model_aliases"

    model_id: Mapped[str] = mapped_column(
        ID, ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class AliasChangeRow(Base):
    __tablename__ = "alias_changes"
    __table_args__ = (Index(None, "model_id", "alias", "id"),)

    id: Mapped[int] = mapped_column(AUTO_ID, primary_key=True, autoincrement=True)
    model_id: Mapped[str] = mapped_column(
        ID, ForeignKey("registered_models.id", ondelete="CASCADE")
    )
    alias: Mapped[str] = mapped_column(String(64))
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    previous_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    changed_at: Mapped[int] = mapped_column(BigInteger)
    changed_by: Mapped[str] = mapped_column(String(256), default="")


class ApprovalRequestRow(Base):
    __tablename__ = "approval_requests"
    __table_args__ = (Index(None, "model_id", "status"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    model_id: Mapped[str] = mapped_column(
        ID, ForeignKey("registered_models.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    alias: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    gate_results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    gates_passed: Mapped[bool] = mapped_column(Boolean, default=True)
    required_approvals: Mapped[int] = mapped_column(Integer, default=1)
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    override_justification: Mapped[str] = mapped_column(Text, default="")


class ApprovalDecisionRow(Base):
    __tablename__ = "approval_decisions"

    request_id: Mapped[str] = mapped_column(
        ID, ForeignKey("approval_requests.id", ondelete="CASCADE"), primary_key=True
    )
    reviewer: Mapped[str] = mapped_column(String(256), primary_key=True)
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[int] = mapped_column(BigInteger)


class AuditEventRow(Base):
    """Append-only; no foreign keys, so the log outlives what it describes."""

    __tablename__ = "audit_events"
    __table_args__ = (Index(None, "project_id", "seq"), Index(None, "entity_name", "seq"))

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    project_id: Mapped[str] = mapped_column(ID)
    time_ms: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(256))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    entity_name: Mapped[str] = mapped_column(String(256))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
