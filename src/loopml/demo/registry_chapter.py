"""Demo chapter "registry": register the best model, evaluate it, release it with four eyes.

The best candidate's model becomes ``churn/N``; it is evaluated on November's extract
(``churn@2``) overall and per region and contract; ``ana`` (a data scientist) requests
that it become ``champion``, the gates of ``loopml.yaml`` are evaluated, and ``ben`` (a
reviewer) approves: only then does the alias move. The model card is written beside the
project and the audit log is verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from loopml.client.client import Client
from loopml.core.models import ModelVersion
from loopml.demo.data_chapter import DataResult
from loopml.registry.service import RegistryService

__all__ = ["MODEL", "RELEASE_GATES", "RegistryResult", "run_registry_chapter"]

MODEL = "churn"
REQUESTER, REVIEWER = "ana", "ben"
# Appended to the demo's loopml.yaml: the gates live with the code, like the schema.
RELEASE_GATES = """
release_gates:
  churn:
    required_approvals: 1
    gates:
      - metrics.roc_auc >= 0.70
      - metrics.roc_auc >= champion.roc_auc - 0.01
      - slices.min.roc_auc >= 0.60
      - data.validation == passed
"""


@dataclass(frozen=True)
class RegistryResult:
    version: ModelVersion
    card: Path


def _acting(client: Client, user: str) -> RegistryService:
    return RegistryService(
        client.metadata,
        client.artifacts,
        client.project,
        user=user,
        cache_dir=client.settings.home / "cache",
        project_file=client.settings.project_file,
    )


def _registered(client: Client, run_id: str) -> ModelVersion:
    """The version registered from ``run_id`` (a rerun of the demo reuses it)."""
    registry = client.registry
    if any(m.name == MODEL for m in registry.list_models()):
        for version in client.metadata.list_model_versions(registry.get_model(MODEL).id):
            if version.run_id == run_id:
                return version
    return registry.register(
        f"runs:/{run_id}/model", MODEL, description="Best candidate of churn-baseline"
    )


def run_registry_chapter(
    client: Client, console: Console, folder: Path, best_run_id: str, data: DataResult
) -> RegistryResult:
    """Register, evaluate and release the best candidate; write its model card."""
    version = _registered(client, best_run_id)
    console.print(
        f"  [green]✓[/green] registered [bold]{version.ref}[/bold] ({version.flavor}, "
        f"signature of {len(version.signature.get('inputs', []))} columns)"
    )
    frame = data.latest.to_pandas()
    report = client.registry.evaluate(
        version.ref,
        frame,
        target="churned",
        slices=["region", "contract"],
        dataset_name=data.latest.ref,
    )
    overall = report["overall"]
    console.print(
        f"  [green]✓[/green] evaluated on {data.latest.ref}: roc_auc={overall['roc_auc']:.3f} "
        f"f1={overall['f1']:.3f} calibration_error={overall['calibration_error']:.3f}"
    )
    model = client.metadata.get_registered_model(version.model_id)
    if model.aliases.get("champion") == version.version:
        console.print(f"  {version.ref} is already champion")
    else:
        request = _acting(client, REQUESTER).request_approval(
            version.ref, "champion", comment="Best of four candidates; evaluated on November"
        )
        for gate in request.gate_results:
            mark = "[green]✓[/green]" if gate["passed"] else "[red]✗[/red]"
            console.print(f"    {mark} {gate['expression']}  [dim]{gate['observed']}[/dim]")
        console.print(
            f"  {REQUESTER} requested {version.ref} → champion (request {request.id[:8]})"
        )
        reviewer = _acting(client, REVIEWER)
        if request.gates_passed:
            reviewer.approve(request.id, "Evaluation and per-region scores reviewed")
            console.print(f"  [green]✓[/green] {REVIEWER} approved: champion → {version.ref}")
        else:
            reviewer.override(request.id, "Demo: released despite a failed gate, see the card")
            console.print(f"  [yellow]![/yellow] gates failed; {REVIEWER} overrode as admin")
    champion = client.registry.load("models:/churn@champion")
    predictions = champion.predict(frame.head(5))
    shown = ", ".join(str(p) for p in predictions)
    console.print(f"  models:/churn@champion predicts ({shown}) for 5 customers", markup=False)
    from loopml.governance.model_card import gather_model_card, render_model_card

    card_path = folder / "model-card.md"
    card = gather_model_card(
        client.metadata,
        MODEL,
        version.version,
        project_file=client.settings.project_file,
        project_id=client.project.id,
    )
    card_path.write_text(render_model_card(card, format="md"), encoding="utf-8")
    n_events, problems = client.registry.verify_audit()
    state = "intact" if not problems else f"{len(problems)} problem(s)!"
    console.print(f"  model card: {card_path.name}; audit log: {n_events} events, chain {state}")
    return RegistryResult(
        client.metadata.get_model_version(version.model_id, version.version), card_path
    )
