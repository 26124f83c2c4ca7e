"""Bodies of ``/projects``."""

from __future__ import annotations

from datetime import datetime

from loopml.server.schemas.common import ReadModel, Text, WriteModel

__all__ = ["ProjectCreate", "ProjectList", "ProjectRead"]


class ProjectCreate(WriteModel):
    name: Text
    description: Text = ""


class ProjectRead(ReadModel):
    id: str
    name: str
    description: str
    created_at: datetime


class ProjectList(ReadModel):
    projects: list[ProjectRead]
