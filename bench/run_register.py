"""Dataset registration benchmark: loopml ``data.register`` vs ``dvc add``, in the same run.

Run from the repository root::

    .venv/bin/python bench/run_register.py [--repeats 3] [--quick] [--keep]

The input is one ~1 GiB Parquet file of random numbers and text, generated once (seeded)
and cached in ``<tmp>/loopml-bench-data/``. Every repeat measures, in a fresh folder on the
same filesystem:

1. ``dvc add`` of a copy of the file in a fresh ``git init`` + ``dvc init`` repository
   (DVC in its own virtualenv, ``bench/.venv-dvc``; wall time of the process);
2. loopml's first registration, ``loopml.data.register(name, path, profile=False)``, into
   an empty default store (SQLite + local artifact folder; wall time of the call);
3. loopml's re-registration of the unchanged file into the same store;

and, for context only, the second ``dvc add`` of the unchanged file,
``python -m loopml data register ... --no-profile`` timed as a process like ``dvc add``, and
the floor under any durable copy: ``copy_file_range`` + ``fsync`` of the file, no hashing.
Before every measured step the file that step reads is read once in full and the page
cache flushed with ``sync`` (register_bench/common.py), the same for both tools. Results go
to ``bench/results/register-<UTC time>.json``. Nothing asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from register_bench import dvc_side
from register_bench.common import DATASET, durable_copy, load, warm_read
from register_bench.data import GIB, ensure_parquet
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TimeElapsedColumn
from rich.table import Table
from run_tracking import describe_checkout, describe_machine
from tracking_bench.runner import BENCH_DIR, LOOPML_PYTHON, Tool, WorkerError, WorkerRunner

RESULTS_DIR = BENCH_DIR / "results"
LOOPML_REGISTER = Tool("loopml", LOOPML_PYTHON, "register_bench.loopml_side")
SPEEDUP_BAR = 3.0  # dvc add / loopml first registration
AGAIN_BAR = 0.10  # loopml re-registration / first registration


def loopml_cli(data_file: Path, folder: Path, env: dict[str, str]) -> dict[str, Any]:
    """``python -m loopml data register`` into a fresh store, timed as a process.

    The store is created first by an untimed ``loopml data list``, as DVC's repository is
    by the untimed ``dvc init``.
    """
    folder.mkdir(parents=True)
    env = {**env, "LOOPML_HOME": str(folder / ".loopml")}
    create = [str(LOOPML_PYTHON), "-m", "loopml", "data", "list"]
    done = subprocess.run(create, cwd=folder, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise WorkerError(f"`loopml data list` failed:\n{done.stderr[-2000:]}")
    warm_s = warm_read(data_file)
    load_before = load()
    args = [str(LOOPML_PYTHON), "-m", "loopml", "data", "register", DATASET, str(data_file)]
    start = time.perf_counter()
    done = subprocess.run(
        [*args, "--no-profile", "--json"], cwd=folder, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise WorkerError(f"`loopml data register` failed:\n{done.stderr[-2000:]}")
    return {"seconds": seconds, "warm_read_s": warm_s, "load": load_before}


def _discard(folder: Path) -> None:
    """Remove a repeat's stores and flush, so freeing them does not slow the next step."""
    shutil.rmtree(folder, ignore_errors=True)
    os.sync()


def summarise(repeats: list[dict[str, Any]]) -> dict[str, Any]:
    def median(side: str, step: str) -> float:
        return float(statistics.median(r[side][step]["seconds"] for r in repeats))

    dvc_first, dvc_again = median("dvc", "first"), median("dvc", "again")
    first, again = median("loopml", "first"), median("loopml", "again")
    cli = statistics.median(r["loopml_cli"]["seconds"] for r in repeats)
    floor = {
        key: statistics.median(r["floor"][key] for r in repeats)
        for key in ("seconds", "copy_s", "fsync_s")
    }
    return {
        "dvc_add_s": dvc_first,
        "dvc_add_unchanged_s": dvc_again,
        "loopml_first_s": first,
        "loopml_again_s": again,
        "loopml_cli_s": cli,
        "floor_s": floor["seconds"],
        "floor_copy_s": floor["copy_s"],
        "floor_fsync_s": floor["fsync_s"],
        "speedup": dvc_first / first,
        "again_fraction": again / first,
        "speedup_processes": dvc_first / cli,
        "bars": [
            {
                "name": "first registration: dvc add / loopml",
                "bar": f">= {SPEEDUP_BAR:g}x",
                "value": dvc_first / first,
                "met": dvc_first / first >= SPEEDUP_BAR,
            },
            {
                "name": "re-registration / first registration",
                "bar": f"<= {AGAIN_BAR:.0%}",
                "value": again / first,
                "met": again / first <= AGAIN_BAR,
            },
        ],
    }


def render(console: Console, results: dict[str, Any]) -> None:
    repeats, summary = results["repeats"], results["summary"]

    def times(side: str, step: str | None = None) -> str:
        values = [r[side][step] if step else r[side] for r in repeats]
        return " ".join(f"{v['seconds']:.2f}" for v in values)

    def loads(side: str, step: str | None = None) -> str:
        values = [r[side][step] if step else r[side] for r in repeats]
        return " ".join(f"{v['load']:.1f}" for v in values)

    table = Table(title=f"Registering {results['file']['n_bytes'] / GIB:.2f} GiB of Parquet")
    for column in ("step", "median s", "each repeat, s", "1-min load before each"):
        table.add_column(column, justify="left" if column == "step" else "right")
    rows = [
        ("dvc add (process)", "dvc_add_s", "dvc", "first"),
        ("loopml data.register, first (call)", "loopml_first_s", "loopml", "first"),
        ("loopml data.register, unchanged (call)", "loopml_again_s", "loopml", "again"),
        ("context: dvc add, unchanged (process)", "dvc_add_unchanged_s", "dvc", "again"),
        ("context: loopml data register CLI, first (process)", "loopml_cli_s", "loopml_cli", None),
        ("context: floor, copy_file_range + fsync (no hash)", "floor_s", "floor", None),
    ]
    for label, key, side, step in rows:
        table.add_row(label, f"{summary[key]:.2f}", times(side, step), loads(side, step))
    console.print(table)

    bars = Table(title="Bars (issue 4)")
    for column in ("bar", "target", "measured", "met"):
        bars.add_column(column)
    for bar in summary["bars"]:
        value = f"{bar['value']:.1f}x" if "x" in bar["bar"] else f"{bar['value']:.1%}"
        bars.add_row(bar["name"], bar["bar"], value, "yes" if bar["met"] else "[bold red]NO[/]")
    console.print(bars)
    console.print(
        f"context: dvc add / loopml CLI, both timed as processes: "
        f"{summary['speedup_processes']:.1f}x; DVC's start-up alone (`dvc --version`): "
        f"{results['dvc']['startup_s']:.2f} s; the floor's copy / fsync: "
        f"{summary['floor_copy_s']:.2f} / {summary['floor_fsync_s']:.2f} s (DVC does not "
        "fsync; loopml fsyncs each blob before recording the version)"
    )
    console.print(
        "Before every measured step the file it reads was read once in full and `sync` run "
        "(same warm-up for both tools), so both start with the file in the page cache and "
        "no dirty pages from an earlier step."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="repeats per tool (median)")
    parser.add_argument("--quick", action="store_true", help="a 128 MiB file, 2 repeats")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "loopml-bench-data",
        help="where the generated Parquet file is cached (and the stores are made beside it)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the stores and logs")
    parser.add_argument(
        "--loopml-src",
        type=Path,
        help="import loopml from this src/ folder instead of the installed package",
    )
    args = parser.parse_args()
    n_bytes, n_repeats = (GIB // 8, 2) if args.quick else (GIB, args.repeats)
    console = Console(width=None if sys.stdout.isatty() else 132)
    dvc_side.ensure_dvc_venv(console)

    started = datetime.now(UTC)
    with console.status(f"Generating (once) a {n_bytes / GIB:g} GiB Parquet file ..."):
        data_file = ensure_parquet(args.data_dir, n_bytes)
    work = Path(tempfile.mkdtemp(prefix="loopml-bench-register-", dir=args.data_dir.parent))
    if os.stat(work).st_dev != os.stat(data_file).st_dev:
        console.print(f"[bold red]{work} and {data_file} are on different filesystems[/]")
        return 1
    (work / "logs").mkdir()
    loopml_src = args.loopml_src.resolve() if args.loopml_src else None
    progress = Progress(SpinnerColumn(), "{task.description}", TimeElapsedColumn(), console=console)
    runner = WorkerRunner(progress, work / "logs", loopml_src)
    machine = describe_machine()
    repeats: list[dict[str, Any]] = []
    try:
        with progress:
            startup = dvc_side.startup_seconds(work / "dvc-startup")
            for index in range(n_repeats):
                # Rotate the order, so a load that drifts during the run hits every side.
                order = ["dvc", "loopml", "loopml_cli", "floor"]
                order = order[index % 4 :] + order[: index % 4]
                repeat: dict[str, Any] = {}
                for side in order:
                    folder = work / f"{side}-{index}"
                    task = progress.add_task(f"repeat {index + 1}/{n_repeats}: {side}")
                    if side == "dvc":
                        repeat[side] = dvc_side.dvc_add(data_file, folder)
                    elif side == "loopml":
                        repeat[side] = runner.run(
                            LOOPML_REGISTER, folder, "register", "register", "--file",
                            str(data_file),
                        )  # fmt: skip
                    elif side == "loopml_cli":
                        repeat[side] = loopml_cli(data_file, folder, runner.env)
                    else:
                        repeat[side] = durable_copy(data_file, folder)
                    progress.update(task, total=1, completed=1)
                    if not args.keep:
                        _discard(folder)
                repeats.append(repeat)
    except (WorkerError, RuntimeError) as exc:
        console.print(f"[bold red]benchmark failed:[/] {exc}")
        console.print(f"stores and logs kept in {work}")
        return 1
    machine["load_average_at_end"] = os.getloadavg()
    loopml_info = {k: v for k, v in repeats[0]["loopml"].items() if k not in ("first", "again")}
    results: dict[str, Any] = {
        "started_at": started.isoformat(),
        "quick": args.quick,
        "checkout": describe_checkout(),
        "loopml_src": str(loopml_src or "installed package"),
        "machine": machine,
        "file": {
            "path": str(data_file),
            "n_bytes": data_file.stat().st_size,
            "filesystem_same_as_stores": True,
        },
        "dvc": {"version": dvc_side.dvc_version(), "startup_s": startup},
        "loopml": loopml_info,
        "repeats": repeats,
        "summary": summarise(repeats),
    }
    load_text = ", ".join(f"{x:.1f}" for x in machine["load_average_at_start"])
    console.print(
        f"\nmachine: {machine['platform']}, {machine['cpu_count']} CPUs, Python "
        f"{machine['python']}; load average (1, 5, 15 min) {load_text} at start, "
        f"{machine['load_average_at_end'][0]:.1f} (1 min) at end"
    )
    console.print(
        f"DVC {results['dvc']['version']} (.venv-dvc); loopml {loopml_info['version']} from "
        f"{loopml_info['module']}; file {data_file} ({data_file.stat().st_size:,} bytes)"
    )
    render(console, results)
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"register-{started:%Y%m%d-%H%M%S}{'-quick' if args.quick else ''}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    console.print(f"\nresults written to {out.relative_to(BENCH_DIR.parent)}")
    if args.keep:
        console.print(f"stores kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
