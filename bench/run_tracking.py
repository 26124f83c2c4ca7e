"""Tracking benchmark: loopml vs MLflow on the same workloads, in the same run.

Run from the repository root::

    .venv/bin/python bench/run_tracking.py [--quick] [--keep]

Each step runs in a fresh subprocess per tool, inside a fresh temporary directory, so each
tool uses its default local store there (loopml: ``.loopml/``; MLflow 3: whatever it picks
with no tracking URI set). MLflow runs in its own virtualenv, ``bench/.venv-mlflow``, created
here on first use. Results are printed as a table and written to ``bench/results/``. Nothing
asserts on time: bars that are not met are reported, not failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TimeElapsedColumn
from tracking_bench import common, report
from tracking_bench.runner import (
    BENCH_DIR,
    LOOPML,
    MLFLOW,
    MLFLOW_PYTHON,
    MLFLOW_VENV,
    Job,
    Tool,
    WorkerError,
    WorkerRunner,
)

MLFLOW_REQUIREMENT = "mlflow>=3,<4"
RESULTS_DIR = BENCH_DIR / "results"


@dataclass(frozen=True)
class Sizes:
    """How big each workload is; ``--quick`` divides sizes and time budgets by 10."""

    points: int = 100_000
    points_probe: int = 1_000  # MLflow points logged first, to project its full time
    points_budget_s: float = 120.0
    points_fallback: int = 10_000  # MLflow's points when the projection exceeds the budget
    runs: int = 100_000
    runs_probe: int = 300  # runs populated through each tool's API before cloning the rest
    runs_budget_s: float = 600.0
    runs_fallback: int = 20_000  # MLflow's runs when the projection exceeds the budget
    repeats: int = 20  # timed searches; kept at 20 in --quick so p95 means something

    def quick(self) -> Sizes:
        return Sizes(
            points=self.points // 10,
            points_probe=self.points_probe // 10,
            points_budget_s=self.points_budget_s / 10,
            points_fallback=self.points_fallback // 10,
            runs=self.runs // 10,
            runs_probe=self.runs_probe // 10,
            runs_budget_s=self.runs_budget_s / 10,
            runs_fallback=self.runs_fallback // 10,
            repeats=self.repeats,
        )


def ensure_mlflow_venv(console: Console) -> None:
    """Create ``bench/.venv-mlflow`` with the latest MLflow 3.x unless it already works."""
    if MLFLOW_PYTHON.exists():
        check = subprocess.run(
            [str(MLFLOW_PYTHON), "-c", "import mlflow"], capture_output=True, check=False
        )
        if check.returncode == 0:
            return
    with console.status(f"Creating {MLFLOW_VENV} with {MLFLOW_REQUIREMENT} ..."):
        subprocess.run(["python3", "-m", "venv", str(MLFLOW_VENV)], check=True)
        pip = [str(MLFLOW_PYTHON), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, MLFLOW_REQUIREMENT], check=True)


def _timing(result: dict[str, Any]) -> dict[str, Any]:
    """Add percentiles to a search worker's result."""
    latencies = result["latencies_ms"]
    return {
        **result,
        "p50_ms": common.percentile(latencies, 50),
        "p95_ms": common.percentile(latencies, 95),
    }


def _check_loopml_home(cwd: Path) -> None:
    """loopml looks for ``.loopml/`` upward from cwd: make sure it used the fresh one."""
    if not (cwd / ".loopml").is_dir():
        raise WorkerError(f"loopml did not create its default store in {cwd / '.loopml'}")


def bench_log_metric(runner: WorkerRunner, work: Path, sizes: Sizes) -> dict[str, Any]:
    """Workload 1: one run, one ``log_metric`` call per point."""
    n = sizes.points
    loopml = runner.run(
        LOOPML, work / "loopml-log-metric", f"log_metric x {n:,}", "log-metric", "--points", str(n)
    )
    _check_loopml_home(work / "loopml-log-metric")

    probe = runner.run(
        MLFLOW,
        work / "mlflow-log-metric-probe",
        f"log_metric probe x {sizes.points_probe:,}",
        "log-metric",
        "--points",
        str(sizes.points_probe),
    )
    probe["projected_seconds"] = probe["seconds"] / probe["points"] * n
    n_mlflow = n if probe["projected_seconds"] <= sizes.points_budget_s else sizes.points_fallback
    mlflow = runner.run(
        MLFLOW,
        work / "mlflow-log-metric",
        f"log_metric x {n_mlflow:,}",
        "log-metric",
        "--points",
        str(n_mlflow),
    )

    for side in (loopml, mlflow):
        side["points_per_s"] = side["points"] / side["seconds"]
    mlflow["probe"] = probe
    mlflow["extrapolated"] = n_mlflow != n
    mlflow["projected_seconds"] = n / mlflow["points_per_s"]
    return {
        "points": n,
        "budget_s": sizes.points_budget_s,
        "loopml": loopml,
        "mlflow": mlflow,
        "speedup": loopml["points_per_s"] / mlflow["points_per_s"],
    }


def bench_search_runs(runner: WorkerRunner, work: Path, sizes: Sizes) -> dict[str, Any]:
    """Workload 2: populate each default store, then time the three-clause search.

    Populating is not timed, so the two tools populate at the same time; every timed search
    runs alone.
    """
    n, repeats = sizes.runs, ("search", "--repeats", str(sizes.repeats))
    mlflow_dir, loopml_dir = work / "mlflow-search", work / "loopml-search"

    def populate(tool: Tool, cwd: Path, start: int, stop: int, bulk: bool = False) -> Job:
        command = "populate-bulk" if bulk else "populate"
        args = (command, "--start", str(start), "--stop", str(stop))
        how = "clone" if bulk else "populate through the API"
        return Job(tool, cwd, f"{how}: runs {start:,}..{stop:,}", args)

    def search(tool: Tool, cwd: Path, n_runs: int) -> dict[str, Any]:
        description = f"search_runs x {sizes.repeats} on {n_runs:,} runs"
        return _timing(runner.run(tool, cwd, description, *repeats))

    # The first runs go through each tool's own API (and measure its populate speed);
    # the rest are cloned into each tool's own SQLite tables with identical data,
    # because MLflow's API needs hours for 100,000 runs on this machine.
    probe = min(sizes.runs_probe, n)
    mlflow_api, loopml_api = runner.run_concurrently(
        [populate(MLFLOW, mlflow_dir, 0, probe), populate(LOOPML, loopml_dir, 0, probe)]
    )
    if n > probe:
        runner.run_concurrently(
            [
                populate(MLFLOW, mlflow_dir, probe, n, bulk=True),
                populate(LOOPML, loopml_dir, probe, n, bulk=True),
            ]
        )
    mlflow = search(MLFLOW, mlflow_dir, n)
    loopml_shared = search(LOOPML, loopml_dir, n)
    n_shared = n
    loopml_full = loopml_shared
    _check_loopml_home(loopml_dir)

    return {
        "n_runs": n,
        "budget_s": sizes.runs_budget_s,
        "repeats": sizes.repeats,
        "mlflow_reduced": False,
        "populate": {
            "loopml": {
                "tool": "loopml",
                "api": f"Client().metadata create_run + log_batch for {probe:,} runs, the rest cloned",
                "runs": loopml_api["runs"],
                "seconds": loopml_api["seconds"],
            },
            "mlflow": {
                "tool": "MLflow",
                "api": f"MlflowClient().create_run + log_batch for {probe:,} runs, the rest cloned",
                "runs": mlflow_api["runs"],
                "seconds": mlflow_api["seconds"],
            },
        },
        "shared": {
            "n_runs": n_shared,
            "loopml": loopml_shared,
            "mlflow": mlflow,
            "speedup_p50": mlflow["p50_ms"] / loopml_shared["p50_ms"],
            "speedup_p95": mlflow["p95_ms"] / loopml_shared["p95_ms"],
        },
        "loopml_full": loopml_full,
    }


def describe_machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }


def describe_checkout() -> dict[str, Any]:
    """The repository's commit and whether the working tree differs from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=BENCH_DIR, capture_output=True, text=True)
        return done.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


def _write_results(results: dict[str, Any], started: datetime, args: argparse.Namespace) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    suffix = ("-quick" if args.quick else "") + ("-failed" if "error" in results else "")
    out = RESULTS_DIR / f"tracking-{started:%Y%m%d-%H%M%S}{suffix}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shrink every workload 10x")
    parser.add_argument("--keep", action="store_true", help="keep the temporary stores")
    parser.add_argument(
        "--loopml-src",
        type=Path,
        help="import loopml from this src/ folder (e.g. an exported commit) instead of the "
        "installed package, to measure a fixed version while the working tree changes",
    )
    args = parser.parse_args()
    sizes = Sizes().quick() if args.quick else Sizes()
    # A pipe or log file gets Rich's 80 columns by default: too narrow for the table.
    console = Console(width=None if sys.stdout.isatty() else 132)
    ensure_mlflow_venv(console)

    started = datetime.now(UTC)
    work = Path(tempfile.mkdtemp(prefix="loopml-bench-"))
    (work / "logs").mkdir()
    progress = Progress(
        SpinnerColumn(),
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    loopml_src = args.loopml_src.resolve() if args.loopml_src else None
    runner = WorkerRunner(progress, work / "logs", loopml_src)
    try:
        with progress:
            loopml_info = runner.run(LOOPML, work / "loopml-info", "default store", "info")
            mlflow_info = runner.run(MLFLOW, work / "mlflow-info", "default store", "info")
            log_metric = bench_log_metric(runner, work, sizes)
            search_runs = bench_search_runs(runner, work, sizes)
    except WorkerError as exc:
        console.print(f"[bold red]benchmark failed:[/] {exc}")
        out = _write_results({"error": str(exc), "completed": runner.completed}, started, args)
        console.print(f"what was measured is in {out}; stores and logs kept in {work}")
        return 1

    for info in (loopml_info, mlflow_info):  # show the store relative to its fresh cwd
        info["default_store"] = info["default_store"].replace(str(work), "<tmp>")
    results: dict[str, Any] = {
        "started_at": started.isoformat(),
        "quick": args.quick,
        "checkout": describe_checkout(),
        "loopml_src": str(loopml_src or "installed package"),
        "sizes": asdict(sizes),
        "machine": describe_machine(),
        "loopml": loopml_info,
        "mlflow": mlflow_info,
        "log_metric": log_metric,
        "search_runs": search_runs,
    }
    results["machine"]["load_average_at_end"] = os.getloadavg()
    bars = report.judge(results)
    results["bars"] = [asdict(bar) for bar in bars.values()]

    machine = results["machine"]
    load = ", ".join(
        f"{machine[f'load_average_at_{when}'][0]:.1f} at {when}" for when in ("start", "end")
    )
    console.print(
        f"\nmachine: {machine['platform']}, {machine['cpu_count']} CPUs, "
        f"Python {machine['python']}, 1-min load average {load}"
    )
    console.print(
        f"loopml {loopml_info['version']} from {loopml_info['module']}: "
        f"default store {loopml_info['default_store']}"
    )
    console.print(f"MLflow {mlflow_info['version']}: default store {mlflow_info['default_store']}")
    report.render(console, results, bars)

    out = _write_results(results, started, args)
    console.print(f"\nresults written to {out.relative_to(BENCH_DIR.parent)}")
    if args.keep:
        console.print(f"stores kept in {work}")
    else:
        subprocess.run(["rm", "-rf", str(work)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
