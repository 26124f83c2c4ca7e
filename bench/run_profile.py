"""Profiling benchmark: loopml's ``profile_dataset`` vs ydata-profiling, in the same run.

Run from the repository root::

    .venv/bin/python bench/run_profile.py [--quick] [--keep]

1. Speed: 1,000,000 rows x 20 columns (12 numeric, 5 categorical, 2 text, 1 boolean, with
   nulls) as one Parquet file. loopml profiles it 3 times from the file and 3 times from
   an Arrow table read beforehand; ydata-profiling, in its own virtualenv
   ``bench/.venv-ydata`` (created here on first use), profiles the same file read into a
   pandas DataFrame beforehand, once, in minimal mode. Bar: loopml >= 10x faster.
2. Memory: 10,000,000 rows x 20 columns, profiled from Parquet by loopml in a fresh
   process whose peak RSS is reported. Bar: <= 2 GiB.

Every step is a fresh subprocess. Nothing asserts on time: a missed bar is printed, and
the results are written to ``bench/results/profile-<UTC time>[-quick].json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from profile_bench import data
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TimeElapsedColumn
from rich.table import Table
from run_tracking import describe_checkout, describe_machine
from tracking_bench.runner import BENCH_DIR, LOOPML_PYTHON, Tool, WorkerError, WorkerRunner

YDATA_REQUIREMENT = "ydata-profiling>=4.18,<5"
YDATA_VENV = BENCH_DIR / ".venv-ydata"
YDATA_PYTHON = YDATA_VENV / "bin" / "python"
RESULTS_DIR = BENCH_DIR / "results"
LOOPML = Tool("loopml", LOOPML_PYTHON, "profile_bench.loopml_side")
YDATA = Tool("ydata-profiling", YDATA_PYTHON, "profile_bench.ydata_side")
MIN_SPEEDUP = 10.0
MAX_PEAK_BYTES = 2 * 1024**3


def ensure_ydata_venv(console: Console) -> None:
    """Create ``bench/.venv-ydata`` with ydata-profiling unless it already works."""
    if YDATA_PYTHON.exists():
        check = [str(YDATA_PYTHON), "-c", "import ydata_profiling, pyarrow"]
        if subprocess.run(check, capture_output=True, check=False).returncode == 0:
            return
    with console.status(f"Creating {YDATA_VENV} with {YDATA_REQUIREMENT} ..."):
        subprocess.run(["python3", "-m", "venv", str(YDATA_VENV)], check=True)
        pip = [str(YDATA_PYTHON), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        # setuptools: ydata-profiling still imports pkg_resources on some paths
        subprocess.run([*pip, YDATA_REQUIREMENT, "pyarrow", "setuptools"], check=True)


def run(args: argparse.Namespace, console: Console, work: Path) -> dict[str, Any]:
    speed_rows, memory_rows = (100_000, 1_000_000) if args.quick else (1_000_000, 10_000_000)
    progress = Progress(SpinnerColumn(), "{task.description}", TimeElapsedColumn(), console=console)
    runner = WorkerRunner(progress, work / "logs")
    with progress:
        task = progress.add_task(f"write {speed_rows:,} rows x 20 columns", total=None)
        speed_file = data.write_parquet(work / "speed.parquet", speed_rows)
        progress.update(task, total=1, completed=1)
        loopml = runner.run(
            LOOPML,
            work,
            "profile_dataset x 3 (file), x 3 (Arrow table)",
            "profile",
            str(speed_file),
        )
        ydata = runner.run(
            YDATA,
            work,
            "ProfileReport(minimal=True): describe, to_json",
            "profile",
            str(speed_file),
        )
        speed_file.unlink()
        task = progress.add_task(f"write {memory_rows:,} rows x 20 columns", total=None)
        memory_file = data.write_parquet(work / "memory.parquet", memory_rows)
        progress.update(task, total=1, completed=1)
        memory = runner.run(LOOPML, work, "profile_dataset, peak RSS", "peak", str(memory_file))
        memory["parquet_bytes"] = memory_file.stat().st_size
    return {
        "speed": {
            "n_rows": speed_rows,
            "loopml": loopml,
            "ydata": ydata,
            "speedup": ydata["describe_seconds"] / loopml["parquet_median_s"],
            "speedup_to_json": ydata["to_json_seconds"] / loopml["parquet_median_s"],
        },
        "memory": {"n_rows": memory_rows, "loopml": memory},
    }


def render(console: Console, results: dict[str, Any]) -> None:
    speed, memory = results["speed"], results["memory"]
    loopml, ydata = speed["loopml"], speed["ydata"]
    table = Table(title="Dataset profiling: loopml vs ydata-profiling")
    for column in ("workload", "loopml", "ydata-profiling", "ratio", "bar", "met"):
        table.add_column(column, justify="left" if column == "workload" else "right")
    gib = 1024**3
    rows = f"{speed['n_rows']:,} x 20"
    table.add_row(
        f"{rows}, from Parquet",
        f"{loopml['parquet_median_s']:.2f} s",
        f"{ydata['describe_seconds']:.1f} s",
        f"{speed['speedup']:.0f}x",
        f">= {MIN_SPEEDUP:.0f}x",
        "yes" if speed["speedup"] >= MIN_SPEEDUP else "NO",
    )
    table.add_row(
        f"{rows}, in memory",
        f"{loopml['table_median_s']:.2f} s",
        f"{ydata['describe_seconds']:.1f} s",
        f"{ydata['describe_seconds'] / loopml['table_median_s']:.0f}x",
        "",
        "",
    )
    table.add_row(
        f"{rows}, + to_json",
        "",
        f"{ydata['to_json_seconds']:.1f} s",
        f"{speed['speedup_to_json']:.0f}x",
        "",
        "",
    )
    table.add_row(
        f"{rows}, peak RSS",
        f"{loopml['peak_rss_bytes'] / gib:.2f} GiB",
        f"{ydata['peak_rss_bytes'] / gib:.2f} GiB",
        "",
        "",
        "",
    )
    peak = memory["loopml"]["peak_rss_bytes"]
    table.add_row(
        f"{memory['n_rows']:,} x 20, peak RSS",
        f"{peak / gib:.2f} GiB ({memory['loopml']['seconds']:.0f} s)",
        "-",
        "",
        "<= 2 GiB",
        "yes" if peak <= MAX_PEAK_BYTES else "NO",
    )
    console.print(table)
    console.print(
        f"loopml {loopml['version']}, ydata-profiling {ydata['version']}; loopml times are "
        "medians of 3 and include json.dumps(profile.to_dict()); ydata-profiling ran once "
        f"(describe, then to_json: {ydata['json_bytes'] / 1e6:.0f} MB of JSON against "
        f"loopml's {loopml['json_bytes'] / 1e3:.0f} kB)."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 and 1,000,000 rows")
    parser.add_argument("--keep", action="store_true", help="keep the data and worker logs")
    args = parser.parse_args()
    console = Console(width=None if sys.stdout.isatty() else 132)
    ensure_ydata_venv(console)
    started = datetime.now(UTC)
    work = Path(tempfile.mkdtemp(prefix="loopml-bench-profile-"))
    (work / "logs").mkdir()
    results: dict[str, Any] = {
        "started_at": started.isoformat(),
        "quick": args.quick,
        "checkout": describe_checkout(),
        "machine": describe_machine(),
    }
    try:
        results |= run(args, console, work)
    except WorkerError as exc:
        console.print(f"[bold red]benchmark failed:[/] {exc}")
        results["error"] = str(exc)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    RESULTS_DIR.mkdir(exist_ok=True)
    suffix = ("-quick" if args.quick else "") + ("-failed" if "error" in results else "")
    out = RESULTS_DIR / f"profile-{started:%Y%m%d-%H%M%S}{suffix}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    if "error" not in results:
        render(console, results)
    console.print(f"results written to {out.relative_to(BENCH_DIR.parent)}")
    if args.keep or "error" in results:
        console.print(f"data and logs kept in {work}")
    else:
        subprocess.run(["rm", "-rf", str(work)], check=False)
    return 1 if "error" in results else 0


if __name__ == "__main__":
    sys.exit(main())
