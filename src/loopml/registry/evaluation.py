"""Evaluating a model's predictions: overall, per slice, and against the champion.

:func:`evaluate_predictions` scores a table holding the targets and the model's
predictions (or probabilities) with :mod:`loopml.registry.metrics`, once over all rows and
once per value of each slice column. :func:`compare_with_champion` adds the current
champion's scores on the same data and the difference. The :class:`EvaluationReport` is
stored with the model version as :meth:`EvaluationReport.to_dict`::

    {"task": "classification", "n_rows": 1000,
     "overall": {"accuracy": 0.91, "f1": 0.87, ..., "n": 1000},
     "slices": {"region": {"north": {"f1": 0.88, ..., "n": 600}, "south": {...}}},
     "champion": None | {"version": 2, "overall": {...}, "delta": {"f1": 0.02, ...}},
     "dataset": "churn@2" | None}

Release gates read ``overall`` and ``slices`` (:func:`loopml.registry.release.gate_context`).
Slice values are written as text (``str(value)``; missing values as ``"(missing)"``), and
every score is a finite number, so the dict is strict JSON.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl
import pyarrow as pa

from loopml.core.errors import ValidationError
from loopml.registry.metrics import class_labels, classification_metrics, regression_metrics
from loopml.registry.report import (
    MISSING_SLICE,
    TASKS,
    ChampionComparison,
    EvaluationReport,
    _task,
)

__all__ = [
    "MISSING_SLICE",
    "TASKS",
    "ChampionComparison",
    "EvaluationReport",
    "compare_with_champion",
    "evaluate_predictions",
]

Metric = Callable[[npt.NDArray[Any], npt.NDArray[Any]], dict[str, float]]


def evaluate_predictions(
    frame: pd.DataFrame | pl.DataFrame | pa.Table,
    *,
    target: str,
    task: str,
    score_column: str | Sequence[str] | None = None,
    scores: npt.ArrayLike | None = None,
    slices: Sequence[str] = (),
    labels: npt.ArrayLike | None = None,
    threshold: float = 0.5,
    dataset: str | None = None,
    max_slice_values: int = 100,
) -> EvaluationReport:
    """Score predictions over all rows and per value of each slice column.

    Args:
        frame: The evaluation data (pandas, polars or Arrow) with the target column.
        target: The column of true labels or values.
        task: ``classification`` or ``regression``.
        score_column: The column of predictions: probabilities of the positive class or
            predicted labels (classification), predicted values (regression); or a list of
            probability columns, one per label in the order of ``labels`` (multiclass).
        scores: The predictions as an array instead, one row per row of ``frame``.
        slices: Columns to score each value of separately, e.g. ``["region"]``.
        labels: All class labels (see :func:`~loopml.registry.metrics.classification_metrics`);
            defaults to those in the data, so every slice is scored against the same labels.
        threshold: Probability from which a binary prediction is positive.
        dataset: The dataset version's reference (``churn@2``), recorded with the report.
        max_slice_values: Most distinct values a slice column may have.

    Raises:
        ValidationError: An unknown task, a missing column, both or neither of
            ``score_column`` and ``scores``, lengths that differ, missing targets, or a
            slice column with too many values; ``field`` names the argument.

    >>> data = pd.DataFrame({"y": [0, 1, 1, 0], "p": [0.2, 0.8, 0.4, 0.1],
    ...                      "region": ["n", "n", "s", "s"]})
    >>> report = evaluate_predictions(data, target="y", task="classification",
    ...                               score_column="p", slices=["region"])
    >>> report.overall["accuracy"], report.slices["region"]["s"]["recall"]
    (0.75, 0.0)
    """
    task = _task(task)
    table = _as_pandas(frame)
    columns = [score_column] if isinstance(score_column, str) else list(score_column or [])
    _require(table, [target], "target")
    _require(table, columns, "score_column")
    _require(table, slices, "slices")
    if (score_column is None) == (scores is None):
        raise ValidationError(
            "score_column: give the predictions either as score_column or as scores, not "
            "both or neither",
            field="score_column",
        )
    if table[target].isna().any():
        raise ValidationError(
            f"target: column {target!r} has missing values; drop or fill those rows first",
            field="target",
        )
    truth = table[target].to_numpy()
    predicted = _predictions(table, score_column, scores)
    metric: Metric
    if task == "regression":
        metric = regression_metrics
    else:
        classes = class_labels(truth, predicted, labels)
        metric = functools.partial(classification_metrics, threshold=threshold, labels=classes)
    sliced = {
        column: _per_slice(table[column], truth, predicted, metric, max_slice_values)
        for column in slices
    }
    return EvaluationReport(task, len(table), metric(truth, predicted), sliced, dataset=dataset)


def compare_with_champion(
    report: EvaluationReport,
    champion_report: EvaluationReport | Mapping[str, Any],
    *,
    version: int,
) -> EvaluationReport:
    """``report`` with the champion's overall scores and ``delta`` (new minus champion).

    Args:
        report: The candidate's report.
        champion_report: The champion's report on the same data (or its stored dict).
        version: The champion's version number.

    Raises:
        ValidationError: The reports are of different tasks or name different datasets.

    >>> new = EvaluationReport("regression", 10, {"mae": 1.5, "n": 10}, dataset="sales@2")
    >>> old = EvaluationReport("regression", 10, {"mae": 2.0, "n": 10}, dataset="sales@2")
    >>> compare_with_champion(new, old, version=1).to_dict()["champion"]["delta"]
    {'mae': -0.5}
    """
    held = (
        champion_report
        if isinstance(champion_report, EvaluationReport)
        else EvaluationReport.from_dict(champion_report, field="champion_report")
    )
    if held.task != report.task:
        raise ValidationError(
            f"champion_report: a {held.task} report cannot be compared with a {report.task} one",
            field="champion_report",
        )
    if held.dataset and report.dataset and held.dataset != report.dataset:
        raise ValidationError(
            f"champion_report: evaluated on {held.dataset}, the candidate on {report.dataset}; "
            "evaluate both on the same data",
            field="champion_report",
        )
    delta = {
        name: value - held.overall[name]
        for name, value in report.overall.items()
        if name != "n" and name in held.overall
    }
    comparison = ChampionComparison(version, dict(held.overall), delta)
    return dataclasses.replace(report, champion=comparison)


def _per_slice(
    column: pd.Series[Any],
    truth: npt.NDArray[Any],
    predicted: npt.NDArray[Any],
    metric: Metric,
    max_values: int,
) -> dict[str, dict[str, float]]:
    """Scores per value of ``column``: rows grouped by one stable sort, not a scan per value."""
    codes, uniques = pd.factorize(column, sort=True)
    n_values = len(uniques) + int((codes < 0).any())
    if n_values > max_values:
        raise ValidationError(
            f"slices: column {column.name!r} has {n_values} distinct values, more than "
            f"{max_values}; slice by a column with fewer (or raise max_slice_values)",
            field="slices",
        )
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes + 1, minlength=len(uniques) + 1)
    groups = np.split(order, np.cumsum(counts)[:-1])
    keys = [MISSING_SLICE, *(str(value) for value in uniques)]
    return {
        key: metric(truth[rows], predicted[rows])
        for key, rows in zip(keys, groups, strict=True)
        if rows.size
    }


def _predictions(
    table: pd.DataFrame, score_column: str | Sequence[str] | None, scores: npt.ArrayLike | None
) -> npt.NDArray[Any]:
    if isinstance(score_column, str):
        return table[score_column].to_numpy()
    if score_column is not None:
        return table[list(score_column)].to_numpy(dtype=np.float64)
    array = np.asarray(scores)
    if array.ndim == 0 or array.shape[0] != len(table):
        rows = 0 if array.ndim == 0 else array.shape[0]
        raise ValidationError(
            f"scores: {rows} predictions for {len(table)} rows; give one per row", field="scores"
        )
    return array


def _as_pandas(frame: object) -> pd.DataFrame:
    if isinstance(frame, pd.DataFrame):
        return frame.reset_index(drop=True)
    if isinstance(frame, pl.DataFrame | pa.Table):
        return frame.to_pandas()
    raise ValidationError(
        f"frame: expected a pandas or polars DataFrame or an Arrow table, got "
        f"{type(frame).__name__}",
        field="frame",
    )


def _require(table: pd.DataFrame, names: Sequence[str], field: str) -> None:
    missing = [name for name in names if name not in table.columns]
    if missing:
        raise ValidationError(
            f"{field}: no column {', '.join(map(repr, missing))} in the data; its columns are "
            f"{', '.join(map(str, table.columns))}",
            field=field,
        )
