"""Frozen records of datasets, their versions and their lineage to runs.

A :class:`Dataset` is a name inside a project; each registration of new data under it
makes a :class:`DatasetVersion` numbered 1, 2, ... by the store. A version's data lives in
the artifact store as content-addressed Parquet blobs (:class:`DatasetFile`), so identical
data is stored once. :class:`LineageEdge` records that a run read (``input``) or wrote
(``output``) a version, and in which role (``train``, ``validation``, ``test`` ...).

A reference such as ``churn@3`` or ``churn@latest`` names one version;
:func:`parse_dataset_ref` splits it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from loopml.core.errors import ValidationError

__all__ = [
    "LATEST",
    "Dataset",
    "DatasetFile",
    "DatasetRef",
    "DatasetVersion",
    "LineageDirection",
    "LineageEdge",
    "check_dataset_name",
    "check_role",
    "parse_dataset_ref",
]

LATEST = "latest"
_EMPTY: Mapping[str, Any] = MappingProxyType({})
_ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class LineageDirection(enum.StrEnum):
    """Whether a run read a dataset version or produced it."""

    INPUT = "input"
    OUTPUT = "output"


@dataclass(frozen=True, slots=True)
class Dataset:
    """A named, versioned collection of tables inside a project."""

    id: str
    project_id: str
    name: str
    description: str
    created_at: datetime
    created_by: str = ""
    n_versions: int = 0


@dataclass(frozen=True, slots=True)
class DatasetFile:
    """One Parquet file of a version: its name inside the version and its stored blob."""

    name: str
    blob_path: str
    size: int
    digest: str
    n_rows: int


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    """One immutable state of a dataset.

    Attributes:
        content_hash: Digest over the version's files (names and blob digests); the same
            data registered again has the same hash and returns this version.
        arrow_schema: Columns as ``[{"name", "type", "nullable"}, ...]`` in table order.
        profile: The column profile (see :mod:`loopml.core.profiles`) as a dict, or None.
        validation: The last validation report as a dict, or None when never validated.
    """

    id: str
    dataset_id: str
    dataset_name: str
    project_id: str
    version: int
    content_hash: str
    n_rows: int
    n_bytes: int
    arrow_schema: tuple[Mapping[str, Any], ...]
    files: tuple[DatasetFile, ...]
    created_at: datetime
    source_uri: str = ""
    description: str = ""
    created_by: str = ""
    profile: Mapping[str, Any] | None = None
    validation: Mapping[str, Any] | None = None
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    @property
    def ref(self) -> str:
        """The version's reference, e.g. ``churn@3``."""
        return f"{self.dataset_name}@{self.version}"

    @property
    def column_names(self) -> list[str]:
        return [str(column["name"]) for column in self.arrow_schema]


@dataclass(frozen=True, slots=True)
class LineageEdge:
    """A run read or wrote a dataset version, in a role such as ``train``."""

    run_id: str
    dataset_version_id: str
    direction: LineageDirection
    role: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DatasetRef:
    """A parsed reference: a dataset name and a version number, or None for the latest."""

    name: str
    version: int | None

    def __str__(self) -> str:
        return f"{self.name}@{LATEST if self.version is None else self.version}"


def parse_dataset_ref(ref: object, *, field: str = "dataset") -> DatasetRef:
    """Split ``name``, ``name@latest`` or ``name@<n>`` into a :class:`DatasetRef`.

    >>> parse_dataset_ref("churn@3")
    DatasetRef(name='churn', version=3)
    >>> str(parse_dataset_ref("churn"))
    'churn@latest'
    """
    if not isinstance(ref, str) or not ref:
        raise ValidationError(
            f"{field}: expected a reference such as 'churn@3' or 'churn@latest', got {ref!r}",
            field=field,
        )
    name, at, version = ref.partition("@")
    name = check_dataset_name(name, field=field)
    if not at or version == LATEST:
        return DatasetRef(name, None)
    if not version.isdigit() or int(version) < 1:
        raise ValidationError(
            f"{field}: version {version!r} in {ref!r} is neither a number >= 1 nor 'latest'",
            field=field,
        )
    return DatasetRef(name, int(version))


def check_dataset_name(name: object, *, field: str = "name") -> str:
    """A dataset name: 1-128 letters, digits, ``.``, ``_`` or ``-``, starting alphanumeric.

    Names appear in references (``churn@3``), paths and URLs, so ``@``, ``/`` and spaces
    are not allowed.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationError(
            f"{field}: {name!r} is not a dataset name: use 1-128 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit (e.g. 'churn' or 'churn-raw')",
            field=field,
        )
    return name


def check_role(role: object) -> str:
    """A lineage role: lower-case letters, digits, ``_`` or ``-``, such as ``train``."""
    if not isinstance(role, str) or not _ROLE.match(role):
        raise ValidationError(
            f"role: expected a short lower-case word such as 'train', 'validation' or "
            f"'test', got {role!r}",
            field="role",
        )
    return role
