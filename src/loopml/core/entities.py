"""Frozen domain records handed out by every store.

A record read from a store is a snapshot: later writes never change it (the stores copy
their mappings into read-only proxies). Times are timezone-aware UTC ``datetime`` for
records and integer milliseconds since the epoch for metric points, which are many.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

__all__ = [
    "ArtifactInfo",
    "Experiment",
    "Metric",
    "MetricSeries",
    "Param",
    "Project",
    "Run",
    "RunPage",
    "RunStatus",
    "frozen_mapping",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def frozen_mapping(items: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """Return a read-only copy of ``items``."""
    return MappingProxyType(dict(items)) if items else _EMPTY


class RunStatus(enum.StrEnum):
    """Lifecycle of a run: it starts ``running`` and ends in one of the other three."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    KILLED = "killed"

    @property
    def is_terminal(self) -> bool:
        return self is not RunStatus.RUNNING


@dataclass(frozen=True, slots=True)
class Project:
    """Top of the record tree: a team's use case, named in its ``loopml.yaml``."""

    id: str
    name: str
    description: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Experiment:
    """A named group of runs inside a project."""

    id: str
    project_id: str
    name: str
    description: str
    created_at: datetime
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Metric:
    """One point of a metric's history. ``value`` may be NaN or +/-Inf."""

    key: str
    value: float
    step: int
    timestamp: int

    def __eq__(self, other: object) -> bool:  # NaN == NaN for stored points
        if not isinstance(other, Metric):
            return NotImplemented
        same_value = self.value == other.value or (
            math.isnan(self.value) and math.isnan(other.value)
        )
        return (
            same_value
            and self.key == other.key
            and self.step == other.step
            and self.timestamp == other.timestamp
        )

    def __hash__(self) -> int:
        return hash((self.key, self.step, self.timestamp))


@dataclass(frozen=True, slots=True)
class MetricSeries:
    """Many points of one metric, column by column: the fast shape for logging and charts.

    The three sequences have equal length; point ``i`` is ``(steps[i], timestamps[i],
    values[i])``. Values may be NaN or +/-Inf.
    """

    key: str
    steps: Sequence[int]
    timestamps: Sequence[int]
    values: Sequence[float]

    def __len__(self) -> int:
        return len(self.values)

    def points(self) -> list[Metric]:
        """The series as Metric points."""
        key = self.key
        return [
            Metric(key, float(v), int(s), int(t))
            for s, t, v in zip(self.steps, self.timestamps, self.values, strict=True)
        ]


@dataclass(frozen=True, slots=True)
class Param:
    """A run parameter; stored as text, immutable once logged."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Run:
    """One execution of training or evaluation code, with everything it logged.

    ``metrics`` holds the latest point per key (highest step, then latest time); the
    whole history comes from ``get_metric_history``.
    """

    id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: datetime
    end_time: datetime | None = None
    parent_run_id: str | None = None
    user: str = ""
    note: str = ""
    error: str = ""
    params: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    metrics: Mapping[str, Metric] = field(default_factory=lambda: _EMPTY)
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    environment: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    deleted: bool = False

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to end, or None while running."""
        if self.end_time is None:
            return None
        return (self.end_time - self.start_time).total_seconds()


@dataclass(frozen=True, slots=True)
class RunPage:
    """One page of search results; pass ``next_page_token`` back for the next one."""

    runs: tuple[Run, ...]
    next_page_token: str | None = None


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    """A stored file: its path relative to its root, size in bytes and content digest."""

    path: str
    size: int
    digest: str
