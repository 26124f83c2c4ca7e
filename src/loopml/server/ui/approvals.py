"""The approval inbox: ``GET /p/{project}/approvals`` and its decisions.

Open requests come first (oldest first: they have waited longest), then the decided ones,
newest first. Each open request has an Approve / Reject form that posts to
``POST /p/{project}/approvals/{request_id}`` with the page's CSRF token (the session
dependency refuses a form without it, 403). The caller is the reviewer: the store refuses
the requester (four eyes), a second decision by the same reviewer, a decided request and
an approval over failed gates; a rejection needs a reason. A decision that is refused
comes back as the inbox with the message beside its request; one that is recorded
redirects to the inbox (``?done={request_id}``), which says how the request stands now.

A project admin (or the local user when the server runs without auth) also sees an
Override form on each open request, posting to
``POST /p/{project}/approvals/{request_id}/override`` with a required reason: it passes
the request despite failed gates or missing approvals, moves the alias, and the audit log
keeps the reason as the override's justification. The route checks the admin itself and
calls the same store method as the REST override; a refusal (a blank or too short reason,
a decided request) comes back as the inbox with its message, like a decision's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from loopml.core.auth import Principal, Role
from loopml.core.entities import Project
from loopml.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from loopml.core.ids import ID_PATTERN
from loopml.core.models import ApprovalRequest, Decision
from loopml.server.context import ServerContext
from loopml.server.deps import require_project
from loopml.server.ui.base import Context, UiPrincipal, html_errors, render, url_path

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

DECIDED_SHOWN = 50
_REFUSALS = ((PermissionDeniedError, 403), (ConflictError, 409), (ValidationError, 400))


def _may_decide(ctx: ServerContext, principal: Principal, project: Project) -> bool:
    return not ctx.config.auth_required or principal.can(project.id, Role.EDITOR)


def _may_override(ctx: ServerContext, principal: Principal, project: Project) -> bool:
    """Project admins (and server admins) override, as over REST; so does the local user."""
    return not ctx.config.auth_required or principal.can(project.id, Role.ADMIN)


def _inbox(
    request: Request,
    principal: Principal,
    ctx: ServerContext,
    project: Project,
    *,
    done: ApprovalRequest | None = None,
    refused: tuple[str, str, str, str] | None = None,
    status_code: int = 200,
) -> Response:
    requests = ctx.metadata.list_approval_requests(project.id)
    pending = sorted((r for r in requests if not r.status.is_decided), key=lambda r: r.created_at)
    decided = [r for r in requests if r.status.is_decided]
    models = {m.id: m for m in ctx.metadata.list_registered_models(project.id)}
    return render(
        request,
        "approvals.html",
        {
            "title": f"Approvals · {project.name}",
            "project": project,
            "section": "approvals",
            "pending": pending,
            "decided": decided[:DECIDED_SHOWN],
            "n_decided": len(decided),
            "aliases": {model_id: dict(m.aliases) for model_id, m in models.items()},
            "may_decide": _may_decide(ctx, principal, project),
            "may_override": _may_override(ctx, principal, project),
            "done": done,
            # (request id, message, decision tried, reason typed) of a refused decision
            "refused": refused,
            "breadcrumbs": [
                ("Projects", "/projects"),
                (project.name, url_path("p", project.name)),
                ("Approvals", None),
            ],
        },
        status_code=status_code,
        principal=principal,
    )


@router.get("/p/{project}/approvals")
@html_errors
def approvals_page(
    request: Request,
    principal: UiPrincipal,
    ctx: Context,
    project: str,
    done: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The project's approval requests, open ones first, each with its gates."""
    record = require_project(request, project, Role.VIEWER)
    outcome = None
    if ID_PATTERN.fullmatch(done):
        try:
            outcome = ctx.metadata.get_approval_request(done)
        except NotFoundError:
            outcome = None
        if outcome is not None and outcome.project_id != record.id:
            outcome = None
    return _inbox(request, principal, ctx, record, done=outcome)


@router.post("/p/{project}/approvals/{request_id}")
@html_errors
def decide(
    request: Request,
    principal: UiPrincipal,
    ctx: Context,
    project: str,
    request_id: str,
    decision: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """Approve or reject request ``request_id`` as the logged-in user."""
    record = require_project(request, project, Role.EDITOR)
    _require_request(ctx, record, request_id)
    try:
        chosen = Decision(decision)
    except ValueError:
        message = "decision: press Approve or Reject"
        refused = (request_id, message, decision, reason)
        return _inbox(request, principal, ctx, record, refused=refused, status_code=400)
    try:
        ctx.metadata.decide_approval_request(
            request_id, chosen, reason.strip(), actor=principal.user.name
        )
    except (PermissionDeniedError, ConflictError, ValidationError) as exc:
        status = next(code for cls, code in _REFUSALS if isinstance(exc, cls))
        refused = (request_id, str(exc).splitlines()[0], chosen.value, reason)
        return _inbox(request, principal, ctx, record, refused=refused, status_code=status)
    return _to_outcome(record, request_id)


@router.post("/p/{project}/approvals/{request_id}/override")
@html_errors
def override(
    request: Request,
    principal: UiPrincipal,
    ctx: Context,
    project: str,
    request_id: str,
    reason: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """Pass request ``request_id`` despite its gates, as a project admin, with a reason."""
    record = require_project(request, project, Role.VIEWER)
    if not _may_override(ctx, principal, record):
        raise PermissionDeniedError(
            "only an admin of the project may override an approval request", field="role"
        )
    _require_request(ctx, record, request_id)
    if not reason.strip():
        message = "reason: an override needs a written reason, which the audit log keeps"
        refused = (request_id, message, "override", reason)
        return _inbox(request, principal, ctx, record, refused=refused, status_code=400)
    try:
        ctx.metadata.override_approval_request(
            request_id, reason.strip(), actor=principal.user.name
        )
    except (ConflictError, ValidationError) as exc:
        status = next(code for cls, code in _REFUSALS if isinstance(exc, cls))
        message = str(exc).splitlines()[0]
        if exc.field == "justification":  # the store's name for what this form calls reason
            message = message.replace("justification", "reason")
        refused = (request_id, message, "override", reason)
        return _inbox(request, principal, ctx, record, refused=refused, status_code=status)
    return _to_outcome(record, request_id)


def _require_request(ctx: ServerContext, project: Project, request_id: str) -> ApprovalRequest:
    """Request ``request_id`` of ``project``; NotFoundError for any other id."""
    not_found = NotFoundError(f"approval request {request_id!r} not found")
    if not ID_PATTERN.fullmatch(request_id):
        raise not_found
    found = ctx.metadata.get_approval_request(request_id)
    if found.project_id != project.id:
        raise not_found
    return found


def _to_outcome(project: Project, request_id: str) -> Response:
    """Redirect after a recorded decision to the inbox, which says how the request stands."""
    target = url_path("p", project.name, "approvals", query={"done": request_id})
    return RedirectResponse(f"{target}#request-{request_id}", status_code=303)
