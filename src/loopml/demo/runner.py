"""Runs the demo's chapters in order inside a demo project folder."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from loopml.client.client import Client
from loopml.core.config import init_project, load_settings
from loopml.demo.data_chapter import run_data_chapter
from loopml.demo.registry_chapter import RELEASE_GATES, run_registry_chapter
from loopml.demo.tracking_chapter import run_tracking_chapter

__all__ = ["DEMO_PROJECT", "run_demo"]

DEMO_PROJECT = "churn-demo"


def run_demo(folder: Path, console: Console, n_rows: int = 6000) -> dict[str, object]:
    """Create (or reuse) a demo project in ``folder`` and run every chapter."""
    init_project(
        folder,
        DEMO_PROJECT,
        description="Predict which customers of a subscription business will cancel next month.",
        intended_use="Rank customers for the retention team's outreach; not for pricing decisions.",
        owners=("data-science@example.com",),
        stakeholders=("retention-team@example.com",),
    )
    project_file = folder / "loopml.yaml"
    if "release_gates" not in project_file.read_text(encoding="utf-8"):
        with project_file.open("a", encoding="utf-8") as text:
            text.write(RELEASE_GATES)
    settings = load_settings(cwd=folder, environ={})
    with Client(settings) as client:
        console.print(Rule("1 · Data: versions, validation, profiles"))
        data = run_data_chapter(client, console, folder, n_rows=n_rows)
        console.print(Rule("2 · Experiment tracking"))
        tracking = run_tracking_chapter(client, console, data.training)
        columns = [
            "name",
            "params.model",
            "metrics.roc_auc",
            "metrics.f1",
            "metrics.accuracy",
            "duration_s",
        ]
        from loopml.cli.render import table

        console.print(
            table(
                f"Candidates of experiment {tracking.experiment!r}, best first",
                ["run", "model", "roc_auc", "f1", "accuracy", "seconds"],
                tracking.table[columns].round(3).itertuples(index=False),
            )
        )
        best = tracking.table.iloc[0]
        console.print(f"Best candidate: [bold]{best['name']}[/bold] (run {best['run_id']})")
        console.print(Rule("3 · Registry: evaluate, gates, four-eyes approval"))
        registry = run_registry_chapter(client, console, folder, tracking.best_run_id, data)
    loopml = _loopml_command()
    ids = " ".join(r[:8] for r in tracking.run_ids.values())
    console.print(Rule("Explore"))
    # soft_wrap: a command must stay on one line to be copied.
    console.print(f"  cd {folder} && {loopml} runs list", soft_wrap=True)
    console.print(f"  cd {folder} && {loopml} runs compare {ids}", soft_wrap=True)
    console.print(f"  cd {folder} && {loopml} data diff churn@1 churn@2", soft_wrap=True)
    console.print(f"  cd {folder} && {loopml} lineage churn@1", soft_wrap=True)
    console.print(f"  cd {folder} && {loopml} models approvals --all", soft_wrap=True)
    console.print(f"  cd {folder} && {loopml} audit verify", soft_wrap=True)
    console.print("See the runs, their charts and a comparison in the browser:")
    console.print(f"  cd {folder} && {loopml} ui", soft_wrap=True)
    return {
        "best_run_id": tracking.best_run_id,
        "run_ids": tracking.run_ids,
        "dataset_versions": [data.training.ref, data.latest.ref],
        "champion": registry.version.ref,
    }


def _loopml_command() -> str:
    """``loopml`` when that is on PATH, else the full path of this environment's script."""
    script = Path(sys.executable).parent / "loopml"
    found = shutil.which("loopml")
    if found is not None and Path(found).resolve() == script.resolve():
        return "loopml"
    return str(script) if script.exists() else "loopml"
