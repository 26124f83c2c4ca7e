"""``/runs/{run_id}/artifacts``: the files recorded for a run (stored with the files API)."""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from loopml.artifacts.hashing import check_digest
from loopml.artifacts.paths import check_prefix, check_relpath
from loopml.core.auth import Role
from loopml.core.entities import ArtifactInfo
from loopml.server.deps import ContextDep, require_run
from loopml.server.schemas.artifacts import ArtifactCreate, ArtifactList, ArtifactRead

__all__ = ["router"]

router = APIRouter(tags=["artifacts"])


@router.get(
    "/runs/{run_id}/artifacts", response_model=ArtifactList, summary="A run's recorded files"
)
def list_artifacts(
    run_id: str,
    request: Request,
    context: ContextDep,
    prefix: str = Query(""),
) -> ArtifactList:
    require_run(request, run_id, Role.VIEWER)
    # A folder prefix may end in "/" ("data/" lists data/a.csv but not data_x.txt).
    check_prefix(prefix.removesuffix("/"))
    artifacts = context.metadata.list_artifacts(run_id, prefix)
    return ArtifactList(artifacts=[ArtifactRead.model_validate(a) for a in artifacts])


@router.post(
    "/runs/{run_id}/artifacts",
    status_code=204,
    response_class=Response,
    summary="Record a file stored under the run's artifact root",
)
def record_artifact(
    run_id: str,
    body: ArtifactCreate,
    request: Request,
    context: ContextDep,
) -> Response:
    require_run(request, run_id, Role.EDITOR)
    info = ArtifactInfo(check_relpath(body.path), body.size, check_digest(body.digest))
    context.metadata.record_artifact(run_id, info)
    return Response(status_code=204)
