"""The evaluation report stored with a model version, and its strict-JSON form.

This module is light (no pandas, numpy or scikit-learn), so pages and gates that only
read reports do not import the scoring code of :mod:`loopml.registry.evaluation`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from loopml.core.errors import ValidationError

__all__ = ["MISSING_SLICE", "TASKS", "ChampionComparison", "EvaluationReport", "Scores"]

TASKS = ("classification", "regression")
MISSING_SLICE = "(missing)"
"""The slice of rows whose slice column is missing."""

Scores = Mapping[str, float]


@dataclass(frozen=True, slots=True)
class ChampionComparison:
    """The champion's scores on the same data, and ``delta`` = new minus champion."""

    version: int
    overall: Scores
    delta: Scores

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "overall": _json(self.overall), "delta": _json(self.delta)}


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    """A model version's scores on one dataset.

    Attributes:
        task: ``classification`` or ``regression``.
        n_rows: Rows evaluated.
        overall: Metric name to value over all rows (``n`` is the row count).
        slices: Slice column to slice value (as text) to that slice's scores.
        champion: The champion's scores on the same data, once compared.
        dataset: The dataset version evaluated on, e.g. ``churn@2``, when known.
    """

    task: str
    n_rows: int
    overall: Scores
    slices: Mapping[str, Mapping[str, Scores]] = field(default_factory=dict)
    champion: ChampionComparison | None = None
    dataset: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The report as strict JSON (no NaN); the shape is in the module docstring."""
        return {
            "task": self.task,
            "n_rows": self.n_rows,
            "overall": _json(self.overall),
            "slices": {
                column: {value: _json(scores) for value, scores in groups.items()}
                for column, groups in self.slices.items()
            },
            "champion": None if self.champion is None else self.champion.to_dict(),
            "dataset": self.dataset,
        }

    @classmethod
    def from_dict(cls, data: object, *, field: str = "evaluation") -> EvaluationReport:
        """Read a report written by :meth:`to_dict`; ValidationError naming the bad field."""
        report = _mapping(data, field)
        task = _task(report.get("task"))
        n_rows = report.get("n_rows")
        if not isinstance(n_rows, int) or isinstance(n_rows, bool) or n_rows < 0:
            raise ValidationError(f"{field}.n_rows: expected a row count", field=f"{field}.n_rows")
        slices = {
            str(column): {
                str(value): _scores(scores, f"{field}.slices.{column}.{value}")
                for value, scores in _mapping(groups, f"{field}.slices.{column}").items()
            }
            for column, groups in _mapping(report.get("slices", {}), f"{field}.slices").items()
        }
        champion = report.get("champion")
        if champion is not None:
            held = _mapping(champion, f"{field}.champion")
            version = held.get("version")
            if not isinstance(version, int) or isinstance(version, bool):
                raise ValidationError(
                    f"{field}.champion.version: expected a version number",
                    field=f"{field}.champion.version",
                )
            champion = ChampionComparison(
                version,
                _scores(held.get("overall"), f"{field}.champion.overall"),
                _scores(held.get("delta"), f"{field}.champion.delta"),
            )
        dataset = report.get("dataset")
        if dataset is not None and not isinstance(dataset, str):
            raise ValidationError(f"{field}.dataset: expected text", field=f"{field}.dataset")
        overall = _scores(report.get("overall"), f"{field}.overall")
        return cls(task, n_rows, overall, slices, champion, dataset)


def _task(task: object) -> str:
    if task not in TASKS:
        raise ValidationError(
            f"task: {task!r} is not a task; use {' or '.join(map(repr, TASKS))}", field="task"
        )
    return str(task)


def _json(scores: Scores) -> dict[str, float]:
    return {
        name: value if isinstance(value, int) else float(value)
        for name, value in scores.items()
        if math.isfinite(value)
    }


def _mapping(data: object, field: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ValidationError(f"{field}: expected a mapping", field=field)
    return data


def _scores(data: object, field: str) -> dict[str, float]:
    scores = _mapping(data, field)
    for name, value in scores.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(f"{field}.{name}: expected a number", field=f"{field}.{name}")
    return dict(scores)
