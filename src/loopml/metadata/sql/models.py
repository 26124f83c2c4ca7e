"""Registered models, versions and aliases of the SQL store, audited in each transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.core.clock import from_ms, now_ms
from loopml.core.entities import frozen_mapping
from loopml.core.errors import AlreadyExistsError, ConflictError, NotFoundError, ValidationError
from loopml.core.ids import new_id
from loopml.core.models import (
    AliasChange,
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    check_alias,
    check_model_name,
)
from loopml.metadata.models_base import ModelVersionCreate
from loopml.metadata.sql.audit import append_event
from loopml.metadata.sql.engine import Database
from loopml.metadata.sql.model_schema import (
    AliasChangeRow,
    ModelAliasRow,
    ModelVersionRow,
    RegisteredModelRow,
)
from loopml.metadata.sql.schema import ProjectRow, RunRow, table_of

__all__ = ["SqlRegisteredModelStore", "move_alias", "require_model", "version_or_none"]

models = table_of(RegisteredModelRow)
versions = table_of(ModelVersionRow)
aliases = table_of(ModelAliasRow)
alias_changes = table_of(AliasChangeRow)
projects = table_of(ProjectRow)
runs = table_of(RunRow)

_MAX_ATTEMPTS = 20


class _Race(ConflictError):
    def __init__(self) -> None:
        super().__init__("a concurrent write won the race")


def require_model(connection: Connection, model_id: str, *, lock: bool = False) -> Any:
    query = sa.select(models).where(models.c.id == model_id)
    if lock:  # PostgreSQL: serialise numbering and alias moves per model
        query = query.with_for_update()
    row = connection.execute(query).first()
    if row is None:
        raise NotFoundError(f"registered model {model_id!r} not found", field="model_id")
    return row


def _model(connection: Connection, row: Any) -> RegisteredModel:
    alias_rows = connection.execute(
        sa.select(aliases.c.alias, aliases.c.version).where(aliases.c.model_id == row.id)
    ).all()
    n_versions = connection.execute(
        sa.select(sa.func.count()).select_from(versions).where(versions.c.model_id == row.id)
    ).scalar_one()
    return RegisteredModel(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        description=row.description,
        created_at=from_ms(row.created_at),
        created_by=row.created_by,
        owner=row.owner,
        tags=frozen_mapping(row.tags),
        aliases=frozen_mapping({a.alias: a.version for a in alias_rows}),
        n_versions=n_versions,
        release_policy=frozen_mapping(row.release_policy),
    )


def _version(row: Any, model: Any, held: list[str]) -> ModelVersion:
    return ModelVersion(
        id=row.id,
        model_id=row.model_id,
        model_name=model.name,
        project_id=model.project_id,
        version=row.version,
        flavor=row.flavor,
        package_path=row.package_path,
        digest=row.digest,
        size=row.size,
        created_at=from_ms(row.created_at),
        run_id=row.run_id,
        signature=frozen_mapping(row.signature),
        metrics=frozen_mapping(row.metrics),
        dataset_version_ids=tuple(row.dataset_version_ids),
        status=ModelVersionStatus(row.status),
        description=row.description,
        created_by=row.created_by,
        tags=frozen_mapping(row.tags),
        evaluation=row.evaluation,
        aliases=tuple(sorted(held)),
    )


def _versions(connection: Connection, model: Any, where: sa.ColumnElement[bool]) -> list[Any]:
    rows = connection.execute(
        sa.select(versions)
        .where(versions.c.model_id == model.id, where)
        .order_by(versions.c.version.desc())
    ).all()
    held: dict[int, list[str]] = {}
    for alias, number in connection.execute(
        sa.select(aliases.c.alias, aliases.c.version).where(aliases.c.model_id == model.id)
    ):
        held.setdefault(number, []).append(alias)
    return [_version(row, model, held.get(row.version, [])) for row in rows]


def version_or_none(connection: Connection, model: Any, number: int) -> ModelVersion | None:
    found = _versions(connection, model, versions.c.version == number)
    return found[0] if found else None


def _version_state(version: ModelVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "status": version.status.value,
        "description": version.description,
        "has_evaluation": version.evaluation is not None,
    }


def move_alias(
    connection: Connection, model: Any, alias: str, number: int | None, actor: str, action: str
) -> AliasChange:
    """Point ``alias`` at ``number`` (None: remove it), record the move and audit it."""
    current = connection.execute(
        sa.select(aliases.c.version).where(aliases.c.model_id == model.id, aliases.c.alias == alias)
    ).scalar()
    if number is not None:
        target = version_or_none(connection, model, number)
        if target is None:
            raise NotFoundError(f"model {model.name!r} has no version {number}", field="version")
        if target.status is ModelVersionStatus.ARCHIVED:
            raise ConflictError(
                f"{model.name}/{number} is archived: restore it before pointing {alias!r} at it",
                field="version",
            )
    elif current is None:
        raise NotFoundError(f"model {model.name!r} has no alias {alias!r}", field="alias")
    connection.execute(
        aliases.delete().where(aliases.c.model_id == model.id, aliases.c.alias == alias)
    )
    if number is not None:
        connection.execute(
            aliases.insert(), {"model_id": model.id, "alias": alias, "version": number}
        )
    moment = now_ms()
    connection.execute(
        alias_changes.insert(),
        {
            "model_id": model.id,
            "alias": alias,
            "version": number,
            "previous_version": current,
            "changed_at": moment,
            "changed_by": actor,
        },
    )
    append_event(
        connection,
        project_id=model.project_id,
        actor=actor,
        action=action,
        entity_type="alias",
        entity_id=model.id,
        entity_name=model.name,
        before={"alias": alias, "version": current},
        after={"alias": alias, "version": number},
    )
    return AliasChange(model.id, alias, number, current, from_ms(moment), actor)


class SqlRegisteredModelStore:
    """Registered models, versions and aliases in a SQL database."""

    _db: Database

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
        model_id = new_id()
        row: dict[str, Any] = {
            "id": model_id,
            "project_id": project_id,
            "name": name,
            "description": description,
            "owner": owner,
            "created_by": actor,
            "created_at": now_ms(),
            "tags": dict(tags or {}),
        }

        def work(connection: Connection) -> RegisteredModel:
            if (
                connection.execute(
                    sa.select(projects.c.id).where(projects.c.id == project_id)
                ).first()
                is None
            ):
                raise NotFoundError(f"project {project_id!r} not found", field="project_id")
            clash = connection.execute(
                sa.select(models.c.id).where(
                    models.c.project_id == project_id, models.c.name == name
                )
            ).first()
            if clash is not None:
                raise _model_exists(name)
            connection.execute(models.insert(), row)
            append_event(
                connection,
                project_id=project_id,
                actor=actor,
                action="model.create",
                entity_type="registered_model",
                entity_id=model_id,
                entity_name=name,
                after={k: row[k] for k in ("name", "description", "owner", "tags")},
            )
            return _model(connection, require_model(connection, model_id))

        return self._db.write(work, on_integrity=lambda: _model_exists(name))

    def get_registered_model(self, model_id: str) -> RegisteredModel:
        return self._db.read(lambda c: _model(c, require_model(c, model_id)))

    def get_registered_model_by_name(self, project_id: str, name: str) -> RegisteredModel:
        def work(connection: Connection) -> RegisteredModel:
            row = connection.execute(
                sa.select(models).where(models.c.project_id == project_id, models.c.name == name)
            ).first()
            if row is None:
                raise NotFoundError(
                    f"registered model {name!r} not found: see `loopml models list`",
                    field="model",
                )
            return _model(connection, row)

        return self._db.read(work)

    def list_registered_models(self, project_id: str) -> list[RegisteredModel]:
        def work(connection: Connection) -> list[RegisteredModel]:
            rows = connection.execute(
                sa.select(models).where(models.c.project_id == project_id).order_by(models.c.name)
            ).all()
            return [_model(connection, row) for row in rows]

        return self._db.read(work)

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
        changes: dict[str, Any] = {}
        if description is not None:
            changes["description"] = description
        if owner is not None:
            changes["owner"] = owner
        if tags is not None:
            changes["tags"] = dict(tags)
        if release_policy is not None:
            changes["release_policy"] = dict(release_policy)

        def work(connection: Connection) -> RegisteredModel:
            row = require_model(connection, model_id, lock=True)
            if changes:
                connection.execute(models.update().where(models.c.id == model_id).values(changes))
                append_event(
                    connection,
                    project_id=row.project_id,
                    actor=actor,
                    action="policy.set" if "release_policy" in changes else "model.update",
                    entity_type="registered_model",
                    entity_id=model_id,
                    entity_name=row.name,
                    before={k: getattr(row, k) for k in changes},
                    after=changes,
                )
            return _model(connection, require_model(connection, model_id))

        return self._db.write(work)

    def create_model_version(self, version: ModelVersionCreate, *, actor: str) -> ModelVersion:
        if version.size < 0:
            raise ValidationError("size must be >= 0", field="size")

        def work(connection: Connection) -> ModelVersion:
            model = require_model(connection, version.model_id, lock=True)
            if (
                version.run_id is not None
                and connection.execute(
                    sa.select(runs.c.id).where(runs.c.id == version.run_id)
                ).first()
                is None
            ):
                raise NotFoundError(f"run {version.run_id!r} not found", field="run_id")
            latest = connection.execute(
                sa.select(sa.func.max(versions.c.version)).where(versions.c.model_id == model.id)
            ).scalar()
            number = (latest or 0) + 1
            row = {
                "id": new_id(),
                "model_id": model.id,
                "version": number,
                "flavor": version.flavor,
                "package_path": version.package_path,
                "digest": version.digest,
                "size": version.size,
                "run_id": version.run_id,
                "signature": dict(version.signature),
                "metrics": {k: float(v) for k, v in version.metrics.items()},
                "dataset_version_ids": list(version.dataset_version_ids),
                "status": ModelVersionStatus.READY.value,
                "description": version.description,
                "created_by": actor,
                "created_at": now_ms(),
                "tags": dict(version.tags),
                "evaluation": None,
            }
            connection.execute(versions.insert(), row)
            append_event(
                connection,
                project_id=model.project_id,
                actor=actor,
                action="version.create",
                entity_type="model_version",
                entity_id=row["id"],
                entity_name=model.name,
                after={
                    "version": number,
                    "flavor": version.flavor,
                    "digest": version.digest,
                    "run_id": version.run_id,
                },
            )
            created = version_or_none(connection, model, number)
            assert created is not None
            return created

        for _ in range(_MAX_ATTEMPTS):
            try:
                return self._db.write(work, on_integrity=_Race)
            except _Race:
                continue
        raise ConflictError("too many concurrent registrations; try again", field="model_id")

    def get_model_version(self, model_id: str, version: int) -> ModelVersion:
        def work(connection: Connection) -> ModelVersion:
            model = require_model(connection, model_id)
            found = version_or_none(connection, model, version)
            if found is None:
                raise NotFoundError(
                    f"model {model.name!r} has no version {version}", field="version"
                )
            return found

        return self._db.read(work)

    def get_model_version_by_id(self, version_id: str) -> ModelVersion:
        def work(connection: Connection) -> ModelVersion:
            row = connection.execute(
                sa.select(versions.c.model_id, versions.c.version).where(
                    versions.c.id == version_id
                )
            ).first()
            if row is None:
                raise NotFoundError(
                    f"model version {version_id!r} not found", field="model_version_id"
                )
            found = version_or_none(
                connection, require_model(connection, row.model_id), row.version
            )
            assert found is not None
            return found

        return self._db.read(work)

    def list_model_versions(self, model_id: str) -> list[ModelVersion]:
        def work(connection: Connection) -> list[ModelVersion]:
            return _versions(connection, require_model(connection, model_id), sa.true())

        return self._db.read(work)

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
        changes: dict[str, Any] = {}
        if status is not None:
            changes["status"] = ModelVersionStatus(status).value
        if description is not None:
            changes["description"] = description
        if evaluation is not None:
            changes["evaluation"] = dict(evaluation)

        def work(connection: Connection) -> ModelVersion:
            model = require_model(connection, model_id, lock=True)
            before = version_or_none(connection, model, version)
            if before is None:
                raise NotFoundError(
                    f"model {model.name!r} has no version {version}", field="version"
                )
            if changes.get("status") == ModelVersionStatus.ARCHIVED.value and before.aliases:
                raise ConflictError(
                    f"{model.name}/{version} holds alias(es) {', '.join(before.aliases)}: move "
                    "them before archiving it",
                    field="status",
                )
            if changes:
                connection.execute(
                    versions.update()
                    .where(versions.c.model_id == model_id, versions.c.version == version)
                    .values(changes)
                )
            after = version_or_none(connection, model, version)
            assert after is not None
            if changes:
                action = "version.update"
                if "status" in changes and before.status.value != changes["status"]:
                    action = (
                        f"version.{'archive' if changes['status'] == 'archived' else 'restore'}"
                    )
                elif "evaluation" in changes:
                    action = "version.evaluate"
                append_event(
                    connection,
                    project_id=model.project_id,
                    actor=actor,
                    action=action,
                    entity_type="model_version",
                    entity_id=before.id,
                    entity_name=model.name,
                    before=_version_state(before),
                    after=_version_state(after),
                )
            return after

        return self._db.write(work)

    def set_alias(self, model_id: str, alias: str, version: int, *, actor: str) -> AliasChange:
        alias = check_alias(alias)

        def work(connection: Connection) -> AliasChange:
            model = require_model(connection, model_id, lock=True)
            return move_alias(connection, model, alias, version, actor, "alias.set")

        return self._db.write(work)

    def delete_alias(self, model_id: str, alias: str, *, actor: str) -> AliasChange:
        def work(connection: Connection) -> AliasChange:
            model = require_model(connection, model_id, lock=True)
            return move_alias(connection, model, alias, None, actor, "alias.delete")

        return self._db.write(work)

    def alias_history(self, model_id: str, alias: str | None = None) -> list[AliasChange]:
        def work(connection: Connection) -> list[AliasChange]:
            require_model(connection, model_id)
            query = sa.select(alias_changes).where(alias_changes.c.model_id == model_id)
            if alias is not None:
                query = query.where(alias_changes.c.alias == alias)
            return [
                AliasChange(
                    row.model_id,
                    row.alias,
                    row.version,
                    row.previous_version,
                    from_ms(row.changed_at),
                    row.changed_by,
                )
                for row in connection.execute(query.order_by(alias_changes.c.id))
            ]

        return self._db.read(work)


def _model_exists(name: str) -> AlreadyExistsError:
    return AlreadyExistsError(
        f"registered model {name!r} already exists in this project: register a new version "
        "of it or pick another name",
        field="model.name",
    )
