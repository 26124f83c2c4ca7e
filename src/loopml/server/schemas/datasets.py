"""Bodies of ``/projects/{project}/datasets``, ``/datasets``, ``/dataset-versions`` and lineage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from loopml.core.datasets import LineageDirection
from loopml.server.schemas.common import Id, ReadModel, Text, WriteModel

__all__ = [
    "DatasetCreate",
    "DatasetFileModel",
    "DatasetList",
    "DatasetRead",
    "DatasetVersionCreate",
    "DatasetVersionList",
    "DatasetVersionRead",
    "DatasetVersionUpdate",
    "LineageCreate",
    "LineageList",
    "LineageRead",
]

# A version's files are content-addressed blobs of its project: nothing else may be named.
BLOB_PATH = r"^blobs/[0-9a-f]{2}/[0-9a-f]{64}$"
DIGEST = r"^blake3:[0-9a-f]{64}$"


class DatasetCreate(WriteModel):
    name: Text = Field(max_length=128)
    description: Text = ""


class DatasetRead(ReadModel):
    id: str
    project_id: str
    name: str
    description: str
    created_at: datetime
    created_by: str
    n_versions: int


class DatasetList(ReadModel):
    datasets: list[DatasetRead]


class DatasetFileModel(WriteModel):
    name: Text = Field(max_length=1024)
    blob_path: str = Field(pattern=BLOB_PATH)
    size: int = Field(ge=0)
    digest: str = Field(pattern=DIGEST)
    n_rows: int = Field(ge=0)


class ArrowColumn(WriteModel):
    name: Text
    type: Text
    nullable: bool = True


class DatasetVersionCreate(WriteModel):
    content_hash: Text = Field(max_length=80)
    n_rows: int = Field(ge=0)
    n_bytes: int = Field(ge=0)
    arrow_schema: list[ArrowColumn]
    files: list[DatasetFileModel] = Field(min_length=1)
    source_uri: Text = ""
    description: Text = ""
    profile: dict[str, Any] | None = None
    validation: dict[str, Any] | None = None
    tags: dict[Text, Text] = {}


class DatasetVersionUpdate(WriteModel):
    profile: dict[str, Any] | None = None
    validation: dict[str, Any] | None = None


class DatasetVersionRead(ReadModel):
    id: str
    dataset_id: str
    dataset_name: str
    project_id: str
    version: int
    content_hash: str
    n_rows: int
    n_bytes: int
    arrow_schema: list[dict[str, Any]]
    files: list[dict[str, Any]]
    created_at: datetime
    source_uri: str
    description: str
    created_by: str
    profile: dict[str, Any] | None
    validation: dict[str, Any] | None
    tags: dict[str, str]


class DatasetVersionList(ReadModel):
    versions: list[DatasetVersionRead]


class LineageCreate(WriteModel):
    dataset_version_id: Id
    direction: LineageDirection
    role: Text = Field(max_length=64)


class LineageRead(ReadModel):
    run_id: str
    dataset_version_id: str
    direction: LineageDirection
    role: str
    created_at: datetime


class LineageList(ReadModel):
    edges: list[LineageRead]
