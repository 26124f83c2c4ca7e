"""A project admin's override in the approval inbox, over HTTP and in a real browser.

Each test gets a store of its own: a project ``reg`` with a model ``churn`` whose
version 1 is the champion and whose version 2 fails the release gate ``metrics.f1 >=
0.9``; ``ada`` (editor) asked for version 2 to become ``champion``, so only an override
can pass the request. ``bob`` is another editor, who may decide but not override;
``cy`` is an admin of ``reg`` (not of the server), who may override, as over REST.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from loopml.core.models import ApprovalRequest
from loopml.metadata.models_base import ApprovalRequestCreate, ModelVersionCreate
from loopml.registry.release import check_release
from loopml.server.app import create_app
from loopml.server.config import ServerConfig
from loopml.server.context import ServerContext

from .conftest import Watched, screenshot, serving

REASON = "Hotfix for the <b>outage</b>: F1 0.86 is fine until the retrain lands."


@dataclass
class Store:
    """The server's config and context, its users' tokens, and the open request."""

    config: ServerConfig
    context: ServerContext
    tokens: dict[str, str]
    request_id: str

    def request(self) -> ApprovalRequest:
        return self.context.metadata.get_approval_request(self.request_id)

    def champion(self) -> int | None:
        model = self.context.metadata.get_registered_model_by_name(
            self.context.metadata.get_project_by_name("reg").id, "churn"
        )
        return dict(model.aliases).get("champion")

    def n_events(self) -> int:
        return len(self.context.metadata.list_audit_events())


def _seed(context: ServerContext) -> str:
    metadata = context.metadata
    project = metadata.ensure_project("reg")
    model = metadata.create_registered_model(project.id, "churn", actor="ada")
    for number, f1 in ((1, 0.8), (2, 0.86)):
        metadata.create_model_version(
            ModelVersionCreate(
                model_id=model.id,
                flavor="sklearn",
                package_path=f"models/churn/{number}",
                digest=f"{number:064x}",
                size=1024,
                metrics={"f1": f1},
            ),
            actor="ada",
        )
    metadata.set_alias(model.id, "champion", 1, actor="admin")
    model = metadata.update_registered_model(
        model.id, actor="admin", release_policy={"gates": ["metrics.f1 >= 0.9"]}
    )
    check = check_release(metadata, model, metadata.get_model_version(model.id, 2))
    assert not check.passed
    created = metadata.create_approval_request(
        ApprovalRequestCreate(
            model_id=model.id,
            version=2,
            alias="champion",
            gate_results=[r.to_dict() for r in check.results],
            gates_passed=False,
            required_approvals=check.required_approvals,
        ),
        actor="ada",
    )
    return created.id


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    config = ServerConfig(
        store_url=f"sqlite:///{tmp_path / 'loopml.db'}", artifacts_url=str(tmp_path / "artifacts")
    )
    context = ServerContext.open(config)
    admin = context.auth.bootstrap_admin()
    assert admin is not None
    request_id = _seed(context)
    tokens = {"admin": admin}
    for user in ("ada", "bob"):
        context.auth.create_user(user)
        tokens[user] = context.auth.create_token(user, "editor", "reg")[1]
    context.auth.create_user("cy")
    tokens["cy"] = context.auth.create_token("cy", "admin", "reg")[1]
    try:
        yield Store(config, context, tokens, request_id)
    finally:
        context.close()


@contextlib.contextmanager
def _client(store: Store, user: str) -> Iterator[TestClient]:
    """A TestClient with ``user``'s UI session, opened through a one-time link."""
    app = create_app(store.config, context=store.context)
    with TestClient(app, base_url="http://127.0.0.1", headers={"Accept": "text/html"}) as client:
        code = store.context.logins.issue(store.tokens[user])
        client.get(f"/login/once?code={code}")
        assert "loopml_csrf" in client.cookies
        yield client


def _override(client: TestClient, store: Store, reason: str, *, csrf: bool = True) -> Any:
    data = {"reason": reason}
    if csrf:
        data["csrf_token"] = client.cookies["loopml_csrf"]
    return client.post(
        f"/p/reg/approvals/{store.request_id}/override", data=data, follow_redirects=False
    )


def test_an_admin_overrides_with_a_reason_and_the_alias_moves(store: Store) -> None:
    with _client(store, "admin") as client:
        page = client.get("/p/reg/approvals")
        assert f'action="/p/reg/approvals/{store.request_id}/override"' in page.text
        assert "recorded in the audit log" in page.text
        response = _override(client, store, REASON)
        assert response.status_code == 303
        location = response.headers["location"]
        assert location == f"/p/reg/approvals?done={store.request_id}#request-{store.request_id}"
        after = client.get(location)
    request = store.request()
    assert request.status.value == "overridden"
    assert request.override_justification == REASON
    assert store.champion() == 2
    assert "Overridden: churn version 2 is now champion." in after.text
    assert "&lt;b&gt;outage&lt;/b&gt;" in after.text
    assert "<b>outage</b>" not in after.text
    assert f'/approvals/{store.request_id}/override"' not in after.text  # decided: no form
    events = store.context.metadata.list_audit_events(entity_name="churn")
    override = next(e for e in events if e.action == "approval.override")
    assert override.actor == "admin"


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_a_blank_reason_is_refused_and_nothing_changes(store: Store, reason: str) -> None:
    n_events = store.n_events()
    with _client(store, "admin") as client:
        response = _override(client, store, reason)
    assert response.status_code == 400
    assert "Your override was not recorded: reason: an override needs a written reason" in (
        response.text
    )
    assert f'id="request-{store.request_id}-error"' in response.text
    assert store.request().status.value == "open"
    assert store.champion() == 1
    assert store.n_events() == n_events


def test_a_too_short_reason_is_refused_naming_the_reason(store: Store) -> None:
    with _client(store, "admin") as client:
        response = _override(client, store, "because")
    assert response.status_code == 400
    assert "reason: an override needs a written reason (10 characters or more)" in response.text
    assert "justification" not in response.text
    assert store.request().status.value == "open"


def test_a_decided_request_cannot_be_overridden(store: Store) -> None:
    store.context.metadata.override_approval_request(store.request_id, REASON, actor="admin")
    with _client(store, "admin") as client:
        response = _override(client, store, "A second override, which must not happen.")
    assert response.status_code == 409
    assert "is already overridden" in response.text
    assert store.request().override_justification == REASON


def test_an_editor_sees_no_override_form_and_its_post_is_refused(store: Store) -> None:
    n_events = store.n_events()
    with _client(store, "bob") as client:
        page = client.get("/p/reg/approvals")
        assert page.status_code == 200
        assert 'form class="decide"' in page.text  # bob may still approve or reject
        assert "/override" not in page.text
        assert "Admin override" not in page.text
        response = _override(client, store, REASON)
    assert response.status_code == 403
    assert "only an admin of the project may override" in response.text
    assert store.request().status.value == "open"
    assert store.champion() == 1
    assert store.n_events() == n_events


def test_a_project_admin_who_is_not_a_server_admin_overrides(store: Store) -> None:
    with _client(store, "cy") as client:
        page = client.get("/p/reg/approvals")
        assert f'action="/p/reg/approvals/{store.request_id}/override"' in page.text
        response = _override(client, store, REASON)
    assert response.status_code == 303
    assert store.request().status.value == "overridden"
    assert store.champion() == 2
    assert store.context.metadata.list_audit_events()[-1].actor == "cy"


def test_an_override_without_the_csrf_token_is_refused(store: Store) -> None:
    with _client(store, "admin") as client:
        response = _override(client, store, REASON, csrf=False)
    assert response.status_code == 403
    assert "CSRF" in response.text
    assert store.request().status.value == "open"
    assert store.champion() == 1


@contextlib.contextmanager
def _serving(store: Store) -> Iterator[str]:
    """Serve the app over the store on a free port of 127.0.0.1; yield its URL."""
    with serving(create_app(store.config, context=store.context)) as url:
        yield url


@pytest.mark.slow
def test_an_admin_overrides_in_the_browser(anonymous: Watched, store: Store) -> None:
    from playwright.sync_api import expect

    with _serving(store) as url:
        page = anonymous.page
        page.goto(f"{url}/login/once?code={store.context.logins.issue(store.tokens['admin'])}")
        page.goto(f"{url}/p/reg/approvals")
        card = page.locator(f"#request-{store.request_id}")
        expect(card.locator(".approval-status")).to_have_text("open")
        expect(card.locator(".gates-table caption")).to_contain_text("failed")
        form = card.locator("form.override-form")
        expect(form).to_contain_text("recorded in the audit log")
        form.get_by_label("Override reason").fill(REASON)
        screenshot(page, "approvals-override")
        form.get_by_role("button", name="Override").click()
        expect(page.locator("#outcome")).to_have_text(
            re.compile(r"Overridden: churn version 2 is now champion\.")
        )
        decided = page.locator(f"#decided-requests #request-{store.request_id}")
        expect(decided.locator(".approval-status")).to_have_text("overridden")
        expect(decided.locator(".override")).to_contain_text(REASON)
        expect(page.locator("form.override-form")).to_have_count(0)
    assert store.request().status.value == "overridden"
    assert anonymous.dialogs == []
    assert anonymous.errors == []
