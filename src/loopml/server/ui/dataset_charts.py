"""Bar charts of the dataset pages, laid out on the server and drawn as inline SVG.

A profile is already binned (histogram counts, top-k frequencies), so its charts need no
client-side library: this module computes each bar's geometry and the template
``datasets_charts.html`` writes the SVG (autoescaped, no script, no inline style, so the
Content-Security-Policy is satisfied and the charts draw without JavaScript). Every bar
carries a ``<title>`` (the browser's tooltip) with its exact value.

Two shapes:

* :func:`histogram_chart`: vertical bars side by side over a numeric range;
* :func:`bar_rows_chart`: one labelled horizontal bar per item (categories, null rates,
  drift scores), optionally with a threshold mark per row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Bar", "BarRow", "Chart", "Mark", "Text", "bar_rows_chart", "histogram_chart"]

HISTOGRAM_WIDTH = 400
HISTOGRAM_HEIGHT = 170
ROWS_WIDTH = 480
WIDE_ROWS_WIDTH = 720
ROW_HEIGHT = 22
LABEL_CHARS = 22
_LEFT = 44  # room for the count axis of a histogram
_BOTTOM = 20  # room for the range labels under a histogram
_TOP = 8
_LABEL_WIDTH = 170  # room for the row labels of a bar-rows chart
_VALUE_WIDTH = 96  # room for the value written after the longest bar


@dataclass(frozen=True, slots=True)
class Bar:
    """One rectangle, its tooltip and an optional extra CSS class."""

    x: float
    y: float
    width: float
    height: float
    title: str
    css: str = ""


@dataclass(frozen=True, slots=True)
class Text:
    """One text label; ``anchor`` is SVG's ``text-anchor`` (start, middle, end)."""

    x: float
    y: float
    text: str
    anchor: str = "start"
    css: str = ""


@dataclass(frozen=True, slots=True)
class Mark:
    """A short vertical line, e.g. a drift threshold on its row."""

    x: float
    y1: float
    y2: float
    title: str


@dataclass(frozen=True, slots=True)
class Chart:
    """Everything the template needs to draw one chart."""

    css: str
    width: int
    height: int
    label: str
    bars: tuple[Bar, ...]
    texts: tuple[Text, ...]
    marks: tuple[Mark, ...] = ()
    lines: tuple[tuple[float, float, float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class BarRow:
    """One row of a bar-rows chart: its label, value, the text shown after the bar, and
    an optional threshold and extra CSS class."""

    label: str
    value: float
    text: str
    threshold: float | None = None
    css: str = ""


def short_number(value: float) -> str:
    """A compact label for an axis: at most about six characters.

    >>> [short_number(v) for v in (0.5, 12.0, 1234.5678, 101279.0, 1e7, -0.000123, 2e15)]
    ['0.5', '12', '1234.6', '101.3k', '10M', '-0.000123', '2e+15']
    """
    if not math.isfinite(value):
        return str(value)
    size = abs(value)
    for limit, suffix in ((1e12, ""), (1e9, "G"), (1e6, "M"), (1e4, "k")):
        if size >= limit:
            if not suffix:
                return f"{value:.3g}"
            return f"{value / (limit if suffix != 'k' else 1e3):.4g}{suffix}"
    if value == int(value):
        return str(int(value))
    text = f"{value:.5g}"
    return text if "e" in text or size < 1 else f"{value:.1f}"


def shorten(text: str, limit: int = LABEL_CHARS) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis; the tooltip has it whole.

    >>> shorten("a rather long category value", 10)
    'a rather …'
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


def histogram_chart(
    edges: Sequence[float], counts: Sequence[int], *, label: str, unit: str = "rows"
) -> Chart:
    """Vertical bars, one per bin, over the range from the first edge to the last.

    >>> chart = histogram_chart([0.0, 1.0, 2.0], [3, 1], label="x")
    >>> [(round(b.height), b.title) for b in chart.bars]
    [(142, '[0, 1): 3 rows'), (47, '[1, 2]: 1 rows')]
    """
    plot_w = HISTOGRAM_WIDTH - _LEFT - 4
    plot_h = HISTOGRAM_HEIGHT - _TOP - _BOTTOM
    top = max(counts, default=0) or 1
    width = plot_w / max(len(counts), 1)
    gap = 1.0 if width > 3 else 0.0
    bars = []
    for i, count in enumerate(counts):
        height = plot_h * count / top
        close = "]" if i == len(counts) - 1 else ")"
        bars.append(
            Bar(
                x=_LEFT + i * width,
                y=_TOP + plot_h - height,
                width=max(width - gap, 0.5),
                height=height,
                title=(
                    f"[{short_number(edges[i])}, {short_number(edges[i + 1])}{close}: "
                    f"{count} {unit}"
                ),
            )
        )
    base = _TOP + plot_h
    low, high = (short_number(edges[0]), short_number(edges[-1])) if edges else ("", "")
    texts = (
        Text(_LEFT - 6, _TOP + 4, str(top), "end", "axis"),
        Text(_LEFT - 6, base, "0", "end", "axis"),
        Text(_LEFT, base + 12, low, "start", "axis"),
        Text(HISTOGRAM_WIDTH - 4, base + 12, high, "end", "axis"),
    )
    axis = ((_LEFT, base, HISTOGRAM_WIDTH - 4, base), (_LEFT, _TOP, _LEFT, base))
    return Chart(
        "histogram", HISTOGRAM_WIDTH, HISTOGRAM_HEIGHT, label, tuple(bars), texts, lines=axis
    )


def bar_rows_chart(
    rows: Sequence[BarRow],
    *,
    label: str,
    scale_max: float | None = None,
    width: int = ROWS_WIDTH,
) -> Chart:
    """One horizontal bar per row, labelled on the left, its text written after it.

    The bars share one scale, from 0 to ``scale_max`` (by default the largest value or
    threshold), so a threshold mark on each row lines up with its bar.

    >>> chart = bar_rows_chart([BarRow("a", 2, "2"), BarRow("b", 1, "1")], label="x")
    >>> [round(b.width) for b in chart.bars], chart.height
    ([214, 107], 60)
    """
    plot_w = width - _LABEL_WIDTH - _VALUE_WIDTH
    scaled = [_finite(r.value) for r in rows] + [_finite(r.threshold) for r in rows]
    largest = max(scaled, default=0.0)
    top = scale_max if scale_max is not None else largest
    top = top if top > 0 else 1.0
    bars, texts, marks = [], [], []
    for i, row in enumerate(rows):
        y = _TOP + i * ROW_HEIGHT
        middle = y + ROW_HEIGHT / 2
        value = top if row.value == math.inf else _finite(row.value)
        length = plot_w * min(max(value, 0.0), top) / top
        title = f"{row.label}: {row.text}"
        bars.append(Bar(_LABEL_WIDTH, y + 3, length, ROW_HEIGHT - 6, title, row.css))
        texts.append(Text(_LABEL_WIDTH - 6, middle, shorten(row.label), "end", "name"))
        end = _LABEL_WIDTH + length
        if row.threshold is not None and math.isfinite(row.threshold):
            x = _LABEL_WIDTH + plot_w * min(row.threshold, top) / top
            marks.append(Mark(x, y + 1, y + ROW_HEIGHT - 1, f"threshold {row.threshold:.4g}"))
            end = max(end, x + 1)  # the value is written clear of the threshold tick
        texts.append(Text(end + 4, middle, row.text, "start", "value"))
    height = 2 * _TOP + ROW_HEIGHT * len(rows)
    baseline = ((_LABEL_WIDTH, _TOP, _LABEL_WIDTH, _TOP + ROW_HEIGHT * len(rows)),)
    return Chart(
        "bar-rows", width, height, label, tuple(bars), tuple(texts), tuple(marks), baseline
    )


def _finite(value: float | None) -> float:
    """``value`` where it is a finite number, else 0 (so it cannot stretch a scale)."""
    return value if value is not None and math.isfinite(value) else 0.0
