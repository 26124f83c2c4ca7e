"""Fixtures for the real services the suite uses.

``scripts/services.sh start`` (run by ``make test``) starts PostgreSQL and an S3-compatible
server on 127.0.0.1 and exports their URLs. Outside CI a missing service skips its tests
with the command to run; in CI (``CI=true``) a missing service fails them, so CI can never
pass by skipping.
"""

from __future__ import annotations

import os

import pytest


def _service_url(variable: str, what: str) -> str:
    url = os.environ.get(variable)
    if url:
        return url
    message = (
        f"{what} is not running: start it with `bash scripts/services.sh start` "
        "and source .services/env"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """SQLAlchemy URL of the test PostgreSQL database."""
    return _service_url("LOOPML_TEST_POSTGRES_URL", "PostgreSQL")


@pytest.fixture(scope="session")
def s3_endpoint_url() -> str:
    """Endpoint of the S3-compatible test server on 127.0.0.1."""
    return _service_url("LOOPML_TEST_S3_ENDPOINT_URL", "The S3-compatible server")


@pytest.fixture(autouse=True)
def _isolated_loopml_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's own loopml settings."""
    for name in (
        "LOOPML_HOME",
        "LOOPML_STORE_URL",
        "LOOPML_ARTIFACTS_URL",
        "LOOPML_PROJECT",
        "LOOPML_SERVER_URL",
        "LOOPML_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
