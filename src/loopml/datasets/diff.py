"""What changed between two dataset versions: schema, rows, and each column's distribution.

:func:`diff_profiles` compares two stored profiles, so a diff never reads the data again;
drift scores come from :mod:`loopml.stats.drift`, the same functions monitoring uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from loopml.core.errors import ValidationError
from loopml.core.profiles import ColumnProfile, DatasetProfile
from loopml.stats.profile_drift import column_drift

__all__ = ["ColumnChange", "DatasetDiff", "diff_profiles"]


@dataclass(frozen=True, slots=True)
class ColumnChange:
    """One column present in both versions: its statistics before and after, and drift.

    ``drift_score`` is None where the column's kind has no drift measure (e.g. text) or a
    side has no values.
    """

    name: str
    old_type: str
    new_type: str
    old_null_rate: float
    new_null_rate: float
    old_mean: float | None
    new_mean: float | None
    drift_method: str | None
    drift_score: float | None
    drift_threshold: float | None
    drifted: bool

    @property
    def retyped(self) -> bool:
        return self.old_type != self.new_type


@dataclass(frozen=True, slots=True)
class DatasetDiff:
    """The changes from version ``old`` to version ``new``."""

    old: str
    new: str
    old_n_rows: int
    new_n_rows: int
    added: tuple[tuple[str, str], ...]
    removed: tuple[tuple[str, str], ...]
    columns: tuple[ColumnChange, ...]

    @property
    def retyped(self) -> tuple[ColumnChange, ...]:
        return tuple(c for c in self.columns if c.retyped)

    @property
    def drifted(self) -> tuple[ColumnChange, ...]:
        return tuple(c for c in self.columns if c.drifted)

    @property
    def schema_changed(self) -> bool:
        return bool(self.added or self.removed or self.retyped)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (CLI ``--json``, REST)."""
        body = asdict(self)
        body["added"] = [{"name": n, "type": t} for n, t in self.added]
        body["removed"] = [{"name": n, "type": t} for n, t in self.removed]
        body["columns"] = [{**asdict(c), "retyped": c.retyped} for c in self.columns]
        return body


def _null_rate(column: ColumnProfile) -> float:
    return column.n_nulls / column.n_rows if column.n_rows else 0.0


def diff_profiles(
    old: Mapping[str, Any] | DatasetProfile,
    new: Mapping[str, Any] | DatasetProfile,
    *,
    old_name: str = "old",
    new_name: str = "new",
) -> DatasetDiff:
    """Compare two profiles column by column.

    Args:
        old: The reference profile (a DatasetProfile or its ``to_dict`` form).
        new: The profile compared with it.
        old_name: How ``old`` is shown (e.g. ``churn@3``).
        new_name: How ``new`` is shown.
    """
    before = old if isinstance(old, DatasetProfile) else DatasetProfile.from_dict(old)
    after = new if isinstance(new, DatasetProfile) else DatasetProfile.from_dict(new)
    old_columns = {c.name: c for c in before.columns}
    new_columns = {c.name: c for c in after.columns}
    changes = []
    for name, column in new_columns.items():
        reference = old_columns.get(name)
        if reference is None:
            continue
        score = None
        if reference.kind == column.kind and reference.n_valid and column.n_valid:
            try:
                score = column_drift(reference, column)
            except ValidationError:  # a kind without a drift measure (text, datetime)
                score = None
        changes.append(
            ColumnChange(
                name=name,
                old_type=reference.type,
                new_type=column.type,
                old_null_rate=_null_rate(reference),
                new_null_rate=_null_rate(column),
                old_mean=reference.mean,
                new_mean=column.mean,
                drift_method=None if score is None else str(score.method),
                drift_score=None if score is None else float(score.score),
                drift_threshold=None if score is None else float(score.threshold),
                drifted=bool(score is not None and score.drifted),
            )
        )
    return DatasetDiff(
        old=old_name,
        new=new_name,
        old_n_rows=before.n_rows,
        new_n_rows=after.n_rows,
        added=tuple((n, c.type) for n, c in new_columns.items() if n not in old_columns),
        removed=tuple((n, c.type) for n, c in old_columns.items() if n not in new_columns),
        columns=tuple(changes),
    )
