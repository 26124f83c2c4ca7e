"""Dataset versions: register, read, profile, validate and link to runs.

:class:`DatasetService` is written against the two store interfaces: the metadata store
keeps the records, the artifact store the Parquet files as content-addressed blobs of the
project (``blobs/<2 hex>/<digest>``), so identical files are stored once whatever their
dataset or version.

Registering is: stage the data as Parquet (sources.py) → hash each file → if the dataset
already has a version with that content, return it (nothing is written) → validate
against a schema if one is given → profile → store the blobs → record the version. A
failure at any step leaves no version, and the blobs this call wrote are removed again.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from loopml.artifacts.base import BaseArtifactStore, blob_path
from loopml.artifacts.hashing import hash_bytes, hash_file
from loopml.core.datasets import (
    Dataset,
    DatasetFile,
    DatasetRef,
    DatasetVersion,
    LineageDirection,
    LineageEdge,
    check_dataset_name,
    parse_dataset_ref,
)
from loopml.core.entities import Project
from loopml.core.errors import DataValidationError, LoopmlError, NotFoundError
from loopml.core.validation_report import ValidationReport
from loopml.datasets.sources import StagedData, arrow_schema_json, stage
from loopml.metadata.base import BaseMetadataStore
from loopml.metadata.datasets_base import DatasetVersionCreate

if TYPE_CHECKING:
    from loopml.datasets.diff import DatasetDiff
    from loopml.datasets.schema import DataSchema

__all__ = ["DatasetService", "Progress", "content_hash"]

# Called with (step description, bytes done, bytes total) while registering.
Progress = Callable[[str, int, int], None]
VersionLike = str | DatasetRef | DatasetVersion


def content_hash(files: Sequence[DatasetFile]) -> str:
    """The identity of a version: a digest over its files' names and digests, in order.

    >>> f = DatasetFile("data.parquet", "blobs/x", 1, "blake3:" + "0" * 64, 1)
    >>> content_hash([f]) == content_hash([f])
    True
    """
    manifest = "".join(f"{f.name}\0{f.digest}\n" for f in files)
    return hash_bytes(manifest.encode())


class DatasetService:
    """Datasets of one project.

    Args:
        metadata: The metadata store.
        artifacts: The project's artifact store (rooted at the project's folder).
        project: The project.
        user: Recorded as the creator of what this service registers.
        cache_dir: Where files of a non-local artifact store are copied for reading.
    """

    def __init__(
        self,
        metadata: BaseMetadataStore,
        artifacts: BaseArtifactStore,
        project: Project,
        *,
        user: str = "",
        cache_dir: Path | None = None,
    ) -> None:
        self.metadata = metadata
        self.artifacts = artifacts
        self.project = project
        self.user = user
        self.cache_dir = cache_dir

    # -- registering -------------------------------------------------------------------

    def register(
        self,
        name: str,
        data: object,
        *,
        description: str = "",
        schema: DataSchema | str | os.PathLike[str] | None = None,
        require_valid: bool = False,
        profile: bool = True,
        tags: Mapping[str, str] | None = None,
        progress: Progress | None = None,
    ) -> DatasetVersion:
        """Register ``data`` as the next version of dataset ``name`` (created if missing).

        Args:
            name: The dataset's name, e.g. ``churn``.
            data: A DataFrame (pandas or polars), a pyarrow Table, or the path of a
                Parquet or CSV file or folder (see :mod:`loopml.datasets.sources`).
            description: What this version is.
            schema: A :class:`~loopml.datasets.schema.DataSchema` or the path of its YAML
                file; the data is validated against it and the report kept.
            require_valid: Refuse data that fails ``schema`` (DataValidationError with
                the report); nothing is stored.
            profile: Compute the column profile now (it can be computed later).
            tags: Text tags of the version.
            progress: Called as work advances, for a progress bar.

        Returns:
            The new version, or the existing one when the dataset already holds the
            same content (then nothing is written).
        """
        check_dataset_name(name, field="name")
        data_schema = _load_schema(schema) if schema is not None else None
        if require_valid and data_schema is None:
            from loopml.core.errors import ValidationError

            raise ValidationError(
                "require_valid=True needs a schema: pass schema=... (a DataSchema or the "
                "path of its YAML file)",
                field="schema",
            )
        report = lambda _step, _done, _total: None  # noqa: E731
        notify: Progress = progress or report
        with stage(data) as staged:
            files, identities = self._hash_files(staged, notify)
            digest = content_hash(files)
            dataset = self._find_dataset(name)
            if dataset is not None:
                existing = self.metadata.find_dataset_version(dataset.id, digest)
                if existing is not None:
                    return existing
            validation = None
            if data_schema is not None:
                notify("validating", 0, staged.n_rows)
                validation = self._validate_staged(staged, data_schema)
                if require_valid and not validation.passed:
                    raise DataValidationError(
                        f"dataset {name!r}: the data fails its schema, nothing was "
                        f"registered:\n{validation.summary()}",
                        report=validation,
                    )
            profile_doc = None
            if profile:
                notify("profiling", 0, staged.n_rows)
                profile_doc = _profile_paths(staged.paths)
            return self._store(
                name,
                staged,
                files,
                identities,
                digest,
                description=description,
                profile=profile_doc,
                validation=None if validation is None else validation.to_dict(),
                tags=tags,
                notify=notify,
            )

    def _hash_files(
        self, staged: StagedData, notify: Progress
    ) -> tuple[list[DatasetFile], list[str | None]]:
        """The staged files' records, and the identity each digest is remembered under.

        An unchanged file registered again is not read again: its digest is remembered by
        file identity in the cache folder (the user's file is never written to).
        """
        from loopml.artifacts.localfs import hash_file_remembered

        digests = None if self.cache_dir is None else self.cache_dir / "digests"
        total = sum(f.path.stat().st_size for f in staged.files)
        done = 0
        files, identities = [], []
        for item in staged.files:
            digest, size, identity = hash_file_remembered(item.path, digests)
            done += size
            notify("hashing", done, total)
            files.append(DatasetFile(item.name, blob_path(digest), size, digest, item.n_rows))
            identities.append(identity)
        return files, identities

    def _store(
        self,
        name: str,
        staged: StagedData,
        files: list[DatasetFile],
        identities: list[str | None],
        digest: str,
        *,
        description: str,
        profile: Mapping[str, Any] | None,
        validation: Mapping[str, Any] | None,
        tags: Mapping[str, str] | None,
        notify: Progress,
    ) -> DatasetVersion:
        written: list[str] = []
        total = sum(f.size for f in files)
        done = 0
        try:
            for item, file, identity in zip(staged.files, files, identities, strict=True):
                if not self.artifacts.exists(file.blob_path):
                    # A file still as it was when hashed is not hashed again while copied:
                    # the store checks that its identity did not change meanwhile.
                    if identity is not None:
                        self.artifacts.put_hashed_file(
                            item.path, file.blob_path, digest=file.digest, identity=identity
                        )
                    else:
                        self.artifacts.put_file(
                            item.path, file.blob_path, expected_digest=file.digest
                        )
                    written.append(file.blob_path)
                done += file.size
                notify("storing", done, total)
            dataset = self.metadata.ensure_dataset(
                self.project.id, name, description="", created_by=self.user
            )
            return self.metadata.create_dataset_version(
                DatasetVersionCreate(
                    dataset_id=dataset.id,
                    content_hash=digest,
                    n_rows=staged.n_rows,
                    n_bytes=total,
                    arrow_schema=arrow_schema_json(staged.schema),
                    files=files,
                    source_uri=staged.source_uri,
                    description=description,
                    created_by=self.user,
                    profile=profile,
                    validation=validation,
                    tags=dict(tags or {}),
                )
            )
        except BaseException:
            # No orphaned blob: remove what this call wrote, unless a registration of the
            # same content that ran at the same time has recorded a version using it.
            in_use = self._referenced_blobs() if written else set()
            for path in written:
                if path not in in_use:
                    self.artifacts.delete(path)
            raise

    def _referenced_blobs(self) -> set[str]:
        """The blobs the project's dataset versions point at (the failure path only)."""
        try:
            return {
                file.blob_path
                for dataset in self.metadata.list_datasets(self.project.id)
                for version in self.metadata.list_dataset_versions(dataset.id)
                for file in version.files
            }
        except LoopmlError:  # the store that just failed may still be failing
            return set()

    # -- finding -----------------------------------------------------------------------

    def _find_dataset(self, name: str) -> Dataset | None:
        try:
            return self.metadata.get_dataset_by_name(self.project.id, name)
        except NotFoundError:
            return None

    def get_dataset(self, name: str) -> Dataset:
        return self.metadata.get_dataset_by_name(
            self.project.id, check_dataset_name(name, field="dataset")
        )

    def list_datasets(self) -> list[Dataset]:
        return self.metadata.list_datasets(self.project.id)

    def list_versions(self, name: str) -> list[DatasetVersion]:
        return self.metadata.list_dataset_versions(self.get_dataset(name).id)

    def get_version(self, ref: VersionLike) -> DatasetVersion:
        """The version named by ``churn@3``, ``churn@latest``, ``churn``, or a version id."""
        if isinstance(ref, DatasetVersion):
            return ref
        if isinstance(ref, str) and len(ref) == 32 and "@" not in ref:
            try:
                return self.metadata.get_dataset_version(ref)
            except (NotFoundError, ValueError):
                pass
        parsed = ref if isinstance(ref, DatasetRef) else parse_dataset_ref(ref)
        dataset = self.get_dataset(parsed.name)
        return self.metadata.get_dataset_version_by_number(dataset.id, parsed.version)

    # -- reading -----------------------------------------------------------------------

    def local_files(self, ref: VersionLike) -> list[Path]:
        """The version's Parquet files on local disk (in place, or copied to the cache)."""
        version = self.get_version(ref)
        return [self._local_blob(file) for file in version.files]

    def _local_blob(self, file: DatasetFile) -> Path:
        in_place = self.artifacts.local_path(file.blob_path)
        if in_place is not None:
            return in_place
        if self.cache_dir is None:
            raise NotFoundError(
                "reading a dataset from a remote store needs a cache folder", field="cache_dir"
            )
        target = self.cache_dir / "blobs" / file.digest.partition(":")[2]
        if not target.exists() or hash_file(target)[0] != file.digest:
            self.artifacts.get_file(file.blob_path, target)
        return target

    def path(self, ref: VersionLike) -> Path:
        """A folder holding the version's files under their names, for tools that want files.

        Files are hard links to the stored blobs where possible (no copy); treat them as
        read-only.
        """
        version = self.get_version(ref)
        base = self.cache_dir or Path(tempfile.gettempdir()) / "loopml-datasets"
        folder = base / "versions" / version.id
        for file in version.files:
            target = folder / file.name
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            source = self._local_blob(file)
            try:
                os.link(source, target)
            except OSError:  # another filesystem: copy
                shutil.copyfile(source, target)
        return folder

    def iter_batches(
        self, ref: VersionLike, *, batch_size: int = 65_536, columns: Sequence[str] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """The version's rows as Arrow record batches, file by file (bounded memory)."""
        for path in self.local_files(ref):
            parquet = pq.ParquetFile(path)
            yield from parquet.iter_batches(
                batch_size=batch_size, columns=list(columns) if columns else None
            )

    def read_table(self, ref: VersionLike, *, columns: Sequence[str] | None = None) -> pa.Table:
        """The whole version as one Arrow table."""
        tables = [
            pq.read_table(path, columns=list(columns) if columns else None)
            for path in self.local_files(ref)
        ]
        if len(tables) == 1:
            return tables[0]
        return pa.concat_tables(tables, promote_options="permissive")

    # -- profiles and validation ---------------------------------------------------------

    def profile(self, ref: VersionLike, *, refresh: bool = False) -> Mapping[str, Any]:
        """The version's profile (as stored), computed and stored when missing or asked."""
        version = self.get_version(ref)
        if version.profile is not None and not refresh:
            return version.profile
        document = _profile_paths(self.local_files(version))
        return self.metadata.update_dataset_version(version.id, profile=document).profile or {}

    def infer_schema(self, ref: VersionLike, **options: Any) -> DataSchema:
        """A schema proposed from the version's data (types, nulls, ranges, categories)."""
        from loopml.datasets.inference import infer_schema

        return infer_schema(self.read_table(ref), **options)

    def validate(
        self, data: object, schema: DataSchema | str | os.PathLike[str], *, record: bool = True
    ) -> ValidationReport:
        """Validate a version (``churn@3``) or in-memory data against ``schema``.

        For a version the report is stored with it when ``record`` is True.
        """
        from loopml.datasets.validation import validate

        data_schema = _load_schema(schema)
        if isinstance(data, str | DatasetRef | DatasetVersion) and not _is_file(data):
            version = self.get_version(data)
            report = validate(self.iter_batches(version), data_schema)
            if record:
                self.metadata.update_dataset_version(version.id, validation=report.to_dict())
            return report
        with stage(data) as staged:
            return self._validate_staged(staged, data_schema)

    @staticmethod
    def _validate_staged(staged: StagedData, schema: DataSchema) -> ValidationReport:
        from loopml.datasets.validation import validate

        batches = itertools.chain.from_iterable(
            pq.ParquetFile(path).iter_batches(batch_size=65_536) for path in staged.paths
        )
        return validate(batches, schema)

    def diff(self, old: VersionLike, new: VersionLike) -> DatasetDiff:
        """Schema, row-count and per-column drift changes from ``old`` to ``new``."""
        from loopml.datasets.diff import diff_profiles

        before, after = self.get_version(old), self.get_version(new)
        return diff_profiles(
            self.profile(before), self.profile(after), old_name=before.ref, new_name=after.ref
        )

    # -- lineage -----------------------------------------------------------------------

    def log_lineage(
        self, run_id: str, ref: VersionLike, direction: LineageDirection, role: str
    ) -> LineageEdge:
        version = self.get_version(ref)
        return self.metadata.log_lineage(run_id, version.id, direction, role)


def _is_file(data: object) -> bool:
    return isinstance(data, str) and ("/" in data or os.path.exists(data))


def _load_schema(schema: DataSchema | str | os.PathLike[str]) -> DataSchema:
    from loopml.datasets.schema import DataSchema
    from loopml.datasets.schema_file import load_schema

    if isinstance(schema, DataSchema):
        return schema
    return load_schema(schema)


def _profile_paths(paths: Sequence[Path]) -> dict[str, Any]:
    from loopml.datasets.profile import profile_dataset

    source: Path | list[Path] = paths[0] if len(paths) == 1 else list(paths)
    return profile_dataset(source).to_dict()
