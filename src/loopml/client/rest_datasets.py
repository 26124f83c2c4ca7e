"""The dataset part of :class:`~loopml.client.rest_store.RestMetadataStore`.

Retries never duplicate a write: a version is identified by its content hash, so a
repeated ``create_dataset_version`` returns the version the first try made; lineage edges
are idempotent on the server; a create of a dataset that answers 409 on a retry returns
the dataset the lost first try made.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import httpx

from loopml.client.session import RestSession, error_from_response
from loopml.client.wire import parse_time
from loopml.core.datasets import (
    LATEST,
    Dataset,
    DatasetFile,
    DatasetVersion,
    LineageDirection,
    LineageEdge,
    check_dataset_name,
    check_role,
)
from loopml.core.entities import frozen_mapping
from loopml.core.errors import ValidationError
from loopml.core.ids import check_id
from loopml.core.validation import check_json_document
from loopml.metadata.datasets_base import BaseDatasetStore, DatasetVersionCreate

__all__ = ["RestDatasetStore"]


def dataset_from_json(body: Mapping[str, Any]) -> Dataset:
    return Dataset(
        id=body["id"],
        project_id=body["project_id"],
        name=body["name"],
        description=body.get("description") or "",
        created_at=parse_time(body["created_at"]),
        created_by=body.get("created_by") or "",
        n_versions=int(body.get("n_versions", 0)),
    )


def version_from_json(body: Mapping[str, Any]) -> DatasetVersion:
    return DatasetVersion(
        id=body["id"],
        dataset_id=body["dataset_id"],
        dataset_name=body["dataset_name"],
        project_id=body["project_id"],
        version=int(body["version"]),
        content_hash=body["content_hash"],
        n_rows=int(body["n_rows"]),
        n_bytes=int(body["n_bytes"]),
        arrow_schema=tuple(frozen_mapping(c) for c in body["arrow_schema"]),
        files=tuple(DatasetFile(**f) for f in body["files"]),
        created_at=parse_time(body["created_at"]),
        source_uri=body.get("source_uri") or "",
        description=body.get("description") or "",
        created_by=body.get("created_by") or "",
        profile=body.get("profile"),
        validation=body.get("validation"),
        tags=frozen_mapping(body.get("tags")),
    )


def edge_from_json(body: Mapping[str, Any]) -> LineageEdge:
    return LineageEdge(
        run_id=body["run_id"],
        dataset_version_id=body["dataset_version_id"],
        direction=LineageDirection(body["direction"]),
        role=body["role"],
        created_at=parse_time(body["created_at"]),
    )


def _strict_json(value: Mapping[str, Any] | None, field: str) -> dict[str, Any] | None:
    """Refuse NaN and Infinity here, as the SQL store does (JSON on the wire would lose them)."""
    return None if value is None else check_json_document(value, field)


class RestDatasetStore(BaseDatasetStore):
    """Datasets, versions and lineage over ``/api/v1``; mixed into RestMetadataStore."""

    session: RestSession

    def _decode(self, response: httpx.Response, decoder: Any) -> Any:
        raise NotImplementedError  # provided by RestMetadataStore

    def _get(self, path: str, decoder: Any, **params: Any) -> Any:
        raise NotImplementedError  # provided by RestMetadataStore

    def create_dataset(
        self, project_id: str, name: str, description: str = "", created_by: str = ""
    ) -> Dataset:
        """Create a dataset; the server records the token's user as its creator."""
        name = check_dataset_name(name, field="dataset.name")
        body = {"name": name, "description": description}
        path = f"/projects/{check_id(project_id, field='project_id')}/datasets"
        response, tries = self.session.send("POST", path, json=body)
        if response.status_code == 409 and tries > 1:
            existing = self.get_dataset_by_name(project_id, name)
            if existing.description == description:
                return existing
        if response.is_error:
            raise error_from_response(response)
        dataset: Dataset = self._decode(response, dataset_from_json)
        return dataset

    def get_dataset(self, dataset_id: str) -> Dataset:
        found: Dataset = self._get(
            f"/datasets/{check_id(dataset_id, field='dataset_id')}", dataset_from_json
        )
        return found

    def get_dataset_by_name(self, project_id: str, name: str) -> Dataset:
        name = check_dataset_name(name, field="dataset")
        path = f"/projects/{check_id(project_id, field='project_id')}/datasets/by-name/{name}"
        found: Dataset = self._get(path, dataset_from_json)
        return found

    def list_datasets(self, project_id: str) -> list[Dataset]:
        found: list[Dataset] = self._get(
            f"/projects/{check_id(project_id, field='project_id')}/datasets",
            lambda body: [dataset_from_json(d) for d in body["datasets"]],
        )
        return found

    def create_dataset_version(self, version: DatasetVersionCreate) -> DatasetVersion:
        if not version.files:
            raise ValidationError("a dataset version needs at least one file", field="files")
        body = {
            "content_hash": version.content_hash,
            "n_rows": version.n_rows,
            "n_bytes": version.n_bytes,
            "arrow_schema": [dict(column) for column in version.arrow_schema],
            "files": [dataclasses.asdict(file) for file in version.files],
            "source_uri": version.source_uri,
            "description": version.description,
            "profile": _strict_json(version.profile, "profile"),
            "validation": _strict_json(version.validation, "validation"),
            "tags": dict(version.tags),
        }
        dataset_id = check_id(version.dataset_id, field="dataset_id")
        response = self.session.request("POST", f"/datasets/{dataset_id}/versions", json=body)
        created: DatasetVersion = self._decode(response, version_from_json)
        return created

    def get_dataset_version(self, version_id: str) -> DatasetVersion:
        found: DatasetVersion = self._get(
            f"/dataset-versions/{check_id(version_id, field='dataset_version_id')}",
            version_from_json,
        )
        return found

    def get_dataset_version_by_number(
        self, dataset_id: str, version: int | None = None
    ) -> DatasetVersion:
        number = LATEST if version is None else str(int(version))
        found: DatasetVersion = self._get(
            f"/datasets/{check_id(dataset_id, field='dataset_id')}/versions/{number}",
            version_from_json,
        )
        return found

    def find_dataset_version(self, dataset_id: str, content_hash: str) -> DatasetVersion | None:
        found: list[DatasetVersion] = self._get(
            f"/datasets/{check_id(dataset_id, field='dataset_id')}/versions",
            lambda body: [version_from_json(v) for v in body["versions"]],
            content_hash=content_hash,
        )
        return found[0] if found else None

    def list_dataset_versions(self, dataset_id: str) -> list[DatasetVersion]:
        found: list[DatasetVersion] = self._get(
            f"/datasets/{check_id(dataset_id, field='dataset_id')}/versions",
            lambda body: [version_from_json(v) for v in body["versions"]],
        )
        return found

    def update_dataset_version(
        self,
        version_id: str,
        *,
        profile: Mapping[str, Any] | None = None,
        validation: Mapping[str, Any] | None = None,
    ) -> DatasetVersion:
        body = {
            "profile": _strict_json(profile, "profile"),
            "validation": _strict_json(validation, "validation"),
        }
        response = self.session.request(
            "PATCH",
            f"/dataset-versions/{check_id(version_id, field='dataset_version_id')}",
            json=body,
        )
        updated: DatasetVersion = self._decode(response, version_from_json)
        return updated

    def log_lineage(
        self, run_id: str, dataset_version_id: str, direction: LineageDirection, role: str
    ) -> LineageEdge:
        body = {
            "dataset_version_id": dataset_version_id,
            "direction": LineageDirection(direction).value,
            "role": check_role(role),
        }
        response = self.session.request(
            "POST", f"/runs/{check_id(run_id, field='run_id')}/lineage", json=body
        )
        edge: LineageEdge = self._decode(response, edge_from_json)
        return edge

    def list_lineage(
        self, *, run_id: str | None = None, dataset_version_id: str | None = None
    ) -> list[LineageEdge]:
        if run_id is None and dataset_version_id is None:
            raise ValidationError("list_lineage needs run_id or dataset_version_id", field="run_id")
        params = {
            name: value
            for name, value in (("run_id", run_id), ("dataset_version_id", dataset_version_id))
            if value is not None
        }
        edges: list[LineageEdge] = self._get(
            "/lineage", lambda body: [edge_from_json(e) for e in body["edges"]], **params
        )
        return edges
