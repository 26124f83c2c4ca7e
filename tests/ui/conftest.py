"""A real server on 127.0.0.1 over a real SQLite store, and Debian's Chromium to drive it.

The server (uvicorn, in a background thread) serves a project ``demo`` with an experiment
``churn`` of a few runs (one of them named like an XSS attack) and an experiment ``big``
whose one run has a metric of 1,000,000 points. Chromium is ``/usr/bin/chromium``
(``scripts/services.sh start`` installs it); without it the tests skip, and fail in CI.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uvicorn

from loopml.core.entities import MetricSeries
from loopml.server.app import create_app
from loopml.server.config import ServerConfig
from loopml.server.context import ServerContext

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
XSS_NAME = "<img src=x onerror=alert(1)>"
BIG_POINTS = 1_000_000
VIEWPORT = {"width": 1366, "height": 768}


@dataclass
class UiServer:
    """The running server and what it serves."""

    url: str
    token: str
    context: ServerContext
    runs: dict[str, str] = field(default_factory=dict)
    big_run_id: str = ""

    def login_link(self) -> str:
        """A fresh one-time login link, as ``loopml ui`` prints it."""
        return f"{self.url}/login/once?code={self.context.logins.issue(self.token)}"


def _png(width: int = 4, height: int = 3) -> bytes:
    """A tiny valid PNG (solid blue), without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    raw = b"".join(b"\x00" + b"\x20\x60\xc0" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _seed(context: ServerContext) -> tuple[dict[str, str], str]:
    project = context.metadata.ensure_project("demo", "Churn models for the UI tests.")
    tracking = context.tracking_for(project)
    tracking.create_experiment("churn", "Candidates for the churn model.")
    runs: dict[str, str] = {}
    specs = [
        ("rf-small", "rf", 0.1, 50),
        ("rf-large", "rf", 0.05, 200),
        ("gb-fast", "gb", 0.3, 100),
        ("logreg", "lr", 1.0, 0),
        (XSS_NAME, "gb", 0.2, 80),
    ]
    for index, (name, model, rate, trees) in enumerate(specs):
        run = tracking.start_run("churn", name=name, capture_env=index == 0, tags={"team": "ds"})
        points = [
            tracking.make_metric("loss", math.exp(-step * rate / 10) + 0.05 * index, step)
            for step in range(120)
        ]
        points += [tracking.make_metric("accuracy", 0.7 + 0.04 * index, 119)]
        params = {"model": model, "learning_rate": rate, "n_trees": trees}
        tracking.log_batch(run.id, points, params=params)
        if index == 0:
            tracking.log_bytes(run.id, b"model,auc\nrf,0.91\n<b>gb</b>,0.89\n", "eval/scores.csv")
            tracking.log_bytes(run.id, b'{"auc": 0.91, "note": "<script>"}', "eval/report.json")
            tracking.log_bytes(run.id, b"<html><script>alert(1)</script></html>", "page.html")
            tracking.log_bytes(run.id, b"<svg xmlns='http://www.w3.org/2000/svg'/>", "plot.svg")
            tracking.log_bytes(run.id, _png(), "confusion.png")
            tracking.update_run(run.id, note="Baseline with default depth.")
        tracking.end_run(run.id)
        runs[name] = run.id
    big = tracking.start_run("big", name="million-points", capture_env=False)
    steps = np.arange(BIG_POINTS, dtype=np.int64)
    values = np.sin(steps / 20_000.0) + np.random.default_rng(0).normal(0.0, 0.05, BIG_POINTS)
    series = MetricSeries(
        "loss", steps.tolist(), (steps + 1_700_000_000_000).tolist(), values.tolist()
    )
    context.metadata.log_batch(big.id, [], {}, {}, None, series=[series])
    tracking.end_run(big.id)
    return runs, big.id


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on a free port of 127.0.0.1; yield its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the UI test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    """The server, started once for all UI tests."""
    root = tmp_path_factory.mktemp("ui-store")
    config = ServerConfig(
        store_url=f"sqlite:///{root / 'loopml.db'}", artifacts_url=str(root / "artifacts")
    )
    context = ServerContext.open(config)
    token = context.auth.bootstrap_admin()
    assert token is not None
    runs, big_run_id = _seed(context)
    try:
        with serving(create_app(config, context=context)) as url:
            yield UiServer(url, token, context, runs, big_run_id)
    finally:
        context.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless."""
    if not CHROMIUM.exists():
        message = (
            "Debian's Chromium is missing at /usr/bin/chromium: install it with "
            "`apt-get update && apt-get install -y chromium` (scripts/services.sh start does)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Watched:
    """A page plus what went wrong in it: dialogs opened and console errors."""

    page: Any
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def anonymous(browser: Any) -> Iterator[Watched]:
    """A fresh browser tab without a session, watched for dialogs and console errors."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    watched = Watched(page)

    def on_dialog(dialog: Any) -> None:
        watched.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda m: watched.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: watched.errors.append(str(exc)))
    try:
        yield watched
    finally:
        context.close()


@pytest.fixture
def logged_in(anonymous: Watched, ui_server: UiServer) -> Watched:
    """A browser tab logged in through a one-time link, as ``loopml ui`` opens it."""
    anonymous.page.goto(ui_server.login_link())
    return anonymous


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under tests/ui/screenshots/ (git-ignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
