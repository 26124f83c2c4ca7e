"""Registering, reading and linking dataset versions (DatasetService on SQLite + a folder)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loopml.artifacts.local import LocalArtifactStore
from loopml.core.datasets import LineageDirection
from loopml.core.errors import DataValidationError, NotFoundError, ValidationError
from loopml.core.validation_report import ValidationReport
from loopml.datasets.schema_file import parse_schema
from loopml.datasets.service import DatasetService
from loopml.metadata.datasets_base import DatasetVersionCreate
from loopml.metadata.sql import SqlMetadataStore

SCHEMA = parse_schema(
    """
version: 1
name: people
columns:
  age: {dtype: int64, min: 0, max: 120}
  plan: {dtype: string, isin: [basic, pro]}
"""
)


def _frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": rng.integers(18, 90, n), "plan": rng.choice(["basic", "pro"], n)})


class _FailingStore(SqlMetadataStore):
    """A store whose version records cannot be written: a crash after the blobs are stored."""

    def create_dataset_version(self, version: DatasetVersionCreate) -> object:  # type: ignore[override]
        raise OSError("disk full")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlMetadataStore]:
    with SqlMetadataStore(f"sqlite:///{tmp_path}/loopml.db") as opened:
        yield opened


@pytest.fixture
def artifacts(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "artifacts")


@pytest.fixture
def service(
    store: SqlMetadataStore, artifacts: LocalArtifactStore, tmp_path: Path
) -> DatasetService:
    project = store.ensure_project("people")
    return DatasetService(store, artifacts, project, user="ada", cache_dir=tmp_path / "cache")


def _blobs(root: Path) -> list[Path]:
    return sorted(p for p in (root / "blobs").rglob("*") if p.is_file()) if root.exists() else []


def test_a_frame_becomes_version_1_with_schema_rows_profile_and_creator(
    service: DatasetService,
) -> None:
    version = service.register("people", _frame(), description="first")
    assert version.ref == "people@1"
    assert version.n_rows == 200
    assert version.column_names == ["age", "plan"]
    assert version.created_by == "ada"
    assert version.description == "first"
    assert version.content_hash.startswith("blake3:")
    assert version.profile is not None
    assert version.profile["n_rows"] == 200
    assert service.read_table("people@1").num_rows == 200


@pytest.mark.parametrize("kind", ["pandas", "polars", "arrow", "parquet", "csv", "folder"])
def test_every_accepted_input_reads_back_the_same_rows(
    service: DatasetService, tmp_path: Path, kind: str
) -> None:
    frame = _frame()
    data: object
    if kind == "pandas":
        data = frame
    elif kind == "polars":
        data = pl.from_pandas(frame)
    elif kind == "arrow":
        data = pa.Table.from_pandas(frame, preserve_index=False)
    elif kind == "parquet":
        data = tmp_path / "people.parquet"
        frame.to_parquet(data, index=False)
    elif kind == "csv":
        data = tmp_path / "people.csv"
        frame.to_csv(data, index=False)
    else:
        data = tmp_path / "parts"
        data.mkdir()
        frame.iloc[:120].to_parquet(data / "a.parquet", index=False)
        frame.iloc[120:].to_parquet(data / "b.parquet", index=False)
    version = service.register("people", data, profile=False)
    back = service.read_table(version).to_pandas()
    assert back["age"].tolist() == frame["age"].tolist()
    assert back["plan"].astype(str).tolist() == frame["plan"].tolist()
    assert sum(batch.num_rows for batch in service.iter_batches(version, batch_size=50)) == 200


def test_the_same_data_again_returns_the_version_and_stores_nothing(
    service: DatasetService, artifacts: LocalArtifactStore, tmp_path: Path
) -> None:
    path = tmp_path / "people.parquet"
    _frame().to_parquet(path, index=False)
    first = service.register("people", path)
    blobs = _blobs(tmp_path / "artifacts")
    again = service.register("people", path, description="ignored")
    assert again == first
    assert _blobs(tmp_path / "artifacts") == blobs
    other = service.register("people-copy", path)  # another dataset: a record, no new blob
    assert other.ref == "people-copy@1"
    assert _blobs(tmp_path / "artifacts") == blobs
    changed = service.register("people", _frame(seed=1))
    assert changed.version == 2


def test_versions_are_found_by_reference(service: DatasetService) -> None:
    service.register("people", _frame(seed=0), profile=False)
    second = service.register("people", _frame(seed=1), profile=False)
    assert service.get_version("people@latest") == second
    assert service.get_version("people") == second
    assert service.get_version("people@1").version == 1
    assert service.get_version(second.id) == second
    with pytest.raises(NotFoundError):
        service.get_version("people@3")
    with pytest.raises(NotFoundError):
        service.get_version("nobody@1")
    with pytest.raises(ValidationError) as caught:
        service.get_version("people@three")
    assert "three" in str(caught.value)


def test_path_holds_the_files_under_their_names(service: DatasetService, tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    _frame().iloc[:100].to_parquet(folder / "a.parquet", index=False)
    _frame().iloc[100:].to_parquet(folder / "b.parquet", index=False)
    version = service.register("people", folder, profile=False)
    path = service.path(version)
    assert sorted(p.name for p in path.iterdir()) == ["a.parquet", "b.parquet"]
    assert len(pd.read_parquet(path)) == 200


def test_invalid_data_is_refused_with_the_report_and_nothing_is_stored(
    service: DatasetService, store: SqlMetadataStore, tmp_path: Path
) -> None:
    bad = _frame()
    bad.loc[:4, "age"] = -3
    with pytest.raises(DataValidationError) as caught:
        service.register("people", bad, schema=SCHEMA, require_valid=True)
    report = caught.value.report
    assert isinstance(report, ValidationReport)
    assert not report.passed
    assert [(f.column, f.n_failing) for f in report.failures] == [("age", 5)]
    assert "age" in str(caught.value)
    assert store.list_datasets(service.project.id) == []
    assert _blobs(tmp_path / "artifacts") == []


def test_a_report_is_kept_with_a_version_registered_without_require_valid(
    service: DatasetService,
) -> None:
    bad = _frame()
    bad.loc[:1, "plan"] = "gold"
    version = service.register("people", bad, schema=SCHEMA)
    assert version.validation is not None
    assert not version.validation["passed"]
    report = service.validate("people@1", SCHEMA)
    assert report.failures[0].column == "plan"
    good = service.validate(_frame(), SCHEMA)
    assert good.passed


def test_require_valid_without_a_schema_is_refused(service: DatasetService) -> None:
    with pytest.raises(ValidationError) as caught:
        service.register("people", _frame(), require_valid=True)
    assert caught.value.field == "schema"


def test_a_failed_record_write_leaves_no_orphaned_blob(tmp_path: Path) -> None:
    with _FailingStore(f"sqlite:///{tmp_path}/loopml.db") as store:
        project = store.ensure_project("people")
        service = DatasetService(store, LocalArtifactStore(tmp_path / "artifacts"), project)
        with pytest.raises(OSError, match="disk full"):
            service.register("people", _frame(), profile=False)
        assert _blobs(tmp_path / "artifacts") == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "people.xlsx", "unsupported file type"),
        (lambda p: p / "missing.csv", "does not exist"),
    ],
)
def test_unsupported_or_missing_files_are_refused(
    service: DatasetService, tmp_path: Path, make: object, message: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    if path.suffix == ".xlsx":
        path.write_bytes(b"PK\x03\x04")
    with pytest.raises(ValidationError, match=message):
        service.register("people", path)


def test_a_column_of_mixed_types_is_named(service: DatasetService) -> None:
    frame = pd.DataFrame({"age": [1, 2, 3], "code": [1, "two", 3.0]})
    with pytest.raises(ValidationError) as caught:
        service.register("people", frame)
    assert caught.value.field == "columns.code"
    assert "'code'" in str(caught.value)


def test_empty_data_is_refused(service: DatasetService) -> None:
    with pytest.raises(ValidationError, match="empty"):
        service.register("people", pd.DataFrame({"age": pd.Series([], dtype="int64")}))


def test_a_csv_with_a_broken_row_names_its_line(service: DatasetService, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("age,plan\n30,basic\n41,pro,extra\n50,basic\n")
    with pytest.raises(ValidationError) as caught:
        service.register("people", path)
    assert "line 3" in str(caught.value)
    assert "expected 2 fields, got 3" in str(caught.value)


def test_a_csv_whose_column_changes_type_after_the_first_block_is_refused(
    service: DatasetService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loopml.datasets import sources

    monkeypatch.setattr(sources, "_CSV_BLOCK", 4096)  # types come from the first block
    path = tmp_path / "people.csv"
    rows = "\n".join(f"{i},basic" for i in range(5_000))
    path.write_text(f"age,plan\n{rows}\nthirty,basic\n")
    with pytest.raises(ValidationError) as caught:
        service.register("people", path, profile=False)
    assert "thirty" in str(caught.value)


def test_a_folder_of_files_with_different_schemas_is_refused(
    service: DatasetService, tmp_path: Path
) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    _frame().to_parquet(folder / "a.parquet", index=False)
    _frame().assign(age=lambda f: f.age.astype(float)).to_parquet(folder / "b.parquet")
    with pytest.raises(ValidationError, match="column 'age'"):
        service.register("people", folder)


def test_two_files_stored_under_one_name_are_refused(
    service: DatasetService, tmp_path: Path
) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    _frame().to_parquet(folder / "a.parquet", index=False)
    _frame().to_csv(folder / "a.csv", index=False)
    with pytest.raises(ValidationError, match="rename one"):
        service.register("people", folder)


def test_a_bad_dataset_name_is_refused_before_any_work(service: DatasetService) -> None:
    with pytest.raises(ValidationError) as caught:
        service.register("people/../x", _frame())
    assert caught.value.field == "name"


def test_lineage_links_a_run_to_versions(service: DatasetService, store: SqlMetadataStore) -> None:
    from loopml.tracking.active_run import ActiveRun
    from loopml.tracking.service import TrackingService

    version = service.register("people", _frame(), profile=False)
    tracking = TrackingService(store, service.artifacts, service.project)
    with ActiveRun(tracking, tracking.start_run("train", "r1")) as run:
        run.log_input(version, role="train")
        run.log_input("people@1", role="test")
        run.log_output(version.id, role="scored")
        with pytest.raises(ValidationError):
            run.log_input(42, role="train")
    edges = store.list_lineage(run_id=run.id)
    assert [(e.direction, e.role) for e in edges] == [
        (LineageDirection.INPUT, "train"),
        (LineageDirection.INPUT, "test"),
        (LineageDirection.OUTPUT, "scored"),
    ]
    from loopml.datasets.lineage import lineage_trees

    upstream, downstream = lineage_trees(store, "dataset_version", version.id)
    assert upstream.children[0].role == "scored"  # the run that wrote it
    assert {c.role for c in downstream.children} == {"train", "test"}
    assert downstream.children[0].label.startswith("run r1")


def test_a_parquet_file_is_registered_without_rewriting_it(
    service: DatasetService, tmp_path: Path
) -> None:
    path = tmp_path / "people.parquet"
    pq.write_table(pa.Table.from_pandas(_frame(), preserve_index=False), path)
    version = service.register("people", path, profile=False)
    stored = service.local_files(version)[0]
    assert stored.read_bytes() == path.read_bytes()
    assert version.source_uri == path.resolve().as_uri()


def test_a_diff_skips_columns_without_a_drift_measure(service: DatasetService) -> None:
    frame = _frame().assign(note=lambda f: [f"free text {i}" for i in range(len(f))])
    service.register("people", frame)
    later = _frame(seed=1).assign(age=lambda f: f.age + 30, note="other text")
    service.register("people", later)
    diff = service.diff("people@1", "people@2")
    by_name = {c.name: c for c in diff.columns}
    assert by_name["note"].drift_score is None
    assert by_name["age"].drifted


class _RacedStore(SqlMetadataStore):
    """Another registration of the same content records its version, then ours fails."""

    def create_dataset_version(self, version: DatasetVersionCreate) -> object:  # type: ignore[override]
        other = self.ensure_dataset(self.project_id, "other")  # type: ignore[attr-defined]
        super().create_dataset_version(dataclasses.replace(version, dataset_id=other.id))
        raise OSError("connection lost")


def test_a_failed_registration_keeps_a_blob_a_concurrent_one_recorded(tmp_path: Path) -> None:
    with _RacedStore(f"sqlite:///{tmp_path}/loopml.db") as store:
        project = store.ensure_project("people")
        store.project_id = project.id  # type: ignore[attr-defined]
        service = DatasetService(store, LocalArtifactStore(tmp_path / "artifacts"), project)
        with pytest.raises(OSError, match="connection lost"):
            service.register("people", _frame(), profile=False)
        (other,) = store.list_dataset_versions(store.get_dataset_by_name(project.id, "other").id)
        assert service.read_table(other).num_rows == 200  # its blob is still there
