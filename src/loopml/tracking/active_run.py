"""A run being logged to: buffered metric writes that never slow a training loop.

``log_metric`` validates the point and appends it to an in-memory buffer; the buffer is
written as one batch when it holds ``batch_size`` points, when ``flush_interval_s`` has
passed since the last write, on ``flush()``, and when the run ends (normally or by an
exception). Each batch carries an idempotency key, so a batch that failed and is written
again later is stored exactly once. A failed write raises :class:`FlushError` to the
caller and keeps the points for the next flush: nothing is lost silently.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import yaml

from loopml.core import clock
from loopml.core.datasets import LineageDirection, LineageEdge
from loopml.core.entities import ArtifactInfo, MetricSeries, Run, RunStatus
from loopml.core.errors import ConflictError, FlushError, LoopmlError, ValidationError
from loopml.core.ids import new_id
from loopml.core.validation import check_key, check_metric_value, check_step

if TYPE_CHECKING:
    from collections.abc import Callable

    from loopml.tracking.service import TrackingService

__all__ = ["ActiveRun"]


class ActiveRun:
    """Handle to a running run; use it as a context manager.

    Args:
        service: The tracking service that owns the run.
        run: The run as created.
        batch_size: Metric points buffered before a write.
        flush_interval_s: Longest time a point waits in the buffer while logging goes on.
        on_end: Called once when the run ends (the SDK uses it to pop its run stack).
    """

    def __init__(
        self,
        service: TrackingService,
        run: Run,
        *,
        batch_size: int = 5000,
        flush_interval_s: float = 2.0,
        on_end: Callable[[ActiveRun], None] | None = None,
    ) -> None:
        self._service = service
        self._run = run
        self.id = run.id
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self._on_end = on_end
        self._columns: dict[str, tuple[list[int], list[int], list[float]]] = {}
        self._n_buffered = 0
        self._pending: list[tuple[str, list[MetricSeries]]] = []
        self._next_step: dict[str, int] = {}
        self._last_flush = time.monotonic()
        self._lock = threading.RLock()  # end() flushes while holding it
        self._ended = False

    # -- metrics -----------------------------------------------------------------------

    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Log one point. Without ``step``, each key counts its own steps 0, 1, 2, ...

        NaN and +/-Inf are stored exactly. ``timestamp`` is milliseconds since the epoch.
        This is the hot path of a training loop: it appends to per-key columns and
        writes nothing until a flush.
        """
        if type(value) is not float:
            value = check_metric_value(key, value)
        with self._lock:
            columns = self._columns.get(key)
            if columns is None:
                columns = self._open_columns(key)
            if step is None:
                step = self._next_step.get(key, 0)
            elif type(step) is not int or step < 0:
                step = check_step(key, step)
            self._next_step[key] = step + 1
            columns[0].append(step)
            columns[1].append(time.time_ns() // 1_000_000 if timestamp is None else timestamp)
            columns[2].append(value)
            self._n_buffered += 1
            if self._n_buffered >= self.batch_size or (
                self._n_buffered % 64 == 0
                and time.monotonic() - self._last_flush >= self.flush_interval_s
            ):
                self._flush_locked()

    def _open_columns(self, key: str) -> tuple[list[int], list[int], list[float]]:
        if self._ended:
            raise ConflictError(f"run {self.id} has ended; start a new run to log more")
        columns: tuple[list[int], list[int], list[float]] = ([], [], [])
        self._columns[check_key(key, kind="metric")] = columns
        return columns

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Log several metrics at the same step."""
        if not isinstance(metrics, Mapping):
            raise ValidationError("log_metrics takes a mapping of name -> number", field="metrics")
        timestamp = clock.now_ms()
        for key, value in metrics.items():
            self.log_metric(key, value, step=step, timestamp=timestamp)

    def flush(self) -> None:
        """Write every buffered point now.

        Raises:
            FlushError: the store refused or could not be reached; the points are kept.
        """
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if self._n_buffered:
            series = [MetricSeries(k, s, t, v) for k, (s, t, v) in self._columns.items() if v]
            self._pending.append((new_id(), series))
            self._columns = {}
            self._n_buffered = 0
        while self._pending:
            key, batch = self._pending[0]
            try:
                self._service.metadata.log_batch(self.id, series=batch, idempotency_key=key)
            except LoopmlError as exc:
                n_points = sum(len(s) for _, b in self._pending for s in b)
                raise FlushError(
                    f"run {self.id}: could not write {n_points} buffered metric points ({exc}); "
                    "they are kept and written at the next flush"
                ) from exc
            self._pending.pop(0)
        self._last_flush = time.monotonic()

    # -- params, tags, notes -------------------------------------------------------------

    def log_param(self, key: str, value: Any) -> None:
        """Log one parameter (immutable once logged)."""
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log parameters; values may be str, int, float, bool or None."""
        if not isinstance(params, Mapping):
            raise ValidationError("log_params takes a mapping of name -> value", field="params")
        self._check_open()
        self._service.log_batch(self.id, params=params)

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        if not isinstance(tags, Mapping):
            raise ValidationError("set_tags takes a mapping of name -> value", field="tags")
        self._check_open()
        self._service.log_batch(self.id, tags=tags)

    def set_note(self, note: str) -> None:
        """Attach a free-text note (markdown) to the run."""
        if not isinstance(note, str):
            raise ValidationError("a note is text", field="note")
        self._service.update_run(self.id, note=note)

    # -- artifacts -----------------------------------------------------------------------

    def log_artifact(self, path: str | Path, artifact_path: str = "") -> list[ArtifactInfo]:
        """Store a local file or a whole folder with the run."""
        self._check_open()
        return self._service.log_artifact(self.id, Path(path), artifact_path)

    def log_artifacts(self, folder: str | Path, artifact_path: str = "") -> list[ArtifactInfo]:
        """Store every file under a local folder."""
        if not Path(folder).is_dir():
            raise ValidationError(f"{str(folder)!r} is not a folder", field="folder")
        return self.log_artifact(folder, artifact_path)

    def log_text(self, text: str, artifact_file: str) -> ArtifactInfo:
        """Store ``text`` (UTF-8) as ``artifact_file``."""
        if not isinstance(text, str):
            raise ValidationError("log_text takes a str", field="text")
        self._check_open()
        return self._service.log_bytes(self.id, text.encode("utf-8"), artifact_file)

    def log_dict(self, data: Mapping[str, Any], artifact_file: str) -> ArtifactInfo:
        """Store a mapping as JSON, or YAML when the file name ends in .yaml/.yml."""
        if artifact_file.endswith((".yaml", ".yml")):
            text = yaml.safe_dump(dict(data), sort_keys=False)
        else:
            text = json.dumps(data, indent=2, default=str)
        return self.log_text(text, artifact_file)

    def log_model(
        self,
        model: object,
        name: str = "model",
        *,
        input_example: object = None,
        signature: Any = None,
        extra_pip_requirements: Sequence[str] = (),
    ) -> str:
        """Package a model with its signature and requirements as an artifact of the run.

        Flavors: scikit-learn (skops), XGBoost, LightGBM, ONNX, PyTorch and
        :class:`loopml.models.PythonModel`. The signature is inferred from
        ``input_example`` (a few rows, or the training data), which must run through the
        saved model. Returns the model's URI, ``runs:/<run id>/<name>``.
        """
        self._check_open()
        return self._service.log_model(
            self.id,
            model,
            name,
            input_example=input_example,
            signature=signature,
            extra_pip_requirements=extra_pip_requirements,
        )

    # -- lineage -------------------------------------------------------------------------

    def log_input(self, dataset: object, role: str = "train") -> LineageEdge:
        """Record that the run reads a dataset version in ``role``.

        Args:
            dataset: A version (as ``loopml.data.register`` or ``get`` return it), its
                reference such as ``"churn@3"``, or its id.
            role: ``train``, ``validation``, ``test`` or another short word.
        """
        self._check_open()
        return self._service.log_lineage(self.id, dataset, LineageDirection.INPUT, role)

    def log_output(self, dataset: object, role: str = "output") -> LineageEdge:
        """Record that the run produced a dataset version (see :meth:`log_input`)."""
        self._check_open()
        return self._service.log_lineage(self.id, dataset, LineageDirection.OUTPUT, role)

    # -- lifecycle -----------------------------------------------------------------------

    def refresh(self) -> Run:
        """The run as stored now (buffered points are flushed first)."""
        self.flush()
        self._run = self._service.get_run(self.id)
        return self._run

    @property
    def name(self) -> str:
        return self._run.name

    @property
    def experiment_id(self) -> str:
        return self._run.experiment_id

    def end(self, status: RunStatus = RunStatus.FINISHED) -> Run:
        """Flush and end the run; if the flush fails the run ends ``failed`` and it raises."""
        with self._lock:
            if self._ended:
                return self._run
            try:
                self._flush_locked()
            except FlushError as exc:
                failure = exc
                self._finish(lambda: self._service.fail_run(self.id, failure))
                raise
            return self._finish(lambda: self._service.end_run(self.id, status))

    def fail(self, exc: BaseException) -> Run:
        """Flush what can be flushed and end the run ``failed`` (``killed`` on Ctrl-C)."""
        with self._lock:
            if self._ended:
                return self._run
            try:
                self._flush_locked()
            except FlushError as flush_exc:
                exc.add_note(str(flush_exc))
            return self._finish(lambda: self._service.fail_run(self.id, exc))

    def _finish(self, end: Callable[[], Run]) -> Run:
        self._ended = True
        try:
            self._run = end()
        finally:
            if self._on_end is not None:
                self._on_end(self)
        return self._run

    def _check_open(self) -> None:
        if self._ended:
            raise ConflictError(f"run {self.id} has ended; start a new run to log more")

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.end()
        else:
            self.fail(exc)

    def __repr__(self) -> str:
        return f"ActiveRun(id={self.id!r}, name={self._run.name!r})"
