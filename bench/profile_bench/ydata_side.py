"""The ydata-profiling side of the profiling benchmark; runs in ``bench/.venv-ydata``.

``profile PATH``: read the Parquet file into a pandas DataFrame (untimed), then time
``ProfileReport(df, minimal=True).get_description()`` (the statistics) and, on the same
report, ``to_json()`` (their serialisation; the description is computed only once).
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from typing import Any

import pandas as pd

from profile_bench.common import emit, peak_rss_bytes


def profile(args: argparse.Namespace) -> dict[str, Any]:
    warnings.filterwarnings("ignore")  # its deprecation notices would fill the log
    logging.disable(logging.WARNING)
    import ydata_profiling

    frame = pd.read_parquet(args.path)
    start = time.perf_counter()
    report = ydata_profiling.ProfileReport(frame, minimal=True, progress_bar=False)
    description = report.get_description()
    described = time.perf_counter() - start
    text = report.to_json()
    total = time.perf_counter() - start
    return {
        "version": ydata_profiling.__version__,
        "describe_seconds": described,
        "to_json_seconds": total,
        "n_variables": len(description.variables),
        "json_bytes": len(text),
        "peak_rss_bytes": peak_rss_bytes(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("profile")
    run.add_argument("path")
    run.set_defaults(handler=profile)
    args = parser.parse_args()
    emit(args.handler(args))


if __name__ == "__main__":
    main()
