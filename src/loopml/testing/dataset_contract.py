"""The dataset part of the metadata store contract (datasets, versions, lineage).

:class:`~loopml.testing.MetadataStoreContract` includes these tests; they need the same
``store`` fixture, a fresh empty :class:`~loopml.metadata.base.BaseMetadataStore`.
"""

from __future__ import annotations

import hashlib
import math
import threading
from datetime import UTC, datetime

import pytest

from loopml.core.datasets import DatasetFile, LineageDirection
from loopml.core.errors import AlreadyExistsError, NotFoundError, ValidationError
from loopml.metadata.base import BaseMetadataStore, RunCreate
from loopml.metadata.datasets_base import DatasetVersionCreate

__all__ = ["DatasetStoreContract"]

UNKNOWN_ID = "0" * 32
SCHEMA = ({"name": "age", "type": "int64", "nullable": True},)


def _file(content: str) -> DatasetFile:
    hex_digest = hashlib.sha256(content.encode()).hexdigest()
    blob = f"blobs/{hex_digest[:2]}/{hex_digest}"
    return DatasetFile("part-0.parquet", blob, 120, f"blake3:{hex_digest}", 3)


def _create(dataset_id: str, content: str, **changes: object) -> DatasetVersionCreate:
    fields: dict[str, object] = {
        "dataset_id": dataset_id,
        "content_hash": "blake3:" + hashlib.sha256(content.encode() * 2).hexdigest(),
        "n_rows": 3,
        "n_bytes": 120,
        "arrow_schema": SCHEMA,
        "files": (_file(content),),
        "source_uri": "file:///data/churn.parquet",
        "created_by": "ada",
    }
    fields.update(changes)
    return DatasetVersionCreate(**fields)  # type: ignore[arg-type]


class DatasetStoreContract:
    """Datasets, numbered versions and lineage; subclass with a ``store`` fixture."""

    @pytest.fixture
    def project_id(self, store: BaseMetadataStore) -> str:
        return store.ensure_project("churn-data").id

    def test_a_dataset_is_created_found_and_listed(
        self, store: BaseMetadataStore, project_id: str
    ) -> None:
        created = store.create_dataset(project_id, "churn", "raw churn table", created_by="ada")
        assert (created.name, created.description) == ("churn", "raw churn table")
        # A server records the caller's user instead of the one asked for.
        assert created.created_by
        assert created.n_versions == 0
        assert store.get_dataset(created.id) == created
        assert store.get_dataset_by_name(project_id, "churn") == created
        store.create_dataset(project_id, "alpha")
        assert [d.name for d in store.list_datasets(project_id)] == ["alpha", "churn"]

    def test_a_dataset_name_clash_is_refused(
        self, store: BaseMetadataStore, project_id: str
    ) -> None:
        store.create_dataset(project_id, "churn")
        with pytest.raises(AlreadyExistsError) as caught:
            store.create_dataset(project_id, "churn")
        assert caught.value.field == "dataset.name"
        assert store.ensure_dataset(project_id, "churn").name == "churn"

    @pytest.mark.parametrize("name", ["", "a b", "churn@3", "../x", "x/y", "-lead"])
    def test_a_bad_dataset_name_is_refused(
        self, store: BaseMetadataStore, project_id: str, name: str
    ) -> None:
        with pytest.raises(ValidationError) as caught:
            store.create_dataset(project_id, name)
        assert caught.value.field == "dataset.name"
        assert store.list_datasets(project_id) == []

    def test_unknown_datasets_and_versions_are_not_found(
        self, store: BaseMetadataStore, project_id: str
    ) -> None:
        with pytest.raises(NotFoundError):
            store.get_dataset(UNKNOWN_ID)
        with pytest.raises(NotFoundError):
            store.get_dataset_by_name(project_id, "nope")
        with pytest.raises(NotFoundError):
            store.get_dataset_version(UNKNOWN_ID)
        with pytest.raises(NotFoundError):
            store.create_dataset_version(_create(UNKNOWN_ID, "a"))
        dataset = store.create_dataset(project_id, "churn")
        with pytest.raises(NotFoundError) as caught:
            store.get_dataset_version_by_number(dataset.id)
        assert "no versions" in str(caught.value)
        with pytest.raises(NotFoundError):
            store.get_dataset_version_by_number(dataset.id, 7)

    def test_versions_are_numbered_and_keep_their_records(
        self, store: BaseMetadataStore, project_id: str
    ) -> None:
        dataset = store.create_dataset(project_id, "churn")
        first = store.create_dataset_version(_create(dataset.id, "a", description="v1"))
        second = store.create_dataset_version(
            _create(dataset.id, "b", profile={"n_rows": 3, "columns": []}, tags={"k": "v"})
        )
        assert (first.version, second.version) == (1, 2)
        assert first.ref == "churn@1"
        assert (first.dataset_name, first.project_id) == ("churn", project_id)
        assert first.arrow_schema == SCHEMA
        assert first.column_names == ["age"]
        assert first.files[0] == _file("a")
        assert (first.n_rows, first.n_bytes) == (3, 120)
        assert first.created_by
        assert first.description == "v1"
        assert first.profile is None
        assert first.validation is None
        assert second.profile == {"n_rows": 3, "columns": []}
        assert dict(second.tags) == {"k": "v"}
        assert store.get_dataset_version(first.id) == first
        assert store.get_dataset_version_by_number(dataset.id, 1) == first
        assert store.get_dataset_version_by_number(dataset.id) == second
        assert [v.version for v in store.list_dataset_versions(dataset.id)] == [2, 1]
        assert store.get_dataset(dataset.id).n_versions == 2

    def test_the_same_content_returns_the_existing_version(
        self, store: BaseMetadataStore, project_id: str
    ) -> None:
        dataset = store.create_dataset(project_id, "churn")
        first = store.create_dataset_version(_create(dataset.id, "a"))
        again = store.create_dataset_version(_create(dataset.id, "a", description="other"))
        assert again == first
        assert store.find_dataset_version(dataset.id, first.content_hash) == first
        assert store.find_dataset_version(dataset.id, "blake3:none") is None
        assert len(store.list_dataset_versions(dataset.id)) == 1

    def test_concurrent_registrations_get_distinct_consecutive_numbers(
        self, store: BaseMetadataStore, project_id: str
    ) -> None:
        dataset = store.create_dataset(project_id, "churn")
        numbers: list[int] = []
        errors: list[BaseException] = []

        def register(content: str) -> None:
            try:
                numbers.append(store.create_dataset_version(_create(dataset.id, content)).version)
            except BaseException as exc:  # collected and re-raised by the test thread
                errors.append(exc)

        threads = [threading.Thread(target=register, args=(c,)) for c in "abcdefgh"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sorted(numbers) == list(range(1, 9))

    def test_profile_and_validation_are_updated_and_non_json_refused(
        self, store: BaseMetadataStore, project_id: str
    ) -> None:
        dataset = store.create_dataset(project_id, "churn")
        version = store.create_dataset_version(_create(dataset.id, "a"))
        updated = store.update_dataset_version(version.id, validation={"passed": True})
        assert updated.validation == {"passed": True}
        assert version.validation is None  # the snapshot handed out before is unchanged
        with pytest.raises(ValidationError) as caught:
            store.update_dataset_version(version.id, profile={"mean": math.nan})
        assert caught.value.field == "profile"
        assert store.get_dataset_version(version.id).profile is None
        with pytest.raises(NotFoundError):
            store.update_dataset_version(UNKNOWN_ID, profile={})

    def test_a_version_without_files_is_refused(
        self, store: BaseMetadataStore, project_id: str
    ) -> None:
        dataset = store.create_dataset(project_id, "churn")
        with pytest.raises(ValidationError) as caught:
            store.create_dataset_version(_create(dataset.id, "a", files=()))
        assert caught.value.field == "files"
        assert store.list_dataset_versions(dataset.id) == []

    def test_lineage_links_runs_and_versions_once(
        self, store: BaseMetadataStore, project_id: str
    ) -> None:
        dataset = store.create_dataset(project_id, "churn")
        version = store.create_dataset_version(_create(dataset.id, "a"))
        experiment = store.ensure_experiment(project_id, "train")
        run = store.create_run(RunCreate(experiment.id, "r", datetime.now(UTC)))
        edge = store.log_lineage(run.id, version.id, LineageDirection.INPUT, "train")
        assert (edge.run_id, edge.dataset_version_id, edge.role) == (run.id, version.id, "train")
        assert edge.direction is LineageDirection.INPUT
        assert store.log_lineage(run.id, version.id, LineageDirection.INPUT, "train") == edge
        store.log_lineage(run.id, version.id, LineageDirection.INPUT, "test")
        assert [e.role for e in store.list_lineage(run_id=run.id)] == ["train", "test"]
        assert len(store.list_lineage(dataset_version_id=version.id)) == 2
        with pytest.raises(NotFoundError):
            store.log_lineage(UNKNOWN_ID, version.id, LineageDirection.INPUT, "train")
        with pytest.raises(NotFoundError):
            store.log_lineage(run.id, UNKNOWN_ID, LineageDirection.OUTPUT, "train")
        with pytest.raises(ValidationError) as caught:
            store.log_lineage(run.id, version.id, LineageDirection.INPUT, "Train Set!")
        assert caught.value.field == "role"
        assert len(store.list_lineage(run_id=run.id)) == 2
