"""The model registry: ``/projects/{project}/models``, ``/models/{model_id}`` and its
versions and aliases. Every write is audited by the store with the caller as the actor."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.requests import Request

from loopml.core.auth import Role
from loopml.core.models import ModelVersion, RegisteredModel
from loopml.metadata.models_base import ModelVersionCreate
from loopml.registry.gates import parse_policy
from loopml.server.deps import ContextDep, PrincipalDep, require_model, require_project
from loopml.server.schemas.models import (
    AliasChangeList,
    AliasChangeRead,
    AliasSet,
    ModelCreate,
    ModelList,
    ModelRead,
    ModelUpdate,
    VersionCreate,
    VersionList,
    VersionRead,
    VersionUpdate,
)

__all__ = ["model_read", "router", "version_read"]

router = APIRouter(tags=["models"])
# Version numbers are 32-bit in the database: larger ones are refused, not overflowed.
VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]


def model_read(model: RegisteredModel) -> ModelRead:
    fields = {f.name: getattr(model, f.name) for f in dataclasses.fields(model)}
    for name in ("tags", "aliases", "release_policy"):
        fields[name] = dict(fields[name])
    return ModelRead.model_validate(fields)


def version_read(version: ModelVersion) -> VersionRead:
    fields = {f.name: getattr(version, f.name) for f in dataclasses.fields(version)}
    for name in ("signature", "metrics", "tags"):
        fields[name] = dict(fields[name])
    fields["dataset_version_ids"] = list(version.dataset_version_ids)
    fields["aliases"] = list(version.aliases)
    return VersionRead.model_validate(fields)


@router.get("/projects/{project}/models", response_model=ModelList, summary="Registered models")
def list_models(project: str, request: Request, context: ContextDep) -> ModelList:
    found = require_project(request, project, Role.VIEWER)
    return ModelList(
        models=[model_read(m) for m in context.metadata.list_registered_models(found.id)]
    )


@router.post(
    "/projects/{project}/models",
    response_model=ModelRead,
    status_code=201,
    summary="Register a model",
)
def create_model(
    project: str, body: ModelCreate, request: Request, principal: PrincipalDep, context: ContextDep
) -> ModelRead:
    found = require_project(request, project, Role.EDITOR)
    model = context.metadata.create_registered_model(
        found.id,
        body.name,
        actor=principal.user.name,
        description=body.description,
        owner=body.owner,
        tags=body.tags,
    )
    return model_read(model)


@router.get(
    "/projects/{project}/models/by-name/{name}", response_model=ModelRead, summary="A model by name"
)
def get_model_by_name(project: str, name: str, request: Request, context: ContextDep) -> ModelRead:
    found = require_project(request, project, Role.VIEWER)
    return model_read(context.metadata.get_registered_model_by_name(found.id, name))


@router.get("/models/{model_id}", response_model=ModelRead, summary="A model by id")
def get_model(model_id: str, request: Request) -> ModelRead:
    return model_read(require_model(request, model_id, Role.VIEWER))


@router.patch("/models/{model_id}", response_model=ModelRead, summary="Change a model")
def update_model(
    model_id: str, body: ModelUpdate, request: Request, principal: PrincipalDep, context: ContextDep
) -> ModelRead:
    # The release policy decides what may ship: only a project admin changes it.
    needed = Role.ADMIN if body.release_policy is not None else Role.EDITOR
    require_model(request, model_id, needed)
    if body.release_policy is not None:
        parse_policy(body.release_policy)
    model = context.metadata.update_registered_model(
        model_id,
        actor=principal.user.name,
        description=body.description,
        owner=body.owner,
        tags=body.tags,
        release_policy=body.release_policy,
    )
    return model_read(model)


@router.get("/models/{model_id}/versions", response_model=VersionList, summary="Versions")
def list_versions(model_id: str, request: Request, context: ContextDep) -> VersionList:
    require_model(request, model_id, Role.VIEWER)
    return VersionList(
        versions=[version_read(v) for v in context.metadata.list_model_versions(model_id)]
    )


@router.post(
    "/models/{model_id}/versions",
    response_model=VersionRead,
    status_code=201,
    summary="Record a version whose package is stored",
)
def create_version(
    model_id: str,
    body: VersionCreate,
    request: Request,
    principal: PrincipalDep,
    context: ContextDep,
) -> VersionRead:
    require_model(request, model_id, Role.EDITOR)
    version = context.metadata.create_model_version(
        ModelVersionCreate(model_id=model_id, **body.model_dump()), actor=principal.user.name
    )
    return version_read(version)


@router.get(
    "/models/{model_id}/versions/{version}", response_model=VersionRead, summary="A version"
)
def get_version(
    model_id: str, version: VersionNumber, request: Request, context: ContextDep
) -> VersionRead:
    require_model(request, model_id, Role.VIEWER)
    return version_read(context.metadata.get_model_version(model_id, version))


@router.get("/model-versions/{version_id}", response_model=VersionRead, summary="A version by id")
def get_version_by_id(version_id: str, request: Request, context: ContextDep) -> VersionRead:
    from loopml.core.ids import check_id

    found = context.metadata.get_model_version_by_id(check_id(version_id, field="version_id"))
    require_model(request, found.model_id, Role.VIEWER)
    return version_read(found)


@router.patch(
    "/models/{model_id}/versions/{version}",
    response_model=VersionRead,
    summary="Archive or restore a version, describe it, or attach its evaluation",
)
def update_version(
    model_id: str,
    version: VersionNumber,
    body: VersionUpdate,
    request: Request,
    principal: PrincipalDep,
    context: ContextDep,
) -> VersionRead:
    require_model(request, model_id, Role.EDITOR)
    updated = context.metadata.update_model_version(
        model_id,
        version,
        actor=principal.user.name,
        status=body.status,
        description=body.description,
        evaluation=body.evaluation,
    )
    return version_read(updated)


@router.put(
    "/models/{model_id}/aliases/{alias}",
    response_model=AliasChangeRead,
    summary="Point an alias at a version (admins; others request approval)",
)
def set_alias(
    model_id: str,
    alias: str,
    body: AliasSet,
    request: Request,
    principal: PrincipalDep,
    context: ContextDep,
) -> AliasChangeRead:
    # Moving an alias directly skips the release workflow: a project admin's right.
    require_model(request, model_id, Role.ADMIN)
    change = context.metadata.set_alias(model_id, alias, body.version, actor=principal.user.name)
    return AliasChangeRead.model_validate(change)


@router.delete(
    "/models/{model_id}/aliases/{alias}", response_model=AliasChangeRead, summary="Remove an alias"
)
def delete_alias(
    model_id: str, alias: str, request: Request, principal: PrincipalDep, context: ContextDep
) -> AliasChangeRead:
    require_model(request, model_id, Role.ADMIN)
    change = context.metadata.delete_alias(model_id, alias, actor=principal.user.name)
    return AliasChangeRead.model_validate(change)


@router.get(
    "/models/{model_id}/alias-history",
    response_model=AliasChangeList,
    summary="Every move of the model's aliases, oldest first",
)
def alias_history(
    model_id: str,
    request: Request,
    context: ContextDep,
    alias: str | None = Query(None, max_length=64),
) -> AliasChangeList:
    require_model(request, model_id, Role.VIEWER)
    changes = context.metadata.alias_history(model_id, alias)
    return AliasChangeList(changes=[AliasChangeRead.model_validate(c) for c in changes])
