"""Datasets from the SDK: ``loopml.data.register(...)``, ``loopml.data.get("churn@3")``.

Thin functions over the default client's :class:`~loopml.datasets.service.DatasetService`
(pass ``client=`` to use another). Versions come back as
:class:`~loopml.datasets.handle.DatasetVersionHandle`: the record's fields plus
``to_pandas()``, ``to_polars()``, ``to_arrow()``, ``iter_batches()`` and ``path()``.

Example::

    import loopml

    version = loopml.data.register("churn", "data/churn.csv", schema="churn.schema.yaml")
    frame = loopml.data.get("churn@latest").to_pandas()
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from loopml.core.datasets import Dataset, DatasetVersion
from loopml.core.validation_report import ValidationReport
from loopml.datasets.handle import DatasetVersionHandle
from loopml.datasets.schema import DataSchema
from loopml.datasets.schema_file import load_schema, save_schema

if TYPE_CHECKING:
    from loopml.client.client import Client
    from loopml.datasets.diff import DatasetDiff

__all__ = [
    "DataSchema",
    "DatasetVersionHandle",
    "diff",
    "get",
    "infer_schema",
    "list_datasets",
    "list_versions",
    "load_schema",
    "profile",
    "register",
    "save_schema",
    "validate",
]

VersionRef = str | DatasetVersion | DatasetVersionHandle


def _client(client: Client | None) -> Client:
    if client is not None:
        return client
    import loopml

    return loopml.get_client()


def _record(ref: VersionRef) -> str | DatasetVersion:
    return ref.record if isinstance(ref, DatasetVersionHandle) else ref


def register(
    name: str,
    data: object,
    *,
    description: str = "",
    schema: DataSchema | str | os.PathLike[str] | None = None,
    require_valid: bool = False,
    profile: bool = True,
    tags: Mapping[str, str] | None = None,
    client: Client | None = None,
) -> DatasetVersionHandle:
    """Register data as the next version of dataset ``name``; see DatasetService.register."""
    c = _client(client)
    record = c.data.register(
        name,
        data,
        description=description,
        schema=schema,
        require_valid=require_valid,
        profile=profile,
        tags=tags,
    )
    return DatasetVersionHandle(record, c.data)


def get(ref: VersionRef, *, client: Client | None = None) -> DatasetVersionHandle:
    """The version named ``churn@3``, ``churn@latest`` or ``churn`` (the latest)."""
    c = _client(client)
    return DatasetVersionHandle(c.data.get_version(_record(ref)), c.data)


def list_datasets(*, client: Client | None = None) -> list[Dataset]:
    """The project's datasets."""
    return _client(client).data.list_datasets()


def list_versions(name: str, *, client: Client | None = None) -> list[DatasetVersionHandle]:
    """A dataset's versions, newest first."""
    c = _client(client)
    return [DatasetVersionHandle(v, c.data) for v in c.data.list_versions(name)]


def profile(
    ref: VersionRef, *, refresh: bool = False, client: Client | None = None
) -> Mapping[str, Any]:
    """The version's column profile (computed and stored when missing or ``refresh``)."""
    return _client(client).data.profile(_record(ref), refresh=refresh)


def infer_schema(ref: VersionRef, *, client: Client | None = None, **options: Any) -> DataSchema:
    """A schema proposed from a version's data; keep it as YAML with ``save_schema``."""
    return _client(client).data.infer_schema(_record(ref), **options)


def validate(
    data: object,
    schema: DataSchema | str | os.PathLike[str],
    *,
    client: Client | None = None,
) -> ValidationReport:
    """Validate a version (``churn@3``) or in-memory data against a schema."""
    target = _record(data) if isinstance(data, DatasetVersionHandle) else data
    return _client(client).data.validate(target, schema)


def diff(old: VersionRef, new: VersionRef, *, client: Client | None = None) -> DatasetDiff:
    """Schema, row-count and per-column drift changes from ``old`` to ``new``."""
    return _client(client).data.diff(_record(old), _record(new))
