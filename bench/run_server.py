"""Server benchmark: ``loopml server`` vs ``mlflow server`` on 127.0.0.1, in the same run.

Run from the repository root::

    .venv/bin/python bench/run_server.py [--quick] [--keep] [--only batch,search,...]

Each server runs as a subprocess on a free port of 127.0.0.1 over a fresh store in a fresh
temporary folder, and is stopped when its workload is done (also when something fails).
Clients run in their tool's own interpreter: loopml's ``RestMetadataStore`` in ``.venv``,
``MlflowClient`` in ``bench/.venv-mlflow``; the raw-HTTP latency client is the same httpx
code for both servers. Results are printed as a table and written to ``bench/results/``.
Nothing asserts on time: bars that are not met are reported, not failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TimeElapsedColumn
from run_tracking import describe_checkout, describe_machine, ensure_mlflow_venv
from server_bench import common, report
from server_bench.postgres import DEFAULT_SERVER, BenchDatabase, PostgresUnavailable
from server_bench.servers import Server, ServerError, Servers, command_cpu, tree_cpu
from tracking_bench.runner import (
    BENCH_DIR,
    LOOPML_PYTHON,
    MLFLOW_PYTHON,
    Tool,
    WorkerError,
    WorkerRunner,
)

RESULTS_DIR = BENCH_DIR / "results"
LOOPML = Tool("loopml", LOOPML_PYTHON, "server_bench.loopml_client")
MLFLOW = Tool("MLflow", MLFLOW_PYTHON, "server_bench.mlflow_client")
WORKLOADS = ("footprint", "latency", "batch", "search")


@dataclass(frozen=True)
class Sizes:
    """How big each workload is; ``--quick`` shrinks points and runs 10x, searches to 5 s."""

    points: int = 100_000
    mlflow_probe_points: int = 5_000  # MLflow logs these first, to project its full time
    mlflow_budget_s: float = 300.0
    mlflow_fallback_points: int = 20_000  # MLflow's points when the projection exceeds it
    runs: int = 100_000
    runs_api: int = 100  # search runs made through the REST API (the rest are cloned)
    search_clients: int = 16
    search_seconds: float = 20.0
    search_workers: tuple[int, ...] = (2, 4)
    latency_requests: int = 2_000
    latency_workers: int = 4
    idle_s: float = 5.0

    def quick(self) -> Sizes:
        return replace(
            self,
            points=self.points // 10,
            mlflow_probe_points=self.mlflow_probe_points // 5,
            mlflow_budget_s=self.mlflow_budget_s / 10,
            mlflow_fallback_points=self.mlflow_fallback_points // 10,
            runs=self.runs // 10,
            search_seconds=5.0,
            latency_requests=self.latency_requests // 10,
        )


def _ready_loopml(server: Server) -> str:
    """Wait until a loopml server serves its API; its admin token (first start only)."""
    server.wait_for("/readyz")
    return server.admin_token()


def bench_batch(ctx: Context) -> dict[str, Any]:
    """Workload 1: 100,000 points in ``log_batch`` calls of 1,000 to one run, over SQLite."""
    sizes, n = ctx.sizes, ctx.sizes.points
    cwd = ctx.work / "batch-loopml"
    server = ctx.servers.loopml(
        cwd, store_url=f"sqlite:///{cwd / 'loopml.db'}", artifacts_url=str(cwd / "artifacts")
    )
    token = _ready_loopml(server)
    auth = ("--url", server.url, "--token", token)
    points = ("--points", str(n))
    loopml = ctx.run(LOOPML, "log_batch(metrics) x 100", "batch", *auth, *points)
    series = ctx.run(
        LOOPML, "log_batch(series) x 100", "batch", *auth, *points, "--shape", "series"
    )
    ctx.servers.stop(server)

    cwd = ctx.work / "batch-mlflow"
    server = ctx.servers.mlflow(cwd, store_uri=f"sqlite:///{cwd / 'mlflow.db'}")
    server.wait_for("/health")
    probe_n = min(sizes.mlflow_probe_points, n)
    probe = ctx.run(
        MLFLOW, f"probe x {probe_n:,}", "batch", "--url", server.url, "--points", str(probe_n)
    )
    probe["projected_seconds"] = probe["seconds"] / probe["points"] * n
    n_mlflow = (
        n if probe["projected_seconds"] <= sizes.mlflow_budget_s else sizes.mlflow_fallback_points
    )
    mlflow = ctx.run(
        MLFLOW,
        f"log_batch x {n_mlflow // 1000}",
        "batch",
        "--url",
        server.url,
        "--points",
        str(n_mlflow),
    )
    ctx.servers.stop(server)
    mlflow["probe"] = probe
    mlflow["extrapolated"] = n_mlflow != n
    return {
        "points": n,
        "batch_size": common.BATCH_SIZE,
        "calls": n // common.BATCH_SIZE,
        "budget_s": sizes.mlflow_budget_s,
        "workers": {"loopml": "default (1)", "mlflow": "default (4)"},
        "loopml": loopml,
        "loopml_series": series,
        "mlflow": mlflow,
        "speedup": loopml["points_per_s"] / mlflow["points_per_s"],
        "speedup_series": series["points_per_s"] / mlflow["points_per_s"],
    }


_CONSOLE_LOG = re.compile(r"duration_ms=(?P<ms>[0-9.]+) .*path=(?P<path>\S+)")


def _server_side(log_path: Path, path: str) -> dict[str, Any] | None:
    """Percentiles of the server's own ``duration_ms`` for ``path``, from its request log.

    The log is JSON lines, except from uvicorn worker processes (``--workers N > 1``),
    which write structlog's console format: both are read.
    """
    durations = []
    for line in log_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("path") == path and "duration_ms" in record:
                durations.append(float(record["duration_ms"]))
        elif (match := _CONSOLE_LOG.search(line)) and match["path"] == path:
            durations.append(float(match["ms"]))
    return common.summarize(durations) if len(durations) > 1 else None


def _search_cpu(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of PostgreSQL's processes and of the server's process tree.

    PostgreSQL counts every live ``postgres`` process (the reused server may serve others).
    Both are idle but for the search, so the time around a search run is the search's;
    the clients measure their own (their start-up would swamp it here).
    """
    return {"postgres": command_cpu("postgres"), "server": tree_cpu(server_pid)}


def bench_search(ctx: Context) -> dict[str, Any]:
    """Workload 2: 16 concurrent clients search 100,000 runs on PostgreSQL for 20 s.

    Skipped (and reported as such) on a machine with no PostgreSQL to use or start.
    """
    try:
        return _bench_search(ctx)
    except PostgresUnavailable as exc:
        return {"skipped": str(exc)}


def _bench_search(ctx: Context) -> dict[str, Any]:
    sizes = ctx.sizes
    with BenchDatabase(ctx.work, ctx.args.postgres, keep=ctx.args.keep) as db:
        artifacts = str(ctx.work / "search-artifacts")
        server = ctx.servers.loopml(
            ctx.work / "search-populate", store_url=db.store_url, artifacts_url=artifacts
        )
        token = _ready_loopml(server)
        api_runs = min(sizes.runs_api, sizes.runs)
        api = ctx.run(
            LOOPML,
            f"populate through the API: runs 0..{api_runs:,}",
            "populate",
            *("--url", server.url, "--token", token, "--start", "0", "--stop", str(api_runs)),
        )
        ctx.servers.stop(server)
        bulk = ctx.run(
            LOOPML,
            f"clone with COPY: runs {api_runs:,}..{sizes.runs:,}",
            "populate-bulk-pg",
            *("--dsn", db.dsn, "--start", str(api_runs), "--stop", str(sizes.runs)),
        )
        by_workers: dict[str, Any] = {}
        for workers in sizes.search_workers:
            server = ctx.servers.loopml(
                ctx.work / f"search-w{workers}",
                workers=workers,
                store_url=db.store_url,
                artifacts_url=artifacts,
            )
            server.wait_for("/readyz")
            assert server.proc is not None
            cpu_before = _search_cpu(server.proc.pid)
            result = ctx.run(
                LOOPML,
                f"{sizes.search_clients} clients x {sizes.search_seconds:g} s, --workers {workers}",
                "search",
                *("--url", server.url, "--token", token),
                *("--experiment-id", api["experiment_id"]),
                *("--clients", str(sizes.search_clients), "--seconds", str(sizes.search_seconds)),
            )
            cpu_after = _search_cpu(server.proc.pid)
            ctx.servers.stop(server)
            searches = max(result["requests"], 1)
            result["cpu_ms_per_search"] = {
                **{
                    part: (cpu_after[part] - cpu_before[part]) * 1e3 / searches
                    for part in cpu_after
                },
                "clients": result["clients_cpu_s"] * 1e3 / searches,
            }
            result["server_side"] = _server_side(server.log_path, "/api/v1/runs/search")
            result["rows"] = result["rows"][0] if len(result["rows"]) == 1 else result["rows"]
            by_workers[str(workers)] = result
        postgres = {"description": db.description, "version": db.version}
    best = min(by_workers, key=lambda w: by_workers[w]["latency"]["p99_ms"])
    return {
        "n_runs": sizes.runs,
        "clients": sizes.search_clients,
        "seconds": sizes.search_seconds,
        "filter": common.SEARCH_FILTER,
        "order_by": common.SEARCH_ORDER_BY,
        "max_results": common.SEARCH_MAX_RESULTS,
        "postgres": postgres["description"],
        "postgres_version": postgres["version"],
        "populate": {"api": api, "bulk": bulk},
        "runs_by_workers": by_workers,
        "best_workers": int(best),
    }


def bench_latency(ctx: Context) -> dict[str, Any]:
    """Workload 3: sequential health checks and one-point writes on one keep-alive connection."""
    sizes = ctx.sizes
    requests = ("--requests", str(sizes.latency_requests))

    def loopml_side(workers: int | None, name: str) -> dict[str, Any]:
        cwd = ctx.work / name
        server = ctx.servers.loopml(
            cwd,
            workers=workers,
            store_url=f"sqlite:///{cwd / 'loopml.db'}",
            artifacts_url=str(cwd / "artifacts"),
        )
        token = _ready_loopml(server)
        label = f"--workers {workers}" if workers else "default workers"
        result = ctx.run(
            LOOPML,
            f"latency, loopml {label}",
            "latency",
            *("--url", server.url, "--token", token, "--server", "loopml", *requests),
        )
        ctx.servers.stop(server)
        return result

    loopml = loopml_side(sizes.latency_workers, "latency-loopml")
    single = loopml_side(None, "latency-loopml-w1")
    cwd = ctx.work / "latency-mlflow"
    server = ctx.servers.mlflow(cwd, store_uri=f"sqlite:///{cwd / 'mlflow.db'}")
    server.wait_for("/health")
    mlflow = ctx.run(
        LOOPML,
        "latency, MLflow default workers",
        "latency",
        *("--url", server.url, "--server", "mlflow", *requests),
    )
    ctx.servers.stop(server)
    return {
        "requests": sizes.latency_requests,
        "warmup": loopml["warmup_requests"],
        "loopml_workers": sizes.latency_workers,
        "mlflow_workers": "4",
        "loopml": loopml,
        "loopml_default_workers": single,
        "mlflow": mlflow,
    }


def bench_footprint(ctx: Context) -> dict[str, Any]:
    """Workload 4: time to answer, and resident memory after idling, with every default."""
    idle = ctx.sizes.idle_s
    task = ctx.progress.add_task("loopml: start with defaults, idle, measure", total=None)
    server = ctx.servers.loopml(ctx.work / "footprint-loopml")
    healthz = server.wait_for("/healthz")
    readyz = server.wait_for("/readyz")
    time.sleep(idle)
    loopml = {"healthz_s": healthz, "readyz_s": readyz, "memory": server.memory()}
    ctx.servers.stop(server)
    ctx.progress.update(task, total=1, completed=1)

    task = ctx.progress.add_task("MLflow: start with defaults, idle, measure", total=None)
    server = ctx.servers.mlflow(ctx.work / "footprint-mlflow")
    health = server.wait_for("/health")
    api = server.wait_for("/api/2.0/mlflow/experiments/search?max_results=1")
    time.sleep(idle)
    mlflow = {"health_s": health, "api_s": api, "memory": server.memory()}
    ctx.servers.stop(server)
    ctx.progress.update(task, total=1, completed=1)
    return {"idle_s": idle, "loopml": loopml, "mlflow": mlflow}


@dataclass
class Context:
    """What every workload needs: sizes, folders, the runners of workers and servers."""

    args: argparse.Namespace
    sizes: Sizes
    work: Path
    progress: Progress
    runner: WorkerRunner
    servers: Servers

    def run(self, tool: Tool, description: str, *args: str) -> dict[str, Any]:
        return self.runner.run(tool, self.work / "clients", description, *args)


BENCHES: dict[str, Callable[[Context], dict[str, Any]]] = {
    "footprint": bench_footprint,
    "latency": bench_latency,
    "batch": bench_batch,
    "search": bench_search,
}


def _write_results(results: dict[str, Any], started: datetime, args: argparse.Namespace) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    suffix = ("-quick" if args.quick else "") + ("-failed" if "error" in results else "")
    out = RESULTS_DIR / f"server-{started:%Y%m%d-%H%M%S}{suffix}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    return out


def _versions() -> dict[str, str]:
    def version(python: Path, module: str) -> str:
        done = subprocess.run(
            [str(python), "-c", f"import {module}; print({module}.__version__)"],
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() or "?"

    return {"loopml": version(LOOPML_PYTHON, "loopml"), "mlflow": version(MLFLOW_PYTHON, "mlflow")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10x fewer points/runs, 5 s searches")
    parser.add_argument("--keep", action="store_true", help="keep the temporary stores and logs")
    parser.add_argument(
        "--only",
        default=",".join(WORKLOADS),
        help=f"comma-separated workloads to run, of {', '.join(WORKLOADS)}",
    )
    parser.add_argument(
        "--postgres",
        default=DEFAULT_SERVER,
        help="a PostgreSQL server (maintenance database URL) where the search workload may "
        "create and drop the database loopml_bench; when none answers there, a throwaway "
        "cluster is started in the temporary folder",
    )
    parser.add_argument(
        "--loopml-src",
        type=Path,
        help="import loopml from this src/ folder (server and clients) instead of the "
        "installed package",
    )
    args = parser.parse_args()
    # A SIGTERM unwinds like Ctrl-C, so every server started so far is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    chosen = [w.strip() for w in args.only.split(",") if w.strip()]
    unknown = sorted(set(chosen) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {', '.join(WORKLOADS)}")
    sizes = Sizes().quick() if args.quick else Sizes()
    console = Console(width=None if sys.stdout.isatty() else 132)
    ensure_mlflow_venv(console)

    started = datetime.now(UTC)
    work = Path(tempfile.mkdtemp(prefix="loopml-server-bench-"))
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
    results: dict[str, Any] = {
        "started_at": started.isoformat(),
        "quick": args.quick,
        "checkout": describe_checkout(),
        "loopml_src": str(loopml_src or "installed package"),
        "versions": _versions(),
        "sizes": asdict(sizes),
        "machine": describe_machine(),
        "load_average_by_workload": {},
    }
    try:
        with progress, Servers(work, loopml_src) as servers:
            ctx = Context(args, sizes, work, progress, runner, servers)
            for name in WORKLOADS:
                if name in chosen:
                    results["load_average_by_workload"][name] = os.getloadavg()
                    results[name] = BENCHES[name](ctx)
    except (WorkerError, ServerError, OSError, RuntimeError) as exc:
        console.print(f"[bold red]benchmark failed:[/] {exc}")
        results["error"] = str(exc)
        results["completed"] = runner.completed
        out = _write_results(results, started, args)
        console.print(f"what was measured is in {out}; stores and logs kept in {work}")
        return 1

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
    by_workload = ", ".join(
        f"{name} {value[0]:.1f}" for name, value in results["load_average_by_workload"].items()
    )
    console.print(f"1-min load average when each workload started: {by_workload}")
    versions = results["versions"]
    console.print(
        f"loopml {versions['loopml']} ({results['loopml_src']}), MLflow {versions['mlflow']}"
    )
    report.render(console, results, bars)

    out = _write_results(results, started, args)
    console.print(f"\nresults written to {out.relative_to(BENCH_DIR.parent)}")
    if args.keep:
        console.print(f"stores and logs kept in {work}")
    else:
        subprocess.run(["rm", "-rf", str(work)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
