"""Bodies of ``/projects/{project}/experiments`` and ``/experiments``."""

from __future__ import annotations

from datetime import datetime

from loopml.server.schemas.common import ReadModel, Text, WriteModel

__all__ = ["ExperimentCreate", "ExperimentList", "ExperimentRead"]


class ExperimentCreate(WriteModel):
    name: Text
    description: Text = ""
    tags: dict[Text, Text] = {}


class ExperimentRead(ReadModel):
    id: str
    project_id: str
    name: str
    description: str
    created_at: datetime
    tags: dict[str, str]
    deleted: bool


class ExperimentList(ReadModel):
    experiments: list[ExperimentRead]
