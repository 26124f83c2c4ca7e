"""``loopml users`` and ``loopml tokens`` as an operator runs them: a process per command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loopml.auth import AuthService
from loopml.core.auth import ApiToken, Role
from loopml.core.errors import AuthenticationError
from loopml.metadata.sql import SqlMetadataStore
from loopml.testing.cli import run_loopml as loopml_cli


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder whose store holds the project ``churn`` and the user ``ana``.

    Set up in-process: each ``python -m loopml`` costs seconds, so only the commands under
    test run as processes.
    """
    (tmp_path / ".loopml").mkdir()
    store, auth = _auth(tmp_path)
    with store:
        store.ensure_project("churn")
        auth.create_user("ana")
    return tmp_path


def _auth(project: Path) -> tuple[SqlMetadataStore, AuthService]:
    store = SqlMetadataStore(f"sqlite:///{project}/.loopml/loopml.db")
    return store, AuthService(store, store)


def _tokens(project: Path) -> list[ApiToken]:
    store, auth = _auth(project)
    with store:
        return auth.list_tokens()


def test_users_create_list_and_disable(project: Path) -> None:
    done = loopml_cli(project, "users", "create", "root", "--admin")
    assert done.returncode == 0, done.stderr
    assert "server admin" in done.stdout
    done = loopml_cli(project, "users", "disable", "ana")
    assert done.returncode == 0, done.stderr
    listed = json.loads(loopml_cli(project, "users", "list", "--json").stdout)
    assert [(u["name"], u["is_admin"], u["disabled"]) for u in listed] == [
        ("ana", False, True),
        ("root", True, False),
    ]
    table = loopml_cli(project, "users", "list")
    assert "ana" in table.stdout
    assert "disabled" in table.stdout


def test_users_create_refuses_a_taken_or_bad_name(project: Path) -> None:
    done = loopml_cli(project, "users", "create", "ana")
    assert done.returncode == 2
    assert done.stderr.startswith("error: user 'ana' already exists")
    done = loopml_cli(project, "users", "create", "Ana Smith")
    assert done.returncode == 2
    assert done.stderr.startswith("error: user.name 'Ana Smith'")
    assert "Traceback" not in done.stderr


def test_tokens_create_prints_a_working_token_once_with_a_warning(project: Path) -> None:
    done = loopml_cli(
        project, "tokens", "create", "--user", "ana", "--role", "editor", "--project", "churn",
        "--expires", "30d", "--name", "laptop",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    raw = next(line for line in done.stdout.splitlines() if line.startswith("lml_"))
    assert "only time" in done.stderr
    store, auth = _auth(project)
    with store:
        principal = auth.authenticate(raw)
        churn = store.get_project_by_name("churn").id
        assert principal.user.name == "ana"
        assert dict(principal.roles) == {churn: Role.EDITOR}


def test_tokens_create_json_carries_the_token_and_list_json_never_does(project: Path) -> None:
    created = loopml_cli(
        project, "tokens", "create", "--user", "ana", "--role", "viewer", "--project", "churn",
        "--json",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    record = json.loads(created.stdout)
    raw, secret = record["token"], record["token"][-43:]
    assert (record["user"], record["role"], record["project"]) == ("ana", "viewer", "churn")
    as_json = loopml_cli(project, "tokens", "list", "--user", "ana", "--project", "churn", "--json")
    as_table = loopml_cli(project, "tokens", "list")
    for listing in (as_json, as_table):
        assert listing.returncode == 0, listing.stderr
        assert secret not in listing.stdout
        assert raw not in listing.stdout
        assert "hash" not in listing.stdout
    (listed,) = json.loads(as_json.stdout)
    assert listed["id"] == record["id"]
    assert "token" not in listed
    assert record["id"] in as_table.stdout


def test_tokens_revoke_stops_the_token(project: Path) -> None:
    store, auth = _auth(project)
    with store:
        token, raw = auth.create_token("ana", "viewer", "churn")
    done = loopml_cli(project, "tokens", "revoke", token.id)
    assert done.returncode == 0, done.stderr
    store, auth = _auth(project)
    with store, pytest.raises(AuthenticationError, match="revoked"):
        auth.authenticate(raw)
    assert "revoked" in loopml_cli(project, "tokens", "list").stdout


def test_an_admin_token_for_every_project(project: Path) -> None:
    store, auth = _auth(project)
    with store:
        auth.create_user("root", is_admin=True)
    done = loopml_cli(
        project, "tokens", "create", "--user", "root", "--role", "admin", "--all-projects",
        "--expires", "never", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert (record["project"], record["expires_at"]) == (None, None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "boss", "--project", "churn"], "error: role 'boss'"),
        (["--role", "viewer", "--project", "churn", "--expires", "3x"], "error: expires '3x'"),
        (["--role", "viewer", "--project", "nope"], "error: project 'nope' not found"),
        (["--role", "viewer"], "error: --project"),
        (["--role", "admin", "--all-projects"], "error: project: a token for every project"),
    ],
)
def test_tokens_create_refuses_bad_input_with_one_line_naming_the_field(
    project: Path, args: list[str], message: str
) -> None:
    done = loopml_cli(project, "tokens", "create", "--user", "ana", *args)
    assert done.returncode == 2
    assert done.stderr.startswith(message)
    assert len(done.stderr.strip().splitlines()) == 1
    assert "lml_" not in done.stdout
    assert _tokens(project) == []


def test_unknown_user_or_token_is_exit_2(project: Path) -> None:
    done = loopml_cli(project, "tokens", "create", "--user", "bob", "--role", "viewer",
                      "--project", "churn")  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("error: user 'bob' not found")
    done = loopml_cli(project, "tokens", "revoke", "0" * 32)
    assert done.returncode == 2
    assert done.stderr.startswith("error: token")
    done = loopml_cli(project, "tokens", "revoke", "not-an-id")
    assert done.returncode == 2
    assert done.stderr.startswith("error: token_id")
    done = loopml_cli(project, "users", "disable", "bob")
    assert done.returncode == 2
    assert done.stderr.startswith("error: user 'bob' not found")


def test_with_a_server_url_but_no_store_url_it_refuses_to_use_a_local_store(
    project: Path,
) -> None:
    done = loopml_cli(project, "tokens", "list", env={"LOOPML_SERVER_URL": "http://127.0.0.1:9"})
    assert done.returncode == 2
    assert done.stderr.startswith("error: store_url: users and tokens are managed on the server")
