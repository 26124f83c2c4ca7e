"""The compare page's metric charts: lines for a metric with a history, bars for one value."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from .conftest import XSS_NAME, UiServer, Watched, screenshot

pytestmark = pytest.mark.slow

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c"]


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _figure(page: Any, key: str) -> Any:
    """The chart figure of metric ``key``, once drawn."""
    caption = page.locator("figcaption", has_text=re.compile(rf"^{re.escape(key)}\b"))
    figure = page.locator("figure.chart", has=caption)
    _expect()(figure).to_have_attribute("data-state", "drawn")
    return figure


def _compare(page: Any, ui_server: UiServer, run_ids: list[str]) -> None:
    page.goto(f"{ui_server.url}/p/demo/compare?runs={','.join(run_ids)}")
    page.wait_for_selector("#parallel-chart[data-state=drawn]")


@pytest.fixture(scope="module")
def odd_runs(ui_server: UiServer) -> dict[str, str]:
    """Two runs whose single values are not all finite, in the ``big`` experiment.

    Not in ``churn``, whose run count and columns other tests check. Each logs ``accuracy``
    (NaN, +Inf) and ``delta`` (negative, positive) once, at step 0, and no ``loss``.
    """
    tracking = ui_server.context.tracking_for(
        ui_server.context.metadata.get_project_by_name("demo")
    )
    runs: dict[str, str] = {}
    for name, accuracy, delta in (("bars-nan", math.nan, -0.25), ("bars-inf", math.inf, 0.5)):
        run = tracking.start_run("big", name=name, capture_env=False)
        tracking.log_batch(
            run.id,
            [
                tracking.make_metric("accuracy", accuracy, 0),
                tracking.make_metric("delta", delta, 0),
            ],
        )
        tracking.end_run(run.id)
        runs[name] = run.id
    return runs


def test_a_metric_logged_once_per_run_is_a_bar_chart(
    logged_in: Watched, ui_server: UiServer
) -> None:
    page = logged_in.page
    names = ["rf-small", "gb-fast", "logreg"]
    ids = [ui_server.runs[name] for name in names]
    _compare(page, ui_server, ids)

    accuracy = _figure(page, "accuracy")
    _expect()(accuracy).to_have_attribute("data-kind", "bars")
    bars = accuracy.locator("svg rect[data-run]")
    _expect()(bars).to_have_count(3)
    assert [bar.get_attribute("data-run") for bar in bars.all()] == ids  # the page's order
    assert [bar.get_attribute("fill") for bar in bars.all()] == PALETTE
    _expect()(accuracy.locator("svg .bar-name")).to_have_text(names)
    _expect()(accuracy.locator("svg .bar-value")).to_have_text(["0.7", "0.78", "0.82"])
    _expect()(accuracy.locator("canvas")).to_have_count(0)
    _expect()(accuracy.locator(".chart-note")).to_have_text("(one value per run, at step 119)")
    canvas = accuracy.locator(".chart-canvas")
    _expect()(canvas).to_have_attribute("role", "img")
    _expect()(canvas).to_have_attribute(
        "aria-label",
        "Bar chart of metric accuracy, one value per run: rf-small 0.7; gb-fast 0.78; logreg 0.82",
    )
    _expect()(canvas).to_have_attribute("tabindex", "0")
    # Longer bars for larger values, all from the same zero line.
    boxes = [bar.bounding_box() for bar in bars.all()]
    assert len({round(box["x"]) for box in boxes}) == 1
    assert boxes[0]["width"] < boxes[1]["width"] < boxes[2]["width"]

    loss = _figure(page, "loss")
    _expect()(loss).to_have_attribute("data-kind", "lines")
    _expect()(loss.locator("canvas")).to_have_count(1)
    _expect()(loss.locator("svg rect[data-run]")).to_have_count(0)

    # The table and the parallel coordinates are still there.
    _expect()(page.locator("#metric-diff tbody tr")).to_have_count(2)
    _expect()(page.locator("#parallel-chart svg path.run")).to_have_count(3)
    screenshot(page, "compare-bars")
    # A narrower window redraws the bars to its width.
    before = accuracy.locator("svg").get_attribute("width")
    page.set_viewport_size({"width": 800, "height": 768})
    _expect()(accuracy.locator("svg")).not_to_have_attribute("width", before or "")
    _expect()(bars).to_have_count(3)
    assert logged_in.dialogs == []
    assert logged_in.errors == []


def test_bars_label_nan_infinity_and_a_missing_metric_as_text(
    logged_in: Watched, ui_server: UiServer, odd_runs: dict[str, str]
) -> None:
    page = logged_in.page
    ids = [ui_server.runs[XSS_NAME], odd_runs["bars-nan"], odd_runs["bars-inf"]]
    _compare(page, ui_server, ids)

    accuracy = _figure(page, "accuracy")
    _expect()(accuracy).to_have_attribute("data-kind", "bars")
    _expect()(accuracy.locator("svg rect[data-run]")).to_have_count(1)
    _expect()(accuracy.locator("svg rect[data-run]")).to_have_attribute("data-run", ids[0])
    _expect()(accuracy.locator("svg .bar-value")).to_have_text(["0.86", "NaN", "+Inf"])
    _expect()(accuracy.locator(".chart-note")).to_have_text("(one value per run)")
    label = accuracy.locator(".chart-canvas").get_attribute("aria-label") or ""
    assert "bars-nan NaN (not a number)" in label
    assert "bars-inf infinity" in label
    # A name like markup is text, in the chart and in its label.
    # (shortened to fit in the chart, whole in the row's tooltip).
    _expect()(accuracy.locator("svg .bar-name").first).to_have_text(re.compile(r"^<img src=x"))
    _expect()(accuracy.locator("svg .bar-row > title").first).to_have_text(f"{XSS_NAME}: 0.86")
    assert XSS_NAME in label
    assert page.locator("img[src=x]").count() == 0

    delta = _figure(page, "delta")
    _expect()(delta).to_have_attribute("data-kind", "bars")
    bars = delta.locator("svg rect[data-run]")
    _expect()(bars).to_have_count(2)
    _expect()(delta.locator("svg .bar-value")).to_have_text(["not logged", "-0.25", "0.5"])
    negative, positive = (bar.bounding_box() for bar in bars.all())
    assert negative["x"] + negative["width"] == pytest.approx(positive["x"], abs=1)

    # Only the XSS-named run has a loss history: still a line chart, and the runs without
    # it are not fetched (a 404 would be a console error).
    loss = _figure(page, "loss")
    _expect()(loss).to_have_attribute("data-kind", "lines")
    _expect()(loss.locator("canvas")).to_have_count(1)
    screenshot(page, "compare-bars-nonfinite")
    assert logged_in.dialogs == []
    assert logged_in.errors == []
