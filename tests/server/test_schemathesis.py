"""Property-based run over the published OpenAPI schema: no input makes the server fail.

Schemathesis generates requests for every operation from ``/api/v1/openapi.json`` (with a
server admin's token, over seeded records) and checks that none answers 5xx. The run is
bounded and derandomized, so it is deterministic and takes seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from loopml.server.app import create_app
from loopml.server.config import ServerConfig
from loopml.server.context import ServerContext

TOKEN: dict[str, str] = {}


@pytest.fixture
def api_schema(config_for: Callable[..., ServerConfig]) -> Iterator[Any]:
    config = config_for()
    context = ServerContext.open(config)
    secret = context.auth.bootstrap_admin()
    assert secret is not None
    TOKEN["value"] = secret
    project = context.metadata.create_project("churn")
    experiment = context.metadata.create_experiment(project.id, "baseline")
    app = create_app(config, context=context)
    schema = schemathesis.openapi.from_asgi(
        "/api/v1/openapi.json", app, headers={"Authorization": f"Bearer {secret}"}
    )
    assert experiment.id
    yield schema
    context.close()


def test_no_generated_request_makes_the_server_fail(api_schema: Any) -> None:
    headers = {"Authorization": f"Bearer {TOKEN['value']}"}
    n_operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        n_operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])

        check()
    assert n_operations >= 20
