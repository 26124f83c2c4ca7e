"""Drift between two column profiles, scored with the statistics of :mod:`loopml.stats.drift`.

A profile keeps no sample, so numeric columns are compared through the CDF that their
quantiles and histogram describe (:func:`profile_cdf`), and categorical and boolean
columns through their top-k frequencies (:func:`align_frequencies`).

Default method and threshold per kind (a score at or above the threshold is drift):

=====================  ===================================  =========
kind                   method                               threshold
=====================  ===================================  =========
numeric                ``psi`` over the reference's bins    0.2
numeric                ``wasserstein`` / reference std      0.1
numeric                ``ks`` (largest CDF gap)             0.1
categorical, boolean   ``jensen_shannon`` (base 2)          0.1
categorical, boolean   ``psi`` over the categories          0.2
categorical, boolean   ``chi_square``: drift if p < 0.05    0.05
=====================  ===================================  =========

Text, datetime and other columns have no distribution to compare.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from loopml.core.errors import ValidationError
from loopml.core.profiles import ColumnKind, ColumnProfile, Frequencies
from loopml.stats.drift import (
    cdf_bin_masses,
    cdf_ks_distance,
    cdf_wasserstein_distance,
    chi_square_test,
    jensen_shannon_distance,
    population_stability_index,
)

__all__ = [
    "DEFAULT_THRESHOLDS",
    "DriftMethod",
    "DriftScore",
    "align_frequencies",
    "column_drift",
    "profile_cdf",
]


class DriftMethod(enum.StrEnum):
    """How :func:`column_drift` scores a column."""

    PSI = "psi"
    WASSERSTEIN = "wasserstein"
    KS = "ks"
    JENSEN_SHANNON = "jensen_shannon"
    CHI_SQUARE = "chi_square"


DEFAULT_THRESHOLDS: Mapping[DriftMethod, float] = MappingProxyType(
    {
        DriftMethod.PSI: 0.2,
        DriftMethod.WASSERSTEIN: 0.1,
        DriftMethod.KS: 0.1,
        DriftMethod.JENSEN_SHANNON: 0.1,
        DriftMethod.CHI_SQUARE: 0.05,
    }
)
"""Thresholds by method: common rules of thumb (PSI 0.2 is "significant shift"; the
normalised Wasserstein and Jensen-Shannon 0.1 follow Evidently's defaults). For
``chi_square`` it is the significance level that the p-value is compared with."""

_NUMERIC = (DriftMethod.PSI, DriftMethod.WASSERSTEIN, DriftMethod.KS)
_CATEGORICAL = (DriftMethod.JENSEN_SHANNON, DriftMethod.PSI, DriftMethod.CHI_SQUARE)
_METHODS: Mapping[ColumnKind, tuple[DriftMethod, ...]] = MappingProxyType(
    {
        ColumnKind.NUMERIC: _NUMERIC,
        ColumnKind.CATEGORICAL: _CATEGORICAL,
        ColumnKind.BOOLEAN: _CATEGORICAL,
    }
)


@dataclass(frozen=True, slots=True)
class DriftScore:
    """The drift of one column: how it was scored, the score, and the verdict.

    Attributes:
        method: The statistic used.
        score: Its value; 0 for identical profiles, larger is more drift (for
            ``chi_square`` the test statistic).
        threshold: The score at or above which the column counts as drifted (for
            ``chi_square``: the significance level for ``p_value``).
        drifted: Whether the column drifted.
        p_value: The test's p-value, for ``chi_square``.
    """

    method: DriftMethod
    score: float
    threshold: float
    drifted: bool
    p_value: float | None = None


def profile_cdf(
    column: ColumnProfile,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The CDF knots ``(x, F(x))`` of a numeric column's finite values.

    The histogram gives exact points at its edges and the quantiles give points where the
    mass is (the tails, which equal-width bins lump together); both are merged in order of
    ``x`` and made non-decreasing.

    Raises:
        ValidationError: The column is not numeric or has no finite values.

    >>> from loopml.core.profiles import Histogram
    >>> column = ColumnProfile("x", "double", ColumnKind.NUMERIC, n_rows=4, n_nulls=0,
    ...                        histogram=Histogram((0.0, 1.0, 2.0), (1, 3)))
    >>> x, f = profile_cdf(column)
    >>> x.tolist(), f.tolist()
    ([0.0, 1.0, 2.0], [0.0, 0.25, 1.0])
    """
    if column.kind is not ColumnKind.NUMERIC:
        raise ValidationError(f"column {column.name!r} is {column.kind}, not numeric")
    xs: list[npt.NDArray[np.float64]] = []
    fs: list[npt.NDArray[np.float64]] = []
    if column.histogram is not None and sum(column.histogram.counts) > 0:
        counts = np.asarray(column.histogram.counts, dtype=np.float64)
        xs.append(np.asarray(column.histogram.edges, dtype=np.float64))
        fs.append(np.concatenate([[0.0], np.cumsum(counts) / counts.sum()]))
    if column.quantiles is not None and column.quantiles.values:
        xs.append(np.asarray(column.quantiles.values, dtype=np.float64))
        fs.append(np.asarray(column.quantiles.levels, dtype=np.float64))
    if not xs:
        raise ValidationError(f"column {column.name!r} has no finite values to compare")
    x, f = np.concatenate(xs), np.concatenate(fs)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(f))):
        raise ValidationError(f"column {column.name!r} has non-finite quantiles or edges")
    order = np.lexsort((f, x))
    x, f = x[order], np.maximum.accumulate(f[order])
    f[-1] = 1.0  # a quantile set without p100 still describes a whole distribution
    if f[0] > 0.0:  # ... and one without p0 starts from 0 at its lowest point
        x, f = np.concatenate([[x[0]], x]), np.concatenate([[0.0], f])
    return x, f


def align_frequencies(
    reference: Frequencies, current: Frequencies
) -> tuple[tuple[str | None, ...], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Count both sides over the reference's top-k values plus one "other" bucket.

    A value that the current top-k lacks counts 0 there, and everything the reference
    did not list (new categories included) goes to the "other" bucket. A reference value
    that the current data still holds, but too rarely to be in its top-k, also lands in
    "other": profile with a larger ``top_k`` when that matters.

    Returns:
        ``(labels, reference_counts, current_counts)``; the last label is ``None``: the
        "other" bucket.

    >>> labels, ref, cur = align_frequencies(
    ...     Frequencies(("a", "b"), (6, 3), n_other=1), Frequencies(("b", "c"), (5, 4)))
    >>> labels, ref.tolist(), cur.tolist()
    (('a', 'b', None), [6, 3, 1], [0, 5, 4])
    """
    # A lookup per listed category (at most top_k of them), not per row of data.
    lookup = dict(zip(current.values, current.counts, strict=True))
    matched = np.fromiter(
        (lookup.get(value, 0) for value in reference.values),
        dtype=np.int64,
        count=len(reference.values),
    )
    labels: tuple[str | None, ...] = (*reference.values, None)
    ref = np.append(np.asarray(reference.counts, dtype=np.int64), reference.n_other)
    cur = np.append(matched, current.n_total - int(matched.sum()))
    return labels, ref, cur


def _check_pair(reference: ColumnProfile, current: ColumnProfile) -> tuple[DriftMethod, ...]:
    if reference.kind != current.kind:
        raise ValidationError(
            f"column {reference.name!r} is {reference.kind} in the reference but "
            f"{current.kind} now: compare the schema instead",
            field="current",
        )
    methods = _METHODS.get(reference.kind)
    if methods is None:
        raise ValidationError(
            f"column {reference.name!r} is {reference.kind}: drift is scored for numeric, "
            "categorical and boolean columns",
            field="reference",
        )
    for name, column in (("reference", reference), ("current", current)):
        empty = column.n_finite == 0 if column.kind is ColumnKind.NUMERIC else column.n_valid == 0
        if empty or (column.kind is not ColumnKind.NUMERIC and column.top_k is None):
            raise ValidationError(
                f"column {column.name!r} has no values to compare in the {name} profile",
                field=name,
            )
    return methods


def column_drift(
    reference: ColumnProfile,
    current: ColumnProfile,
    method: DriftMethod | str | None = None,
    *,
    threshold: float | None = None,
) -> DriftScore:
    """Score how far ``current`` has drifted from ``reference`` (see the module table).

    Numeric ``psi`` bins both CDFs (:func:`profile_cdf`) at the reference's knots, with
    open bins below and above; ``wasserstein`` divides the distance by the reference's
    standard deviation (by 1 when that is 0); ``ks`` is the largest CDF gap.

    Args:
        reference: The column's profile at registration (or training) time.
        current: The same column profiled now.
        method: A :class:`DriftMethod` or its name; ``None`` picks the kind's default.
        threshold: Overrides :data:`DEFAULT_THRESHOLDS`.

    Raises:
        ValidationError: The kinds differ, the kind has no drift statistic, the method does
            not suit the kind, or a profile has no values; ``field`` names the argument.

    >>> from loopml.core.profiles import Histogram
    >>> def column(counts):
    ...     return ColumnProfile("x", "double", ColumnKind.NUMERIC, n_rows=sum(counts),
    ...                          n_nulls=0, std=1.0,
    ...                          histogram=Histogram((0.0, 1.0, 2.0, 3.0), counts))
    >>> same = column_drift(column((50, 30, 20)), column((50, 30, 20)))
    >>> print(same.method, same.score, same.threshold, same.drifted)
    psi 0.0 0.2 False
    >>> shifted = column_drift(column((50, 30, 20)), column((20, 30, 50)))
    >>> round(shifted.score, 2), shifted.drifted
    (0.55, True)
    """
    methods = _check_pair(reference, current)
    try:
        chosen = methods[0] if method is None else DriftMethod(method)
    except ValueError:
        raise ValidationError(
            f"unknown drift method {method!r}: use one of {', '.join(DriftMethod)}",
            field="method",
        ) from None
    if chosen not in methods:
        raise ValidationError(
            f"{chosen} does not suit {reference.kind} columns: use one of {', '.join(methods)}",
            field="method",
        )
    limit = DEFAULT_THRESHOLDS[chosen] if threshold is None else float(threshold)
    if reference.kind is ColumnKind.NUMERIC:
        rx, rf = profile_cdf(reference)
        cx, cf = profile_cdf(current)
        if chosen is DriftMethod.PSI:
            edges = np.unique(rx)
            score = population_stability_index(
                cdf_bin_masses(rx, rf, edges), cdf_bin_masses(cx, cf, edges)
            )
        elif chosen is DriftMethod.WASSERSTEIN:
            scale = reference.std if reference.std else 1.0
            score = cdf_wasserstein_distance(rx, rf, cx, cf) / scale
        else:
            score = cdf_ks_distance(rx, rf, cx, cf)
        return DriftScore(chosen, score, limit, score >= limit)
    assert reference.top_k is not None  # both checked by _check_pair
    assert current.top_k is not None
    _, ref, cur = align_frequencies(reference.top_k, current.top_k)
    if chosen is DriftMethod.CHI_SQUARE:
        result = chi_square_test(ref, cur)
        return DriftScore(chosen, result.statistic, limit, result.p_value < limit, result.p_value)
    if chosen is DriftMethod.PSI:
        score = population_stability_index(ref, cur)
    else:
        score = jensen_shannon_distance(ref, cur)
    return DriftScore(chosen, score, limit, score >= limit)
