"""The dataset pages in a real browser: the list, a version's profile charts and validation
report, the diff between two versions, and the Data section of a run page.

A server of its own (so the shared one keeps exactly one project) serves a project ``lab``
with a dataset ``churn`` of two versions registered through the dataset service, and a
run that read version 1. Version 2 shifts ``age`` (drift), drops ``region``, adds
``tenure``, and brings a ``plan`` value named like an XSS attack, which the schema refuses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pytest

from loopml.core.datasets import LineageDirection
from loopml.datasets.schema import ColumnSchema, DataSchema
from loopml.datasets.service import DatasetService
from loopml.server.app import create_app
from loopml.server.config import ServerConfig
from loopml.server.context import ServerContext

from .conftest import XSS_NAME, Watched, screenshot, serving

pytestmark = pytest.mark.slow

AGE_RANGE = (18, 70)
SCHEMA = DataSchema(
    (
        ColumnSchema("customer_id", "int64", unique=True),
        ColumnSchema("age", "float64", min=AGE_RANGE[0], max=AGE_RANGE[1]),
        ColumnSchema("income", "float64", nullable=True),
        ColumnSchema("plan", "string", isin=("basic", "pro", "enterprise")),
        ColumnSchema("churned", "bool"),
    ),
    name="churn",
    strict=False,
)


@dataclass
class DataServer:
    """The running server, its token, and the records the tests look for."""

    url: str
    token: str
    context: ServerContext
    run_id: str
    age_failures: int
    plan_failures: int

    def login_link(self) -> str:
        return f"{self.url}/login/once?code={self.context.logins.issue(self.token)}"


def _table(n_rows: int, *, seed: int, age_mean: float, second: bool) -> pa.Table:
    rng = np.random.default_rng(seed)
    plans = ["basic", "pro", "enterprise", XSS_NAME] if second else ["basic", "pro", "enterprise"]
    income = rng.lognormal(10, 0.5, n_rows)
    columns: dict[str, Any] = {
        "customer_id": np.arange(n_rows, dtype=np.int64),
        "age": rng.normal(age_mean, 9, n_rows).round(),
        "income": pa.array(income, mask=rng.random(n_rows) < (0.3 if second else 0.05)),
        "plan": rng.choice(plans, n_rows, p=[0.4, 0.3, 0.2, 0.1] if second else [0.5, 0.3, 0.2]),
        "churned": rng.random(n_rows) < 0.25,
    }
    if second:
        columns["tenure"] = rng.integers(1, 60, n_rows)
    else:
        columns["region"] = rng.choice(["north", "south"], n_rows)
    return pa.table(columns)


def _seed(context: ServerContext) -> DataServer:
    project = context.metadata.ensure_project("lab", "Data pages under test.")
    context.metadata.create_dataset(project.id, "churn", XSS_NAME, created_by="ana")
    service = DatasetService(context.metadata, context.artifacts_for(project), project, user="ana")
    first = _table(400, seed=1, age_mean=40, second=False)
    second = _table(500, seed=2, age_mean=58, second=True)
    service.register("churn", first, description="January extract", schema=SCHEMA)
    service.register("churn", second, description=XSS_NAME, schema=SCHEMA)
    ages = second.column("age").to_numpy()
    tracking = context.tracking_for(project)
    run = tracking.start_run("train", name="fit-on-january", capture_env=False)
    service.log_lineage(run.id, "churn@1", LineageDirection.INPUT, "train")
    tracking.end_run(run.id)
    return DataServer(
        url="",
        token="",
        context=context,
        run_id=run.id,
        age_failures=int(((ages < AGE_RANGE[0]) | (ages > AGE_RANGE[1])).sum()),
        plan_failures=int((second.column("plan").to_numpy(zero_copy_only=False) == XSS_NAME).sum()),
    )


@pytest.fixture(scope="module")
def data_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataServer]:
    root = tmp_path_factory.mktemp("ui-datasets")
    config = ServerConfig(
        store_url=f"sqlite:///{root / 'loopml.db'}", artifacts_url=str(root / "artifacts")
    )
    context = ServerContext.open(config)
    token = context.auth.bootstrap_admin()
    assert token is not None
    seeded = _seed(context)
    try:
        with serving(create_app(config, context=context)) as url:
            seeded.url = url
            seeded.token = token
            yield seeded
    finally:
        context.close()


@pytest.fixture
def tab(anonymous: Watched, data_server: DataServer) -> Watched:
    """A browser tab logged in to the dataset server."""
    anonymous.page.goto(data_server.login_link())
    return anonymous


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _no_trouble(watched: Watched) -> None:
    assert watched.dialogs == []
    assert watched.errors == []


def _drawn_bars(chart: Any) -> int:
    """How many bars of an SVG chart have a positive width and height on screen."""
    return int(
        chart.evaluate(
            "svg => [...svg.querySelectorAll('rect.bar')].filter(r => {"
            " const b = r.getBoundingClientRect(); return b.width > 0 && b.height > 0; }).length"
        )
    )


def test_dataset_list_links_each_dataset_and_its_latest_version(
    tab: Watched, data_server: DataServer
) -> None:
    page = tab.page
    page.goto(f"{data_server.url}/p/lab")
    page.get_by_role("navigation", name="Project lab").get_by_role("link", name="Datasets").click()
    page.wait_for_url(f"{data_server.url}/p/lab/datasets")
    _expect()(page.locator("nav.sections a[aria-current]")).to_have_text("Datasets")
    row = page.locator("#datasets tbody tr")
    _expect()(row).to_have_count(1)
    _expect()(row.locator("td").nth(1)).to_have_text("2")
    _expect()(row.locator("td").nth(2)).to_contain_text("churn@2")
    _expect()(row.locator("td").nth(3)).to_have_text("500")
    _expect()(row.locator("td").nth(5)).to_have_text("ana")
    _expect()(row.locator("td.description")).to_have_text(XSS_NAME)
    screenshot(page, "datasets-list")
    row.get_by_role("link", name="churn", exact=True).click()
    page.wait_for_url(f"{data_server.url}/p/lab/d/churn")
    versions = page.locator("#versions tbody tr")
    _expect()(versions).to_have_count(2)
    _expect()(versions.first.locator(".check")).to_have_class("check check-failed")
    _expect()(versions.first).to_contain_text("checks failed")
    screenshot(page, "datasets-versions")
    _no_trouble(tab)


def test_the_compare_form_opens_the_diff_of_the_two_versions_picked(
    tab: Watched, data_server: DataServer
) -> None:
    page = tab.page
    page.goto(f"{data_server.url}/p/lab/d/churn")
    _expect()(page.locator("#diff-old")).to_have_value("1")
    _expect()(page.locator("#diff-new")).to_have_value("2")
    page.locator("#diff-old").focus()
    page.keyboard.press("Tab")
    _expect()(page.locator("#diff-new")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{data_server.url}/p/lab/d/churn/diff?old=1&new=2")
    _expect()(page.locator("h1")).to_have_text("churn@1 → churn@2")
    _no_trouble(tab)


def test_version_page_draws_the_profile_and_shows_the_validation_report(
    tab: Watched, data_server: DataServer
) -> None:
    page = tab.page
    page.goto(f"{data_server.url}/p/lab/d/churn/v/2")
    _expect()(page.locator("h1")).to_have_text("churn@2")
    # A histogram per numeric column, bars of the top values per categorical one.
    age = page.locator(".column-card", has=page.locator("h3", has_text="age"))
    assert _drawn_bars(age.locator("svg.histogram")) > 5
    plan = page.locator(".column-card", has=page.locator("h3", has_text="plan"))
    _expect()(plan.locator("svg.bar-rows rect.bar")).to_have_count(4)
    _expect()(plan.locator("svg.bar-rows text.name", has_text=XSS_NAME[:10])).to_have_count(1)
    # Null rates across all six columns; income has the most.
    nulls = page.locator("#null-rates svg")
    assert _drawn_bars(nulls) >= 1
    _expect()(nulls.locator("rect.bar")).to_have_count(6)
    # The validation report: which checks failed, on how many rows, with examples.
    _expect()(page.locator("#validation .attention")).to_contain_text("Failed: 2 of")
    failures = page.locator("#failures tbody tr")
    age_row = failures.filter(has=page.locator("th", has_text="age"))
    _expect()(age_row.locator("td.n-failing")).to_contain_text(f"{data_server.age_failures:,}")
    _expect()(age_row).to_contain_text("in_range")
    plan_row = failures.filter(has=page.locator("th", has_text="plan"))
    _expect()(plan_row.locator("td.n-failing")).to_contain_text(f"{data_server.plan_failures:,}")
    _expect()(plan_row.locator(".example code").first).to_have_text(XSS_NAME)
    _expect()(page.locator("#schema tbody tr")).to_have_count(6)
    screenshot(page, "dataset-version")
    _no_trouble(tab)


def test_diff_page_highlights_the_drifted_column_and_the_schema_changes(
    tab: Watched, data_server: DataServer
) -> None:
    page = tab.page
    page.goto(f"{data_server.url}/p/lab/d/churn/diff?old=1&new=2")
    changes = page.locator("#schema-changes")
    _expect()(changes.locator("li.added")).to_contain_text("tenure")
    _expect()(changes.locator("li.removed")).to_contain_text("region")
    drifted = page.locator("#column-changes tr.drifted")
    _expect()(drifted.filter(has_text="age")).to_have_count(1)
    _expect()(drifted.filter(has_text="age").locator(".drift-flag")).to_have_text("drifted")
    chart = page.locator("#drift-chart svg")
    assert _drawn_bars(chart) >= 1
    assert chart.locator("rect.bar-drifted").count() == drifted.count()
    screenshot(page, "dataset-diff")
    _no_trouble(tab)


def test_run_page_lists_the_data_the_run_read(tab: Watched, data_server: DataServer) -> None:
    page = tab.page
    page.goto(f"{data_server.url}/p/lab/r/{data_server.run_id}")
    row = page.locator("#run-data tbody tr")
    _expect()(row).to_have_count(1)
    _expect()(row).to_contain_text("input")
    _expect()(row).to_contain_text("train")
    screenshot(page, "run-data")
    row.get_by_role("link", name="churn@1").click()
    page.wait_for_url(f"{data_server.url}/p/lab/d/churn/v/1")
    _expect()(page.locator("#version-runs tbody tr")).to_contain_text("fit-on-january")
    _no_trouble(tab)


def test_markup_in_descriptions_and_values_shows_as_text(
    tab: Watched, data_server: DataServer
) -> None:
    page = tab.page
    for path in ("/p/lab/datasets", "/p/lab/d/churn", "/p/lab/d/churn/v/2"):
        page.goto(f"{data_server.url}{path}")
        _expect()(page.get_by_text(XSS_NAME, exact=True).first).to_be_visible()
        assert page.locator("img[src=x]").count() == 0
    assert tab.dialogs == []
    _no_trouble(tab)


@pytest.mark.parametrize(
    "path", ["/p/lab/datasets", "/p/lab/d/churn", "/p/lab/d/churn/v/1", "/p/lab/d/churn/diff"]
)
def test_dataset_pages_send_a_browser_without_a_session_to_log_in(
    data_server: DataServer, path: str
) -> None:
    with httpx.Client(base_url=data_server.url, headers={"Accept": "text/html"}) as client:
        response = client.get(path)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].startswith("/login?next=")


def test_unknown_datasets_and_versions_and_other_projects_are_not_found(
    data_server: DataServer,
) -> None:
    context = data_server.context
    other = context.metadata.ensure_project("elsewhere")
    context.auth.create_user("viewer-elsewhere")
    _, raw = context.auth.create_token("viewer-elsewhere", "viewer", other.name)
    with httpx.Client(base_url=data_server.url, headers={"Accept": "text/html"}) as client:
        client.get(data_server.login_link(), follow_redirects=True)
        for path in ("/p/lab/d/nope", "/p/lab/d/churn/v/3", "/p/lab/d/churn/v/x"):
            assert client.get(path).status_code == 404, path
    with httpx.Client(base_url=data_server.url, headers={"Accept": "text/html"}) as client:
        code = context.logins.issue(raw)
        client.get(f"/login/once?code={code}", follow_redirects=True)
        for path in ("/p/lab/datasets", "/p/lab/d/churn", "/p/lab/d/churn/v/1"):
            assert client.get(path).status_code == 404, path
        run_page = client.get(f"/p/elsewhere/r/{data_server.run_id}")
        assert run_page.status_code == 404
