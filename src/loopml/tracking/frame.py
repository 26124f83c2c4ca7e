"""Runs as a pandas DataFrame: one row per run, params/metrics/tags as prefixed columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from loopml.core.entities import Run

__all__ = ["BASE_COLUMNS", "runs_to_frame"]

BASE_COLUMNS = (
    "run_id",
    "name",
    "experiment",
    "status",
    "start_time",
    "end_time",
    "duration_s",
    "user",
    "parent_run_id",
)


def runs_to_frame(runs: Sequence[Run], experiment_names: Mapping[str, str]) -> pd.DataFrame:
    """A DataFrame of ``runs`` in their order.

    Columns are the base columns, then ``params.<key>`` (text), ``metrics.<key>`` (latest
    value, float) and ``tags.<key>`` (text), each group sorted by key.
    """
    rows: list[dict[str, Any]] = []
    param_keys: set[str] = set()
    metric_keys: set[str] = set()
    tag_keys: set[str] = set()
    for run in runs:
        row: dict[str, Any] = {
            "run_id": run.id,
            "name": run.name,
            "experiment": experiment_names.get(run.experiment_id, run.experiment_id),
            "status": run.status.value,
            "start_time": run.start_time,
            "end_time": run.end_time,
            "duration_s": run.duration_s,
            "user": run.user,
            "parent_run_id": run.parent_run_id,
        }
        for key, value in run.params.items():
            row[f"params.{key}"] = value
            param_keys.add(key)
        for key, metric in run.metrics.items():
            row[f"metrics.{key}"] = metric.value
            metric_keys.add(key)
        for key, value in run.tags.items():
            row[f"tags.{key}"] = value
            tag_keys.add(key)
        rows.append(row)
    columns = [
        *BASE_COLUMNS,
        *(f"params.{k}" for k in sorted(param_keys)),
        *(f"metrics.{k}" for k in sorted(metric_keys)),
        *(f"tags.{k}" for k in sorted(tag_keys)),
    ]
    frame = pd.DataFrame(rows, columns=columns)
    for key in metric_keys:
        frame[f"metrics.{key}"] = frame[f"metrics.{key}"].astype("float64")
    for column in ("start_time", "end_time"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame
