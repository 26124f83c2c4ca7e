"""Drift statistics: pure, vectorised functions over samples, binned counts or CDF knots.

Three shapes of input, so the same statistics serve data diff (over stored profiles) and
monitoring (over live samples):

- **samples** — 1-d arrays of finite numbers: :func:`ks_test`, :func:`wasserstein_distance`,
  :func:`quantile_edges` and :func:`bin_counts` (to bin two samples alike for PSI), and
  :func:`category_counts` for arrays of category labels;
- **counts** — two aligned vectors of counts over the same bins or categories:
  :func:`population_stability_index`, :func:`jensen_shannon_distance`,
  :func:`chi_square_test`;
- **CDF knots** — ``(x, F(x))`` points of a piecewise-linear cumulative distribution, as a
  profile's quantiles and histogram give them (see :mod:`loopml.stats.profile_drift`):
  :func:`cdf_ks_distance`, :func:`cdf_wasserstein_distance`, :func:`cdf_bin_masses`.

Bad input (empty, mismatched lengths, negative counts, NaN in samples) raises
:class:`~loopml.core.errors.ValidationError` naming the argument.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from loopml.core.errors import ValidationError

__all__ = [
    "PSI_EPSILON",
    "TwoSampleResult",
    "bin_counts",
    "category_counts",
    "cdf_bin_masses",
    "cdf_ks_distance",
    "cdf_wasserstein_distance",
    "chi_square_test",
    "jensen_shannon_distance",
    "ks_test",
    "population_stability_index",
    "quantile_edges",
    "wasserstein_distance",
]

FloatArray = npt.NDArray[np.float64]

PSI_EPSILON = 1e-4
"""Floor for a bin's share in :func:`population_stability_index`: an empty bin would make
its log-ratio infinite, so shares below this count as this (1 in 10,000)."""


class TwoSampleResult(NamedTuple):
    """A two-sample test: its statistic and the p-value under "same distribution"."""

    statistic: float
    p_value: float


def _sample(values: npt.ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size == 0:
        raise ValidationError(f"{name} is empty: pass at least one value", field=name)
    if not np.all(np.isfinite(array)):
        raise ValidationError(f"{name} holds NaN or Inf: drop them first", field=name)
    return array


def _counts(reference: npt.ArrayLike, current: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    pair = []
    for name, values in (("reference", reference), ("current", current)):
        array = np.asarray(values, dtype=np.float64).ravel()
        if array.size == 0:
            raise ValidationError(f"{name} counts are empty", field=name)
        if not np.all(np.isfinite(array)) or np.any(array < 0):
            raise ValidationError(f"{name} counts must be finite and >= 0", field=name)
        if array.sum() == 0:
            raise ValidationError(f"{name} counts are all zero", field=name)
        pair.append(array)
    if pair[0].size != pair[1].size:
        raise ValidationError(
            f"reference has {pair[0].size} bins but current has {pair[1].size}: align them",
            field="current",
        )
    return pair[0], pair[1]


def population_stability_index(
    reference: npt.ArrayLike, current: npt.ArrayLike, *, epsilon: float = PSI_EPSILON
) -> float:
    """PSI between two binned distributions: ``sum((q - p) * ln(q / p))``.

    ``p`` and ``q`` are the shares of each bin (counts or shares are accepted), floored at
    ``epsilon``. Rule of thumb: below 0.1 no shift, 0.1-0.2 moderate, above 0.2 a shift.

    Args:
        reference: Counts per bin of the reference data.
        current: Counts per bin of the current data, over the same bins.
        epsilon: Floor for a bin's share (see :data:`PSI_EPSILON`).

    >>> population_stability_index([10, 20, 30], [10, 20, 30])
    0.0
    >>> round(population_stability_index([50, 30, 20], [20, 30, 50]), 4)
    0.5498
    """
    ref, cur = _counts(reference, current)
    p = np.maximum(ref / ref.sum(), epsilon)
    q = np.maximum(cur / cur.sum(), epsilon)
    return float(np.sum((q - p) * np.log(q / p)))


def jensen_shannon_distance(reference: npt.ArrayLike, current: npt.ArrayLike) -> float:
    """Jensen-Shannon distance (base 2, so within [0, 1]) between two count vectors.

    The square root of the Jensen-Shannon divergence; symmetric, and finite even where one
    side has a category the other lacks, so no epsilon is needed.

    >>> jensen_shannon_distance([5, 3, 2], [50, 30, 20])
    0.0
    >>> jensen_shannon_distance([1, 0], [0, 1])
    1.0
    """
    ref, cur = _counts(reference, current)
    p, q = ref / ref.sum(), cur / cur.sum()
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0)
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0)
    divergence = (kl_p.sum() + kl_q.sum()) / 2
    return float(np.sqrt(np.clip(divergence, 0.0, 1.0)))


def chi_square_test(reference: npt.ArrayLike, current: npt.ArrayLike) -> TwoSampleResult:
    """Chi-square test of homogeneity of two count vectors (a 2 x k contingency table).

    Categories empty on both sides are dropped; with one category left the distributions
    cannot differ, and the result is ``(0.0, 1.0)``.

    >>> chi_square_test([30, 70], [30, 70])
    TwoSampleResult(statistic=0.0, p_value=1.0)
    >>> result = chi_square_test([500, 500], [700, 300])
    >>> round(result.statistic, 1), result.p_value < 1e-6
    (83.3, True)
    """
    ref, cur = _counts(reference, current)
    table = np.stack([ref, cur])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return TwoSampleResult(0.0, 1.0)
    from scipy.stats import chi2_contingency  # scipy.stats takes ~1 s to import

    result = chi2_contingency(table, correction=False)
    return TwoSampleResult(float(result.statistic), float(result.pvalue))


def ks_test(reference: npt.ArrayLike, current: npt.ArrayLike) -> TwoSampleResult:
    """Two-sample Kolmogorov-Smirnov test over samples (scipy's ``ks_2samp``).

    The statistic is the largest gap between the two empirical CDFs, within [0, 1].

    >>> ks_test([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    TwoSampleResult(statistic=0.0, p_value=1.0)
    >>> ks_test([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]).statistic
    1.0
    """
    ref, cur = _sample(reference, "reference"), _sample(current, "current")
    from scipy.stats import ks_2samp

    result = ks_2samp(ref, cur)
    return TwoSampleResult(float(result.statistic), float(result.pvalue))


def wasserstein_distance(reference: npt.ArrayLike, current: npt.ArrayLike) -> float:
    """First Wasserstein (earth mover's) distance between two samples, in their unit.

    >>> wasserstein_distance([0.0, 1.0], [0.0, 1.0])
    0.0
    >>> wasserstein_distance([0.0, 1.0, 2.0], [1.0, 2.0, 3.0])
    1.0
    """
    ref, cur = _sample(reference, "reference"), _sample(current, "current")
    from scipy.stats import wasserstein_distance as scipy_wasserstein

    return float(scipy_wasserstein(ref, cur))


def quantile_edges(reference: npt.ArrayLike, n_bins: int = 10) -> FloatArray:
    """Inner bin edges that cut ``reference`` into ``n_bins`` bins of equal mass.

    Repeated quantiles (a discrete sample) collapse into one edge. Use with
    :func:`bin_counts`, whose outer bins are open, so current data beyond the reference's
    range still counts.

    >>> quantile_edges([1, 2, 3, 4, 5, 6, 7, 8], n_bins=4)
    array([2.75, 4.5 , 6.25])
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        raise ValidationError("n_bins must be an integer >= 1", field="n_bins")
    ref = _sample(reference, "reference")
    inner = np.quantile(ref, np.linspace(0, 1, n_bins + 1)[1:-1])
    return np.unique(inner)


def bin_counts(values: npt.ArrayLike, edges: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Counts of ``values`` in ``(-inf, e0], (e0, e1], ..., (e_last, inf)``.

    >>> bin_counts([0.5, 1.0, 1.5, 9.0], [1.0, 2.0])
    array([2, 1, 1])
    """
    array = _sample(values, "values")
    cuts = np.asarray(edges, dtype=np.float64).ravel()
    if np.any(np.diff(cuts) <= 0):
        raise ValidationError("edges must increase strictly", field="edges")
    index = np.searchsorted(cuts, array, side="left")
    return np.bincount(index, minlength=cuts.size + 1).astype(np.int64)


def category_counts(
    reference: npt.ArrayLike, current: npt.ArrayLike
) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Count two samples of category labels over the union of their categories.

    Returns:
        ``(categories, reference_counts, current_counts)``, categories sorted; a category
        absent from one side counts 0 there.

    >>> cats, ref, cur = category_counts(["a", "b", "a"], ["b", "c"])
    >>> cats.tolist(), ref.tolist(), cur.tolist()
    (['a', 'b', 'c'], [2, 1, 0], [0, 1, 1])
    """
    ref, cur = np.asarray(reference).ravel(), np.asarray(current).ravel()
    for name, array in (("reference", ref), ("current", cur)):
        if array.size == 0:
            raise ValidationError(f"{name} is empty: pass at least one value", field=name)
    categories, index = np.unique(np.concatenate([ref, cur]), return_inverse=True)
    n = categories.size
    ref_counts = np.bincount(index[: ref.size], minlength=n).astype(np.int64)
    cur_counts = np.bincount(index[ref.size :], minlength=n).astype(np.int64)
    return categories, ref_counts, cur_counts


def _knots(x: npt.ArrayLike, f: npt.ArrayLike, name: str) -> tuple[FloatArray, FloatArray]:
    xs = np.asarray(x, dtype=np.float64).ravel()
    fs = np.asarray(f, dtype=np.float64).ravel()
    if xs.size == 0 or xs.size != fs.size:
        raise ValidationError(f"{name} CDF needs as many x as F values, at least one", field=name)
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(fs))):
        raise ValidationError(f"{name} CDF knots must be finite", field=name)
    if np.any(np.diff(xs) < 0) or np.any(np.diff(fs) < 0) or fs[0] < 0 or fs[-1] != 1:
        raise ValidationError(
            f"{name} CDF knots must not decrease, and F must end at 1", field=name
        )
    return xs, fs


def _cdf_at(
    xs: FloatArray, fs: FloatArray, points: FloatArray, *, left: bool = False
) -> FloatArray:
    """F at ``points``: linear between knots, 0 before the first, 1 after the last.

    Equal x knots mark a jump (a point mass). ``np.interp`` takes the last of them, which
    gives F(x) = P(X <= x); with ``left`` the first, which gives the limit from the left.
    """
    if left:
        first = np.concatenate([[True], xs[1:] != xs[:-1]])
        xs, fs = xs[first], fs[first]
    return np.interp(points, xs, fs, left=0.0, right=1.0)


def cdf_ks_distance(
    reference_x: npt.ArrayLike,
    reference_f: npt.ArrayLike,
    current_x: npt.ArrayLike,
    current_f: npt.ArrayLike,
) -> float:
    """Largest gap between two piecewise-linear CDFs given by their knots.

    The approximate Kolmogorov-Smirnov statistic of two profiles. Both CDFs are linear
    between knots, so the largest gap lies on a knot of one of them.

    >>> cdf_ks_distance([0, 1], [0, 1], [0, 1], [0, 1])
    0.0
    >>> cdf_ks_distance([0, 1], [0, 1], [0.5, 1.5], [0, 1])
    0.5
    """
    rx, rf = _knots(reference_x, reference_f, "reference")
    cx, cf = _knots(current_x, current_f, "current")
    points = np.concatenate([rx, cx])
    gaps = [
        np.abs(_cdf_at(rx, rf, points, left=left) - _cdf_at(cx, cf, points, left=left))
        for left in (False, True)  # F jumps at a point mass: compare both sides of it
    ]
    return float(max(gaps[0].max(), gaps[1].max()))


def cdf_wasserstein_distance(
    reference_x: npt.ArrayLike,
    reference_f: npt.ArrayLike,
    current_x: npt.ArrayLike,
    current_f: npt.ArrayLike,
) -> float:
    """First Wasserstein distance ``integral |F_ref(x) - F_cur(x)| dx`` of two linear CDFs.

    Exact for the piecewise-linear CDFs the knots describe: on every segment between
    consecutive knots of either CDF the gap is linear, and is integrated in closed form.

    >>> cdf_wasserstein_distance([0, 1], [0, 1], [0, 1], [0, 1])
    0.0
    >>> cdf_wasserstein_distance([0, 1], [0, 1], [2, 3], [0, 1])
    2.0
    """
    rx, rf = _knots(reference_x, reference_f, "reference")
    cx, cf = _knots(current_x, current_f, "current")
    points = np.unique(np.concatenate([rx, cx]))
    if points.size < 2:
        return 0.0
    # On each segment, from the value at its start to the limit at its end (a jump at
    # a knot belongs to the next segment).
    d0 = (_cdf_at(rx, rf, points) - _cdf_at(cx, cf, points))[:-1]
    d1 = (_cdf_at(rx, rf, points, left=True) - _cdf_at(cx, cf, points, left=True))[1:]
    width = np.diff(points)
    same_sign = d0 * d1 >= 0
    total = np.abs(d0) + np.abs(d1)
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = np.where(total > 0, (d0**2 + d1**2) / (2 * total), 0.0)
    area = np.where(same_sign, total / 2, crossing) * width
    return float(area.sum())


def cdf_bin_masses(x: npt.ArrayLike, f: npt.ArrayLike, edges: npt.ArrayLike) -> FloatArray:
    """Probability mass of a linear CDF in ``(-inf, e0], (e0, e1], ..., (e_last, inf)``.

    >>> cdf_bin_masses([0, 10], [0, 1], [2.5, 5.0])
    array([0.25, 0.25, 0.5 ])
    """
    xs, fs = _knots(x, f, "x")
    cuts = np.asarray(edges, dtype=np.float64).ravel()
    at_edges = _cdf_at(xs, fs, cuts)
    return np.diff(np.concatenate([[0.0], at_edges, [1.0]]))
