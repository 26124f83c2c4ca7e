"""The dependencies of the REST API run on the event loop: none costs a thread hop.

FastAPI runs a plain ``def`` dependency in the thread pool, so a dependency that only
reads state must be ``async def``; the one that may read the database
(:func:`loopml.server.deps.get_principal`) decides for itself when it needs a thread.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from .conftest import Server


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def test_no_api_route_has_a_dependency_that_runs_in_the_thread_pool(server: Server) -> None:
    dependants = {
        context.path: context.dependant
        for context in iter_route_contexts(server.app.routes)
        if isinstance(context.original_route, APIRoute) and context.path.startswith("/api/")
    }
    assert "/api/v1/runs/{run_id}/batch" in dependants
    blocking = {
        f"{path}: {sub.call.__qualname__}"
        for path, dependant in dependants.items()
        for sub in _dependencies(dependant)
        if sub.call is not None and not inspect.iscoroutinefunction(sub.call)
    }
    assert blocking == set()
