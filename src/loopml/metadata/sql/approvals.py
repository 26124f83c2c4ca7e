"""Approval requests of the SQL store: four eyes, final decisions, the alias move included."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.core.clock import from_ms, now_ms
from loopml.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from loopml.core.ids import new_id
from loopml.core.models import (
    ApprovalDecision,
    ApprovalRequest,
    ApprovalStatus,
    Decision,
    ModelVersionStatus,
    check_alias,
)
from loopml.metadata.models_base import ApprovalRequestCreate
from loopml.metadata.sql.audit import append_event
from loopml.metadata.sql.engine import Database
from loopml.metadata.sql.model_schema import ApprovalDecisionRow, ApprovalRequestRow
from loopml.metadata.sql.models import models, move_alias, require_model, version_or_none
from loopml.metadata.sql.schema import table_of

__all__ = ["SqlApprovalStore"]

requests = table_of(ApprovalRequestRow)
decisions = table_of(ApprovalDecisionRow)


def _load(connection: Connection, where: sa.ColumnElement[bool]) -> list[ApprovalRequest]:
    rows = connection.execute(
        sa.select(requests, models.c.name.label("model_name"), models.c.project_id)
        .join(models, models.c.id == requests.c.model_id)
        .where(where)
        .order_by(requests.c.created_at.desc(), requests.c.id)
    ).all()
    made: dict[str, list[ApprovalDecision]] = {row.id: [] for row in rows}
    if rows:
        for d in connection.execute(
            sa.select(decisions)
            .where(decisions.c.request_id.in_(list(made)))
            .order_by(decisions.c.decided_at, decisions.c.reviewer)
        ):
            made[d.request_id].append(
                ApprovalDecision(d.reviewer, Decision(d.decision), d.reason, from_ms(d.decided_at))
            )
    return [
        ApprovalRequest(
            id=row.id,
            model_id=row.model_id,
            model_name=row.model_name,
            project_id=row.project_id,
            version=row.version,
            alias=row.alias,
            requested_by=row.requested_by,
            created_at=from_ms(row.created_at),
            status=ApprovalStatus(row.status),
            gate_results=tuple(row.gate_results),
            gates_passed=bool(row.gates_passed),
            required_approvals=row.required_approvals,
            decisions=tuple(made[row.id]),
            comment=row.comment,
            decided_at=None if row.decided_at is None else from_ms(row.decided_at),
            override_justification=row.override_justification,
        )
        for row in rows
    ]


def _one(connection: Connection, request_id: str, *, lock: bool = False) -> ApprovalRequest:
    if lock:  # PostgreSQL: two reviewers deciding at once queue here
        connection.execute(
            sa.select(requests.c.id).where(requests.c.id == request_id).with_for_update()
        )
    found = _load(connection, requests.c.id == request_id)
    if not found:
        raise NotFoundError(f"approval request {request_id!r} not found", field="request_id")
    return found[0]


def _state(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "version": request.version,
        "alias": request.alias,
        "status": request.status.value,
        "approvals": request.n_approvals,
        "required_approvals": request.required_approvals,
    }


def _require_open(request: ApprovalRequest) -> None:
    if request.status.is_decided:
        raise ConflictError(
            f"approval request {request.id} is already {request.status.value}: open a new "
            "request to try again",
            field="request_id",
        )


class SqlApprovalStore:
    """Approval requests and decisions in a SQL database."""

    _db: Database

    def create_approval_request(
        self, request: ApprovalRequestCreate, *, actor: str
    ) -> ApprovalRequest:
        alias = check_alias(request.alias)
        if request.required_approvals < 1:
            raise ValidationError(
                "required_approvals must be at least 1", field="required_approvals"
            )

        def work(connection: Connection) -> ApprovalRequest:
            model = require_model(connection, request.model_id, lock=True)
            version = version_or_none(connection, model, request.version)
            if version is None:
                raise NotFoundError(
                    f"model {model.name!r} has no version {request.version}", field="version"
                )
            if version.status is ModelVersionStatus.ARCHIVED:
                raise ConflictError(f"{version.ref} is archived", field="version")
            duplicate = connection.execute(
                sa.select(requests.c.id).where(
                    requests.c.model_id == model.id,
                    requests.c.version == request.version,
                    requests.c.alias == alias,
                    requests.c.status == ApprovalStatus.OPEN.value,
                )
            ).first()
            if duplicate is not None:
                raise ConflictError(
                    f"request {duplicate.id} to make {version.ref} {alias!r} is already open",
                    field="alias",
                )
            request_id = new_id()
            connection.execute(
                requests.insert(),
                {
                    "id": request_id,
                    "model_id": model.id,
                    "version": request.version,
                    "alias": alias,
                    "requested_by": actor,
                    "created_at": now_ms(),
                    "status": ApprovalStatus.OPEN.value,
                    "gate_results": [dict(g) for g in request.gate_results],
                    "gates_passed": request.gates_passed,
                    "required_approvals": request.required_approvals,
                    "comment": request.comment,
                    "decided_at": None,
                    "override_justification": "",
                },
            )
            created = _one(connection, request_id)
            append_event(
                connection,
                project_id=model.project_id,
                actor=actor,
                action="approval.request",
                entity_type="approval_request",
                entity_id=request_id,
                entity_name=model.name,
                after={**_state(created), "gates_passed": request.gates_passed},
            )
            return created

        return self._db.write(work)

    def get_approval_request(self, request_id: str) -> ApprovalRequest:
        return self._db.read(lambda c: _one(c, request_id))

    def list_approval_requests(
        self,
        project_id: str,
        *,
        status: ApprovalStatus | None = None,
        model_id: str | None = None,
    ) -> list[ApprovalRequest]:
        conditions = [models.c.project_id == project_id]
        if status is not None:
            conditions.append(requests.c.status == ApprovalStatus(status).value)
        if model_id is not None:
            conditions.append(requests.c.model_id == model_id)
        return self._db.read(lambda c: _load(c, sa.and_(*conditions)))

    def decide_approval_request(
        self, request_id: str, decision: Decision, reason: str, *, actor: str
    ) -> ApprovalRequest:
        decision = Decision(decision)
        if decision is Decision.REJECT and not reason.strip():
            raise ValidationError("reason: say why the request is rejected", field="reason")

        def work(connection: Connection) -> ApprovalRequest:
            before = _one(connection, request_id, lock=True)
            _require_open(before)
            if actor == before.requested_by:
                raise PermissionDeniedError(
                    f"{actor} requested this approval and cannot decide it: four eyes — "
                    "another reviewer must approve or reject it",
                    field="reviewer",
                )
            if any(d.reviewer == actor for d in before.decisions):
                raise PermissionDeniedError(
                    f"{actor} has already decided this request", field="reviewer"
                )
            if decision is Decision.APPROVE and not before.gates_passed:
                raise ConflictError(
                    "the release gates failed for this version: it cannot be approved; an "
                    "admin may override with a written justification",
                    field="gates",
                )
            moment = now_ms()
            connection.execute(
                decisions.insert(),
                {
                    "request_id": request_id,
                    "reviewer": actor,
                    "decision": decision.value,
                    "reason": reason,
                    "decided_at": moment,
                },
            )
            status = None
            if decision is Decision.REJECT:
                status = ApprovalStatus.REJECTED
            elif before.n_approvals + 1 >= before.required_approvals:
                status = ApprovalStatus.APPROVED
            if status is not None:
                connection.execute(
                    requests.update()
                    .where(requests.c.id == request_id)
                    .values(status=status.value, decided_at=moment)
                )
            after = _one(connection, request_id)
            model = require_model(connection, before.model_id, lock=True)
            append_event(
                connection,
                project_id=model.project_id,
                actor=actor,
                action=f"approval.{decision.value}",
                entity_type="approval_request",
                entity_id=request_id,
                entity_name=model.name,
                before=_state(before),
                after={**_state(after), "reason": reason},
            )
            if status is ApprovalStatus.APPROVED:
                move_alias(connection, model, before.alias, before.version, actor, "alias.set")
            return after

        return self._db.write(work)

    def override_approval_request(
        self, request_id: str, justification: str, *, actor: str
    ) -> ApprovalRequest:
        if not isinstance(justification, str) or len(justification.strip()) < 10:
            raise ValidationError(
                "justification: an override needs a written justification (10 characters "
                "or more) that the audit log keeps",
                field="justification",
            )

        def work(connection: Connection) -> ApprovalRequest:
            before = _one(connection, request_id, lock=True)
            _require_open(before)
            moment = now_ms()
            connection.execute(
                requests.update()
                .where(requests.c.id == request_id)
                .values(
                    status=ApprovalStatus.OVERRIDDEN.value,
                    decided_at=moment,
                    override_justification=justification,
                )
            )
            after = _one(connection, request_id)
            model = require_model(connection, before.model_id, lock=True)
            append_event(
                connection,
                project_id=model.project_id,
                actor=actor,
                action="approval.override",
                entity_type="approval_request",
                entity_id=request_id,
                entity_name=model.name,
                before=_state(before),
                after={**_state(after), "justification": justification},
            )
            move_alias(connection, model, before.alias, before.version, actor, "alias.set")
            return after

        return self._db.write(work)
