"""loopml: the MLOps loop in one pip install.

The module-level functions are a thin convenience over one :class:`Client`, created from
the working directory's settings on first use::

    import loopml

    loopml.seed(42)
    with loopml.start_run(experiment="churn", name="rf-200") as run:
        run.log_params({"n_estimators": 200})
        for epoch in range(10):
            run.log_metric("loss", 1 / (epoch + 1), step=epoch)
    loopml.search_runs(experiment="churn", filter="metrics.loss < 0.5")

Use :class:`Client` directly to work with explicit settings or several stores.
"""

from __future__ import annotations

import atexit
import sys
import threading
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopml.client.client import Client
from loopml.core.config import Settings, load_settings
from loopml.core.entities import ArtifactInfo, Experiment, Metric, Run, RunStatus
from loopml.core.errors import (
    AlreadyExistsError,
    ConflictError,
    DataValidationError,
    FilterSyntaxError,
    FlushError,
    LoopmlError,
    NotFoundError,
    ValidationError,
)
from loopml.tracking.active_run import ActiveRun
from loopml.tracking.seeding import seed_everything

if TYPE_CHECKING:
    import pandas as pd

__version__ = "0.1.0"

__all__ = [
    "ActiveRun",
    "AlreadyExistsError",
    "ArtifactInfo",
    "Client",
    "ConflictError",
    "DataValidationError",
    "Experiment",
    "FilterSyntaxError",
    "FlushError",
    "LoopmlError",
    "Metric",
    "NotFoundError",
    "Run",
    "RunStatus",
    "Settings",
    "ValidationError",
    "active_run",
    "connect",
    "create_experiment",
    "data",
    "end_run",
    "get_client",
    "get_metric_history",
    "get_run",
    "list_experiments",
    "load_settings",
    "log_artifact",
    "log_dict",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "models",
    "search_runs",
    "seed",
    "set_client",
    "set_tag",
    "set_tags",
    "start_run",
]

_client: Client | None = None
_client_lock = threading.Lock()
_active_runs: ContextVar[tuple[ActiveRun, ...]] = ContextVar("loopml_active_runs", default=())


def get_client() -> Client:
    """The client behind the module-level functions, opened on first use."""
    global _client
    with _client_lock:
        if _client is None:
            _client = Client()
        return _client


def set_client(client: Client | None) -> None:
    """Use ``client`` behind the module-level functions (None: open a fresh one next time)."""
    global _client
    with _client_lock:
        _client = client


def connect(url: str, token: str | None = None, project: str | None = None) -> Client:
    """Log to a loopml server from now on: the module-level functions use its stores.

    Args:
        url: The server, e.g. ``"http://ml.example.com:8080"``.
        token: An API token (``lml_...``); ``LOOPML_TOKEN`` when None.
        project: The project on the server; the one of ``loopml.yaml`` or
            ``LOOPML_PROJECT`` when None. It must exist, unless the token is a server
            admin's, which creates it.

    Returns:
        The new client (also what :func:`get_client` returns from now on).

    Raises:
        StoreUnavailableError: the server cannot be reached.
        AuthenticationError: the token is missing or not valid.
        NotFoundError: the project is not on the server (or not visible to the token).
    """
    settings = load_settings()
    settings = settings.with_overrides(
        server_url=url,
        token=token if token is not None else settings.token,
        project=project or settings.project,
    )
    client = Client(settings)
    set_client(client)
    return client


def seed(value: int) -> dict[str, Any]:
    """Seed random, numpy and (if imported) torch; runs started later record the seed."""
    return seed_everything(value)


def start_run(
    experiment: str | None = None,
    name: str | None = None,
    *,
    parent: str | ActiveRun | Run | None = None,
    tags: Mapping[str, Any] | None = None,
) -> ActiveRun:
    """Start a run and make it the active one.

    A run started while another is active becomes its child (a nested run) unless
    ``parent`` says otherwise. Use it in a ``with`` block: the run ends ``finished``, or
    ``failed`` with the error recorded when the block raises.
    """
    stack = _active_runs.get()
    if parent is None and stack:
        parent = stack[-1]
        experiment = experiment or _experiment_name(stack[-1])
    run = get_client().start_run(experiment, name, parent=parent, tags=tags)
    run._on_end = _pop_active
    _active_runs.set((*stack, run))
    return run


def _experiment_name(run: ActiveRun) -> str:
    return get_client().tracking.metadata.get_experiment(run.experiment_id).name


def _pop_active(run: ActiveRun) -> None:
    _active_runs.set(tuple(r for r in _active_runs.get() if r is not run))


def active_run() -> ActiveRun | None:
    """The innermost active run, or None."""
    stack = _active_runs.get()
    return stack[-1] if stack else None


def _require_active() -> ActiveRun:
    run = active_run()
    if run is None:
        raise ConflictError("no active run: call loopml.start_run() first")
    return run


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> Run | None:
    """End the active run (if any) with ``status``."""
    run = active_run()
    if run is None:
        return None
    return run.end(RunStatus(status))


def log_metric(key: str, value: float, step: int | None = None) -> None:
    """Log one metric point to the active run."""
    _require_active().log_metric(key, value, step)


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    """Log several metrics to the active run at one step."""
    _require_active().log_metrics(metrics, step)


def log_param(key: str, value: Any) -> None:
    """Log one parameter to the active run."""
    _require_active().log_param(key, value)


def log_params(params: Mapping[str, Any]) -> None:
    """Log parameters to the active run."""
    _require_active().log_params(params)


def set_tag(key: str, value: Any) -> None:
    """Set a tag on the active run."""
    _require_active().set_tag(key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    """Set tags on the active run."""
    _require_active().set_tags(tags)


def log_artifact(path: str | Path, artifact_path: str = "") -> list[ArtifactInfo]:
    """Store a local file or folder with the active run."""
    return _require_active().log_artifact(path, artifact_path)


def log_text(text: str, artifact_file: str) -> ArtifactInfo:
    """Store text as a file of the active run."""
    return _require_active().log_text(text, artifact_file)


def log_dict(data: Mapping[str, Any], artifact_file: str) -> ArtifactInfo:
    """Store a mapping as JSON or YAML with the active run."""
    return _require_active().log_dict(data, artifact_file)


def create_experiment(
    name: str, description: str = "", tags: Mapping[str, str] | None = None
) -> Experiment:
    """Create an experiment in the current project."""
    return get_client().create_experiment(name, description, tags)


def list_experiments() -> list[Experiment]:
    """The current project's experiments."""
    return get_client().list_experiments()


def get_run(run_id: str) -> Run:
    """A run with its params, latest metrics, tags and environment."""
    return get_client().get_run(run_id)


def get_metric_history(run_id: str, key: str) -> list[Metric]:
    """Every logged point of one metric of a run."""
    return get_client().get_metric_history(run_id, key)


def search_runs(
    experiment: str | Sequence[str] | None = None,
    filter: str | None = None,
    order_by: Sequence[str] | str | None = None,
    max_results: int = 1000,
    include_deleted: bool = False,
) -> pd.DataFrame:
    """Search runs; returns a DataFrame with ``params.*``, ``metrics.*``, ``tags.*`` columns.

    Args:
        experiment: One name, several, or None for every experiment of the project.
        filter: e.g. ``"metrics.accuracy > 0.9 and params.model = 'rf'"``.
        order_by: e.g. ``["metrics.accuracy desc"]``; newest first when None.
        max_results: At most this many rows.
        include_deleted: Include runs deleted with ``loopml runs delete``.
    """
    return get_client().search_runs(experiment, filter, order_by, max_results, include_deleted)


@atexit.register
def _end_open_runs() -> None:
    """End runs left open by a script that never called end_run: flush, then finish."""
    for run in reversed(_active_runs.get()):
        try:
            run.end()
        except LoopmlError as exc:  # the interpreter is exiting: report, do not raise
            print(f"loopml: could not end run {run.id}: {exc}", file=sys.stderr)


def __getattr__(name: str) -> Any:
    """``loopml.data`` and ``loopml.models`` are imported on first use (they are heavy)."""
    if name in ("data", "models"):
        import importlib

        return importlib.import_module(f"loopml.{name}")
    raise AttributeError(f"module 'loopml' has no attribute {name!r}")
