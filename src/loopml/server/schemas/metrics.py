"""Bodies of ``/runs/{run_id}/batch`` and ``/runs/{run_id}/metrics/{key}``."""

from __future__ import annotations

from pydantic import Field

from loopml.server.schemas.common import Int64, MetricValue, ReadModel, Text, WriteModel

__all__ = ["BatchCreate", "MetricPointCreate", "MetricSeriesCreate", "MetricSeriesRead"]


class MetricPointCreate(WriteModel):
    key: Text
    value: MetricValue
    step: int = Field(0, ge=0, le=2**63 - 1)
    timestamp: Int64


class MetricSeriesCreate(WriteModel):
    key: Text
    steps: list[Int64]
    timestamps: list[Int64]
    values: list[MetricValue]


class BatchCreate(WriteModel):
    metrics: list[MetricPointCreate] = []
    series: list[MetricSeriesCreate] = []
    params: dict[Text, Text] = {}
    tags: dict[Text, Text] = {}
    idempotency_key: Text | None = Field(None, max_length=256)


class MetricSeriesRead(ReadModel):
    key: str
    steps: list[int]
    timestamps: list[int]
    values: list[MetricValue]
    n_points: int = Field(description="Points stored; more than returned when downsampled")
