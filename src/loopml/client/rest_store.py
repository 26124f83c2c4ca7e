"""The metadata store of a loopml server, over REST API v1.

:class:`RestMetadataStore` implements :class:`~loopml.metadata.base.BaseMetadataStore`
with HTTP calls, so the tracking service (and the SDK above it) works the same against a
local folder and a team server. The contract suite of :mod:`loopml.testing` runs against it.

Retries never duplicate a write: ``create_run`` sends a run id chosen here, so a repeated
request returns the run the first one made; ``log_batch`` always sends an idempotency key
(one is made up when the caller gives none) and reuses it on every retry of the call; a
create of a project or experiment that answers 409 on a retry returns the record that the
lost first try made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np

from loopml.client import wire
from loopml.client.rest_datasets import RestDatasetStore
from loopml.client.rest_registry import RestModelStore
from loopml.client.session import RestSession, RetryPolicy, error_from_response
from loopml.core.entities import (
    ArtifactInfo,
    Experiment,
    Metric,
    MetricSeries,
    Project,
    Run,
    RunPage,
)
from loopml.core.errors import NotFoundError, StoreError, ValidationError
from loopml.core.filters import Expr, OrderBy, format_filter, format_order_by
from loopml.core.ids import new_id
from loopml.core.validation import check_key, check_param_value, check_tag_value
from loopml.metadata.base import BaseMetadataStore, RunCreate, RunUpdate

__all__ = ["RestMetadataStore"]


def _segment(value: str) -> str:
    """One path segment, every reserved character escaped (names may hold ``/ ? # %``).

    A name of dots is escaped too: ``..`` as a segment would be resolved away by URL
    normalisation, and ``DELETE /runs/<id>/tags/..`` would then name the run itself.

    >>> _segment("a/b c"), _segment("..")
    ('a%2Fb%20c', '%2E%2E')
    """
    if not isinstance(value, str):
        raise ValidationError(f"expected text, got {type(value).__name__}")
    if value and value.strip(".") == "":
        return "%2E" * len(value)
    return quote(value, safe="")


class RestMetadataStore(RestDatasetStore, RestModelStore, BaseMetadataStore):
    """:class:`BaseMetadataStore` on a loopml server's REST API.

    One pooled keep-alive connection set serves every thread of the process (httpx's
    client is thread-safe). Records come back as the same frozen domain objects the SQL
    store hands out.

    Args:
        url: The server's base URL, e.g. ``http://127.0.0.1:8080``.
        token: An API token; None for a server without authentication.
        transport: An httpx transport instead of the network (tests).
        timeout: Seconds to wait for a connection and for each read.
        retry: How failed requests are retried.
        session: An open session to share (with a :class:`RestArtifactStore`); the store
            closes it on :meth:`close`.
        send_user: Send ``RunCreate.user`` to the server. The server records the token's
            user as a run's user and lets only a server admin name another one, so the SDK
            leaves it out (False); True passes it on, as an import by an admin needs.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        session: RestSession | None = None,
        send_user: bool = True,
    ) -> None:
        self.session = session or RestSession(
            url, token, transport=transport, timeout=timeout, retry=retry
        )
        self.url = self.session.url
        self.send_user = send_user

    def close(self) -> None:
        self.session.close()

    def __repr__(self) -> str:
        return f"RestMetadataStore({self.url!r})"

    def _decode(self, response: httpx.Response, decoder: Any) -> Any:
        try:
            return decoder(self.session.decode(response))
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(
                f"the server at {self.url} sent a response this client cannot read "
                f"({type(exc).__name__}: {exc}); are client and server versions compatible?"
            ) from None

    def _get(self, path: str, decoder: Any, **params: Any) -> Any:
        return self._decode(self.session.request("GET", path, params=params or None), decoder)

    # -- projects -------------------------------------------------------------------------

    def create_project(self, name: str, description: str = "") -> Project:
        body = {"name": name, "description": description}
        response, tries = self.session.send("POST", "/projects", json=body)
        if response.status_code == 409 and tries > 1:
            # A lost answer to our own first try: the project is there, made by us.
            existing = self.get_project_by_name(name)
            if existing.description == description:
                return existing
        project: Project = self._created(response, wire.project_from_json)
        return project

    def _created(self, response: httpx.Response, decoder: Any) -> Any:
        if response.is_error:
            raise error_from_response(response)
        return self._decode(response, decoder)

    # ``/projects/{project}`` takes a name or an id; each getter checks it got what it asked.

    def get_project(self, project_id: str) -> Project:
        project: Project = self._get(self._project_path(project_id), wire.project_from_json)
        if project.id != project_id:
            raise NotFoundError(f"project {project_id!r} not found", field="project_id")
        return project

    def get_project_by_name(self, name: str) -> Project:
        if "/" in name:  # the server's route cannot take a "/" in a name: look it up
            for listed in self.list_projects():
                if listed.name == name:
                    return listed
            raise NotFoundError(f"project {name!r} not found", field="project")
        project: Project = self._get(f"/projects/{_segment(name)}", wire.project_from_json)
        if project.name != name:
            raise NotFoundError(f"project {name!r} not found", field="project")
        return project

    def list_projects(self) -> list[Project]:
        projects: list[Project] = self._get(
            "/projects", lambda body: [wire.project_from_json(p) for p in body["projects"]]
        )
        return projects

    @staticmethod
    def _project_path(project_id: str) -> str:
        return f"/projects/{_segment(project_id)}"

    # -- experiments ----------------------------------------------------------------------

    def create_experiment(
        self,
        project_id: str,
        name: str,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> Experiment:
        body = {"name": name, "description": description, "tags": dict(tags or {})}
        path = f"{self._project_path(project_id)}/experiments"
        response, tries = self.session.send("POST", path, json=body)
        if response.status_code == 409 and tries > 1:
            existing = self.get_experiment_by_name(project_id, name)
            if (existing.description, dict(existing.tags)) == (description, body["tags"]):
                return existing
        experiment: Experiment = self._created(response, wire.experiment_from_json)
        return experiment

    def get_experiment(self, experiment_id: str) -> Experiment:
        experiment: Experiment = self._get(
            f"/experiments/{_segment(experiment_id)}", wire.experiment_from_json
        )
        return experiment

    def get_experiment_by_name(self, project_id: str, name: str) -> Experiment:
        if "/" in name:  # as in get_project_by_name
            for listed in self.list_experiments(project_id, include_deleted=True):
                if listed.name == name:
                    return listed
            raise NotFoundError(
                f"experiment {name!r} not found in project {project_id!r}", field="name"
            )
        path = f"{self._project_path(project_id)}/experiments/by-name/{_segment(name)}"
        experiment: Experiment = self._get(path, wire.experiment_from_json)
        return experiment

    def list_experiments(self, project_id: str, include_deleted: bool = False) -> list[Experiment]:
        experiments: list[Experiment] = self._get(
            f"{self._project_path(project_id)}/experiments",
            lambda body: [wire.experiment_from_json(e) for e in body["experiments"]],
            include_deleted=str(include_deleted).lower(),
        )
        return experiments

    def delete_experiment(self, experiment_id: str) -> None:
        self.session.request("DELETE", f"/experiments/{_segment(experiment_id)}")

    # -- runs -----------------------------------------------------------------------------

    def create_run(self, run: RunCreate) -> Run:
        body = wire.run_create_to_json(run, run.id or new_id())
        if not self.send_user:
            del body["user"]  # the server records the token's user
        created: Run = self._decode(
            self.session.request("POST", "/runs", json=body), wire.run_from_json
        )
        return created

    def get_run(self, run_id: str) -> Run:
        run: Run = self._get(f"/runs/{_segment(run_id)}", wire.run_from_json)
        return run

    def update_run(self, run_id: str, update: RunUpdate) -> Run:
        response = self.session.request(
            "PATCH", f"/runs/{_segment(run_id)}", json=wire.run_update_to_json(update)
        )
        updated: Run = self._decode(response, wire.run_from_json)
        return updated

    def delete_run(self, run_id: str) -> None:
        self.session.request("DELETE", f"/runs/{_segment(run_id)}")

    def restore_run(self, run_id: str) -> None:
        self.session.request("POST", f"/runs/{_segment(run_id)}/restore")

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        series: Sequence[MetricSeries] = (),
    ) -> None:
        """Write points, params and tags in one request, checked here first.

        The checks are the SQL store's own, so a bad value raises the same error naming
        the same field, and nothing is sent. Single points travel as columns per key, in
        the order the SQL store would write them. The request carries ``idempotency_key``
        (a fresh one when None), so its retries are applied once.
        """
        from loopml.metadata.metric_columns import columns_by_key

        columns = columns_by_key(metrics, series)
        clean_params = {
            check_key(k, kind="param"): check_param_value(k, v) for k, v in (params or {}).items()
        }
        clean_tags = {
            check_key(k, kind="tag"): check_tag_value(k, v) for k, v in (tags or {}).items()
        }
        body = {
            "metrics": [],
            "series": [
                wire.series_to_json(c.key, c.steps, c.timestamps, c.values) for c in columns
            ],
            "params": clean_params,
            "tags": clean_tags,
            "idempotency_key": idempotency_key if idempotency_key is not None else new_id(),
        }
        self.session.request("POST", f"/runs/{_segment(run_id)}/batch", json=body)

    def delete_tag(self, run_id: str, key: str) -> None:
        path = f"/runs/{_segment(run_id)}/tags/{_segment(key)}"
        response, tries = self.session.send("DELETE", path)
        # A 404 on a retry: our lost first try may have removed it (the run must exist).
        if response.status_code == 404 and tries > 1 and key not in self.get_run(run_id).tags:
            return
        if response.is_error:
            raise error_from_response(response)

    def get_metric_series(self, run_id: str, key: str) -> MetricSeries:
        series: MetricSeries = self._get(
            f"/runs/{_segment(run_id)}/metrics/{_segment(key)}", wire.series_from_json
        )
        return series

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        series = self.get_metric_series(run_id, key)
        columns = (np.asarray(c).tolist() for c in (series.steps, series.timestamps, series.values))
        return [Metric(key, v, s, t) for s, t, v in zip(*columns, strict=True)]

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter: Expr | None = None,
        order_by: Sequence[OrderBy] = (),
        max_results: int = 1000,
        page_token: str | None = None,
        include_deleted: bool = False,
    ) -> RunPage:
        body = {
            "experiment_ids": list(experiment_ids),
            "filter": format_filter(filter) or None,
            "order_by": format_order_by(tuple(order_by)),
            "max_results": max_results,
            "page_token": page_token,
            "include_deleted": include_deleted,
        }
        response = self.session.request("POST", "/runs/search", json=body)

        def page(data: Mapping[str, Any]) -> RunPage:
            runs = tuple(wire.run_from_json(run) for run in data["runs"])
            return RunPage(runs, data.get("next_page_token"))

        result: RunPage = self._decode(response, page)
        return result

    # -- artifacts ------------------------------------------------------------------------

    def record_artifact(self, run_id: str, artifact: ArtifactInfo) -> None:
        self.session.request(
            "POST", f"/runs/{_segment(run_id)}/artifacts", json=wire.artifact_to_json(artifact)
        )

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        params = {"prefix": prefix} if prefix else {}
        artifacts: list[ArtifactInfo] = self._get(
            f"/runs/{_segment(run_id)}/artifacts",
            lambda body: wire.artifacts_from_json(body["artifacts"]),
            **params,
        )
        return artifacts
