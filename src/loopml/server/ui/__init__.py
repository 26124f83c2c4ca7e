"""The web UI: server-rendered pages (Jinja2 + HTMX) over the same services as the API.

One module per page family (``login``, ``experiments``, ``runs``, ``artifacts``,
``compare``, ``datasets``, ``models``, ``approvals``, ``audit``); templates in
``templates/``; the vendored JS and CSS and our own scripts in ``../static/``, served at
``/static/`` (public: no user data lives there).

Pages:

====================================  ==========================================
``/login``                            token form (``?error=1`` after a bad token)
``/``                                 the only project, else ``/projects``
``/projects``                         projects the user may read
``/p/{project}``                      experiments of a project
``/p/{project}/e/{experiment}``       run table: sort, filter, columns, compare
``/p/{project}/r/{run_id}``           run detail with metric charts and artifacts
``/p/{project}/compare?runs=a,b``     2-10 runs: charts, param diff, parallel axes
``/p/{project}/datasets``             datasets of a project
``/p/{project}/d/{dataset}``          a dataset's versions (``/v/{n}``, ``/diff``)
``/p/{project}/models``               registered models of a project
``/p/{project}/m/{model}``            a model's versions (``/v/{n}``, ``/v/{n}/card``)
``/p/{project}/approvals``            approval inbox; ``POST .../{id}`` decides
``/p/{project}/audit``                audit log with the chain's verification
====================================  ==========================================
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from loopml.server.ui import (
    approvals,
    artifacts,
    audit,
    compare,
    datasets,
    experiments,
    login,
    models,
    runs,
)
from loopml.server.ui.base import STATIC_DIR

__all__ = ["STATIC_DIR", "router"]

router = APIRouter(include_in_schema=False)
for _module in (login, experiments, runs, artifacts, compare, datasets, models, approvals, audit):
    router.include_router(_module.router)
router.mount("/static", StaticFiles(directory=STATIC_DIR, follow_symlink=False), name="static")
