"""The store interface of the model registry and its audit log.

Part of :class:`~loopml.metadata.base.BaseMetadataStore` and bound by its contract
(snapshots, atomic writes, thread safety, the error tree). In addition:

* **Version numbers come from the store**, inside the registering transaction: 50
  concurrent registrations of one model get exactly 1..50.
* **Aliases move atomically**, and every move is kept (:meth:`alias_history`), so the
  version that held an alias at any past time is known.
* **Every change is audited in its own transaction.** Each write method takes the
  ``actor`` and appends its :class:`~loopml.core.audit.AuditEvent` (hash-chained) in the
  same transaction as the change: there is no change without its event and no event
  without its change. A server records the caller as the actor, whatever is passed.
* **Decisions are final.** Deciding an approval request that is no longer open raises
  ConflictError, even when two reviewers race; the approval that completes a request
  moves the alias in the same transaction.

The contract is executable: :mod:`loopml.testing.registry_contract`.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from loopml.core.audit import AuditEvent
from loopml.core.models import (
    AliasChange,
    ApprovalRequest,
    ApprovalStatus,
    Decision,
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
)

__all__ = ["ApprovalRequestCreate", "BaseModelStore", "ModelVersionCreate"]


@dataclass(frozen=True, slots=True)
class ModelVersionCreate:
    """What a new model version is recorded with; its package must already be stored."""

    model_id: str
    flavor: str
    package_path: str
    digest: str
    size: int
    run_id: str | None = None
    signature: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    dataset_version_ids: Sequence[str] = ()
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ApprovalRequestCreate:
    model_id: str
    version: int
    alias: str
    gate_results: Sequence[Mapping[str, Any]] = ()
    gates_passed: bool = True
    required_approvals: int = 1
    comment: str = ""


class BaseModelStore(abc.ABC):
    """Registered models, their versions and aliases, approval requests, the audit log."""

    # -- registered models -----------------------------------------------------------

    @abc.abstractmethod
    def create_registered_model(
        self,
        project_id: str,
        name: str,
        *,
        actor: str,
        description: str = "",
        owner: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> RegisteredModel:
        """Create a model; AlreadyExistsError if the project has one of that name."""

    @abc.abstractmethod
    def get_registered_model(self, model_id: str) -> RegisteredModel:
        """The model with this id; NotFoundError otherwise."""

    @abc.abstractmethod
    def get_registered_model_by_name(self, project_id: str, name: str) -> RegisteredModel:
        """The project's model with this name; NotFoundError otherwise."""

    @abc.abstractmethod
    def list_registered_models(self, project_id: str) -> list[RegisteredModel]:
        """The project's models, by name."""

    @abc.abstractmethod
    def update_registered_model(
        self,
        model_id: str,
        *,
        actor: str,
        description: str | None = None,
        owner: str | None = None,
        tags: Mapping[str, str] | None = None,
        release_policy: Mapping[str, Any] | None = None,
    ) -> RegisteredModel:
        """Change description, owner, tags or the release policy (None leaves it as it is).

        The policy is stored as given; :mod:`loopml.registry.gates` checks it first.
        """

    # -- versions ----------------------------------------------------------------------

    @abc.abstractmethod
    def create_model_version(self, version: ModelVersionCreate, *, actor: str) -> ModelVersion:
        """Record a version with the next number; NotFoundError for an unknown model or run."""

    @abc.abstractmethod
    def get_model_version(self, model_id: str, version: int) -> ModelVersion:
        """Version ``version`` of a model; NotFoundError otherwise."""

    @abc.abstractmethod
    def get_model_version_by_id(self, version_id: str) -> ModelVersion:
        """The version with this id; NotFoundError otherwise."""

    @abc.abstractmethod
    def list_model_versions(self, model_id: str) -> list[ModelVersion]:
        """The model's versions, newest first."""

    @abc.abstractmethod
    def update_model_version(
        self,
        model_id: str,
        version: int,
        *,
        actor: str,
        status: ModelVersionStatus | None = None,
        description: str | None = None,
        evaluation: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """Archive or restore, describe, or attach an evaluation report.

        Archiving a version that an alias points at is a ConflictError.
        """

    # -- aliases -----------------------------------------------------------------------

    @abc.abstractmethod
    def set_alias(self, model_id: str, alias: str, version: int, *, actor: str) -> AliasChange:
        """Point ``alias`` at ``version`` (moving it if set); ConflictError if archived."""

    @abc.abstractmethod
    def delete_alias(self, model_id: str, alias: str, *, actor: str) -> AliasChange:
        """Remove an alias; NotFoundError if it is not set."""

    @abc.abstractmethod
    def alias_history(self, model_id: str, alias: str | None = None) -> list[AliasChange]:
        """Every move of one alias (or of all the model's aliases), oldest first."""

    def version_at(self, model_id: str, alias: str, moment: datetime) -> int | None:
        """The version ``alias`` pointed at, at ``moment`` (None if it pointed nowhere)."""
        held: int | None = None
        for change in self.alias_history(model_id, alias):
            if change.changed_at > moment:
                break
            held = change.version
        return held

    # -- approvals ---------------------------------------------------------------------

    @abc.abstractmethod
    def create_approval_request(
        self, request: ApprovalRequestCreate, *, actor: str
    ) -> ApprovalRequest:
        """Open a request by ``actor``; ConflictError if that alias move already has one open."""

    @abc.abstractmethod
    def get_approval_request(self, request_id: str) -> ApprovalRequest:
        """The request with this id; NotFoundError otherwise."""

    @abc.abstractmethod
    def list_approval_requests(
        self,
        project_id: str,
        *,
        status: ApprovalStatus | None = None,
        model_id: str | None = None,
    ) -> list[ApprovalRequest]:
        """The project's requests (optionally one status or model), newest first."""

    @abc.abstractmethod
    def decide_approval_request(
        self, request_id: str, decision: Decision, reason: str, *, actor: str
    ) -> ApprovalRequest:
        """Record a reviewer's decision.

        A rejection closes the request. An approval that brings the approvals to
        ``required_approvals`` approves it and moves the alias, in one transaction.

        Raises:
            ConflictError: the request is decided; or the gates failed (only an override
                can pass them).
            PermissionDeniedError: ``actor`` requested it (four eyes) or already decided.
        """

    @abc.abstractmethod
    def override_approval_request(
        self, request_id: str, justification: str, *, actor: str
    ) -> ApprovalRequest:
        """Approve despite failed gates or missing approvals; the justification is kept.

        Checking that ``actor`` is an admin is the caller's job (the service or server).
        """

    # -- audit ---------------------------------------------------------------------------

    @abc.abstractmethod
    def list_audit_events(
        self,
        *,
        project_id: str | None = None,
        entity_name: str | None = None,
        after_seq: int = 0,
        limit: int = 1000,
    ) -> list[AuditEvent]:
        """Events in log order (``seq`` ascending), optionally of one project or entity."""
