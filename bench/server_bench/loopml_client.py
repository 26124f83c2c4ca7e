"""The loopml client side of the server benchmark; runs in loopml's own virtualenv.

Commands (each prints protocol lines, see ``common``):

- ``batch``: one run, ``--points`` points in ``log_batch`` calls of 1,000 through
  ``RestMetadataStore`` (``--shape metrics``: ``Metric`` objects; ``series``: one
  ``MetricSeries`` column set per call).
- ``populate``: runs ``[start, stop)`` through the REST API (``create_run`` + ``log_batch``).
- ``populate-bulk-pg``: clone runs ``[start, stop)`` into the PostgreSQL tables with COPY.
- ``search``: ``--clients`` processes search in a loop for ``--seconds``.
- ``latency``: sequential ``GET`` health checks and one-point writes on one keep-alive
  httpx connection, against a loopml or an MLflow server.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from server_bench import common

WARMUP_REQUESTS = 100  # per kind, before the timed requests of ``latency``


def _store(args: argparse.Namespace) -> Any:
    from loopml.client.rest_store import RestMetadataStore

    return RestMetadataStore(args.url, args.token)


def _experiment(store: Any, name: str = common.EXPERIMENT) -> Any:
    from loopml.core.errors import NotFoundError

    try:
        project = store.get_project_by_name(common.PROJECT)
    except NotFoundError:
        project = store.create_project(common.PROJECT)
    return store.ensure_experiment(project.id, name)


def _new_run(store: Any, experiment_id: str, name: str) -> Any:
    from loopml.metadata.base import RunCreate

    return store.create_run(
        RunCreate(experiment_id=experiment_id, name=name, start_time=datetime.now(UTC))
    )


def batch(args: argparse.Namespace) -> dict[str, Any]:
    """``--points`` points to one run in calls of ``BATCH_SIZE``, timed from first to last."""
    from loopml.core.entities import Metric, MetricSeries

    store = _store(args)
    experiment = _experiment(store, "batch")
    run = _new_run(store, experiment.id, f"batch-{args.shape}")
    points = common.batch_points(args.points)
    calls: list[dict[str, Any]] = []
    for first in range(0, args.points, common.BATCH_SIZE):
        chunk = points[first : first + common.BATCH_SIZE]
        if args.shape == "metrics":
            calls.append({"metrics": [Metric(common.METRIC_KEY, v, s, t) for s, t, v in chunk]})
        else:
            steps, timestamps, values = (list(column) for column in zip(*chunk, strict=True))
            calls.append({"series": [MetricSeries(common.METRIC_KEY, steps, timestamps, values)]})
    latencies_ms = []
    start = time.perf_counter()
    for done, call in enumerate(calls, start=1):
        sent = time.perf_counter()
        store.log_batch(run.id, **call)
        latencies_ms.append((time.perf_counter() - sent) * 1e3)
        if done % 10 == 0 or done == len(calls):
            common.emit({"progress": done, "total": len(calls)})
    seconds = time.perf_counter() - start
    stored = len(store.get_metric_series(run.id, common.METRIC_KEY).values)
    store.close()
    return {
        "shape": args.shape,
        "points": args.points,
        "calls": len(calls),
        "seconds": seconds,
        "points_per_s": args.points / seconds,
        "stored_points": stored,
        "call_latency": common.summarize(latencies_ms),
    }


def populate(args: argparse.Namespace) -> dict[str, Any]:
    """Runs ``[start, stop)`` of the search data, one ``create_run`` + ``log_batch`` each."""
    from loopml.core.entities import Metric
    from loopml.metadata.base import RunCreate

    store = _store(args)
    experiment = _experiment(store)
    total = args.stop - args.start
    start = time.perf_counter()
    for done, index in enumerate(range(args.start, args.stop), start=1):
        params, metrics, tags = common.run_record(index)
        timestamp = common.BASE_TIME_MS + index
        run = store.create_run(
            RunCreate(
                experiment_id=experiment.id,
                name=f"run-{index}",
                start_time=datetime.fromtimestamp(timestamp / 1e3, tz=UTC),
                tags=tags,
            )
        )
        store.log_batch(
            run.id,
            metrics=[Metric(key, value, 0, timestamp) for key, value in metrics.items()],
            params=params,
        )
        if done % 10 == 0 or done == total:
            common.emit({"progress": done, "total": total})
    seconds = time.perf_counter() - start
    store.close()
    return {"runs": total, "seconds": seconds, "experiment_id": experiment.id}


def populate_bulk_pg(args: argparse.Namespace) -> dict[str, Any]:
    """Clone runs ``[start, stop)`` into loopml's PostgreSQL tables with ``COPY``.

    The shortcut of the tracking benchmark's ``populate-bulk``, on PostgreSQL: each row
    copies every column of the newest run made through the API, with the run's own id,
    name, times, params, metrics (latest value and a one-point history chunk) and tags.
    ``ANALYZE`` afterwards gives the planner the statistics autovacuum would collect.
    """
    import json
    import struct

    import psycopg

    with psycopg.connect(args.dsn) as db:
        with db.cursor() as cursor:
            cursor.execute("SELECT * FROM runs ORDER BY start_time DESC LIMIT 1")
            assert cursor.description is not None
            columns = [c.name for c in cursor.description]
            row = cursor.fetchone()
            assert row is not None, "no template run: populate through the API first"
            template = dict(zip(columns, row, strict=True))
        if isinstance(template.get("environment"), (dict, list)):
            template["environment"] = json.dumps(template["environment"])
        quoted = ", ".join(f'"{c}"' for c in columns)
        total = args.stop - args.start
        started = time.perf_counter()
        step = 10_000
        for first in range(args.start, args.stop, step):
            rows = [
                (index, f"{index:032x}", *common.run_record(index))
                for index in range(first, min(first + step, args.stop))
            ]
            with db.cursor() as cursor:
                with cursor.copy(f"COPY runs ({quoted}) FROM STDIN") as copy:
                    for index, run_id, _params, _metrics, _tags in rows:
                        timestamp = common.BASE_TIME_MS + index
                        values = dict(template)
                        values.update(
                            id=run_id, name=f"run-{index}", start_time=timestamp, end_time=timestamp
                        )
                        copy.write_row([values[c] for c in columns])
                with cursor.copy("COPY params (run_id, key, value, value_num) FROM STDIN") as copy:
                    for _index, run_id, params, _metrics, _tags in rows:
                        for key, value in params.items():
                            try:
                                number: float | None = float(value)
                            except ValueError:
                                number = None
                            copy.write_row((run_id, key, value, number))
                with cursor.copy("COPY tags (run_id, key, value) FROM STDIN") as copy:
                    for _index, run_id, _params, _metrics, tags in rows:
                        for key, value in tags.items():
                            copy.write_row((run_id, key, value))
                with cursor.copy(
                    "COPY latest_metrics (run_id, key, step, timestamp, value) FROM STDIN"
                ) as copy:
                    for index, run_id, _params, metrics, _tags in rows:
                        for key, value in metrics.items():
                            copy.write_row((run_id, key, 0, common.BASE_TIME_MS + index, value))
                with cursor.copy(
                    "COPY metric_chunks (run_id, key, n_points, min_step, max_step, step_bytes,"
                    " timestamp_bytes, value_bytes) FROM STDIN"
                ) as copy:
                    for index, run_id, _params, metrics, _tags in rows:
                        stamp = struct.pack("<q", common.BASE_TIME_MS + index)
                        for key, value in metrics.items():
                            copy.write_row(
                                (
                                    run_id,
                                    key,
                                    1,
                                    0,
                                    0,
                                    struct.pack("<q", 0),
                                    stamp,
                                    struct.pack("<d", value),
                                )
                            )
            db.commit()
            common.emit({"progress": min(first + step, args.stop) - args.start, "total": total})
        seconds = time.perf_counter() - started
        db.autocommit = True
        analyzed = time.perf_counter()
        db.execute("ANALYZE")
        analyze_seconds = time.perf_counter() - analyzed
        count = db.execute("SELECT count(*) FROM runs").fetchone()
    return {
        "runs": total,
        "seconds": seconds,
        "analyze_seconds": analyze_seconds,
        "runs_in_store": count[0] if count else None,
    }


def search(args: argparse.Namespace) -> dict[str, Any]:
    """``--clients`` processes, each with its own store and connection, search for ``--seconds``."""
    import multiprocessing
    import queue

    from server_bench.search_client import search_loop

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(args.clients)
    results = context.Queue()
    processes = [
        context.Process(
            target=search_loop,
            args=(args.url, args.token, args.experiment_id, args.seconds, barrier, results, i),
        )
        for i in range(args.clients)
    ]
    for process in processes:
        process.start()
    outs = []
    deadline = time.monotonic() + args.seconds + 600
    while len(outs) < len(processes) and time.monotonic() < deadline:
        try:
            outs.append(results.get(timeout=1))
        except queue.Empty:
            if not any(p.is_alive() for p in processes) and results.empty():
                break
            continue
        common.emit({"progress": len(outs), "total": len(processes)})
    for process in processes:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
    latencies = [ms for out in outs for ms in out["latencies_ms"]]
    starts = [s for out in outs for s in out["starts"]]
    errors = [e for out in outs for e in out["errors"]]
    if len(outs) < args.clients or not latencies:
        raise RuntimeError(
            f"{args.clients - len(outs)} search clients gave no result; {errors[:5]}"
        )
    window = max(
        s + ms / 1e3
        for out in outs
        for s, ms in zip(out["starts"], out["latencies_ms"], strict=True)
    ) - min(starts)
    return {
        "clients": args.clients,
        "seconds": args.seconds,
        "window_s": window,
        "requests": len(latencies),
        "throughput_per_s": len(latencies) / window,
        "rows": sorted({out.get("rows") for out in outs}, key=str),
        "errors": len(errors),
        "error_samples": errors[:5],
        "per_client_requests": [len(out["latencies_ms"]) for out in outs],
        "latency": common.summarize(latencies),
        "clients_cpu_s": sum(out.get("cpu_s", 0.0) for out in outs),
        "latencies_ms": latencies,
    }


def latency(args: argparse.Namespace) -> dict[str, Any]:
    """``--requests`` health checks, then ``--requests`` one-point writes, on one connection.

    The same httpx client code measures both servers. Each request is timed from send to
    the end of the response; the first ``WARMUP_REQUESTS`` of each kind are not timed.
    """
    import httpx

    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    client = httpx.Client(
        base_url=args.url,
        headers=headers,
        timeout=30,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
    )
    if args.server == "loopml":
        store = _store(args)
        run_id = _new_run(store, _experiment(store, "latency").id, "latency").id
        store.close()
        health_path, write_path = "/healthz", f"/api/v1/runs/{run_id}/batch"

        def write_body(step: int) -> dict[str, Any]:
            point = {"key": "loss", "value": 1.0 / (step + 1), "step": step}
            point["timestamp"] = common.BASE_TIME_MS + step
            return {"metrics": [point], "idempotency_key": uuid.uuid4().hex}

        write_status = 204
    else:
        experiment = client.post(
            "/api/2.0/mlflow/experiments/create", json={"name": "latency"}
        ).raise_for_status()
        run = client.post(
            "/api/2.0/mlflow/runs/create",
            json={
                "experiment_id": experiment.json()["experiment_id"],
                "start_time": int(time.time() * 1e3),
            },
        ).raise_for_status()
        run_id = run.json()["run"]["info"]["run_id"]
        health_path, write_path = "/health", "/api/2.0/mlflow/runs/log-metric"

        def write_body(step: int) -> dict[str, Any]:
            return {
                "run_id": run_id,
                "key": "loss",
                "value": 1.0 / (step + 1),
                "timestamp": common.BASE_TIME_MS + step,
                "step": step,
            }

        write_status = 200

    local_ports: set[int] = set()

    def timed(kind: str, n: int, send: Any, status: int) -> list[float]:
        latencies_ms = []
        for i in range(WARMUP_REQUESTS + n):
            start = time.perf_counter()
            response = send(i)
            elapsed = (time.perf_counter() - start) * 1e3
            if response.status_code != status:
                raise RuntimeError(f"{kind}: {response.status_code} {response.text[:300]}")
            local_ports.add(response.extensions["network_stream"].get_extra_info("client_addr")[1])
            if i >= WARMUP_REQUESTS:
                latencies_ms.append(elapsed)
            if (i + 1) % 200 == 0:
                common.emit({"progress": i + 1, "total": WARMUP_REQUESTS + n})
        return latencies_ms

    health = timed("health", args.requests, lambda i: client.get(health_path), 200)
    writes = timed(
        "write",
        args.requests,
        lambda i: client.post(write_path, json=write_body(i)),
        write_status,
    )
    client.close()
    return {
        "server": args.server,
        "health_path": health_path,
        "write_path": write_path.replace(run_id, "{run_id}"),
        "warmup_requests": WARMUP_REQUESTS,
        "connections_used": len(local_ports),
        "health": common.summarize(health),
        "write": common.summarize(writes),
        "health_latencies_ms": health,
        "write_latencies_ms": writes,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, *, server: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name)
        if server:
            p.add_argument("--url", required=True)
            p.add_argument("--token", default=None)
        return p

    p = command("batch")
    p.add_argument("--points", type=int, required=True)
    p.add_argument("--shape", choices=("metrics", "series"), default="metrics")
    p = command("populate")
    p.add_argument("--start", type=int, required=True)
    p.add_argument("--stop", type=int, required=True)
    p = command("populate-bulk-pg", server=False)
    p.add_argument("--dsn", required=True)
    p.add_argument("--start", type=int, required=True)
    p.add_argument("--stop", type=int, required=True)
    p = command("search")
    p.add_argument("--experiment-id", required=True)
    p.add_argument("--clients", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p = command("latency")
    p.add_argument("--server", choices=("loopml", "mlflow"), required=True)
    p.add_argument("--requests", type=int, required=True)
    args = parser.parse_args()
    handlers = {
        "batch": batch,
        "populate": populate,
        "populate-bulk-pg": populate_bulk_pg,
        "search": search,
        "latency": latency,
    }
    common.emit({"result": handlers[args.command](args)})


if __name__ == "__main__":
    main()
