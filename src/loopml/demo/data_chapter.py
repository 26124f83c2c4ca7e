"""Demo chapter "data": register raw data as dataset versions, validated and profiled.

The raw monthly extracts are CSV files the demo writes into ``data/`` (no download); the
schema is ``churn.schema.yaml`` beside the code. October's extract becomes ``churn@1``;
a damaged extract is refused by its schema with a report; November's (a drifted
population) becomes ``churn@2``, and the diff between the two names the drifted columns.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from loopml.client.client import Client
from loopml.core.errors import DataValidationError
from loopml.datasets.handle import DatasetVersionHandle
from loopml.demo.data import generate_churn

__all__ = ["DATASET", "DataResult", "run_data_chapter"]

DATASET = "churn"
SCHEMA_FILE = "churn.schema.yaml"


@dataclass(frozen=True)
class DataResult:
    training: DatasetVersionHandle
    latest: DatasetVersionHandle
    schema_path: Path


def _write_extracts(folder: Path, n_rows: int) -> tuple[Path, Path, Path]:
    data = folder / "data"
    data.mkdir(exist_ok=True)
    october, november, damaged = (
        data / "churn-2026-10.csv",
        data / "churn-2026-11.csv",
        data / "churn-2026-11-damaged.csv",
    )
    if not october.exists():
        generate_churn(n_rows, seed=7).to_csv(october, index=False)
    if not november.exists():
        later = generate_churn(n_rows, seed=8, drift=0.6)
        later["customer_id"] += n_rows  # new customers keep their own numbers
        later.to_csv(november, index=False)
    if not damaged.exists():
        broken = generate_churn(n_rows // 4, seed=9)
        broken.loc[broken.index[:7], "tenure_months"] = -1  # an upstream bug
        broken.loc[broken.index[10:13], "contract"] = "weekly"  # an unknown category
        broken.to_csv(damaged, index=False)
    return october, november, damaged


def run_data_chapter(client: Client, console: Console, folder: Path, n_rows: int) -> DataResult:
    """Register, validate, profile and compare the demo's extracts."""
    schema_path = folder / SCHEMA_FILE
    if not schema_path.exists():
        shutil.copyfile(Path(__file__).with_name(SCHEMA_FILE), schema_path)
    october, november, damaged = _write_extracts(folder, n_rows)
    known = {v.content_hash for v in _versions(client)}

    def register(path: Path, description: str) -> DatasetVersionHandle:
        version = client.data.register(
            DATASET, path, description=description, schema=schema_path, require_valid=True
        )
        state = "unchanged, already" if version.content_hash in known else "registered as"
        console.print(
            f"  [green]✓[/green] {path.name}: {state} [bold]{version.ref}[/bold] "
            f"({version.n_rows:,} rows, validation passed, profiled)"
        )
        return DatasetVersionHandle(version, client.data)

    training = register(october, "October extract of the customer table")
    try:
        client.data.register(DATASET, damaged, schema=schema_path, require_valid=True)
    except DataValidationError as refused:
        console.print(f"  [red]✗[/red] {damaged.name}: refused by {SCHEMA_FILE}, nothing stored:")
        for line in str(refused).splitlines()[1:]:
            console.print(f"      {line}", markup=False, highlight=False)
    latest = register(november, "November extract of the customer table")
    diff = client.data.diff(training.record, latest.record)
    drifted = ", ".join(f"{c.name} ({c.drift_score:.2f})" for c in diff.drifted) or "none"
    console.print(f"  {diff.old} → {diff.new}: drifted columns: {drifted}")
    return DataResult(training, latest, schema_path)


def _versions(client: Client) -> list[DatasetVersionHandle]:
    if all(d.name != DATASET for d in client.data.list_datasets()):
        return []
    return [DatasetVersionHandle(v, client.data) for v in client.data.list_versions(DATASET)]
