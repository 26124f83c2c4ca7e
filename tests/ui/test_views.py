"""The UI's pages over plain HTTP: who may see what, and what is never served inline."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from .conftest import XSS_NAME, UiServer


@pytest.fixture
def browser_like(ui_server: UiServer) -> Iterator[httpx.Client]:
    """An HTTP client with a UI session, opened through a one-time link."""
    with httpx.Client(base_url=ui_server.url, headers={"Accept": "text/html"}) as client:
        client.get(ui_server.login_link(), follow_redirects=True)
        yield client


@pytest.mark.parametrize(
    "path", ["/", "/projects", "/p/demo", "/p/demo/e/churn", "/p/demo/compare?runs=a,b"]
)
def test_pages_send_a_browser_without_a_session_to_the_login_page(
    ui_server: UiServer, path: str
) -> None:
    with httpx.Client(base_url=ui_server.url, headers={"Accept": "text/html"}) as client:
        response = client.get(path)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].startswith("/login?next=")


def test_a_token_for_another_project_sees_no_trace_of_this_one(ui_server: UiServer) -> None:
    auth = ui_server.context.auth
    other = ui_server.context.metadata.ensure_project("other")
    try:
        auth.create_user("viewer-of-other")
        _, raw = auth.create_token("viewer-of-other", "viewer", other.name)
        code = ui_server.context.logins.issue(raw)
        with httpx.Client(base_url=ui_server.url, headers={"Accept": "text/html"}) as client:
            client.get(f"/login/once?code={code}", follow_redirects=True)
            listing = client.get("/projects")
            assert listing.status_code == 200
            assert "/p/other" in listing.text
            assert "/p/demo" not in listing.text
            run_id = ui_server.runs["rf-small"]
            for path in ("/p/demo", "/p/demo/e/churn", f"/p/demo/r/{run_id}"):
                assert client.get(path).status_code == 404
            assert client.get(f"/p/other/r/{run_id}").status_code == 404
    finally:
        # The shared server serves one project to the other UI tests (login lands there).
        database = ui_server.context.metadata._db  # type: ignore[attr-defined]
        database.write(
            lambda c: c.execute(sa.text("DELETE FROM projects WHERE id = :id"), {"id": other.id})
        )


@pytest.mark.parametrize(
    "path",
    ["../../../etc/passwd", "/etc/passwd", "eval/../page.html", "..%2f..%2fx", "C:\\x", "a\x00b"],
)
def test_artifact_paths_outside_the_run_are_refused(
    browser_like: httpx.Client, ui_server: UiServer, path: str
) -> None:
    run_id = ui_server.runs["rf-small"]
    for view in ("preview", "file"):
        response = browser_like.get(f"/p/demo/r/{run_id}/artifacts/{view}", params={"path": path})
        assert response.status_code in (400, 404, 422)
        assert b"root:" not in response.content


@pytest.mark.parametrize(
    ("name", "disposition", "content_type"),
    [
        ("confusion.png", "inline", "image/png"),
        ("page.html", "attachment", "application/octet-stream"),
        ("plot.svg", "attachment", "application/octet-stream"),
        ("eval/report.json", "attachment", "application/octet-stream"),
    ],
)
def test_only_images_are_served_inline(
    browser_like: httpx.Client, ui_server: UiServer, name: str, disposition: str, content_type: str
) -> None:
    run_id = ui_server.runs["rf-small"]
    response = browser_like.get(f"/p/demo/r/{run_id}/artifacts/file", params={"path": name})
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["content-disposition"].startswith(disposition + ";")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_previews_escape_what_the_files_hold(
    browser_like: httpx.Client, ui_server: UiServer
) -> None:
    run_id = ui_server.runs["rf-small"]
    csv = browser_like.get(
        f"/p/demo/r/{run_id}/artifacts/preview", params={"path": "eval/scores.csv"}
    )
    assert "<td>&lt;b&gt;gb&lt;/b&gt;</td>" in csv.text
    report = browser_like.get(
        f"/p/demo/r/{run_id}/artifacts/preview", params={"path": "eval/report.json"}
    )
    assert "&#34;note&#34;: &#34;&lt;script&gt;&#34;" in report.text  # pretty-printed
    assert "<script>" not in report.text.split("<main", 1)[1]


def test_chart_data_cannot_close_its_script_block(
    browser_like: httpx.Client, ui_server: UiServer
) -> None:
    page = browser_like.get(f"/p/demo/r/{ui_server.runs[XSS_NAME]}").text
    block = page.split('<script type="application/json" id="chart-data">', 1)[1]
    data = block.split("</script>", 1)[0]
    assert "<" not in data
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in data


@pytest.mark.parametrize("runs", ["", "a", ",".join(["0" * 31 + str(i) for i in range(11)])])
def test_compare_asks_for_two_to_ten_runs(browser_like: httpx.Client, runs: str) -> None:
    response = browser_like.get("/p/demo/compare", params={"runs": runs})
    assert response.status_code == 400
    assert "pick 2 to 10 runs" in response.text


def test_a_bad_sort_is_reported_not_raised(browser_like: httpx.Client) -> None:
    response = browser_like.get(
        "/p/demo/e/churn",
        params={"order_by": "nonsense.field DESC"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert 'role="alert"' in response.text
