from __future__ import annotations

import pytest

from loopml.core.errors import FilterSyntaxError
from loopml.core.filters import And, Compare, Field, Not, Or, OrderBy, parse_filter, parse_order_by


def test_three_clause_filter_parses_into_and_of_comparisons() -> None:
    expr = parse_filter("metrics.accuracy > 0.9 and params.model = 'rf' and tags.team = 'a'")
    assert expr == And(
        (
            Compare(Field("metrics", "accuracy"), ">", 0.9),
            Compare(Field("params", "model"), "=", "rf"),
            Compare(Field("tags", "team"), "=", "a"),
        )
    )


def test_or_binds_weaker_than_and_and_parentheses_group() -> None:
    expr = parse_filter("metrics.a > 1 or metrics.b > 2 and metrics.c > 3")
    assert isinstance(expr, Or)
    assert isinstance(expr.items[1], And)
    grouped = parse_filter("(metrics.a > 1 or metrics.b > 2) and metrics.c > 3")
    assert isinstance(grouped, And)
    assert isinstance(grouped.items[0], Or)


def test_not_in_is_null_and_keywords_are_case_insensitive() -> None:
    expr = parse_filter("NOT tags.x IN ('a', 'b') AND params.y IS NOT NULL AND tags.z not in ('q')")
    assert isinstance(expr, And)
    assert expr.items[0] == Not(Compare(Field("tags", "x"), "in", ("a", "b")))
    assert expr.items[1] == Compare(Field("params", "y"), "is_not", None)
    assert expr.items[2] == Compare(Field("tags", "z"), "not_in", ("q",))


def test_backquoted_keys_may_hold_spaces_and_dotted_keys_keep_their_dots() -> None:
    assert parse_filter("metrics.`val loss` < 0.3") == Compare(
        Field("metrics", "val loss"), "<", 0.3
    )
    assert parse_filter("metrics.val.loss < 1") == Compare(Field("metrics", "val.loss"), "<", 1)


def test_attributes_accept_bare_names_aliases_and_normalise_status() -> None:
    assert parse_filter("status = 'FINISHED'") == Compare(
        Field("attributes", "status"), "=", "finished"
    )
    assert parse_filter("attributes.run_name = 'x'") == Compare(
        Field("attributes", "name"), "=", "x"
    )


def test_time_attributes_accept_iso_dates_as_milliseconds() -> None:
    expr = parse_filter("start_time >= '2024-01-01T00:00:00+00:00'")
    assert expr == Compare(Field("attributes", "start_time"), ">=", 1704067200000)


def test_quotes_inside_strings_are_escaped_not_closing() -> None:
    assert parse_filter("params.s = 'it\\'s'") == Compare(Field("params", "s"), "=", "it's")


def test_empty_filter_means_no_filter() -> None:
    assert parse_filter("") is None
    assert parse_filter("   ") is None
    assert parse_filter(None) is None


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("metrics.acc >", 14, "ends too early"),
        ("metrics.acc > > 3", 15, "unexpected '>'"),
        ("foo = 1", 1, "unknown attribute 'foo'"),
        ("metrics.acc = 'high'", 15, "numbers only"),
        ("status = 'done'", 10, "status must be one of"),
        ("metrics.acc # 3", 13, "unexpected character '#'"),
        ("tags.team < 'b'", 13, "tags support"),
        ("params.p = 1; DROP TABLE runs", 13, "unexpected character ';'"),
        ("colour.red = 1", 1, "unknown field"),
    ],
)
def test_malformed_filters_point_at_the_column(text: str, column: int, words: str) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse_filter(text)
    assert words in str(caught.value)
    assert f"column {column}" in str(caught.value)
    assert caught.value.position == column - 1
    assert caught.value.field == "filter"


def test_order_by_clauses_parse_direction() -> None:
    assert parse_order_by(["metrics.acc desc", "start_time", "params.lr ASC"]) == (
        OrderBy(Field("metrics", "acc"), True),
        OrderBy(Field("attributes", "start_time"), False),
        OrderBy(Field("params", "lr"), False),
    )
    assert parse_order_by("name") == (OrderBy(Field("attributes", "name"), False),)


def test_order_by_refuses_non_fields() -> None:
    with pytest.raises(FilterSyntaxError):
        parse_order_by(["metrics.acc sideways"])
