"""Datasets, dataset versions and lineage of the SQL store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.core.clock import from_ms, now_ms
from loopml.core.datasets import (
    Dataset,
    DatasetFile,
    DatasetVersion,
    LineageDirection,
    LineageEdge,
    check_dataset_name,
    check_role,
)
from loopml.core.entities import frozen_mapping
from loopml.core.errors import AlreadyExistsError, ConflictError, NotFoundError, ValidationError
from loopml.core.ids import new_id
from loopml.core.validation import check_json_document
from loopml.metadata.datasets_base import BaseDatasetStore, DatasetVersionCreate
from loopml.metadata.sql.dataset_schema import DatasetRow, DatasetVersionRow, LineageRow
from loopml.metadata.sql.engine import Database
from loopml.metadata.sql.schema import ProjectRow, table_of
from loopml.metadata.sql.snapshots import require_run

__all__ = ["SqlDatasetStore"]

datasets = table_of(DatasetRow)
versions = table_of(DatasetVersionRow)
lineage = table_of(LineageRow)
projects = table_of(ProjectRow)

# A racing registration of the same dataset can lose the unique (dataset, version) or
# (dataset, hash) constraint; the loser looks again and returns or renumbers.
_MAX_ATTEMPTS = 8


def _dataset(row: sa.Row[Any, Any], n_versions: int) -> Dataset:
    return Dataset(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        description=row.description,
        created_at=from_ms(row.created_at),
        created_by=row.created_by,
        n_versions=n_versions,
    )


def _version(row: sa.Row[Any, Any]) -> DatasetVersion:
    return DatasetVersion(
        id=row.id,
        dataset_id=row.dataset_id,
        dataset_name=row.dataset_name,
        project_id=row.project_id,
        version=row.version,
        content_hash=row.content_hash,
        n_rows=row.n_rows,
        n_bytes=row.n_bytes,
        arrow_schema=tuple(frozen_mapping(column) for column in row.arrow_schema),
        files=tuple(DatasetFile(**file) for file in row.files),
        created_at=from_ms(row.created_at),
        source_uri=row.source_uri,
        description=row.description,
        created_by=row.created_by,
        profile=row.profile,
        validation=row.validation,
        tags=frozen_mapping(row.tags),
    )


_VERSION_COLUMNS = sa.select(
    versions, datasets.c.name.label("dataset_name"), datasets.c.project_id
).join(datasets, datasets.c.id == versions.c.dataset_id)


def _count_versions() -> sa.ScalarSelect[int]:
    return (
        sa.select(sa.func.count())
        .select_from(versions)
        .where(versions.c.dataset_id == datasets.c.id)
        .scalar_subquery()
    )


def _one_version(connection: Connection, where: sa.ColumnElement[bool]) -> DatasetVersion | None:
    row = connection.execute(_VERSION_COLUMNS.where(where)).first()
    return None if row is None else _version(row)


def _require_dataset(connection: Connection, dataset_id: str, *, lock: bool = False) -> None:
    query = sa.select(datasets.c.id).where(datasets.c.id == dataset_id)
    if lock:  # PostgreSQL: serialise version numbering per dataset; SQLite is already serial
        query = query.with_for_update()
    if connection.execute(query).first() is None:
        raise NotFoundError(f"dataset {dataset_id!r} not found", field="dataset_id")


def _edge(row: sa.Row[Any, Any]) -> LineageEdge:
    return LineageEdge(
        run_id=row.run_id,
        dataset_version_id=row.dataset_version_id,
        direction=LineageDirection(row.direction),
        role=row.role,
        created_at=from_ms(row.created_at),
    )


class SqlDatasetStore(BaseDatasetStore):
    """Datasets in a SQL database."""

    _db: Database

    def create_dataset(
        self, project_id: str, name: str, description: str = "", created_by: str = ""
    ) -> Dataset:
        name = check_dataset_name(name, field="dataset.name")
        row = {
            "id": new_id(),
            "project_id": project_id,
            "name": name,
            "description": description,
            "created_by": created_by,
            "created_at": now_ms(),
        }

        def work(connection: Connection) -> Dataset:
            found = connection.execute(
                sa.select(projects.c.id).where(projects.c.id == project_id)
            ).first()
            if found is None:
                raise NotFoundError(f"project {project_id!r} not found", field="project_id")
            clash = connection.execute(
                sa.select(datasets.c.id).where(
                    datasets.c.project_id == project_id, datasets.c.name == name
                )
            ).first()
            if clash is not None:
                raise _dataset_exists(name)
            connection.execute(datasets.insert(), row)
            inserted = connection.execute(sa.select(datasets).where(datasets.c.id == row["id"]))
            return _dataset(inserted.one(), 0)

        return self._db.write(work, on_integrity=lambda: _dataset_exists(name))

    def get_dataset(self, dataset_id: str) -> Dataset:
        return self._get_dataset(datasets.c.id == dataset_id, f"dataset {dataset_id!r}")

    def get_dataset_by_name(self, project_id: str, name: str) -> Dataset:
        return self._get_dataset(
            sa.and_(datasets.c.project_id == project_id, datasets.c.name == name),
            f"dataset {name!r}",
        )

    def _get_dataset(self, where: sa.ColumnElement[bool], what: str) -> Dataset:
        query = sa.select(datasets, _count_versions().label("n_versions")).where(where)
        row = self._db.read(lambda c: c.execute(query).first())
        if row is None:
            raise NotFoundError(
                f"{what} not found: see `loopml data list` for the project's datasets",
                field="dataset",
            )
        return _dataset(row, row.n_versions)

    def list_datasets(self, project_id: str) -> list[Dataset]:
        query = (
            sa.select(datasets, _count_versions().label("n_versions"))
            .where(datasets.c.project_id == project_id)
            .order_by(datasets.c.name)
        )
        rows = self._db.read(lambda c: c.execute(query).all())
        return [_dataset(row, row.n_versions) for row in rows]

    def create_dataset_version(self, version: DatasetVersionCreate) -> DatasetVersion:
        row = _version_row(version)

        def work(connection: Connection) -> DatasetVersion:
            _require_dataset(connection, version.dataset_id, lock=True)
            existing = _one_version(
                connection,
                sa.and_(
                    versions.c.dataset_id == version.dataset_id,
                    versions.c.content_hash == version.content_hash,
                ),
            )
            if existing is not None:
                return existing
            latest = connection.execute(
                sa.select(sa.func.max(versions.c.version)).where(
                    versions.c.dataset_id == version.dataset_id
                )
            ).scalar()
            row["version"] = (latest or 0) + 1
            connection.execute(versions.insert(), row)
            created = _one_version(connection, versions.c.id == row["id"])
            assert created is not None
            return created

        for _ in range(_MAX_ATTEMPTS):
            try:
                return self._db.write(work, on_integrity=_VersionRace)
            except _VersionRace:
                continue
        raise ConflictError(
            f"dataset {version.dataset_id!r}: too many concurrent registrations; try again",
            field="dataset_id",
        )

    def get_dataset_version(self, version_id: str) -> DatasetVersion:
        found = self._db.read(lambda c: _one_version(c, versions.c.id == version_id))
        if found is None:
            raise NotFoundError(
                f"dataset version {version_id!r} not found", field="dataset_version_id"
            )
        return found

    def get_dataset_version_by_number(
        self, dataset_id: str, version: int | None = None
    ) -> DatasetVersion:
        def work(connection: Connection) -> DatasetVersion | None:
            _require_dataset(connection, dataset_id)
            number = version
            if number is None:
                number = connection.execute(
                    sa.select(sa.func.max(versions.c.version)).where(
                        versions.c.dataset_id == dataset_id
                    )
                ).scalar()
                if number is None:
                    return None
            return _one_version(
                connection,
                sa.and_(versions.c.dataset_id == dataset_id, versions.c.version == number),
            )

        found = self._db.read(work)
        if found is None:
            which = "has no versions yet" if version is None else f"has no version {version}"
            raise NotFoundError(f"dataset {dataset_id!r} {which}", field="version")
        return found

    def find_dataset_version(self, dataset_id: str, content_hash: str) -> DatasetVersion | None:
        return self._db.read(
            lambda c: _one_version(
                c,
                sa.and_(
                    versions.c.dataset_id == dataset_id, versions.c.content_hash == content_hash
                ),
            )
        )

    def list_dataset_versions(self, dataset_id: str) -> list[DatasetVersion]:
        def work(connection: Connection) -> list[DatasetVersion]:
            _require_dataset(connection, dataset_id)
            query = _VERSION_COLUMNS.where(versions.c.dataset_id == dataset_id).order_by(
                versions.c.version.desc()
            )
            return [_version(row) for row in connection.execute(query)]

        return self._db.read(work)

    def update_dataset_version(
        self,
        version_id: str,
        *,
        profile: Mapping[str, Any] | None = None,
        validation: Mapping[str, Any] | None = None,
    ) -> DatasetVersion:
        values: dict[str, Any] = {}
        if profile is not None:
            values["profile"] = check_json_document(profile, "profile")
        if validation is not None:
            values["validation"] = check_json_document(validation, "validation")

        def work(connection: Connection) -> DatasetVersion:
            if values:
                connection.execute(
                    versions.update().where(versions.c.id == version_id).values(values)
                )
            found = _one_version(connection, versions.c.id == version_id)
            if found is None:
                raise NotFoundError(
                    f"dataset version {version_id!r} not found", field="dataset_version_id"
                )
            return found

        return self._db.write(work)

    def log_lineage(
        self, run_id: str, dataset_version_id: str, direction: LineageDirection, role: str
    ) -> LineageEdge:
        row = {
            "run_id": run_id,
            "dataset_version_id": dataset_version_id,
            "direction": LineageDirection(direction).value,
            "role": check_role(role),
            "created_at": now_ms(),
        }
        key = sa.and_(*(lineage.c[name] == row[name] for name in _EDGE_KEY))

        def work(connection: Connection) -> LineageEdge:
            require_run(connection, run_id, write=True)
            found = connection.execute(
                sa.select(versions.c.id).where(versions.c.id == dataset_version_id)
            ).first()
            if found is None:
                raise NotFoundError(
                    f"dataset version {dataset_version_id!r} not found",
                    field="dataset_version_id",
                )
            existing = connection.execute(sa.select(lineage).where(key)).first()
            if existing is None:
                connection.execute(lineage.insert(), row)
                existing = connection.execute(sa.select(lineage).where(key)).one()
            return _edge(existing)

        try:
            return self._db.write(work, on_integrity=_VersionRace)
        except _VersionRace:  # a concurrent identical call won: the edge exists
            return self._db.read(lambda c: _edge(c.execute(sa.select(lineage).where(key)).one()))

    def list_lineage(
        self, *, run_id: str | None = None, dataset_version_id: str | None = None
    ) -> list[LineageEdge]:
        if run_id is None and dataset_version_id is None:
            raise ValidationError("list_lineage needs run_id or dataset_version_id", field="run_id")
        conditions = []
        if run_id is not None:
            conditions.append(lineage.c.run_id == run_id)
        if dataset_version_id is not None:
            conditions.append(lineage.c.dataset_version_id == dataset_version_id)
        query = (
            sa.select(lineage)
            .where(*conditions)
            .order_by(lineage.c.created_at, lineage.c.direction, lineage.c.role)
        )
        return [_edge(row) for row in self._db.read(lambda c: c.execute(query).all())]


_EDGE_KEY = ("run_id", "dataset_version_id", "direction", "role")


class _VersionRace(ConflictError):
    def __init__(self) -> None:
        super().__init__("a concurrent write won the race")


def _dataset_exists(name: str) -> AlreadyExistsError:
    return AlreadyExistsError(
        f"dataset {name!r} already exists in this project: register a new version of it "
        "or pick another name",
        field="dataset.name",
    )


def _version_row(version: DatasetVersionCreate) -> dict[str, Any]:
    if version.n_rows < 0 or version.n_bytes < 0:
        raise ValidationError("n_rows and n_bytes must be >= 0", field="n_rows")
    if not version.files:
        raise ValidationError("a dataset version needs at least one file", field="files")
    return {
        "id": new_id(),
        "dataset_id": version.dataset_id,
        "content_hash": version.content_hash,
        "n_rows": version.n_rows,
        "n_bytes": version.n_bytes,
        "arrow_schema": [dict(column) for column in version.arrow_schema],
        "files": [
            {
                "name": f.name,
                "blob_path": f.blob_path,
                "size": f.size,
                "digest": f.digest,
                "n_rows": f.n_rows,
            }
            for f in version.files
        ],
        "source_uri": version.source_uri,
        "description": version.description,
        "created_by": version.created_by,
        "created_at": now_ms(),
        "profile": None
        if version.profile is None
        else check_json_document(version.profile, "profile"),
        "validation": (
            None
            if version.validation is None
            else check_json_document(version.validation, "validation")
        ),
        "tags": dict(version.tags),
    }
