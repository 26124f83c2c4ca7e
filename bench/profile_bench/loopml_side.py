"""The loopml side of the profiling benchmark; runs in loopml's own virtualenv.

Commands:

- ``profile PATH --repeats N``: profile the Parquet file N times from the file, then N
  times from an Arrow table read beforehand (untimed, like the peer's DataFrame); each
  timing includes ``json.dumps(profile.to_dict())``.
- ``peak PATH``: profile once from the file and report the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import pyarrow.parquet as pq

import loopml
from loopml.datasets.profile import profile_dataset
from profile_bench.common import emit, peak_rss_bytes


def _timed(source: Any) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    profile = profile_dataset(source)
    data = profile.to_dict()
    json.dumps(data)
    return time.perf_counter() - start, data


def profile(args: argparse.Namespace) -> dict[str, Any]:
    from_file = [_timed(args.path)[0] for _ in range(args.repeats)]
    table = pq.read_table(args.path)
    from_table = [_timed(table)[0] for _ in range(args.repeats)]
    _, data = _timed(args.path)
    return {
        "version": loopml.__version__,
        "parquet_seconds": from_file,
        "parquet_median_s": statistics.median(from_file),
        "table_seconds": from_table,
        "table_median_s": statistics.median(from_table),
        "n_rows": data["n_rows"],
        "n_columns": data["n_columns"],
        "kinds": [column["kind"] for column in data["columns"]],
        "json_bytes": len(json.dumps(data)),
        "peak_rss_bytes": peak_rss_bytes(),
    }


def peak(args: argparse.Namespace) -> dict[str, Any]:
    seconds, data = _timed(args.path)
    return {
        "seconds": seconds,
        "n_rows": data["n_rows"],
        "n_columns": data["n_columns"],
        "peak_rss_bytes": peak_rss_bytes(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("profile")
    run.add_argument("path")
    run.add_argument("--repeats", type=int, default=3)
    run.set_defaults(handler=profile)
    memory = commands.add_parser("peak")
    memory.add_argument("path")
    memory.set_defaults(handler=peak)
    args = parser.parse_args()
    emit(args.handler(args))


if __name__ == "__main__":
    main()
