"""Demo chapter "tracking": train several candidates and track every one of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import Progress
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from loopml.client.client import Client
from loopml.datasets.handle import DatasetVersionHandle
from loopml.demo.data import FEATURES, TARGET
from loopml.tracking.active_run import ActiveRun

__all__ = ["CANDIDATES", "TrackingResult", "run_tracking_chapter"]

EXPERIMENT = "churn-baseline"
NUMERIC = ["tenure_months", "monthly_charges", "support_calls"]
CATEGORICAL = ["contract", "region", "payment_method", "has_internet"]

# name -> (model factory, params logged)
CANDIDATES: dict[str, tuple[Any, dict[str, Any]]] = {
    "logreg-c1": (lambda: LogisticRegression(C=1.0, max_iter=500), {"model": "logreg", "C": 1.0}),
    "rf-100": (
        lambda: RandomForestClassifier(n_estimators=100, max_depth=8, random_state=0, n_jobs=1),
        {"model": "rf", "n_estimators": 100, "max_depth": 8},
    ),
    "rf-300-deep": (
        lambda: RandomForestClassifier(n_estimators=300, max_depth=None, random_state=0, n_jobs=1),
        {"model": "rf", "n_estimators": 300, "max_depth": None},
    ),
    "gbm-150": (
        lambda: GradientBoostingClassifier(
            n_estimators=150, learning_rate=0.05, max_depth=3, random_state=0
        ),
        {"model": "gbm", "n_estimators": 150, "learning_rate": 0.05, "max_depth": 3},
    ),
}


@dataclass(frozen=True)
class TrackingResult:
    experiment: str
    run_ids: dict[str, str]
    best_run_id: str
    table: pd.DataFrame


def _pipeline(model: Any) -> Pipeline:
    prep = ColumnTransformer(
        [
            ("num", StandardScaler(), NUMERIC),
            ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ]
    )
    return Pipeline([("prep", prep), ("model", model)])


def _scores(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    predicted = (proba >= 0.5).astype(int)
    return {
        "accuracy": float(accuracy_score(y, predicted)),
        "f1": float(f1_score(y, predicted)),
        "roc_auc": float(roc_auc_score(y, proba)),
        "log_loss": float(log_loss(y, proba)),
    }


def _log_curves(
    run: ActiveRun, pipeline: Pipeline, x_test: pd.DataFrame, y_test: np.ndarray
) -> None:
    """Test scores as the ensemble grows: the step is the number of trees (or stages)."""
    model = pipeline.named_steps["model"]
    prepared = pipeline.named_steps["prep"].transform(x_test)
    if isinstance(model, GradientBoostingClassifier):
        for stage, proba in enumerate(model.staged_predict_proba(prepared), start=1):
            run.log_metric("test_log_loss", log_loss(y_test, proba[:, 1]), step=stage)
            run.log_metric("test_roc_auc", roc_auc_score(y_test, proba[:, 1]), step=stage)
    elif isinstance(model, RandomForestClassifier):
        total = np.zeros(len(y_test))
        for n_trees, tree in enumerate(model.estimators_, start=1):
            total += tree.predict_proba(prepared)[:, 1]
            if n_trees % 5 == 0 or n_trees == len(model.estimators_):
                proba = np.clip(total / n_trees, 1e-6, 1 - 1e-6)
                run.log_metric("test_log_loss", log_loss(y_test, proba), step=n_trees)
                run.log_metric("test_roc_auc", roc_auc_score(y_test, proba), step=n_trees)


def run_tracking_chapter(
    client: Client, console: Console, data: DatasetVersionHandle
) -> TrackingResult:
    """Train every candidate on the same split of ``data`` and track everything.

    Each run records the dataset version it trained and was tested on (lineage).
    """
    frame = data.to_pandas()
    train, test = train_test_split(frame, test_size=0.25, random_state=0, stratify=frame[TARGET])
    x_train, y_train = train[list(FEATURES)], train[TARGET].to_numpy()
    x_test, y_test = test[list(FEATURES)], test[TARGET].to_numpy()
    run_ids: dict[str, str] = {}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("training candidates", total=len(CANDIDATES))
        for name, (factory, params) in CANDIDATES.items():
            progress.update(task, description=f"training {name}")
            with client.start_run(
                experiment=EXPERIMENT, name=name, tags={"stage": "candidate"}
            ) as run:
                run.log_input(data, role="train")
                run.log_input(data, role="test")
                run.log_params({**params, "n_train_rows": len(train), "split_seed": 0})
                pipeline = _pipeline(factory()).fit(x_train, y_train)
                _log_curves(run, pipeline, x_test, y_test)
                scores = _scores(y_test, pipeline.predict_proba(x_test)[:, 1])
                run.log_metrics(scores)
                run.log_metrics(
                    {
                        f"train_{k}": v
                        for k, v in _scores(y_train, pipeline.predict_proba(x_train)[:, 1]).items()
                    }
                )
                run.log_model(pipeline, "model", input_example=x_train)
                run.log_dict(
                    {"features": list(FEATURES), "target": TARGET, "params": params}, "config.json"
                )
                run.log_text(
                    f"# {name}\n\nTrained on {len(train)} rows, scored on {len(test)}.\n"
                    f"ROC AUC {scores['roc_auc']:.3f}, F1 {scores['f1']:.3f}.\n",
                    "summary.md",
                )
                run_ids[name] = run.id
            console.print(
                f"  [green]✓[/green] {name:<12} "
                f"roc_auc={scores['roc_auc']:.3f}  f1={scores['f1']:.3f}"
            )
            progress.advance(task)
    table = client.search_runs(
        experiment=EXPERIMENT,
        filter="tags.stage = 'candidate' and status = 'finished'",
        order_by=["metrics.roc_auc desc"],
        max_results=100,
    )
    return TrackingResult(EXPERIMENT, run_ids, str(table.iloc[0]["run_id"]), table)
