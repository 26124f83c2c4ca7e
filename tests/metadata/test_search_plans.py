"""What the search compiler does for speed must not change what a search returns.

On PostgreSQL text equality goes through the ``left(value, 200)`` index (migration 0004),
and an ordering on a key that the filter already compares drops ``NULLS LAST`` so an
index gives the order. Both are checked here against SQLite and PostgreSQL, with values
around the prefix length and missing or NaN values where ``NULLS LAST`` would matter.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from loopml.core.entities import Metric
from loopml.core.filters import parse_filter, parse_order_by
from loopml.metadata.base import RunCreate
from loopml.metadata.sql import SqlMetadataStore
from loopml.metadata.sql.search import INDEXED_PREFIX

T0 = datetime(2024, 5, 1, tzinfo=UTC)
PREFIX = "x" * INDEXED_PREFIX
# name -> (tag value, param value, accuracy or None for missing)
RUNS = {
    "short": ("a", "rf", 0.5),
    "exact": (PREFIX, PREFIX, 0.9),
    "longer": (PREFIX + "1", PREFIX + "1", 0.7),
    "longest": (PREFIX + "12", PREFIX + "12", math.nan),
    "shorter": (PREFIX[:-1], PREFIX[:-1], None),
}


@pytest.fixture
def experiment_id(store: SqlMetadataStore) -> str:
    project = store.ensure_project("plans")
    experiment = store.ensure_experiment(project.id, "plans")
    for index, (name, (tag, param, accuracy)) in enumerate(RUNS.items()):
        run = store.create_run(
            RunCreate(experiment.id, name, T0 + timedelta(seconds=index), tags={"t": tag})
        )
        metrics = [] if accuracy is None else [Metric("acc", accuracy, 0, 0)]
        store.log_batch(run.id, metrics, params={"p": param})
    return experiment.id


def _names(store: SqlMetadataStore, experiment_id: str, text: str, order: str = "") -> list[str]:
    page = store.search_runs(
        [experiment_id], parse_filter(text), parse_order_by([order] if order else [])
    )
    return [run.name for run in page.runs]


@pytest.mark.parametrize("kind", ["tags.t", "params.p"])
@pytest.mark.parametrize("name", list(RUNS))
def test_equality_matches_exactly_whatever_the_length(
    store: SqlMetadataStore, experiment_id: str, kind: str, name: str
) -> None:
    value = RUNS[name][0 if kind == "tags.t" else 1]
    assert _names(store, experiment_id, f"{kind} = '{value}'") == [name]


@pytest.mark.parametrize("kind", ["tags.t", "params.p"])
def test_in_and_not_in_mix_short_and_long_values(
    store: SqlMetadataStore, experiment_id: str, kind: str
) -> None:
    column = 0 if kind == "tags.t" else 1
    values = ", ".join(f"'{RUNS[name][column]}'" for name in ("short", "longer", "shorter"))
    assert sorted(_names(store, experiment_id, f"{kind} in ({values})")) == [
        "longer",
        "short",
        "shorter",
    ]
    assert sorted(_names(store, experiment_id, f"{kind} not in ({values})")) == [
        "exact",
        "longest",
    ]


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_ordering_on_a_filtered_metric_keeps_its_order(
    store: SqlMetadataStore, experiment_id: str, direction: str
) -> None:
    names = _names(store, experiment_id, "metrics.acc > 0.1", f"metrics.acc {direction}")
    expected = ["short", "longer", "exact"]
    assert names == (expected if direction == "asc" else expected[::-1])


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_ordering_on_an_unfiltered_metric_puts_missing_and_nan_last(
    store: SqlMetadataStore, experiment_id: str, direction: str
) -> None:
    names = _names(store, experiment_id, "tags.t != 'none'", f"metrics.acc {direction}")
    ranked = ["short", "longer", "exact"] if direction == "asc" else ["exact", "longer", "short"]
    assert names[:3] == ranked
    assert sorted(names[3:]) == ["longest", "shorter"]


def test_postgres_text_equality_uses_the_value_index(
    store: SqlMetadataStore, experiment_id: str
) -> None:
    if store._db.dialect != "postgresql":
        pytest.skip("the value index is PostgreSQL's (SQLite indexes the whole value)")
    statements: list[str] = []
    sa.event.listen(
        store._db.engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: statements.append(statement),
    )
    assert _names(store, experiment_id, "tags.t = 'a'") == ["short"]
    assert any(f"left(tags_1.value, {INDEXED_PREFIX})" in s for s in statements)
