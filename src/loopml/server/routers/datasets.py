"""Datasets, their versions and lineage.

``/projects/{project}/datasets`` lists and creates; ``/datasets/{dataset_id}`` and
``/dataset-versions/{version_id}`` read by id; ``/runs/{run_id}/lineage`` and ``/lineage``
link runs and versions. The data itself travels through the project's file routes as
content-addressed blobs; these routes carry the records.
"""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import JSONResponse

from loopml.core.auth import Role
from loopml.core.datasets import LATEST, DatasetFile, DatasetVersion
from loopml.core.errors import ValidationError
from loopml.core.ids import check_id
from loopml.metadata import datasets_base
from loopml.server.deps import (
    ContextDep,
    PrincipalDep,
    require_dataset,
    require_dataset_version,
    require_project,
    require_run,
)
from loopml.server.schemas.datasets import (
    DatasetCreate,
    DatasetList,
    DatasetRead,
    DatasetVersionCreate,
    DatasetVersionList,
    DatasetVersionRead,
    DatasetVersionUpdate,
    LineageCreate,
    LineageList,
    LineageRead,
)

__all__ = ["router"]

router = APIRouter(tags=["datasets"])


def version_read(version: DatasetVersion) -> DatasetVersionRead:
    """The response body of a version."""
    fields = {f.name: getattr(version, f.name) for f in dataclasses.fields(version)}
    fields["arrow_schema"] = [dict(column) for column in version.arrow_schema]
    fields["files"] = [dataclasses.asdict(file) for file in version.files]
    fields["tags"] = dict(version.tags)
    return DatasetVersionRead.model_validate(fields)


@router.get("/projects/{project}/datasets", response_model=DatasetList, summary="Datasets")
def list_datasets(project: str, request: Request, context: ContextDep) -> DatasetList:
    found = require_project(request, project, Role.VIEWER)
    datasets = context.metadata.list_datasets(found.id)
    return DatasetList(datasets=[DatasetRead.model_validate(d) for d in datasets])


@router.post(
    "/projects/{project}/datasets",
    response_model=DatasetRead,
    status_code=201,
    summary="Create a dataset",
)
def create_dataset(
    project: str,
    body: DatasetCreate,
    request: Request,
    principal: PrincipalDep,
    context: ContextDep,
) -> DatasetRead:
    found = require_project(request, project, Role.EDITOR)
    dataset = context.metadata.create_dataset(
        found.id, body.name, body.description, created_by=principal.user.name
    )
    return DatasetRead.model_validate(dataset)


@router.get(
    "/projects/{project}/datasets/by-name/{name}",
    response_model=DatasetRead,
    summary="A dataset by name",
)
def get_dataset_by_name(
    project: str, name: str, request: Request, context: ContextDep
) -> DatasetRead:
    found = require_project(request, project, Role.VIEWER)
    return DatasetRead.model_validate(context.metadata.get_dataset_by_name(found.id, name))


@router.get("/datasets/{dataset_id}", response_model=DatasetRead, summary="A dataset by id")
def get_dataset(dataset_id: str, request: Request) -> DatasetRead:
    return DatasetRead.model_validate(require_dataset(request, dataset_id, Role.VIEWER))


@router.get(
    "/datasets/{dataset_id}/versions",
    response_model=DatasetVersionList,
    summary="A dataset's versions, newest first (or the one with a content hash)",
)
def list_dataset_versions(
    dataset_id: str,
    request: Request,
    context: ContextDep,
    content_hash: str | None = Query(None, max_length=80),
) -> DatasetVersionList:
    require_dataset(request, dataset_id, Role.VIEWER)
    if content_hash is not None:
        found = context.metadata.find_dataset_version(dataset_id, content_hash)
        versions = [] if found is None else [found]
    else:
        versions = context.metadata.list_dataset_versions(dataset_id)
    return DatasetVersionList(versions=[version_read(v) for v in versions])


@router.post(
    "/datasets/{dataset_id}/versions",
    response_model=DatasetVersionRead,
    status_code=201,
    summary="Record a version whose files are stored (200 with the existing one for known content)",
)
def create_dataset_version(
    dataset_id: str,
    body: DatasetVersionCreate,
    request: Request,
    principal: PrincipalDep,
    context: ContextDep,
) -> JSONResponse:
    require_dataset(request, dataset_id, Role.EDITOR)
    existing = context.metadata.find_dataset_version(dataset_id, body.content_hash)
    version = context.metadata.create_dataset_version(
        datasets_base.DatasetVersionCreate(
            dataset_id=dataset_id,
            content_hash=body.content_hash,
            n_rows=body.n_rows,
            n_bytes=body.n_bytes,
            arrow_schema=[column.model_dump() for column in body.arrow_schema],
            files=[DatasetFile(**file.model_dump()) for file in body.files],
            source_uri=body.source_uri,
            description=body.description,
            created_by=principal.user.name,
            profile=body.profile,
            validation=body.validation,
            tags=body.tags,
        )
    )
    status = 200 if existing is not None else 201
    return JSONResponse(version_read(version).model_dump(mode="json"), status_code=status)


@router.get(
    "/datasets/{dataset_id}/versions/{version}",
    response_model=DatasetVersionRead,
    summary="Version <n> of a dataset, or its latest",
)
def get_dataset_version_by_number(
    dataset_id: str, version: str, request: Request, context: ContextDep
) -> DatasetVersionRead:
    require_dataset(request, dataset_id, Role.VIEWER)
    if version == LATEST:
        number = None
    elif version.isdigit() and 0 < int(version) < 2**31:
        number = int(version)
    else:
        raise ValidationError(
            f"version: expected a number >= 1 or 'latest', got {version!r}", field="version"
        )
    return version_read(context.metadata.get_dataset_version_by_number(dataset_id, number))


@router.get(
    "/dataset-versions/{version_id}",
    response_model=DatasetVersionRead,
    summary="A dataset version by id",
)
def get_dataset_version(version_id: str, request: Request) -> DatasetVersionRead:
    return version_read(require_dataset_version(request, version_id, Role.VIEWER))


@router.patch(
    "/dataset-versions/{version_id}",
    response_model=DatasetVersionRead,
    summary="Replace a version's profile and/or validation report",
)
def update_dataset_version(
    version_id: str, body: DatasetVersionUpdate, request: Request, context: ContextDep
) -> DatasetVersionRead:
    require_dataset_version(request, version_id, Role.EDITOR)
    updated = context.metadata.update_dataset_version(
        version_id, profile=body.profile, validation=body.validation
    )
    return version_read(updated)


@router.post(
    "/runs/{run_id}/lineage",
    response_model=LineageRead,
    status_code=201,
    summary="Record that a run read or wrote a dataset version",
)
def log_lineage(
    run_id: str, body: LineageCreate, request: Request, context: ContextDep
) -> LineageRead:
    project_id = require_run(request, run_id, Role.EDITOR)
    version = require_dataset_version(request, body.dataset_version_id, Role.VIEWER)
    if version.project_id != project_id:
        raise ValidationError(
            "dataset_version_id: the version belongs to another project than the run",
            field="dataset_version_id",
        )
    edge = context.metadata.log_lineage(run_id, version.id, body.direction, body.role)
    return LineageRead.model_validate(edge)


@router.get("/lineage", response_model=LineageList, summary="Edges of a run and/or a version")
def list_lineage(
    request: Request,
    context: ContextDep,
    run_id: str | None = Query(None),
    dataset_version_id: str | None = Query(None),
) -> LineageList:
    if run_id is None and dataset_version_id is None:
        raise ValidationError("give run_id or dataset_version_id", field="run_id")
    if run_id is not None:
        require_run(request, check_id(run_id, field="run_id"), Role.VIEWER)
    if dataset_version_id is not None:
        require_dataset_version(request, dataset_version_id, Role.VIEWER)
    edges = context.metadata.list_lineage(run_id=run_id, dataset_version_id=dataset_version_id)
    return LineageList(edges=[LineageRead.model_validate(e) for e in edges])
