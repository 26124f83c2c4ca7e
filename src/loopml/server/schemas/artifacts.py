"""Bodies of ``/runs/{run_id}/artifacts`` and ``/projects/{project}/files``."""

from __future__ import annotations

from pydantic import Field

from loopml.server.schemas.common import ReadModel, Text, WriteModel

__all__ = ["ArtifactCreate", "ArtifactList", "ArtifactRead", "FileList"]


class ArtifactCreate(WriteModel):
    path: Text
    size: int = Field(ge=0, le=2**63 - 1)
    digest: Text


class ArtifactRead(ReadModel):
    path: str
    size: int
    digest: str


class ArtifactList(ReadModel):
    artifacts: list[ArtifactRead]


class FileList(ReadModel):
    files: list[ArtifactRead]
