"""The model registry pages in a real browser: models, a model, a version with its lineage,
evaluation charts and approval history, the model card, the approval inbox, the audit log.

A server of its own serves a project ``reg`` with a dataset ``churn`` (one validated
version), two runs, and a model ``churn`` (its description named like an XSS attack) of
two versions: version 1 is the champion, version 2 was trained on ``churn@1`` and
evaluated per region and plan against the champion. ``ada`` (editor) asked for version 2
to become ``champion`` and ``challenger``; ``bob`` (editor) reviews; ``vic`` only views.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pytest

from loopml.core.datasets import LineageDirection
from loopml.core.entities import Project
from loopml.datasets.schema import ColumnSchema, DataSchema
from loopml.datasets.service import DatasetService
from loopml.metadata.models_base import ApprovalRequestCreate, ModelVersionCreate
from loopml.registry.release import check_release
from loopml.server.app import create_app
from loopml.server.config import ServerConfig
from loopml.server.context import ServerContext

from .conftest import XSS_NAME, Watched, screenshot, serving

pytestmark = pytest.mark.slow

FOUR_EYES = "ada requested this approval and cannot decide it: four eyes"
EVALUATION = {
    "task": "classification",
    "n_rows": 1000,
    "overall": {"accuracy": 0.91, "f1": 0.86, "roc_auc": 0.93, "n": 1000},
    "slices": {
        "region": {
            "north": {"f1": 0.89, "accuracy": 0.93, "n": 600},
            "south": {"f1": 0.81, "accuracy": 0.88, "n": 400},
        },
        "plan": {
            "basic": {"f1": 0.84, "n": 500},
            "pro": {"f1": 0.88, "n": 300},
            XSS_NAME: {"f1": 0.79, "n": 200},
        },
    },
    "champion": {
        "version": 1,
        "overall": {"accuracy": 0.89, "f1": 0.8, "roc_auc": 0.94},
        "delta": {"accuracy": 0.02, "f1": 0.06, "roc_auc": -0.01},
    },
    "dataset": "churn@1",
}


@dataclass
class RegistryServer:
    """The running server, its users' tokens, and the records the tests look for."""

    url: str
    context: ServerContext
    tokens: dict[str, str]
    run_id: str
    champion_request: str
    challenger_request: str

    def login_link(self, user: str) -> str:
        code = self.context.logins.issue(self.tokens[user])
        return f"{self.url}/login/once?code={code}"


def _dataset(context: ServerContext, project: Project, run_id: str) -> str:
    schema = DataSchema((ColumnSchema("age", "float64", min=0, max=120),), name="churn")
    service = DatasetService(context.metadata, context.artifacts_for(project), project, user="ana")
    rng = np.random.default_rng(3)
    version = service.register("churn", pa.table({"age": rng.normal(40, 9, 300)}), schema=schema)
    service.log_lineage(run_id, "churn@1", LineageDirection.INPUT, "train")
    return version.id


def _seed(context: ServerContext) -> tuple[str, str, str]:
    metadata = context.metadata
    project = metadata.ensure_project("reg", "Registry pages under test.")
    tracking = context.tracking_for(project)
    runs = []
    for name in ("fit-v1", "fit-v2"):
        run = tracking.start_run("train", name=name, capture_env=False)
        tracking.end_run(run.id)
        runs.append(run.id)
    data_id = _dataset(context, project, runs[1])
    model = metadata.create_registered_model(
        project.id, "churn", actor="ada", description=XSS_NAME, owner="ada"
    )
    for number, (run_id, f1) in enumerate(zip(runs, (0.8, 0.86), strict=True), start=1):
        metadata.create_model_version(
            ModelVersionCreate(
                model_id=model.id,
                flavor="sklearn",
                package_path=f"models/churn/{number}",
                digest=f"{number:064x}",
                size=2048 * number,
                run_id=run_id,
                metrics={"f1": f1, "accuracy": 0.85 + number / 50},
                dataset_version_ids=[data_id] if number == 2 else [],
                description=f"candidate {number}",
            ),
            actor="ada",
        )
    metadata.set_alias(model.id, "champion", 1, actor="admin")
    metadata.update_model_version(model.id, 2, actor="ada", evaluation=EVALUATION)
    policy = {"gates": ["metrics.f1 >= 0.85", "data.validation == passed"]}
    model = metadata.update_registered_model(
        model.id, actor="admin", release_policy={**policy, "required_approvals": 1}
    )
    version = metadata.get_model_version(model.id, 2)
    check = check_release(metadata, model, version)
    assert check.passed
    requests = [
        metadata.create_approval_request(
            ApprovalRequestCreate(
                model_id=model.id,
                version=2,
                alias=alias,
                gate_results=[r.to_dict() for r in check.results],
                gates_passed=True,
                comment=f"Better F1 than the champion. {XSS_NAME}",
            ),
            actor="ada",
        )
        for alias in ("champion", "challenger")
    ]
    return runs[1], requests[0].id, requests[1].id


@contextlib.contextmanager
def _serving(config: ServerConfig, context: ServerContext) -> Iterator[str]:
    """Serve the app over ``context`` on a free port of 127.0.0.1; yield its URL."""
    try:
        with serving(create_app(config, context=context)) as url:
            yield url
    finally:
        context.close()


def _open(root: Path) -> tuple[ServerConfig, ServerContext, str]:
    config = ServerConfig(
        store_url=f"sqlite:///{root / 'loopml.db'}", artifacts_url=str(root / "artifacts")
    )
    context = ServerContext.open(config)
    admin = context.auth.bootstrap_admin()
    assert admin is not None
    return config, context, admin


def _users(context: ServerContext, project: str, **roles: str) -> dict[str, str]:
    tokens = {}
    for user, role in roles.items():
        context.auth.create_user(user)
        tokens[user] = context.auth.create_token(user, role, project)[1]
    return tokens


@pytest.fixture(scope="module")
def registry_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    config, context, admin = _open(tmp_path_factory.mktemp("ui-models"))
    run_id, champion, challenger = _seed(context)
    tokens = {"admin": admin, **_users(context, "reg", ada="editor", bob="editor", vic="viewer")}
    with _serving(config, context) as url:
        yield RegistryServer(url, context, tokens, run_id, champion, challenger)


@pytest.fixture(scope="module")
def tampered_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A log of three events, the first (project reg) and second (project secret) edited."""
    root = tmp_path_factory.mktemp("ui-audit-tampered")
    config, context, admin = _open(root)
    reg = context.metadata.ensure_project("reg")
    secret = context.metadata.ensure_project("secret")
    model = context.metadata.create_registered_model(reg.id, "churn", actor="ada")
    context.metadata.create_registered_model(secret.id, "hidden", actor="carol")
    context.metadata.update_registered_model(model.id, actor="ada", owner="ada")
    with sqlite3.connect(root / "loopml.db") as db:
        db.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq IN (1, 2)")
    tokens = {"admin": admin, **_users(context, "reg", vic="viewer")}
    with _serving(config, context) as url:
        yield RegistryServer(url, context, tokens, "", "", "")


def _login(watched: Watched, server: RegistryServer, user: str) -> Any:
    watched.page.goto(server.login_link(user))
    return watched.page


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _no_trouble(watched: Watched) -> None:
    assert watched.dialogs == []
    assert watched.errors == []


def test_models_list_shows_versions_aliases_and_owner(
    anonymous: Watched, registry_server: RegistryServer
) -> None:
    page = _login(anonymous, registry_server, "vic")
    page.goto(f"{registry_server.url}/p/reg")
    nav = page.get_by_role("navigation", name="Project reg")
    _expect()(nav.get_by_role("link")).to_have_text(
        ["Experiments", "Datasets", "Models", "Approvals", "Audit"]
    )
    nav.get_by_role("link", name="Models").click()
    page.wait_for_url(f"{registry_server.url}/p/reg/models")
    _expect()(page.locator("nav.sections a[aria-current]")).to_have_text("Models")
    row = page.locator("#models tbody tr")
    _expect()(row).to_have_count(1)
    _expect()(row.locator("td").nth(1)).to_have_text("2")
    _expect()(row.locator("td.aliases")).to_contain_text("champion → v1")
    _expect()(row.locator("td").nth(3)).to_have_text("ada")
    _expect()(row.locator(".pending-badge")).to_have_text("2 awaiting approval")
    screenshot(page, "models-list")
    row.get_by_role("link", name="churn", exact=True).click()
    page.wait_for_url(f"{registry_server.url}/p/reg/m/churn")
    versions = page.locator("#versions tbody tr")
    _expect()(versions).to_have_count(2)
    _expect()(versions.first).to_contain_text("version 2")
    _expect()(versions.first.locator("td").nth(3)).to_have_text("0.86")  # f1, first column
    _expect()(page.locator("#policy ul.gates li")).to_have_text(
        ["metrics.f1 >= 0.85", "data.validation == passed"]
    )
    _expect()(page.locator("#alias-history li").first).to_contain_text("champion set to v1")
    screenshot(page, "model")
    _no_trouble(anonymous)


def test_version_page_draws_lineage_evaluation_and_approval_history(
    anonymous: Watched, registry_server: RegistryServer
) -> None:
    page = _login(anonymous, registry_server, "vic")
    page.goto(f"{registry_server.url}/p/reg/m/churn/v/2")
    _expect()(page.locator("h1")).to_have_text("churn version 2")
    # Evaluation: overall against the champion, one chart of F1 per slice column.
    f1 = page.locator("#overall tbody tr", has=page.locator("th", has_text="f1"))
    _expect()(f1.locator("td.delta")).to_have_class(re.compile(r"delta-better"))
    _expect()(f1.locator("td.delta")).to_contain_text("+0.06")
    auc = page.locator("#overall tbody tr", has=page.locator("th", has_text="roc_auc"))
    _expect()(auc.locator("td.delta")).to_have_class(re.compile(r"delta-worse"))
    region = page.locator(".slice-chart[data-column=region] svg")
    _expect()(region.locator("rect.bar")).to_have_count(2)
    widths = region.locator("rect.bar").evaluate_all("rs => rs.map(r => r.getBBox().width)")
    assert all(w > 0 for w in widths)
    assert widths[0] > widths[1]  # north 0.89 > south 0.81
    _expect()(region.locator("rect.bar-worst title")).to_have_text(re.compile(r"^south: 0\.81"))
    plan = page.locator(".slice-chart[data-column=plan]")
    _expect()(plan.locator("rect.bar")).to_have_count(3)
    _expect()(plan.locator("figcaption")).to_contain_text(f"worst: {XSS_NAME}")
    # The approval history: both requests, gates passed, still open.
    history = page.locator("#approval-history article")
    _expect()(history).to_have_count(2)
    _expect()(history.first.locator(".gates-table tbody tr")).to_have_count(2)
    _expect()(history.first.locator(".gate-passed").first).to_be_visible()
    screenshot(page, "model-version")
    # Lineage: the training data and the run link to their pages.
    lineage = page.locator("#lineage svg")
    _expect()(lineage.locator("a")).to_have_count(2)
    lineage.locator("a", has_text="churn@1").click()
    page.wait_for_url(f"{registry_server.url}/p/reg/d/churn/v/1")
    page.go_back()
    page.locator("#lineage svg a", has_text="fit-v2").click()
    page.wait_for_url(f"{registry_server.url}/p/reg/r/{registry_server.run_id}")
    _no_trouble(anonymous)


def test_a_version_without_data_evaluation_or_approvals_says_so(
    anonymous: Watched, registry_server: RegistryServer
) -> None:
    page = _login(anonymous, registry_server, "vic")
    page.goto(f"{registry_server.url}/p/reg/m/churn/v/1")
    _expect()(page.locator("#lineage svg .node-missing")).to_contain_text("no training data")
    _expect()(page.locator("#lineage svg a")).to_have_count(1)  # the run
    _expect()(page.locator("#evaluation .empty")).to_contain_text("Not evaluated yet")
    _expect()(page.locator("#approval-history .empty")).to_contain_text(
        "No approval has been requested"
    )
    screenshot(page, "model-version-bare")
    _no_trouble(anonymous)


def test_the_model_card_shows_in_the_ui_and_downloads_as_html_or_markdown(
    anonymous: Watched, registry_server: RegistryServer
) -> None:
    page = _login(anonymous, registry_server, "vic")
    page.goto(f"{registry_server.url}/p/reg/m/churn/v/2")
    page.locator("#card-link").click()
    page.wait_for_url(f"{registry_server.url}/p/reg/m/churn/v/2/card")
    _expect()(page.locator("h1")).to_have_text("Model card: churn version 2")
    _expect()(page.locator(".card-facts")).to_contain_text("sklearn")
    _expect()(page.locator(".model-card tr.worst")).to_have_count(2)  # south, the XSS plan
    _expect()(page.get_by_text(XSS_NAME, exact=True).first).to_be_visible()
    assert page.locator("img[src=x]").count() == 0
    screenshot(page, "model-card")
    _no_trouble(anonymous)  # the UI's stylesheets: nothing blocked by the policy
    with httpx.Client(base_url=registry_server.url) as client:
        client.get(registry_server.login_link("vic"))
        html = client.get("/p/reg/m/churn/v/2/card?format=html")
        markdown = client.get("/p/reg/m/churn/v/champion/card?format=md")
    assert html.headers["content-disposition"] == (
        'attachment; filename="churn-v2-model-card.html"'
    )
    assert "<h1>Model card: churn version 2</h1>" in html.text
    assert "&lt;img src=x" in html.text
    assert "<script" not in html.text
    assert markdown.headers["content-disposition"].startswith("attachment;")
    assert markdown.text.startswith("# Model card: churn version 1")


def test_the_requester_cannot_approve_their_own_request(
    anonymous: Watched, registry_server: RegistryServer
) -> None:
    page = _login(anonymous, registry_server, "ada")
    page.goto(f"{registry_server.url}/p/reg/approvals")
    card = page.locator(f"#request-{registry_server.challenger_request}")
    card.get_by_role("button", name="Approve").click()
    refusal = page.get_by_role("alert")
    _expect()(refusal).to_contain_text(f"Your approval was not recorded: {FOUR_EYES}")
    card = page.locator(f"#request-{registry_server.challenger_request}")
    _expect()(card.locator(".refusal")).to_contain_text(FOUR_EYES)
    _expect()(card.locator(".approval-status")).to_have_text("open")
    screenshot(page, "approvals-four-eyes")
    assert anonymous.dialogs == []


def test_a_rejection_needs_a_reason(anonymous: Watched, registry_server: RegistryServer) -> None:
    page = _login(anonymous, registry_server, "bob")
    page.goto(f"{registry_server.url}/p/reg/approvals")
    card = page.locator(f"#request-{registry_server.challenger_request}")
    card.get_by_role("button", name="Reject").click()
    _expect()(page.get_by_role("alert")).to_contain_text("Your rejection was not recorded")
    card = page.locator(f"#request-{registry_server.challenger_request}")
    _expect()(card.locator(".refusal")).to_contain_text("say why the request is rejected")
    _expect()(card.locator("textarea")).to_have_attribute("aria-invalid", "true")
    _expect()(card.locator(".approval-status")).to_have_text("open")
    assert anonymous.dialogs == []


def test_a_decision_without_the_csrf_token_is_refused(
    anonymous: Watched, registry_server: RegistryServer
) -> None:
    page = _login(anonymous, registry_server, "bob")
    page.goto(f"{registry_server.url}/p/reg/approvals")
    action = f"{registry_server.url}/p/reg/approvals/{registry_server.challenger_request}"
    response = page.request.post(action, form={"decision": "reject", "reason": "forged"})
    assert response.status == 403
    assert "CSRF" in response.text()
    request = registry_server.context.metadata.get_approval_request(
        registry_server.challenger_request
    )
    assert request.status.value == "open"
    assert request.decisions == ()


def test_a_viewer_sees_the_inbox_without_decision_forms(
    anonymous: Watched, registry_server: RegistryServer
) -> None:
    page = _login(anonymous, registry_server, "vic")
    page.goto(f"{registry_server.url}/p/reg/approvals")
    _expect()(page.locator("#open-requests article").first).to_be_visible()
    _expect()(page.locator("form.decide")).to_have_count(0)
    _expect()(page.locator("main")).to_contain_text("deciding them needs the editor role")
    _no_trouble(anonymous)


def test_a_reviewer_approves_and_the_champion_moves(
    anonymous: Watched, registry_server: RegistryServer
) -> None:
    page = _login(anonymous, registry_server, "bob")
    page.goto(f"{registry_server.url}/p/reg/approvals")
    card = page.locator(f"#request-{registry_server.champion_request}")
    _expect()(card.locator(".approval-meta")).to_contain_text("champion is now v1")
    screenshot(page, "approvals-inbox")
    card.locator("textarea").fill("F1 up 0.06 on churn@1; south still weakest.")
    card.get_by_role("button", name="Approve").click()
    _expect()(page.locator("#outcome")).to_have_text(
        re.compile(r"Approved: churn version 2 is now\s+champion")
    )
    decided = page.locator(f"#decided-requests #request-{registry_server.champion_request}")
    _expect()(decided.locator(".decisions tbody tr")).to_contain_text("bob")
    _expect()(decided.locator(".decisions tbody tr")).to_contain_text("approved")
    screenshot(page, "approvals-decided")
    page.goto(f"{registry_server.url}/p/reg/m/churn")
    _expect()(page.locator("#model-aliases")).to_contain_text("champion → v2")
    _expect()(page.locator("#alias-history li").first).to_contain_text(
        re.compile(r"champion\s+moved from\s+v1\s+to\s+v2\s*by bob")
    )
    page.goto(f"{registry_server.url}/p/reg/m/churn/v/2")
    history = page.locator(f"#approval-history #request-{registry_server.champion_request}")
    _expect()(history.locator(".decisions")).to_contain_text("F1 up 0.06")
    _no_trouble(anonymous)


def test_audit_log_lists_the_events_under_an_intact_chain(
    anonymous: Watched, registry_server: RegistryServer
) -> None:
    page = _login(anonymous, registry_server, "vic")
    page.goto(f"{registry_server.url}/p/reg/audit")
    _expect()(page.locator("#chain.chain-intact")).to_contain_text("Chain intact")
    rows = page.locator("#audit-events tbody tr")
    assert rows.count() >= 8  # model, 2 versions, alias, evaluation, policy, 2 requests
    actions = rows.locator("code.action").all_inner_texts()
    assert {"model.create", "version.create", "alias.set", "approval.request"} <= set(actions)
    create = rows.filter(has=page.locator("code.action", has_text="model.create"))
    _expect()(create.locator("td").nth(2)).to_have_text("ada")
    screenshot(page, "audit")
    page.select_option("#entity", "churn")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r".*/p/reg/audit\?entity=churn$"))
    _no_trouble(anonymous)


def test_a_broken_chain_is_named_without_other_projects_details(
    anonymous: Watched, tampered_server: RegistryServer
) -> None:
    page = _login(anonymous, tampered_server, "vic")
    page.goto(f"{tampered_server.url}/p/reg/audit")
    chain = page.locator("#chain.chain-broken")
    _expect()(chain).to_contain_text("Chain broken. 2 problems")
    _expect()(chain.locator("li")).to_have_text(
        [
            "event 1: its content does not match its digest: the model.create event by mallory "
            "was edited"
        ]
    )
    _expect()(chain).to_contain_text("1 of them concerns other projects' events")
    _expect()(page.locator("#audit-events tbody tr")).to_have_count(2)  # events 3 and 1
    assert "hidden" not in page.locator("main").inner_text()
    screenshot(page, "audit-broken")
    page = _login(anonymous, tampered_server, "admin")
    page.goto(f"{tampered_server.url}/p/reg/audit")
    _expect()(page.locator("#chain li")).to_have_count(2)
    _expect()(page.locator("#chain li").nth(1)).to_contain_text("event 2:")
    _no_trouble(anonymous)


def test_markup_in_a_model_description_shows_as_text(
    anonymous: Watched, registry_server: RegistryServer
) -> None:
    page = _login(anonymous, registry_server, "vic")
    for path in ("/p/reg/models", "/p/reg/m/churn", "/p/reg/approvals", "/p/reg/m/churn/v/2"):
        page.goto(f"{registry_server.url}{path}")
        _expect()(page.get_by_text(XSS_NAME).first).to_be_visible()
        assert page.locator("img[src=x]").count() == 0, path
    _no_trouble(anonymous)


@pytest.mark.parametrize(
    "path",
    ["/p/reg/models", "/p/reg/m/churn", "/p/reg/m/churn/v/1", "/p/reg/approvals", "/p/reg/audit"],
)
def test_registry_pages_send_a_browser_without_a_session_to_log_in(
    registry_server: RegistryServer, path: str
) -> None:
    with httpx.Client(base_url=registry_server.url, headers={"Accept": "text/html"}) as client:
        response = client.get(path)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].startswith("/login?next=")


def test_unknown_models_versions_and_requests_are_not_found(
    registry_server: RegistryServer,
) -> None:
    with httpx.Client(base_url=registry_server.url, headers={"Accept": "text/html"}) as client:
        client.get(registry_server.login_link("bob"))
        for path in ("/p/reg/m/nope", "/p/reg/m/churn/v/3", "/p/reg/m/churn/v/stable"):
            assert client.get(path).status_code == 404, path
        token = client.cookies["loopml_csrf"]
        missing = client.post(
            f"/p/reg/approvals/{'0' * 32}", data={"csrf_token": token, "decision": "approve"}
        )
        assert missing.status_code == 404
