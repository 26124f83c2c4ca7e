"""``/runs``: start (idempotent with a client-chosen id), read, change, delete, restore."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from loopml.core.auth import Role
from loopml.core.errors import PermissionDeniedError
from loopml.core.validation import check_key
from loopml.metadata import base
from loopml.server.deps import ContextDep, PrincipalDep, require_experiment, require_run
from loopml.server.schemas.runs import RunCreate, RunRead, RunUpdate

__all__ = ["router"]

router = APIRouter(tags=["runs"])


@router.post("/runs", response_model=RunRead, status_code=201, summary="Start a run")
def create_run(
    body: RunCreate,
    request: Request,
    principal: PrincipalDep,
    context: ContextDep,
) -> RunRead:
    """The acting user is the caller; a server admin may name another (imports)."""
    require_experiment(request, body.experiment_id, Role.EDITOR)
    user = principal.user.name
    if body.user is not None and body.user != user:
        if not principal.user.is_admin:
            raise PermissionDeniedError(
                "only a server admin may record a run for another user: leave user out",
                field="user",
            )
        user = body.user
    run = context.metadata.create_run(
        base.RunCreate(
            id=body.id,
            experiment_id=body.experiment_id,
            name=body.name,
            start_time=body.start_time,
            parent_run_id=body.parent_run_id,
            user=user,
            tags=body.tags,
            environment=body.environment,
        )
    )
    return RunRead.model_validate(run)


@router.get("/runs/{run_id}", response_model=RunRead, summary="A run with everything it logged")
def get_run(run_id: str, request: Request, context: ContextDep) -> RunRead:
    require_run(request, run_id, Role.VIEWER)
    return RunRead.model_validate(context.metadata.get_run(run_id))


@router.patch("/runs/{run_id}", response_model=RunRead, summary="Change a run")
def update_run(run_id: str, body: RunUpdate, request: Request, context: ContextDep) -> RunRead:
    require_run(request, run_id, Role.EDITOR)
    update = base.RunUpdate(
        status=body.status,
        end_time=body.end_time,
        name=body.name,
        note=body.note,
        error=body.error,
    )
    return RunRead.model_validate(context.metadata.update_run(run_id, update))


@router.delete(
    "/runs/{run_id}", status_code=204, response_class=Response, summary="Mark a run deleted"
)
def delete_run(run_id: str, request: Request, context: ContextDep) -> Response:
    require_run(request, run_id, Role.ADMIN)
    context.metadata.delete_run(run_id)
    return Response(status_code=204)


@router.post(
    "/runs/{run_id}/restore",
    status_code=204,
    response_class=Response,
    summary="Undo deleting a run",
)
def restore_run(run_id: str, request: Request, context: ContextDep) -> Response:
    require_run(request, run_id, Role.ADMIN)
    context.metadata.restore_run(run_id)
    return Response(status_code=204)


@router.delete(
    "/runs/{run_id}/tags/{key:path}",
    status_code=204,
    response_class=Response,
    summary="Remove a tag",
)
def delete_tag(run_id: str, key: str, request: Request, context: ContextDep) -> Response:
    require_run(request, run_id, Role.EDITOR)
    context.metadata.delete_tag(run_id, check_key(key, kind="tag"))
    return Response(status_code=204)
