"""What a release gate sees: the context of a version, and the check of a whole policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loopml.core.errors import NotFoundError
from loopml.core.models import ModelVersion, RegisteredModel
from loopml.metadata.base import BaseMetadataStore
from loopml.registry.gates import GateResult, evaluate_gates, parse_policy

__all__ = ["ReleaseCheck", "check_release", "gate_context"]

CHAMPION = "champion"


@dataclass(frozen=True)
class ReleaseCheck:
    results: tuple[GateResult, ...]
    required_approvals: int

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)


def _scores(version: ModelVersion) -> dict[str, Any]:
    scores: dict[str, Any] = dict(version.metrics)
    evaluation = version.evaluation or {}
    overall = evaluation.get("overall")
    if isinstance(overall, Mapping):
        scores.update(overall)
    return scores


def _validation(metadata: BaseMetadataStore, version: ModelVersion) -> str:
    if not version.dataset_version_ids:
        return "missing"
    outcomes = []
    for dataset_version_id in version.dataset_version_ids:
        try:
            report = metadata.get_dataset_version(dataset_version_id).validation
        except NotFoundError:
            report = None
        outcomes.append(
            "missing" if report is None else ("passed" if report.get("passed") else "failed")
        )
    if "failed" in outcomes:
        return "failed"
    return "missing" if "missing" in outcomes else "passed"


def gate_context(
    metadata: BaseMetadataStore, model: RegisteredModel, version: ModelVersion
) -> dict[str, Any]:
    """The flat name → value mapping the gates of ``version`` are evaluated over."""
    context: dict[str, Any] = {f"metrics.{k}": v for k, v in _scores(version).items()}
    champion = model.aliases.get(CHAMPION)
    if champion is not None:
        held = metadata.get_model_version(model.id, champion)
        context.update({f"champion.{k}": v for k, v in _scores(held).items()})
    context["data.validation"] = _validation(metadata, version)
    slices = (version.evaluation or {}).get("slices")
    if isinstance(slices, Mapping):
        per_metric: dict[str, list[float]] = {}
        for groups in slices.values():
            for scores in groups.values():
                for metric, value in scores.items():
                    if isinstance(value, int | float):
                        per_metric.setdefault(metric, []).append(float(value))
        for metric, values in per_metric.items():
            context[f"slices.min.{metric}"] = min(values)
            context[f"slices.max.{metric}"] = max(values)
    return context


def check_release(
    metadata: BaseMetadataStore, model: RegisteredModel, version: ModelVersion
) -> ReleaseCheck:
    """Evaluate the model's release policy for ``version``."""
    gates, required = parse_policy(model.release_policy)
    results = evaluate_gates(gates, gate_context(metadata, model, version))
    return ReleaseCheck(tuple(results), required)
