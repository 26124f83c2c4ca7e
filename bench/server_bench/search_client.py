"""One of the concurrent search clients: its own process, store and keep-alive connection.

Started by ``loopml_client search`` with multiprocessing's ``spawn``; a module of its own
so the child imports nothing but this, loopml and the standard library.
"""

from __future__ import annotations

import time
from typing import Any

from server_bench import common


def search_loop(
    url: str,
    token: str,
    experiment_id: str,
    seconds: float,
    barrier: Any,
    results: Any,
    index: int,
) -> None:
    """Warm up (untimed), wait for every client, then search in a loop for ``seconds``.

    Puts ``{"index", "latencies_ms", "starts", "rows", "errors", "cpu_s"}`` on ``results``
    (``cpu_s``: this process's CPU time in the timed loop, decoding included); request
    start times are ``time.monotonic()`` seconds (one clock for every process on Linux).
    """
    from loopml.client.rest_store import RestMetadataStore
    from loopml.core.filters import parse_filter, parse_order_by

    store = RestMetadataStore(url, token)
    expr = parse_filter(common.SEARCH_FILTER)
    order = parse_order_by([common.SEARCH_ORDER_BY])

    def once() -> int:
        page = store.search_runs(
            [experiment_id], filter=expr, order_by=order, max_results=common.SEARCH_MAX_RESULTS
        )
        return len(page.runs)

    out: dict[str, Any] = {"index": index, "latencies_ms": [], "starts": [], "errors": []}
    try:
        out["rows"] = once()  # opens the connection; not timed
        barrier.wait(timeout=300)
        deadline = time.monotonic() + seconds
        cpu_start = time.process_time()
        while (start := time.monotonic()) < deadline:
            try:
                rows = once()
            except Exception as exc:  # counted and reported, never retried silently
                out["errors"].append(f"{type(exc).__name__}: {exc}"[:300])
                continue
            out["latencies_ms"].append((time.monotonic() - start) * 1e3)
            out["starts"].append(start)
            if rows != out["rows"]:
                out["errors"].append(f"rows changed from {out['rows']} to {rows}")
        out["cpu_s"] = time.process_time() - cpu_start
    except Exception as exc:
        out["errors"].append(f"{type(exc).__name__}: {exc}"[:300])
        barrier.abort()
    finally:
        store.close()
        results.put(out)
