"""What the model registry pages show, worked out from the stored records.

Pure functions turn models, versions, release policies and evaluation reports into small
view records the templates lay out: the key metrics of a version table, the gates of a
policy, the overall scores against the champion and one bar chart per slice column of the
task's main metric (drawn by :mod:`loopml.server.ui.dataset_charts`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from loopml.core.errors import ValidationError
from loopml.core.models import ModelVersion, RegisteredModel
from loopml.governance.model_card_view import LOWER_IS_BETTER
from loopml.registry.gates import parse_policy
from loopml.registry.report import EvaluationReport
from loopml.server.ui.dataset_charts import BarRow, Chart, bar_rows_chart

__all__ = [
    "MAIN_METRICS",
    "EvaluationView",
    "OverallRow",
    "PolicyView",
    "SliceView",
    "evaluation_view",
    "key_metrics",
    "policy_view",
    "scores",
]

# The metric a slice chart shows, by task, in order of preference.
MAIN_METRICS = {"classification": ("f1", "accuracy", "roc_auc"), "regression": ("rmse", "mae")}
KEY_METRICS = 4
_UNIT_SCALE = frozenset({"accuracy", "f1", "precision", "recall", "roc_auc", "pr_auc"})


def scores(version: ModelVersion) -> dict[str, float]:
    """The version's scores as the release gates see them: the latest evaluation's overall
    scores over the run's metrics (the row count ``n`` left out)."""
    merged = dict(version.metrics)
    overall = (version.evaluation or {}).get("overall")
    if isinstance(overall, Mapping):
        merged.update({k: v for k, v in overall.items() if isinstance(v, int | float)})
    merged.pop("n", None)
    return merged


def key_metrics(versions: Iterable[ModelVersion], limit: int = KEY_METRICS) -> list[str]:
    """The metrics a version table shows: the tasks' main ones first, then by name.

    >>> from datetime import datetime
    >>> v = ModelVersion("i", "m", "churn", "p", 1, "sklearn", "x", "d", 1,
    ...                  datetime(2024, 1, 1), metrics={"auc": 0.9, "f1": 0.8, "loss": 0.3})
    >>> key_metrics([v], limit=2)
    ['f1', 'auc']
    """
    names = {name for version in versions for name in scores(version)}
    preferred = [m for metrics in MAIN_METRICS.values() for m in metrics if m in names]
    rest = sorted(names - set(preferred))
    return (preferred + rest)[:limit]


@dataclass(frozen=True, slots=True)
class PolicyView:
    """A model's release policy: its gates, the approvals it needs, or why it is unreadable."""

    gates: tuple[str, ...]
    required_approvals: int
    problem: str = ""


def policy_view(model: RegisteredModel) -> PolicyView:
    """The gates and required approvals of the model's stored release policy."""
    policy = model.release_policy
    try:
        gates, required = parse_policy(policy)
    except ValidationError as exc:
        raw = policy.get("gates")
        shown = tuple(str(g) for g in raw) if isinstance(raw, list) else ()
        return PolicyView(shown, 1, f"The stored release policy cannot be read: {exc}")
    return PolicyView(tuple(g.expression for g in gates), required)


@dataclass(frozen=True, slots=True)
class OverallRow:
    """One metric of an evaluation: its value, the champion's, and the change in words."""

    metric: str
    value: float
    champion: float | None = None
    delta: float | None = None
    verdict: str = ""  # better, worse, same or "" (no champion)


@dataclass(frozen=True, slots=True)
class SliceView:
    """One slice column: its chart of the main metric and the worst slice."""

    column: str
    chart: Chart
    worst: str
    n_slices: int


@dataclass(frozen=True, slots=True)
class EvaluationView:
    """An evaluation report as the version page shows it."""

    task: str
    n_rows: int
    dataset: str | None
    main_metric: str | None
    lower_is_better: bool
    overall: tuple[OverallRow, ...]
    champion_version: int | None
    slices: tuple[SliceView, ...]


def _verdict(metric: str, delta: float) -> str:
    if delta == 0:
        return "same"
    better = delta < 0 if metric in LOWER_IS_BETTER else delta > 0
    return "better" if better else "worse"


def _slice_view(
    column: str, groups: Mapping[str, Mapping[str, float]], metric: str, overall: float | None
) -> SliceView | None:
    scored = {value: s[metric] for value, s in groups.items() if metric in s}
    if not scored:
        return None
    pick = max if metric in LOWER_IS_BETTER else min
    worst = pick(scored, key=lambda value: scored[value]) if len(scored) > 1 else ""
    rows = [
        BarRow(
            value,
            score,
            f"{score:.4g}" + (f" (n={int(groups[value]['n']):,})" if "n" in groups[value] else ""),
            css="bar-worst" if value == worst else "",
        )
        for value, score in scored.items()
    ]
    base = f" (overall {overall:.4g})" if overall is not None else ""
    chart = bar_rows_chart(
        rows,
        label=f"{metric} per {column}{base}",
        scale_max=1.0 if metric in _UNIT_SCALE else None,
    )
    return SliceView(column, chart, worst, len(scored))


def evaluation_view(evaluation: Mapping[str, object] | None) -> tuple[EvaluationView | None, str]:
    """The version's evaluation laid out for the page, or None and why it cannot be read."""
    if evaluation is None:
        return None, ""
    try:
        report = EvaluationReport.from_dict(evaluation)
    except ValidationError as exc:
        return None, f"The stored evaluation cannot be read: {exc}"
    champion = report.champion
    rows = []
    for metric, value in report.overall.items():
        if metric == "n":
            continue
        held = champion.overall.get(metric) if champion else None
        delta = champion.delta.get(metric) if champion else None
        verdict = _verdict(metric, delta) if delta is not None else ""
        rows.append(OverallRow(metric, value, held, delta, verdict))
    candidates = MAIN_METRICS.get(report.task, ())
    in_slices = {m for groups in report.slices.values() for s in groups.values() for m in s}
    main = next((m for m in candidates if m in in_slices or m in report.overall), None)
    slices = []
    if main is not None:
        for column, groups in report.slices.items():
            chart = _slice_view(column, groups, main, report.overall.get(main))
            if chart is not None:
                slices.append(chart)
    view = EvaluationView(
        task=report.task,
        n_rows=report.n_rows,
        dataset=report.dataset,
        main_metric=main,
        lower_is_better=main in LOWER_IS_BETTER,
        overall=tuple(rows),
        champion_version=champion.version if champion else None,
        slices=tuple(slices),
    )
    return view, ""
