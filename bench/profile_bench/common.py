"""The worker protocol, shared by both workers (standard library only).

The orchestrator starts ``python -m profile_bench.<tool>_side <command> [args]``; the worker
writes one ``{"result": {...}}`` JSON line to stdout (logging goes to stderr), which
``tracking_bench.runner.WorkerRunner`` reads.
"""

from __future__ import annotations

import json
import resource
import sys
from typing import Any


def peak_rss_bytes() -> int:
    """This process's peak resident set size so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def emit(result: dict[str, Any]) -> None:
    """Hand ``result`` to the orchestrator."""
    sys.stdout.write(json.dumps({"result": result}) + "\n")
    sys.stdout.flush()
