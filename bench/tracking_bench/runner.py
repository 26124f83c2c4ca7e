"""Start one worker subprocess per tool and step, in a fresh directory, and read its result.

Used by the orchestrator only (loopml's interpreter, with Rich).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import Progress

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BENCH_DIR.parent
LOOPML_PYTHON = REPO_DIR / ".venv" / "bin" / "python"
MLFLOW_VENV = BENCH_DIR / ".venv-mlflow"
MLFLOW_PYTHON = MLFLOW_VENV / "bin" / "python"


class WorkerError(RuntimeError):
    """A worker exited with an error; the message carries the end of its stderr."""


@dataclass(frozen=True)
class Tool:
    """One side of the comparison: a display name, its interpreter and its worker module."""

    name: str
    python: Path
    module: str


LOOPML = Tool("loopml", LOOPML_PYTHON, "tracking_bench.loopml_side")
MLFLOW = Tool("MLflow", MLFLOW_PYTHON, "tracking_bench.mlflow_side")


def clean_environment(loopml_src: Path | None = None) -> dict[str, str]:
    """The environment for workers: no store configuration inherited from the caller.

    Both tools must pick their default local store, so every ``LOOPML_*`` and ``MLFLOW_*``
    variable is dropped. MLflow's usage telemetry is switched off: it is not part of the
    store and would only add background network attempts to MLflow's timings.

    Args:
        loopml_src: A ``src`` folder to import loopml from instead of the installed package
            (ahead of the editable install on ``sys.path``); MLflow's venv ignores it.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LOOPML_", "MLFLOW_")) and key != "PYTHONPATH"
    }
    paths = [str(BENCH_DIR)] if loopml_src is None else [str(loopml_src), str(BENCH_DIR)]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    return env


@dataclass(frozen=True)
class Job:
    """One worker command: which tool, in which directory, with which arguments."""

    tool: Tool
    cwd: Path
    description: str
    args: tuple[str, ...]


class WorkerRunner:
    """Runs worker commands and mirrors their progress lines into a Rich progress display.

    Every finished command is kept in ``completed`` and appended to
    ``log_dir/completed.jsonl``, so a long or failed benchmark still shows what it measured.

    Args:
        progress: The live progress display.
        log_dir: Where each worker's stderr is kept (outside the store directories).
        loopml_src: See :func:`clean_environment`.
    """

    def __init__(self, progress: Progress, log_dir: Path, loopml_src: Path | None = None) -> None:
        self.progress = progress
        self.log_dir = log_dir
        self.env = clean_environment(loopml_src)
        self.completed: list[dict[str, Any]] = []
        self._live: set[subprocess.Popen[str]] = set()
        self._counter = itertools.count(1)  # next() is atomic: workers may run in threads

    def run(self, tool: Tool, cwd: Path, description: str, *args: str) -> dict[str, Any]:
        """Run ``args`` on ``tool``'s worker with ``cwd`` as working directory."""
        cwd.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{next(self._counter):02d}-{tool.name}-{args[0]}.log"
        task = self.progress.add_task(f"{tool.name}: {description}", total=None)
        result: dict[str, Any] | None = None
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                [str(tool.python), "-m", tool.module, *args],
                cwd=cwd,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
            self._live.add(proc)
            try:
                assert proc.stdout is not None
                for line in proc.stdout:
                    message = json.loads(line)
                    if "progress" in message:
                        self.progress.update(
                            task, completed=message["progress"], total=message["total"]
                        )
                    elif "result" in message:
                        result = message["result"]
                returncode = proc.wait()
            finally:
                self._live.discard(proc)
        if returncode != 0 or result is None:
            tail = "\n".join(log_path.read_text().splitlines()[-25:])
            raise WorkerError(
                f"{tool.name} worker `{' '.join(args)}` failed (exit {returncode}); "
                f"log {log_path}:\n{tail}"
            )
        self.progress.update(task, total=1, completed=1)
        record = {"tool": tool.name, "args": list(args), "result": result}
        self.completed.append(record)
        with (self.log_dir / "completed.jsonl").open("a") as journal:  # readable mid-run
            journal.write(json.dumps(record) + "\n")
        return result

    def run_job(self, job: Job) -> dict[str, Any]:
        """Run one job (see :meth:`run`)."""
        return self.run(job.tool, job.cwd, job.description, *job.args)

    def run_concurrently(self, jobs: Sequence[Job]) -> list[dict[str, Any]]:
        """Run ``jobs`` at the same time; only for work that is not being timed.

        When one job fails, the others are stopped rather than awaited.
        """
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            futures = [pool.submit(self.run_job, job) for job in jobs]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            errors = [exc for exc in (future.exception() for future in done) if exc is not None]
            if errors:
                for proc in list(self._live):
                    proc.terminate()
                raise errors[0]
            return [future.result() for future in futures]
