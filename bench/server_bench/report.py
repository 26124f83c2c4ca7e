"""Judge the server results against the issue's bars and render them as a Rich table.

Used by the orchestrator only (loopml's interpreter, with Rich).
"""

from __future__ import annotations

import os
from typing import Any

from rich.console import Console
from rich.table import Table
from tracking_bench.report import Bar

# The bars.
BATCH_MIN_SPEEDUP = 5.0
SEARCH_MAX_P99_MS = 250.0
LATENCY_MAX_P50_MS = 5.0
STARTUP_MAX_S = 2.0
MEMORY_MAX_MB = 300.0


def judge(results: dict[str, Any]) -> dict[str, Bar]:
    """Every bar with its verdict, by key, from the results of one benchmark run."""
    bars: list[Bar] = []
    batch = results.get("batch")
    if batch:
        speedup = batch["speedup"]
        bars.append(
            Bar(
                "batch.speedup",
                f">= {BATCH_MIN_SPEEDUP:g}x MLflow points/s",
                f"{speedup:,.1f}x",
                speedup >= BATCH_MIN_SPEEDUP,
            )
        )
    search = results.get("search")
    if search and "skipped" not in search:
        best = search["runs_by_workers"][str(search["best_workers"])]
        p99 = best["latency"]["p99_ms"]
        bars.append(
            Bar(
                "search.p99",
                f"p99 <= {SEARCH_MAX_P99_MS:g} ms",
                f"{p99:,.0f} ms (--workers {search['best_workers']})",
                p99 <= SEARCH_MAX_P99_MS,
            )
        )
    latency = results.get("latency")
    if latency:
        loopml = latency["loopml"]
        for kind in ("health", "write"):
            p50 = loopml[kind]["p50_ms"]
            bars.append(
                Bar(
                    f"latency.{kind}",
                    f"p50 < {LATENCY_MAX_P50_MS:g} ms",
                    f"{p50:,.2f} ms (p99 {loopml[kind]['p99_ms']:,.2f} ms)",
                    p50 < LATENCY_MAX_P50_MS,
                )
            )
    footprint = results.get("footprint")
    if footprint:
        loopml = footprint["loopml"]
        bars.append(
            Bar(
                "footprint.startup",
                f"<= {STARTUP_MAX_S:g} s to /healthz",
                f"{loopml['healthz_s']:.2f} s",
                loopml["healthz_s"] <= STARTUP_MAX_S,
            )
        )
        rss = loopml["memory"]["rss_mb"]
        bars.append(
            Bar(
                "footprint.memory",
                f"< {MEMORY_MAX_MB:g} MB RSS (tree)",
                f"{rss:,.0f} MB",
                rss < MEMORY_MAX_MB,
            )
        )
    return {bar.key: bar for bar in bars}


def _verdict(met: bool) -> str:
    return "[bold green]yes[/]" if met else "[bold red]NO[/]"


def _rate(side: dict[str, Any]) -> str:
    return (
        f"{side['points_per_s']:,.0f} points/s\n{side['points']:,} in {side['seconds']:.2f} s\n"
        f"call p50 {side['call_latency']['p50_ms']:,.1f} ms"
    )


def _percentiles(summary: dict[str, Any], digits: int = 1) -> str:
    return "p50 / p95 / p99\n" + " / ".join(
        f"{summary[f'p{pct}_ms']:,.{digits}f}" for pct in (50, 95, 99)
    )


def render(console: Console, results: dict[str, Any], bars: dict[str, Bar]) -> None:
    """Print the results table and the notes that qualify it."""
    table = Table(title="loopml server vs MLflow server", show_lines=True)
    for column in ("Workload", "Setup", "loopml", "MLflow", "Ratio", "Bar", "Met"):
        table.add_column(column, justify="right" if column == "Ratio" else "left")

    def bar_cells(*keys: str) -> tuple[str, str]:
        chosen = [bars[key] for key in keys if key in bars]
        return "\n".join(b.bar for b in chosen), "\n".join(_verdict(b.met) for b in chosen)

    batch = results.get("batch")
    if batch:
        mlflow = batch["mlflow"]
        mlflow_cell = _rate(mlflow)
        if mlflow["extrapolated"]:
            mlflow_cell += f"\n(rate of {mlflow['points']:,}; see note)"
        setup = (
            f"SQLite, default workers\n{batch['points']:,} points,\n"
            f"{batch['calls']} calls of {batch['batch_size']:,}"
        )
        table.add_row(
            "1. batch logging\nlog_batch, 1,000\nMetric per call",
            setup,
            _rate(batch["loopml"]),
            mlflow_cell,
            f"{batch['speedup']:,.1f}x",
            *bar_cells("batch.speedup"),
        )
        table.add_row(
            "   same, loopml's\ncolumn form: one\nMetricSeries per call",
            "as above",
            _rate(batch["loopml_series"]),
            "(MLflow has no column form)",
            f"{batch['speedup_series']:,.1f}x",
            "",
            "",
        )

    search = results.get("search")
    if search and "skipped" not in search:
        for workers, side in search["runs_by_workers"].items():
            best = int(workers) == search["best_workers"]
            server = side.get("server_side")
            cell = (
                f"{side['throughput_per_s']:,.1f} searches/s\n"
                f"{_percentiles(side['latency'])} ms\n{side['requests']:,} searches"
            )
            if server:
                cell += (
                    f"\nserver-side p50 / p99\n{server['p50_ms']:,.1f} / {server['p99_ms']:,.1f} ms"
                )
            if side["errors"]:
                cell += f"\n[red]{side['errors']} errors[/]"
            table.add_row(
                f"2. concurrent search\n{search['clients']} clients, {search['seconds']:g} s",
                f"PostgreSQL {search['postgres_version'].split()[0]}\n"
                f"{search['n_runs']:,} runs, {side['rows']} rows\n--workers {workers}",
                cell,
                "not run",
                "",
                *(bar_cells("search.p99") if best else ("", "")),
            )

    latency = results.get("latency")
    if latency:
        for kind, label in (("health", "GET health"), ("write", "one-point write")):
            loopml, mlflow = latency["loopml"], latency["mlflow"]
            table.add_row(
                f"3. latency: {label}\none keep-alive\nconnection",
                f"SQLite, {latency['requests']:,}\nsequential; loopml\n--workers "
                f"{latency['loopml_workers']}, MLflow\ndefault ({latency['mlflow_workers']})",
                f"{_percentiles(loopml[kind], 2)} ms",
                f"{_percentiles(mlflow[kind], 2)} ms",
                f"{mlflow[kind]['p50_ms'] / loopml[kind]['p50_ms']:,.1f}x",
                *bar_cells(f"latency.{kind}"),
            )
        single = latency.get("loopml_default_workers")
        if single:
            table.add_row(
                "   same, loopml\n--workers 1 (default)",
                "health\nwrite",
                f"{_percentiles(single['health'], 2)} ms\n{_percentiles(single['write'], 2)} ms",
                "",
                "",
                "",
                "",
            )

    footprint = results.get("footprint")
    if footprint:
        loopml, mlflow = footprint["loopml"], footprint["mlflow"]
        table.add_row(
            "4. startup\nprocess start to answer",
            "defaults, fresh\nSQLite store",
            f"/healthz {loopml['healthz_s']:.2f} s\n/readyz {loopml['readyz_s']:.2f} s",
            f"/health {mlflow['health_s']:.2f} s\nAPI {mlflow['api_s']:.2f} s",
            f"{mlflow['health_s'] / loopml['healthz_s']:,.1f}x",
            *bar_cells("footprint.startup"),
        )
        table.add_row(
            f"4. memory\nafter {footprint['idle_s']:g} s idle",
            "process tree",
            f"RSS {loopml['memory']['rss_mb']:,.0f} MB\nPSS {loopml['memory']['pss_mb']:,.0f} MB\n"
            f"{loopml['memory']['processes']} process(es)",
            f"RSS {mlflow['memory']['rss_mb']:,.0f} MB\nPSS {mlflow['memory']['pss_mb']:,.0f} MB\n"
            f"{mlflow['memory']['processes']} process(es)",
            f"{mlflow['memory']['rss_mb'] / loopml['memory']['rss_mb']:,.1f}x",
            *bar_cells("footprint.memory"),
        )
    console.print(table)
    for note in _notes(results):
        console.print(f"  - {note}")


def _notes(results: dict[str, Any]) -> list[str]:
    notes = []
    batch = results.get("batch")
    if batch:
        mlflow = batch["mlflow"]
        if mlflow["extrapolated"]:
            probe = mlflow["probe"]
            notes.append(
                f"batch: MLflow's probe logged {probe['points']:,} points in {probe['seconds']:.1f} s, "
                f"so {batch['points']:,} would take ~{probe['projected_seconds']:,.0f} s (> "
                f"{batch['budget_s']:,.0f} s budget): MLflow logged {mlflow['points']:,} points "
                "and the ratio uses its rate."
            )
        stored = {
            name: batch[name]["stored_points"] for name in ("loopml", "loopml_series", "mlflow")
        }
        notes.append(f"batch: points read back after logging: {stored}.")
    search = results.get("search")
    if search and "skipped" in search:
        notes.append(f"search: [bold red]skipped[/]: {search['skipped']}")
    elif search:
        populate = search["populate"]
        notes.append(
            f"search: {populate['api']['runs']:,} runs made through the REST API "
            f"({populate['api']['seconds']:.1f} s), {populate['bulk']['runs']:,} cloned with COPY "
            f"({populate['bulk']['seconds']:.1f} s, then ANALYZE); database: {search['postgres']}. "
            f"Best p99 with --workers {search['best_workers']}."
        )
        for workers, run in search["runs_by_workers"].items():
            cpu = run.get("cpu_ms_per_search")
            if cpu:
                notes.append(
                    f"search --workers {workers}: CPU per search: "
                    f"PostgreSQL {cpu['postgres']:.1f} ms, server {cpu['server']:.1f} ms, "
                    f"clients {cpu['clients']:.1f} ms; the machine has "
                    f"{os.cpu_count()} cores, so at most "
                    f"{os.cpu_count() * 1e3 / max(sum(cpu.values()), 1e-9):.0f} searches/s."
                )
        notes.append(
            "search: client latency includes the SDK's decoding of 100 runs per answer; "
            "clients and server share the machine's cores. Server-side times are the "
            "server's own per-request log (duration_ms)."
        )
    latency = results.get("latency")
    if latency:
        conns = {s: latency[s]["connections_used"] for s in ("loopml", "mlflow")}
        routes = {
            s: f"{latency[s]['health_path']} and {latency[s]['write_path']}"
            for s in ("loopml", "mlflow")
        }
        notes.append(
            f"latency: loopml {routes['loopml']} (one point, JSON, with an idempotency key); "
            f"MLflow {routes['mlflow']}; the same httpx client for both; "
            f"{latency['warmup']} untimed warm-up requests of each kind first; "
            f"TCP connections used: {conns} (1 = every request on one reused connection)."
        )
    footprint = results.get("footprint")
    if footprint:
        mlflow = footprint["mlflow"]
        notes.append(
            "footprint: RSS counts shared pages once per process; PSS shares them out (the "
            "memory the tree really holds). MLflow's 'API' is the first answer of "
            f"experiments/search; its tree: {mlflow['memory']['processes']} processes."
        )
    return notes
