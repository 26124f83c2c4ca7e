"""``loopml ui``: a local server, a one-time login link, and a token revoked at the end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from loopml.auth import AuthService
from loopml.cli.ui import LOCAL_ADMIN, should_open_browser
from loopml.metadata.sql import SqlMetadataStore


def _read_link(process: subprocess.Popen[str], timeout_s: float = 60) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if "/login/once?code=" in line:
            return line.strip()
    raise AssertionError(f"no login link printed; output: {''.join(seen)!r}")


def test_ui_prints_a_one_time_link_that_opens_a_session_and_revokes_its_token(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "LOOPML_PROJECT": "scratch"}
    env.pop("CI", None)
    with subprocess.Popen(
        [sys.executable, "-m", "loopml", "ui", "--port", "0", "--no-browser"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        try:
            link = _read_link(process)
            assert link.startswith("http://127.0.0.1:")
            with httpx.Client(follow_redirects=True, timeout=30) as browser:
                page = browser.get(link)
                assert page.status_code == 200
                assert page.url.path == "/p/scratch"
                again = browser.get(link)  # a second use of the link is refused
            assert again.url.path == "/login"
            assert "already used" in again.text
        finally:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=30)
    store = SqlMetadataStore(f"sqlite:///{tmp_path / '.loopml' / 'loopml.db'}")
    try:
        auth = AuthService(store, store)
        users = {u.name: u for u in auth.list_users()}
        assert users[LOCAL_ADMIN].is_admin
        tokens = auth.list_tokens(user_name=LOCAL_ADMIN)
        assert len(tokens) == 1
        assert tokens[0].revoked_at is not None
    finally:
        store.close()


@pytest.mark.parametrize(
    ("no_browser", "environ", "expected"),
    [
        (True, {"DISPLAY": ":0"}, False),
        (False, {"CI": "1", "DISPLAY": ":0"}, False),
        (False, {"DISPLAY": ":0"}, True),
    ],
)
def test_browser_opens_only_when_wanted_and_possible(
    no_browser: bool, environ: dict[str, str], expected: bool
) -> None:
    assert should_open_browser(no_browser, environ) is expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="display detection is Linux's")
def test_no_browser_without_a_display_on_linux() -> None:
    assert should_open_browser(False, {}) is False
