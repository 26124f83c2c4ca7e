"""Projects and experiments of the SQL store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.core.clock import from_ms, now_ms, to_ms
from loopml.core.entities import Experiment, Project, frozen_mapping
from loopml.core.errors import AlreadyExistsError, NotFoundError
from loopml.core.ids import new_id
from loopml.core.validation import check_key, check_name, check_tag_value
from loopml.metadata.base import BaseExperimentStore, BaseProjectStore
from loopml.metadata.sql.engine import Database
from loopml.metadata.sql.schema import ExperimentRow, ExperimentTagRow, ProjectRow, RunRow, table_of

__all__ = ["SqlExperimentStore", "SqlProjectStore"]

projects = table_of(ProjectRow)
experiments = table_of(ExperimentRow)
experiment_tags = table_of(ExperimentTagRow)
runs = table_of(RunRow)


def _project(row: sa.Row[Any, Any]) -> Project:
    return Project(
        id=row.id, name=row.name, description=row.description, created_at=from_ms(row.created_at)
    )


class SqlProjectStore(BaseProjectStore):
    """Projects in a SQL database."""

    _db: Database

    def create_project(self, name: str, description: str = "") -> Project:
        name = check_name(name, field="project.name")
        project = Project(new_id(), name, description, from_ms(now_ms()))
        row = {
            "id": project.id,
            "name": name,
            "description": description,
            "created_at": to_ms(project.created_at),
        }

        def work(connection: Connection) -> None:
            exists = connection.execute(
                sa.select(projects.c.id).where(projects.c.name == name)
            ).first()
            if exists is not None:
                raise _project_exists(name)
            connection.execute(projects.insert(), row)

        # A concurrent create that wins the race breaks the unique name.
        self._db.write(work, on_integrity=lambda: _project_exists(name))
        return project

    def get_project(self, project_id: str) -> Project:
        row = self._db.read(
            lambda c: c.execute(sa.select(projects).where(projects.c.id == project_id)).first()
        )
        if row is None:
            raise NotFoundError(f"project {project_id!r} not found", field="project_id")
        return _project(row)

    def get_project_by_name(self, name: str) -> Project:
        row = self._db.read(
            lambda c: c.execute(sa.select(projects).where(projects.c.name == name)).first()
        )
        if row is None:
            raise NotFoundError(f"project {name!r} not found", field="project.name")
        return _project(row)

    def list_projects(self) -> list[Project]:
        rows = self._db.read(lambda c: c.execute(sa.select(projects)).all())
        return sorted((_project(row) for row in rows), key=lambda p: p.name)


def _project_exists(name: str) -> AlreadyExistsError:
    return AlreadyExistsError(f"project {name!r} already exists", field="project.name")


def _experiment_exists(name: str) -> AlreadyExistsError:
    return AlreadyExistsError(
        f"experiment {name!r} already exists in this project: pick another name",
        field="experiment.name",
    )


def _require_project(connection: Connection, project_id: str) -> None:
    found = connection.execute(sa.select(projects.c.id).where(projects.c.id == project_id)).first()
    if found is None:
        raise NotFoundError(f"project {project_id!r} not found", field="project_id")


def _load_experiments(connection: Connection, where: sa.ColumnElement[bool]) -> list[Experiment]:
    rows = connection.execute(sa.select(experiments).where(where)).all()
    tags: dict[str, dict[str, str]] = {row.id: {} for row in rows}
    if rows:
        for experiment_id, key, value in connection.execute(
            sa.select(experiment_tags).where(experiment_tags.c.experiment_id.in_(list(tags)))
        ):
            tags[experiment_id][key] = value
    return [
        Experiment(
            id=row.id,
            project_id=row.project_id,
            name=row.name,
            description=row.description,
            created_at=from_ms(row.created_at),
            tags=frozen_mapping(tags[row.id]),
            deleted=bool(row.deleted),
        )
        for row in rows
    ]


class SqlExperimentStore(BaseExperimentStore):
    """Experiments in a SQL database."""

    _db: Database

    def create_experiment(
        self,
        project_id: str,
        name: str,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> Experiment:
        name = check_name(name, field="experiment.name")
        clean_tags = {
            check_key(k, kind="tag"): check_tag_value(k, v) for k, v in (tags or {}).items()
        }
        experiment_id = new_id()
        row = {
            "id": experiment_id,
            "project_id": project_id,
            "name": name,
            "description": description,
            "created_at": now_ms(),
            "deleted": False,
        }

        def work(connection: Connection) -> None:
            _require_project(connection, project_id)
            exists = connection.execute(
                sa.select(experiments.c.id).where(
                    experiments.c.project_id == project_id, experiments.c.name == name
                )
            ).first()
            if exists is not None:
                raise _experiment_exists(name)
            connection.execute(experiments.insert(), row)
            if clean_tags:
                connection.execute(
                    experiment_tags.insert(),
                    [
                        {"experiment_id": experiment_id, "key": k, "value": v}
                        for k, v in clean_tags.items()
                    ],
                )

        self._db.write(work, on_integrity=lambda: _experiment_exists(name))
        return Experiment(
            id=experiment_id,
            project_id=project_id,
            name=name,
            description=description,
            created_at=from_ms(row["created_at"]),  # type: ignore[arg-type]
            tags=frozen_mapping(clean_tags),
        )

    def get_experiment(self, experiment_id: str) -> Experiment:
        found = self._db.read(lambda c: _load_experiments(c, experiments.c.id == experiment_id))
        if not found:
            raise NotFoundError(f"experiment {experiment_id!r} not found", field="experiment_id")
        return found[0]

    def get_experiment_by_name(self, project_id: str, name: str) -> Experiment:
        found = self._db.read(
            lambda c: _load_experiments(
                c, sa.and_(experiments.c.project_id == project_id, experiments.c.name == name)
            )
        )
        if not found:
            raise NotFoundError(
                f"experiment {name!r} not found in project {project_id!r}",
                field="experiment.name",
            )
        return found[0]

    def list_experiments(self, project_id: str, include_deleted: bool = False) -> list[Experiment]:
        def work(connection: Connection) -> list[Experiment]:
            _require_project(connection, project_id)
            where = experiments.c.project_id == project_id
            if not include_deleted:
                where = sa.and_(where, experiments.c.deleted == sa.false())
            return _load_experiments(connection, where)

        return sorted(self._db.read(work), key=lambda e: e.name)

    def delete_experiment(self, experiment_id: str) -> None:
        def work(connection: Connection) -> None:
            result = connection.execute(
                experiments.update().where(experiments.c.id == experiment_id).values(deleted=True)
            )
            if result.rowcount == 0:
                raise NotFoundError(
                    f"experiment {experiment_id!r} not found", field="experiment_id"
                )
            connection.execute(
                runs.update().where(runs.c.experiment_id == experiment_id).values(deleted=True)
            )

        self._db.write(work)
