"""Experiments: ``/projects/{project}/experiments`` and ``/experiments/{experiment_id}``."""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from loopml.core.auth import Role
from loopml.server.deps import ContextDep, require_experiment, require_project
from loopml.server.schemas.experiments import ExperimentCreate, ExperimentList, ExperimentRead

__all__ = ["router"]

router = APIRouter(tags=["experiments"])


@router.get(
    "/projects/{project}/experiments",
    response_model=ExperimentList,
    summary="The project's experiments",
)
def list_experiments(
    project: str,
    request: Request,
    context: ContextDep,
    include_deleted: bool = Query(False),
) -> ExperimentList:
    found = require_project(request, project, Role.VIEWER)
    experiments = context.metadata.list_experiments(found.id, include_deleted=include_deleted)
    return ExperimentList(experiments=[ExperimentRead.model_validate(e) for e in experiments])


@router.post(
    "/projects/{project}/experiments",
    response_model=ExperimentRead,
    status_code=201,
    summary="Create an experiment",
)
def create_experiment(
    project: str,
    body: ExperimentCreate,
    request: Request,
    context: ContextDep,
) -> ExperimentRead:
    found = require_project(request, project, Role.EDITOR)
    experiment = context.metadata.create_experiment(
        found.id, body.name, body.description, body.tags
    )
    return ExperimentRead.model_validate(experiment)


@router.get(
    "/projects/{project}/experiments/by-name/{name}",
    response_model=ExperimentRead,
    summary="An experiment by name",
)
def get_experiment_by_name(
    project: str, name: str, request: Request, context: ContextDep
) -> ExperimentRead:
    found = require_project(request, project, Role.VIEWER)
    return ExperimentRead.model_validate(context.metadata.get_experiment_by_name(found.id, name))


@router.get(
    "/experiments/{experiment_id}", response_model=ExperimentRead, summary="An experiment by id"
)
def get_experiment(experiment_id: str, request: Request) -> ExperimentRead:
    return ExperimentRead.model_validate(require_experiment(request, experiment_id, Role.VIEWER))


@router.delete(
    "/experiments/{experiment_id}",
    status_code=204,
    response_class=Response,
    summary="Mark an experiment and its runs deleted",
)
def delete_experiment(experiment_id: str, request: Request, context: ContextDep) -> Response:
    require_experiment(request, experiment_id, Role.ADMIN)
    context.metadata.delete_experiment(experiment_id)
    return Response(status_code=204)
