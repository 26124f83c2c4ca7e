"""Approval requests and the audit log.

The server evaluates a request's release gates itself, from the model's stored policy and
stored records, so a client cannot claim gates it did not pass. Deciding takes the
caller as the reviewer (four eyes are enforced by the store); an override needs a server
or project admin and a written justification.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request

from loopml.core.auth import Role
from loopml.core.models import ApprovalRequest, ApprovalStatus
from loopml.metadata.models_base import ApprovalRequestCreate
from loopml.registry.release import check_release
from loopml.server.deps import (
    ContextDep,
    PrincipalDep,
    require_approval,
    require_model,
    require_project,
    require_server_admin,
)
from loopml.server.schemas.models import (
    ApprovalDecide,
    ApprovalList,
    ApprovalOverride,
    ApprovalRead,
    ApprovalRequestBody,
    AuditEventList,
    AuditEventRead,
)

__all__ = ["approval_read", "router"]

router = APIRouter(tags=["approvals"])


def approval_read(request: ApprovalRequest) -> ApprovalRead:
    return ApprovalRead.model_validate(
        {
            **{name: getattr(request, name) for name in ApprovalRead.model_fields},
            "gate_results": [dict(g) for g in request.gate_results],
            "decisions": [
                {
                    "reviewer": d.reviewer,
                    "decision": d.decision,
                    "reason": d.reason,
                    "decided_at": d.decided_at,
                }
                for d in request.decisions
            ],
        }
    )


@router.post(
    "/models/{model_id}/approval-requests",
    response_model=ApprovalRead,
    status_code=201,
    summary="Evaluate the release gates and open an approval request",
)
def create_approval_request(
    model_id: str,
    body: ApprovalRequestBody,
    request: Request,
    principal: PrincipalDep,
    context: ContextDep,
) -> ApprovalRead:
    model = require_model(request, model_id, Role.EDITOR)
    version = context.metadata.get_model_version(model_id, body.version)
    check = check_release(context.metadata, model, version)
    created = context.metadata.create_approval_request(
        ApprovalRequestCreate(
            model_id=model_id,
            version=body.version,
            alias=body.alias,
            gate_results=[r.to_dict() for r in check.results],
            gates_passed=check.passed,
            required_approvals=check.required_approvals,
            comment=body.comment,
        ),
        actor=principal.user.name,
    )
    return approval_read(created)


@router.get(
    "/projects/{project}/approval-requests",
    response_model=ApprovalList,
    summary="The project's approval requests, newest first",
)
def list_approval_requests(
    project: str,
    request: Request,
    context: ContextDep,
    status: Annotated[ApprovalStatus | None, Query()] = None,
    model_id: str | None = Query(None, pattern=r"^[0-9a-f]{32}$"),
) -> ApprovalList:
    found = require_project(request, project, Role.VIEWER)
    requests = context.metadata.list_approval_requests(found.id, status=status, model_id=model_id)
    return ApprovalList(requests=[approval_read(r) for r in requests])


@router.get(
    "/approval-requests/{request_id}", response_model=ApprovalRead, summary="An approval request"
)
def get_approval_request(request_id: str, request: Request) -> ApprovalRead:
    return approval_read(require_approval(request, request_id, Role.VIEWER))


@router.post(
    "/approval-requests/{request_id}/decisions",
    response_model=ApprovalRead,
    summary="Approve or reject (as the caller; not the requester)",
)
def decide_approval_request(
    request_id: str,
    body: ApprovalDecide,
    request: Request,
    principal: PrincipalDep,
    context: ContextDep,
) -> ApprovalRead:
    require_approval(request, request_id, Role.EDITOR)
    decided = context.metadata.decide_approval_request(
        request_id, body.decision, body.reason, actor=principal.user.name
    )
    return approval_read(decided)


@router.post(
    "/approval-requests/{request_id}/override",
    response_model=ApprovalRead,
    summary="Approve despite failed gates, with a written justification (admins)",
)
def override_approval_request(
    request_id: str,
    body: ApprovalOverride,
    request: Request,
    principal: PrincipalDep,
    context: ContextDep,
) -> ApprovalRead:
    require_approval(request, request_id, Role.ADMIN)
    overridden = context.metadata.override_approval_request(
        request_id, body.justification, actor=principal.user.name
    )
    return approval_read(overridden)


@router.get(
    "/projects/{project}/audit-events",
    response_model=AuditEventList,
    summary="The project's audit events in log order",
)
def list_audit_events(
    project: str,
    request: Request,
    context: ContextDep,
    entity: str | None = Query(None, max_length=256),
    after_seq: int = Query(0, ge=0, le=2**62),
    limit: int = Query(1000, ge=1, le=10_000),
) -> AuditEventList:
    found = require_project(request, project, Role.VIEWER)
    events = context.metadata.list_audit_events(
        project_id=found.id, entity_name=entity, after_seq=after_seq, limit=limit
    )
    return AuditEventList(events=[AuditEventRead.model_validate(e) for e in events])


@router.get(
    "/audit-events",
    response_model=AuditEventList,
    summary="Every project's audit events in log order (server admins): the whole chain",
)
def list_all_audit_events(
    request: Request,
    context: ContextDep,
    after_seq: int = Query(0, ge=0, le=2**62),
    limit: int = Query(1000, ge=1, le=10_000),
) -> AuditEventList:
    require_server_admin(request)
    events = context.metadata.list_audit_events(after_seq=after_seq, limit=limit)
    return AuditEventList(events=[AuditEventRead.model_validate(e) for e in events])
