"""The store interface of datasets, dataset versions and lineage.

Part of :class:`~loopml.metadata.base.BaseMetadataStore` and bound by its contract
(snapshots, atomic writes, thread safety, the error tree). In addition:

* **Version numbers come from the store.** ``create_dataset_version`` numbers versions
  1, 2, ... per dataset inside its transaction, so concurrent registrations never share or
  skip a number.
* **Content identity.** A version is identified by its content hash within its dataset:
  creating a version whose hash the dataset already has returns the existing version and
  writes nothing, even when two callers race.
* **Lineage is idempotent.** Logging the same (run, version, direction, role) twice keeps
  one edge.

The contract is executable: :mod:`loopml.testing.dataset_contract`.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loopml.core.datasets import (
    Dataset,
    DatasetFile,
    DatasetVersion,
    LineageDirection,
    LineageEdge,
)

__all__ = ["BaseDatasetStore", "DatasetVersionCreate"]


@dataclass(frozen=True, slots=True)
class DatasetVersionCreate:
    """What a new dataset version is recorded with; its files must already be stored."""

    dataset_id: str
    content_hash: str
    n_rows: int
    n_bytes: int
    arrow_schema: Sequence[Mapping[str, Any]]
    files: Sequence[DatasetFile]
    source_uri: str = ""
    description: str = ""
    created_by: str = ""
    profile: Mapping[str, Any] | None = None
    validation: Mapping[str, Any] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


class BaseDatasetStore(abc.ABC):
    """Datasets, their numbered versions, and the runs that read or wrote them."""

    @abc.abstractmethod
    def create_dataset(
        self, project_id: str, name: str, description: str = "", created_by: str = ""
    ) -> Dataset:
        """Create a dataset; AlreadyExistsError if the project has one of that name."""

    @abc.abstractmethod
    def get_dataset(self, dataset_id: str) -> Dataset:
        """The dataset with this id; NotFoundError otherwise."""

    @abc.abstractmethod
    def get_dataset_by_name(self, project_id: str, name: str) -> Dataset:
        """The project's dataset with this name; NotFoundError otherwise."""

    @abc.abstractmethod
    def list_datasets(self, project_id: str) -> list[Dataset]:
        """The project's datasets, by name, each with its number of versions."""

    def ensure_dataset(
        self, project_id: str, name: str, description: str = "", created_by: str = ""
    ) -> Dataset:
        """The dataset with this name, created if missing (safe under concurrency)."""
        from loopml.core.errors import AlreadyExistsError, NotFoundError

        try:
            return self.get_dataset_by_name(project_id, name)
        except NotFoundError:
            try:
                return self.create_dataset(project_id, name, description, created_by)
            except AlreadyExistsError:
                return self.get_dataset_by_name(project_id, name)

    @abc.abstractmethod
    def create_dataset_version(self, version: DatasetVersionCreate) -> DatasetVersion:
        """Record a version with the next number, or return the one with the same hash."""

    @abc.abstractmethod
    def get_dataset_version(self, version_id: str) -> DatasetVersion:
        """The version with this id; NotFoundError otherwise."""

    @abc.abstractmethod
    def get_dataset_version_by_number(
        self, dataset_id: str, version: int | None = None
    ) -> DatasetVersion:
        """Version ``version`` of a dataset, or its latest when None; NotFoundError otherwise."""

    @abc.abstractmethod
    def find_dataset_version(self, dataset_id: str, content_hash: str) -> DatasetVersion | None:
        """The dataset's version with this content hash, if any."""

    @abc.abstractmethod
    def list_dataset_versions(self, dataset_id: str) -> list[DatasetVersion]:
        """The dataset's versions, newest first."""

    @abc.abstractmethod
    def update_dataset_version(
        self,
        version_id: str,
        *,
        profile: Mapping[str, Any] | None = None,
        validation: Mapping[str, Any] | None = None,
    ) -> DatasetVersion:
        """Replace a version's profile and/or validation report (the data never changes)."""

    @abc.abstractmethod
    def log_lineage(
        self, run_id: str, dataset_version_id: str, direction: LineageDirection, role: str
    ) -> LineageEdge:
        """Record that a run read or wrote a version; NotFoundError for unknown ids."""

    @abc.abstractmethod
    def list_lineage(
        self, *, run_id: str | None = None, dataset_version_id: str | None = None
    ) -> list[LineageEdge]:
        """Edges of one run and/or one version (at least one is required), oldest first."""
