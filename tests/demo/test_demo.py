"""`loopml demo` runs end to end, as a newcomer runs it, and leaves a project to explore."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from loopml.client.client import Client
from loopml.core.config import load_settings
from loopml.core.entities import RunStatus
from loopml.demo.data import generate_churn


def test_the_demo_runs_the_loop_from_data_to_an_approved_champion(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env["COLUMNS"] = "160"
    done = subprocess.run(
        [sys.executable, "-m", "loopml", "demo", "--dir", "demo", "--rows", "800"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Best candidate" in done.stdout
    assert "runs compare" in done.stdout
    assert " ui" in done.stdout.splitlines()[-1]
    assert (tmp_path / "demo" / "loopml.yaml").is_file()
    with Client(load_settings(cwd=tmp_path / "demo", environ={})) as client:
        runs = client.search_run_records("churn-baseline")
        assert len(runs) == 4
        assert {r.status for r in runs} == {RunStatus.FINISHED}
        forest = next(r for r in runs if r.name == "rf-100")
        assert len(client.get_metric_history(forest.id, "test_roc_auc")) == 20
        assert [a.path for a in client.list_artifacts(forest.id)] == [
            "config.json",
            "model/loopml-model.yaml",
            "model/model.skops",
            "summary.md",
        ]
        # data chapter: two validated versions, the damaged extract refused, runs linked
        versions = client.data.list_versions("churn")
        assert [v.version for v in versions] == [2, 1]
        assert all(v.validation is not None and v.validation["passed"] for v in versions)
        assert "refused by churn.schema.yaml" in done.stdout
        roles = {e.role for e in client.metadata.list_lineage(run_id=forest.id)}
        assert roles == {"train", "test"}
        # registry chapter: the champion was requested by ana and approved by ben
        model = client.registry.get_model("churn")
        assert model.aliases == {"champion": 1}
        (request,) = client.registry.list_requests(None)
        assert (request.requested_by, request.decisions[0].reviewer) == ("ana", "ben")
        assert request.gates_passed
        assert client.registry.verify_audit()[1] == []
        assert "# Model card: churn version 1" in (tmp_path / "demo" / "model-card.md").read_text()


def test_the_generator_is_seeded_and_drift_shifts_the_population() -> None:
    first, again = generate_churn(2000, seed=3), generate_churn(2000, seed=3)
    assert first.equals(again)
    drifted = generate_churn(2000, seed=3, drift=1.0)
    assert drifted["tenure_months"].mean() < first["tenure_months"].mean()
    assert drifted["support_calls"].mean() > first["support_calls"].mean()
    assert drifted["churned"].mean() > first["churned"].mean()
