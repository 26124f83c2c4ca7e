"""What a model card shows, as plain text values in the order the templates lay them out.

:func:`build` turns :class:`~loopml.governance.model_card.ModelCardData` into dicts, lists
and strings only, so the Markdown and HTML templates hold layout and no logic, and both
show the same facts. Numbers are formatted here; escaping is the templates' job
(autoescape for HTML, :func:`markdown_text` / :func:`markdown_cell` for Markdown).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from loopml.core.datasets import DatasetVersion
from loopml.core.errors import ValidationError
from loopml.core.models import ApprovalRequest
from loopml.core.profiles import ColumnKind, ColumnProfile, DatasetProfile
from loopml.core.validation_report import ValidationReport

if TYPE_CHECKING:
    from loopml.governance.model_card import ModelCardData

__all__ = ["build", "markdown_cell", "markdown_text"]

LOWER_IS_BETTER = frozenset({"log_loss", "calibration_error", "mae", "rmse", "mape"})
HEADLINE = {"classification": ("f1", "accuracy"), "regression": ("rmse", "mae")}

Row = dict[str, Any]


def markdown_text(value: object) -> str:
    r"""Text for Markdown prose: ``<`` cannot open raw HTML, ``\`` stays a backslash.

    >>> print(markdown_text("<script>alert(1)</script> a\\b"))
    \<script>alert(1)\</script> a\\b
    """
    return str(value).replace("\\", "\\\\").replace("<", "\\<")


def markdown_cell(value: object) -> str:
    r"""Text for a Markdown table cell: as :func:`markdown_text`, on one line, ``|`` escaped.

    >>> print(markdown_cell("a|b\nc"))
    a\|b c
    """
    return " ".join(markdown_text(value).replace("|", "\\|").split())


def number(value: object) -> str:
    """4 significant digits for a float, thousands separators for a count.

    >>> number(0.873412), number(12345), number(1234.5678)
    ('0.8734', '12,345', '1235')
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:.4g}"


def time(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def build(card: ModelCardData) -> dict[str, Any]:
    """The card's content, section by section (see the templates for the layout)."""
    model, version = card.model, card.version
    return {
        "title": f"{model.name} version {version.version}",
        "summary": model.description,
        "facts": _facts(card),
        "generated": time(card.generated_at),
        "use": {
            "project": card.project.description,
            "intended_use": card.project.intended_use,
            "out_of_scope": card.project.out_of_scope,
            "version": version.description,
            "owners": ", ".join(card.project.owners),
            "stakeholders": ", ".join(card.project.stakeholders),
        },
        "signature": {
            part: _columns(version.signature.get(part)) for part in ("inputs", "outputs")
        },
        "datasets": [_dataset(dataset) for dataset in card.datasets],
        "missing_datasets": list(card.missing_datasets),
        "evaluation": _evaluation(card.evaluation),
        "training_metrics": [
            (name, number(value)) for name, value in sorted(version.metrics.items())
        ],
        "gates": _gates(card),
        "approvals": [_approval(request) for request in card.approvals],
        "aliases": [
            {
                "when": time(move.changed_at),
                "alias": move.alias,
                "change": f"{_held(move.previous_version)} → {_held(move.version)}",
                "by": move.changed_by,
            }
            for move in card.alias_history
        ],
    }


def _facts(card: ModelCardData) -> list[tuple[str, str]]:
    model, version = card.model, card.version
    facts = [
        ("Model", model.name),
        ("Version", str(version.version)),
        ("Project", card.project.name),
        ("Flavor", version.flavor),
        ("Status", str(version.status)),
        ("Aliases", ", ".join(version.aliases) or "none"),
        ("Registered", f"{time(version.created_at)} by {version.created_by or 'unknown'}"),
        ("Model owner", model.owner),
        ("Source run", version.run_id or ""),
        ("Package digest", version.digest),
    ]
    return [(label, value) for label, value in facts if value]


def _held(version: int | None) -> str:
    return "none" if version is None else f"version {version}"


def _columns(columns: object) -> list[Row]:
    if not isinstance(columns, list):
        return []
    return [
        {
            "name": str(c.get("name", "")),
            "type": str(c.get("dtype", c.get("type", ""))),
            "nullable": "yes" if c.get("nullable") else "no",
        }
        for c in columns
        if isinstance(c, Mapping)
    ]


def _dataset(dataset: DatasetVersion) -> Row:
    view: Row = {
        "ref": dataset.ref,
        "facts": [
            ("Rows", number(dataset.n_rows)),
            ("Columns", number(len(dataset.arrow_schema))),
            ("Registered", f"{time(dataset.created_at)} by {dataset.created_by or 'unknown'}"),
            ("Content hash", dataset.content_hash),
        ],
        "description": dataset.description,
        "validation": _validation(dataset.validation),
        "columns": [],
        "profile_note": "",
    }
    if dataset.profile is None:
        view["profile_note"] = f"Not profiled: run `loopml data profile {dataset.ref}`."
        return view
    try:
        profile = DatasetProfile.from_dict(dataset.profile)
    except ValidationError as exc:
        view["profile_note"] = f"The stored profile cannot be read: {exc}"
        return view
    view["columns"] = [_column(column) for column in profile.columns]
    return view


def _validation(report: Mapping[str, Any] | None) -> Row:
    if report is None:
        return {"status": "not validated", "css": "muted", "lines": []}
    try:
        parsed = ValidationReport.from_dict(report)
    except ValidationError as exc:
        return {"status": f"unreadable report: {exc}", "css": "failed", "lines": []}
    schema = f" against schema '{parsed.schema_name}'" if parsed.schema_name else ""
    if parsed.passed:
        status = f"passed{schema}: {parsed.n_checks} checks on {number(parsed.n_rows)} rows"
    else:
        status = (
            f"failed{schema}: {len(parsed.failures)} of {parsed.n_checks} checks on "
            f"{number(parsed.n_rows)} rows"
        )
    lines = [failure.render() for failure in parsed.failures]
    return {"status": status, "css": "passed" if parsed.passed else "failed", "lines": lines}


def _column(column: ColumnProfile) -> Row:
    nulls = column.n_nulls / column.n_rows if column.n_rows else 0.0
    return {
        "name": column.name,
        "type": f"{column.kind} ({column.type})",
        "nulls": f"{nulls:.1%}",
        "summary": _column_summary(column),
    }


def _column_summary(column: ColumnProfile) -> str:
    if column.kind is ColumnKind.NUMERIC and column.mean is not None:
        spread = f", std {number(column.std)}" if column.std is not None else ""
        return (
            f"mean {number(column.mean)}{spread}, range {number(column.min)} to "
            f"{number(column.max)}"
        )
    if column.top_k is not None and column.top_k.n_total:
        total = column.top_k.n_total
        shares = [
            f"{value} {count / total:.0%}"
            for value, count in zip(column.top_k.values[:3], column.top_k.counts, strict=False)
        ]
        rest = len(column.top_k.values) - 3
        more = f" and {rest} more" if rest > 0 else ""
        return ", ".join(shares) + more
    if column.lengths is not None:
        lengths = column.lengths
        return f"length {lengths.min} to {lengths.max} (mean {number(lengths.mean)})"
    if column.min_time is not None:
        return f"{column.min_time} to {column.max_time}"
    return ""


def _evaluation(evaluation: Mapping[str, Any] | None) -> Row | None:
    if not evaluation:
        return None
    task = str(evaluation.get("task", ""))
    overall: Mapping[str, float] = evaluation.get("overall") or {}
    champion: Mapping[str, Any] | None = evaluation.get("champion")
    held: Mapping[str, float] = (champion or {}).get("overall") or {}
    delta: Mapping[str, float] = (champion or {}).get("delta") or {}
    rows = [
        {
            "metric": name,
            "value": number(value),
            "champion": number(held[name]) if name in held else "",
            "delta": f"{delta[name]:+.4g}" if name in delta else "",
        }
        for name, value in overall.items()
        if name != "n"
    ]
    headline = next((m for m in HEADLINE.get(task, ()) if m in overall), None)
    slices = evaluation.get("slices") or {}
    return {
        "task": task,
        "dataset": evaluation.get("dataset") or "",
        "n_rows": number(evaluation.get("n_rows", overall.get("n", 0))),
        "overall": rows,
        "champion": None if champion is None else champion.get("version"),
        "slices": [_slice(str(c), groups, headline, overall) for c, groups in slices.items()],
    }


def _slice(
    column: str,
    groups: Mapping[str, Mapping[str, float]],
    headline: str | None,
    overall: Mapping[str, float],
) -> Row:
    metrics = _ordered({m for scores in groups.values() for m in scores if m != "n"}, overall)
    scored = {v: s[headline] for v, s in groups.items() if headline and headline in s}
    worst = None
    if headline and len(scored) >= 2:
        pick = max if headline in LOWER_IS_BETTER else min
        worst = pick(scored, key=lambda value: scored[value])
    note = ""
    if worst is not None and headline is not None:
        base = f"; overall {number(overall[headline])}" if headline in overall else ""
        note = f"Worst {column}: {worst} by {headline} ({number(scored[worst])}{base})."
    rows = [
        {
            "value": value,
            "n": number(scores.get("n", "")),
            "cells": [number(scores[m]) if m in scores else "" for m in metrics],
            "worst": value == worst,
        }
        for value, scores in groups.items()
    ]
    return {"column": column, "metrics": metrics, "rows": rows, "note": note}


def _ordered(metrics: Iterable[str], overall: Mapping[str, float]) -> list[str]:
    order = {name: i for i, name in enumerate(overall)}
    return sorted(metrics, key=lambda name: (order.get(name, len(order)), name))


def _gates(card: ModelCardData) -> Row:
    policy = card.model.release_policy
    gates = policy.get("gates") or []
    outcomes = {result.expression: result for result in card.gate_results}
    rows = []
    for gate in gates if isinstance(gates, list) else []:
        result = outcomes.get(str(gate).strip())
        rows.append(
            {
                "expression": str(gate),
                "outcome": "" if result is None else ("passed" if result.passed else "failed"),
                "observed": "" if result is None else result.observed,
            }
        )
    return {"required": policy.get("required_approvals", 1), "rows": rows}


def _approval(request: ApprovalRequest) -> Row:
    return {
        "title": f"Make version {request.version} '{request.alias}'",
        "status": str(request.status),
        "requested": f"{time(request.created_at)} by {request.requested_by}",
        "decided": time(request.decided_at),
        "required": request.required_approvals,
        "comment": request.comment,
        "gates_passed": request.gates_passed,
        "gates": [
            {
                "expression": str(g.get("expression", "")),
                "outcome": "passed" if g.get("passed") else "failed",
                "observed": str(g.get("observed", "")),
            }
            for g in request.gate_results
        ],
        "decisions": [
            {
                "reviewer": d.reviewer,
                "decision": str(d.decision),
                "reason": d.reason,
                "when": time(d.decided_at),
            }
            for d in request.decisions
        ],
        "override": request.override_justification,
    }
