"""Bodies of the registry routes: models, versions, aliases, approval requests, audit events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from loopml.core.models import ApprovalStatus, Decision, ModelVersionStatus
from loopml.server.schemas.common import Id, ReadModel, Text, WriteModel

__all__ = [
    "AliasChangeList",
    "AliasChangeRead",
    "AliasSet",
    "ApprovalDecide",
    "ApprovalList",
    "ApprovalOverride",
    "ApprovalRead",
    "ApprovalRequestBody",
    "AuditEventList",
    "AuditEventRead",
    "ModelCreate",
    "ModelList",
    "ModelRead",
    "ModelUpdate",
    "VersionCreate",
    "VersionList",
    "VersionRead",
    "VersionUpdate",
]


class ModelCreate(WriteModel):
    name: Text = Field(max_length=128)
    description: Text = ""
    owner: Text = Field("", max_length=256)
    tags: dict[Text, Text] = {}


class ModelUpdate(WriteModel):
    description: Text | None = None
    owner: Text | None = Field(None, max_length=256)
    tags: dict[Text, Text] | None = None
    release_policy: dict[str, Any] | None = None


class ModelRead(ReadModel):
    id: str
    project_id: str
    name: str
    description: str
    created_at: datetime
    created_by: str
    owner: str
    tags: dict[str, str]
    aliases: dict[str, int]
    n_versions: int
    release_policy: dict[str, Any]


class ModelList(ReadModel):
    models: list[ModelRead]


class VersionCreate(WriteModel):
    flavor: Text = Field(max_length=64)
    package_path: str = Field(pattern=r"^models/[A-Za-z0-9._/-]{1,900}$", max_length=1024)
    digest: str = Field(pattern=r"^blake3:[0-9a-f]{64}$")
    size: int = Field(ge=0)
    run_id: Id | None = None
    signature: dict[str, Any] = {}
    metrics: dict[Text, float] = {}
    dataset_version_ids: list[Id] = []
    description: Text = ""
    tags: dict[Text, Text] = {}


class VersionUpdate(WriteModel):
    status: ModelVersionStatus | None = None
    description: Text | None = None
    evaluation: dict[str, Any] | None = None


class VersionRead(ReadModel):
    id: str
    model_id: str
    model_name: str
    project_id: str
    version: int
    flavor: str
    package_path: str
    digest: str
    size: int
    created_at: datetime
    run_id: str | None
    signature: dict[str, Any]
    metrics: dict[str, float]
    dataset_version_ids: list[str]
    status: ModelVersionStatus
    description: str
    created_by: str
    tags: dict[str, str]
    evaluation: dict[str, Any] | None
    aliases: list[str]


class VersionList(ReadModel):
    versions: list[VersionRead]


class AliasSet(WriteModel):
    version: int = Field(ge=1, le=2**31 - 1)


class AliasChangeRead(ReadModel):
    model_id: str
    alias: str
    version: int | None
    previous_version: int | None
    changed_at: datetime
    changed_by: str


class AliasChangeList(ReadModel):
    changes: list[AliasChangeRead]


class ApprovalRequestBody(WriteModel):
    version: int = Field(ge=1, le=2**31 - 1)
    alias: Text = Field(max_length=64)
    comment: Text = ""


class ApprovalDecide(WriteModel):
    decision: Decision
    reason: Text = ""


class ApprovalOverride(WriteModel):
    justification: Text = Field(max_length=10_000)


class DecisionRead(ReadModel):
    reviewer: str
    decision: Decision
    reason: str
    decided_at: datetime


class ApprovalRead(ReadModel):
    id: str
    model_id: str
    model_name: str
    project_id: str
    version: int
    alias: str
    requested_by: str
    created_at: datetime
    status: ApprovalStatus
    gate_results: list[dict[str, Any]]
    gates_passed: bool
    required_approvals: int
    decisions: list[DecisionRead]
    comment: str
    decided_at: datetime | None
    override_justification: str


class ApprovalList(ReadModel):
    requests: list[ApprovalRead]


class AuditEventRead(ReadModel):
    seq: int
    project_id: str
    time_ms: int
    actor: str
    action: str
    entity_type: str
    entity_id: str
    entity_name: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str
    hash: str


class AuditEventList(ReadModel):
    events: list[AuditEventRead]
