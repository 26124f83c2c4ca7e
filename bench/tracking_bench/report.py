"""Judge the results against the issue's bars and render them as a Rich table.

Used by the orchestrator only (loopml's interpreter, with Rich).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

# The bars.
LOG_METRIC_MIN_SPEEDUP = 20.0
LOG_METRIC_MIN_POINTS_PER_S = 100_000.0
SEARCH_MAX_P50_MS = 100.0
SEARCH_MIN_SPEEDUP = 10.0


@dataclass(frozen=True)
class Bar:
    """One bar of the issue, the value measured against it, and whether it is met."""

    key: str
    bar: str
    measured: str
    met: bool


def judge(results: dict[str, Any]) -> dict[str, Bar]:
    """Every bar with its verdict, by key, from the results of one benchmark run."""
    log_metric, search = results["log_metric"], results["search_runs"]
    speedup = log_metric["speedup"]
    rate = log_metric["loopml"]["points_per_s"]
    shared = search["shared"]
    search_speedup = shared["speedup_p50"]
    p50 = search["loopml_full"]["p50_ms"]
    bars = [
        Bar(
            "log_metric.speedup",
            f">= {LOG_METRIC_MIN_SPEEDUP:g}x MLflow",
            f"{speedup:,.1f}x",
            speedup >= LOG_METRIC_MIN_SPEEDUP,
        ),
        Bar(
            "log_metric.rate",
            f">= {LOG_METRIC_MIN_POINTS_PER_S:,.0f} points/s",
            f"{rate:,.0f} points/s",
            rate >= LOG_METRIC_MIN_POINTS_PER_S,
        ),
        Bar(
            "search_runs.speedup",
            f">= {SEARCH_MIN_SPEEDUP:g}x MLflow",
            f"{search_speedup:,.1f}x",
            search_speedup >= SEARCH_MIN_SPEEDUP,
        ),
        Bar(
            "search_runs.p50",
            f"<= {SEARCH_MAX_P50_MS:g} ms at {search['n_runs']:,} runs",
            f"{p50:,.1f} ms",
            p50 <= SEARCH_MAX_P50_MS,
        ),
    ]
    return {bar.key: bar for bar in bars}


def _verdict(met: bool) -> str:
    return "[bold green]yes[/]" if met else "[bold red]NO[/]"


def _ms(value: float) -> str:
    return f"{value:,.1f} ms"


def _duration(seconds: float) -> str:
    return f"{seconds / 60:,.0f} min" if seconds >= 120 else f"{seconds:,.0f} s"


def _rate(side: dict[str, Any]) -> str:
    return f"{side['points_per_s']:,.0f} points/s\n{side['points']:,} in {side['seconds']:.2f} s"


def render(console: Console, results: dict[str, Any], bars: dict[str, Bar]) -> None:
    """Print the results table and the notes that qualify it."""
    table = Table(title="loopml vs MLflow: tracking", show_lines=True)
    for column in ("Workload", "Size", "loopml", "MLflow", "Ratio", "Bar", "Met"):
        table.add_column(column, justify="right" if column == "Ratio" else "left")

    def bar_cells(*keys: str) -> tuple[str, str]:
        chosen = [bars[key] for key in keys]
        return "\n".join(b.bar for b in chosen), "\n".join(_verdict(b.met) for b in chosen)

    lm = results["log_metric"]
    mlflow = lm["mlflow"]
    mlflow_cell = _rate(mlflow)
    if mlflow["extrapolated"]:
        projected = mlflow["projected_seconds"]
        mlflow_cell += f"\n~{projected:,.0f} s for {lm['points']:,} (extrapolated)"
    table.add_row(
        "log_metric loop\n1 call per point",
        f"{lm['points']:,} points",
        _rate(lm["loopml"]),
        mlflow_cell,
        f"{lm['speedup']:,.1f}x",
        *bar_cells("log_metric.speedup", "log_metric.rate"),
    )

    search = results["search_runs"]
    shared, full = search["shared"], search["loopml_full"]
    same_n = shared["n_runs"] == search["n_runs"]
    shared_bars = ("search_runs.speedup", "search_runs.p50") if same_n else ("search_runs.speedup",)
    for pct, bar_keys in ((50, shared_bars), (95, ())):
        key = f"p{pct}_ms"
        table.add_row(
            f"search_runs p{pct}",
            f"{shared['n_runs']:,} runs",
            _ms(shared["loopml"][key]),
            _ms(shared["mlflow"][key]),
            f"{shared[f'speedup_p{pct}']:,.1f}x",
            *(bar_cells(*bar_keys) if bar_keys else ("", "")),
        )
    if not same_n:
        for pct, bar_keys in ((50, ("search_runs.p50",)), (95, ())):
            table.add_row(
                f"search_runs p{pct}",
                f"{search['n_runs']:,} runs",
                _ms(full[f"p{pct}_ms"]),
                "not run (see note)",
                "",
                *(bar_cells(*bar_keys) if bar_keys else ("", "")),
            )
    console.print(table)
    for note in _notes(results):
        console.print(f"  - {note}")


def _notes(results: dict[str, Any]) -> list[str]:
    lm, search = results["log_metric"], results["search_runs"]
    notes = []
    probe = lm["mlflow"]["probe"]
    if lm["mlflow"]["extrapolated"]:
        notes.append(
            f"log_metric: MLflow's probe logged {probe['points']:,} points in "
            f"{probe['seconds']:.2f} s, so {lm['points']:,} points would take "
            f"~{_duration(probe['projected_seconds'])} (> {_duration(lm['budget_s'])} budget): "
            f"MLflow ran {lm['mlflow']['points']:,} points and its per-point rate is extrapolated."
        )
    populate = search["populate"]
    for tool in ("loopml", "mlflow"):
        p = populate[tool]
        notes.append(
            f"populate (untimed, the tools partly at once): {p['tool']} wrote {p['runs']:,} "
            f"runs in {p['seconds']:,.1f} s ({p['runs'] / p['seconds']:,.0f} runs/s) "
            f"via {p['api']}."
        )
    if search["mlflow_reduced"]:
        probe = populate["mlflow"]["probe"]
        notes.append(
            f"search_runs: MLflow's first {probe['runs']:,} runs took {probe['seconds']:.1f} s, "
            f"so {search['n_runs']:,} runs would take ~{_duration(probe['projected_seconds'])} "
            f"(> {_duration(search['budget_s'])} budget): both tools are compared at "
            f"{search['shared']['n_runs']:,} runs, loopml also at {search['n_runs']:,}."
        )
    shared = search["shared"]
    notes.append(
        f"search_runs: {search['repeats']} timed calls after one untimed first call "
        f"(first call: loopml {_ms(shared['loopml']['first_call_ms'])}, MLflow "
        f"{_ms(shared['mlflow']['first_call_ms'])}); rows returned: loopml "
        f"{shared['loopml']['rows']}, MLflow {shared['mlflow']['rows']}."
    )
    return notes
