"""Bodies of ``/runs``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, Field

from loopml.core.entities import RunStatus
from loopml.server.schemas.common import Id, MetricValue, ReadModel, Text, WriteModel

__all__ = ["MetricRead", "RunCreate", "RunPageRead", "RunRead", "RunSearch", "RunUpdate"]


class RunCreate(WriteModel):
    id: Id | None = Field(
        None, description="Client-chosen id: sending the same id again returns that run"
    )
    experiment_id: Id
    name: Text
    start_time: AwareDatetime
    parent_run_id: Id | None = None
    user: Text | None = Field(
        None, description="Only a server admin may record a run for another user"
    )
    tags: dict[Text, Text] = {}
    environment: dict[Text, Any] = {}


class RunUpdate(WriteModel):
    status: RunStatus | None = None
    end_time: AwareDatetime | None = None
    name: Text | None = None
    note: Text | None = None
    error: Text | None = None


class MetricRead(ReadModel):
    value: MetricValue
    step: int
    timestamp: int


class RunRead(ReadModel):
    id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: datetime
    end_time: datetime | None
    parent_run_id: str | None
    user: str
    note: str
    error: str
    params: dict[str, str]
    metrics: dict[str, MetricRead]
    tags: dict[str, str]
    environment: dict[str, Any]
    deleted: bool


class RunSearch(WriteModel):
    experiment_ids: list[Id] = Field(max_length=1000)
    filter: Text | None = None
    order_by: list[Text] = Field(default=[], max_length=20)
    max_results: int = Field(1000, ge=1, le=50_000)
    page_token: Text | None = None
    include_deleted: bool = False


class RunPageRead(ReadModel):
    runs: list[RunRead]
    next_page_token: str | None
