"""The model-registry part of :class:`~loopml.client.rest_store.RestMetadataStore`.

The server records the caller as the actor of every change (the ``actor`` arguments are
not sent) and evaluates an approval request's release gates itself from the model's
stored policy (the ``gate_results`` of :class:`ApprovalRequestCreate` are not sent).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from loopml.client.session import RestSession, error_from_response
from loopml.client.wire import parse_time
from loopml.core.audit import AuditEvent
from loopml.core.entities import frozen_mapping
from loopml.core.ids import check_id
from loopml.core.models import (
    AliasChange,
    ApprovalDecision,
    ApprovalRequest,
    ApprovalStatus,
    Decision,
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    check_alias,
    check_model_name,
)
from loopml.metadata.models_base import ApprovalRequestCreate, BaseModelStore, ModelVersionCreate

__all__ = ["RestModelStore"]


def model_from_json(body: Mapping[str, Any]) -> RegisteredModel:
    return RegisteredModel(
        id=body["id"],
        project_id=body["project_id"],
        name=body["name"],
        description=body.get("description") or "",
        created_at=parse_time(body["created_at"]),
        created_by=body.get("created_by") or "",
        owner=body.get("owner") or "",
        tags=frozen_mapping(body.get("tags")),
        aliases=frozen_mapping(body.get("aliases")),
        n_versions=int(body.get("n_versions", 0)),
        release_policy=frozen_mapping(body.get("release_policy")),
    )


def version_from_json(body: Mapping[str, Any]) -> ModelVersion:
    return ModelVersion(
        id=body["id"],
        model_id=body["model_id"],
        model_name=body["model_name"],
        project_id=body["project_id"],
        version=int(body["version"]),
        flavor=body["flavor"],
        package_path=body["package_path"],
        digest=body["digest"],
        size=int(body["size"]),
        created_at=parse_time(body["created_at"]),
        run_id=body.get("run_id"),
        signature=frozen_mapping(body.get("signature")),
        metrics=frozen_mapping(body.get("metrics")),
        dataset_version_ids=tuple(body.get("dataset_version_ids") or ()),
        status=ModelVersionStatus(body["status"]),
        description=body.get("description") or "",
        created_by=body.get("created_by") or "",
        tags=frozen_mapping(body.get("tags")),
        evaluation=body.get("evaluation"),
        aliases=tuple(body.get("aliases") or ()),
    )


def change_from_json(body: Mapping[str, Any]) -> AliasChange:
    return AliasChange(
        model_id=body["model_id"],
        alias=body["alias"],
        version=body.get("version"),
        previous_version=body.get("previous_version"),
        changed_at=parse_time(body["changed_at"]),
        changed_by=body.get("changed_by") or "",
    )


def approval_from_json(body: Mapping[str, Any]) -> ApprovalRequest:
    decided = body.get("decided_at")
    return ApprovalRequest(
        id=body["id"],
        model_id=body["model_id"],
        model_name=body["model_name"],
        project_id=body["project_id"],
        version=int(body["version"]),
        alias=body["alias"],
        requested_by=body["requested_by"],
        created_at=parse_time(body["created_at"]),
        status=ApprovalStatus(body["status"]),
        gate_results=tuple(body.get("gate_results") or ()),
        gates_passed=bool(body.get("gates_passed", True)),
        required_approvals=int(body.get("required_approvals", 1)),
        decisions=tuple(
            ApprovalDecision(
                d["reviewer"],
                Decision(d["decision"]),
                d.get("reason") or "",
                parse_time(d["decided_at"]),
            )
            for d in body.get("decisions") or ()
        ),
        comment=body.get("comment") or "",
        decided_at=None if decided is None else parse_time(decided),
        override_justification=body.get("override_justification") or "",
    )


def event_from_json(body: Mapping[str, Any]) -> AuditEvent:
    return AuditEvent(**{name: body[name] for name in AuditEvent.__dataclass_fields__})


class RestModelStore(BaseModelStore):
    """Registered models, versions, aliases, approvals and audit events over ``/api/v1``."""

    session: RestSession

    def _decode(self, response: httpx.Response, decoder: Any) -> Any:
        raise NotImplementedError  # provided by RestMetadataStore

    def _get(self, path: str, decoder: Any, **params: Any) -> Any:
        raise NotImplementedError  # provided by RestMetadataStore

    def _send(self, method: str, path: str, decoder: Any, json: object = None) -> Any:
        return self._decode(self.session.request(method, path, json=json), decoder)

    @staticmethod
    def _model_path(model_id: str) -> str:
        return f"/models/{check_id(model_id, field='model_id')}"

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
        name = check_model_name(name, field="model.name")
        body = {"name": name, "description": description, "owner": owner, "tags": dict(tags or {})}
        path = f"/projects/{check_id(project_id, field='project_id')}/models"
        response, tries = self.session.send("POST", path, json=body)
        if response.status_code == 409 and tries > 1:
            existing = self.get_registered_model_by_name(project_id, name)
            if existing.description == description:
                return existing
        if response.is_error:
            raise error_from_response(response)
        created: RegisteredModel = self._decode(response, model_from_json)
        return created

    def get_registered_model(self, model_id: str) -> RegisteredModel:
        found: RegisteredModel = self._get(self._model_path(model_id), model_from_json)
        return found

    def get_registered_model_by_name(self, project_id: str, name: str) -> RegisteredModel:
        name = check_model_name(name, field="model")
        path = f"/projects/{check_id(project_id, field='project_id')}/models/by-name/{name}"
        found: RegisteredModel = self._get(path, model_from_json)
        return found

    def list_registered_models(self, project_id: str) -> list[RegisteredModel]:
        found: list[RegisteredModel] = self._get(
            f"/projects/{check_id(project_id, field='project_id')}/models",
            lambda body: [model_from_json(m) for m in body["models"]],
        )
        return found

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
        body: dict[str, Any] = {}
        for key, value in (
            ("description", description),
            ("owner", owner),
            ("tags", None if tags is None else dict(tags)),
            ("release_policy", None if release_policy is None else dict(release_policy)),
        ):
            if value is not None:
                body[key] = value
        updated: RegisteredModel = self._send(
            "PATCH", self._model_path(model_id), model_from_json, body
        )
        return updated

    def create_model_version(self, version: ModelVersionCreate, *, actor: str) -> ModelVersion:
        body = {
            "flavor": version.flavor,
            "package_path": version.package_path,
            "digest": version.digest,
            "size": version.size,
            "run_id": version.run_id,
            "signature": dict(version.signature),
            "metrics": dict(version.metrics),
            "dataset_version_ids": list(version.dataset_version_ids),
            "description": version.description,
            "tags": dict(version.tags),
        }
        created: ModelVersion = self._send(
            "POST", f"{self._model_path(version.model_id)}/versions", version_from_json, body
        )
        return created

    def get_model_version(self, model_id: str, version: int) -> ModelVersion:
        found: ModelVersion = self._get(
            f"{self._model_path(model_id)}/versions/{int(version)}", version_from_json
        )
        return found

    def get_model_version_by_id(self, version_id: str) -> ModelVersion:
        found: ModelVersion = self._get(
            f"/model-versions/{check_id(version_id, field='model_version_id')}",
            version_from_json,
        )
        return found

    def list_model_versions(self, model_id: str) -> list[ModelVersion]:
        found: list[ModelVersion] = self._get(
            f"{self._model_path(model_id)}/versions",
            lambda body: [version_from_json(v) for v in body["versions"]],
        )
        return found

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
        body: dict[str, Any] = {}
        if status is not None:
            body["status"] = ModelVersionStatus(status).value
        if description is not None:
            body["description"] = description
        if evaluation is not None:
            body["evaluation"] = dict(evaluation)
        updated: ModelVersion = self._send(
            "PATCH",
            f"{self._model_path(model_id)}/versions/{int(version)}",
            version_from_json,
            body,
        )
        return updated

    def set_alias(self, model_id: str, alias: str, version: int, *, actor: str) -> AliasChange:
        path = f"{self._model_path(model_id)}/aliases/{check_alias(alias)}"
        change: AliasChange = self._send("PUT", path, change_from_json, {"version": version})
        return change

    def delete_alias(self, model_id: str, alias: str, *, actor: str) -> AliasChange:
        path = f"{self._model_path(model_id)}/aliases/{check_alias(alias)}"
        change: AliasChange = self._send("DELETE", path, change_from_json)
        return change

    def alias_history(self, model_id: str, alias: str | None = None) -> list[AliasChange]:
        params = {} if alias is None else {"alias": alias}
        changes: list[AliasChange] = self._get(
            f"{self._model_path(model_id)}/alias-history",
            lambda body: [change_from_json(c) for c in body["changes"]],
            **params,
        )
        return changes

    def create_approval_request(
        self, request: ApprovalRequestCreate, *, actor: str
    ) -> ApprovalRequest:
        body = {"version": request.version, "alias": request.alias, "comment": request.comment}
        created: ApprovalRequest = self._send(
            "POST",
            f"{self._model_path(request.model_id)}/approval-requests",
            approval_from_json,
            body,
        )
        return created

    def get_approval_request(self, request_id: str) -> ApprovalRequest:
        found: ApprovalRequest = self._get(
            f"/approval-requests/{check_id(request_id, field='request_id')}", approval_from_json
        )
        return found

    def list_approval_requests(
        self,
        project_id: str,
        *,
        status: ApprovalStatus | None = None,
        model_id: str | None = None,
    ) -> list[ApprovalRequest]:
        params: dict[str, str] = {}
        if status is not None:
            params["status"] = ApprovalStatus(status).value
        if model_id is not None:
            params["model_id"] = model_id
        found: list[ApprovalRequest] = self._get(
            f"/projects/{check_id(project_id, field='project_id')}/approval-requests",
            lambda body: [approval_from_json(r) for r in body["requests"]],
            **params,
        )
        return found

    def decide_approval_request(
        self, request_id: str, decision: Decision, reason: str, *, actor: str
    ) -> ApprovalRequest:
        body = {"decision": Decision(decision).value, "reason": reason}
        path = f"/approval-requests/{check_id(request_id, field='request_id')}/decisions"
        decided: ApprovalRequest = self._send("POST", path, approval_from_json, body)
        return decided

    def override_approval_request(
        self, request_id: str, justification: str, *, actor: str
    ) -> ApprovalRequest:
        path = f"/approval-requests/{check_id(request_id, field='request_id')}/override"
        overridden: ApprovalRequest = self._send(
            "POST", path, approval_from_json, {"justification": justification}
        )
        return overridden

    def list_audit_events(
        self,
        *,
        project_id: str | None = None,
        entity_name: str | None = None,
        after_seq: int = 0,
        limit: int = 1000,
    ) -> list[AuditEvent]:
        params: dict[str, Any] = {"after_seq": after_seq, "limit": min(limit, 10_000)}
        if entity_name is not None:
            params["entity"] = entity_name
        # Every project's events (the whole chain) are for server admins only.
        path = (
            "/audit-events"
            if project_id is None
            else f"/projects/{check_id(project_id, field='project_id')}/audit-events"
        )
        events: list[AuditEvent] = self._get(
            path,
            lambda body: [event_from_json(e) for e in body["events"]],
            **params,
        )
        return events
