from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from loopml.core.errors import ValidationError
from loopml.core.profiles import ColumnKind, ColumnProfile, Frequencies, Histogram, Quantiles
from loopml.datasets.profile import profile_dataset
from loopml.stats.drift import (
    bin_counts,
    category_counts,
    cdf_bin_masses,
    cdf_ks_distance,
    cdf_wasserstein_distance,
    chi_square_test,
    jensen_shannon_distance,
    ks_test,
    population_stability_index,
    quantile_edges,
    wasserstein_distance,
)
from loopml.stats.profile_drift import (
    DEFAULT_THRESHOLDS,
    DriftMethod,
    align_frequencies,
    column_drift,
    profile_cdf,
)
from loopml.stats.sketches import hyperloglog_estimate

N = 20_000


def normal_column(shift: float = 0.0, scale: float = 1.0, seed: int = 0) -> ColumnProfile:
    values = np.random.default_rng(seed).normal(shift, scale, N)
    return profile_dataset(pa.table({"x": values})).column("x")


def category_column(values: list[str], p: list[float], seed: int = 0) -> ColumnProfile:
    sample = np.random.default_rng(seed).choice(values, N, p=p)
    return profile_dataset(pa.table({"c": sample})).column("c")


# --- samples and counts ------------------------------------------------------------------


def test_psi_matches_its_formula() -> None:
    ref, cur = np.array([40, 35, 25]), np.array([30, 30, 40])
    p, q = ref / ref.sum(), cur / cur.sum()
    expected = np.sum((q - p) * np.log(q / p))
    assert population_stability_index(ref, cur) == pytest.approx(expected)


def test_psi_floors_empty_bins_at_epsilon() -> None:
    score = population_stability_index([100, 0], [50, 50], epsilon=0.01)
    assert score == pytest.approx((0.5 - 1) * np.log(0.5) + (0.5 - 0.01) * np.log(0.5 / 0.01))
    assert np.isfinite(population_stability_index([100, 0], [50, 50]))


def test_psi_on_samples_binned_at_reference_deciles() -> None:
    rng = np.random.default_rng(1)
    reference, same, shifted = rng.normal(0, 1, (3, N)) + np.array([[0], [0], [1]])
    edges = quantile_edges(reference)
    ref_counts = bin_counts(reference, edges)
    assert ref_counts.sum() == N
    assert population_stability_index(ref_counts, bin_counts(same, edges)) < 0.01
    assert population_stability_index(ref_counts, bin_counts(shifted, edges)) > 0.5


def test_jensen_shannon_against_scipy() -> None:
    from scipy.spatial.distance import jensenshannon

    ref, cur = np.array([5, 1, 0, 3]), np.array([1, 2, 4, 0])
    assert jensen_shannon_distance(ref, cur) == pytest.approx(jensenshannon(ref, cur, base=2))


def test_chi_square_against_scipy() -> None:
    from scipy.stats import chi2_contingency

    ref, cur = np.array([30, 50, 20, 0]), np.array([25, 40, 40, 0])
    expected = chi2_contingency(np.array([ref[:3], cur[:3]]), correction=False)
    result = chi_square_test(ref, cur)
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)


def test_ks_and_wasserstein_on_samples() -> None:
    rng = np.random.default_rng(2)
    reference, same, shifted = rng.normal(0, 1, (3, 5_000)) + np.array([[0], [0], [0.5]])
    assert ks_test(reference, same).p_value > 0.01
    assert ks_test(reference, shifted).p_value < 1e-6
    assert ks_test(reference, shifted).statistic == pytest.approx(0.2, abs=0.03)
    assert wasserstein_distance(reference, shifted) == pytest.approx(0.5, abs=0.05)


def test_identical_inputs_score_zero() -> None:
    counts = [3, 0, 7, 1]
    assert population_stability_index(counts, counts) == 0.0
    assert jensen_shannon_distance(counts, counts) == 0.0
    assert chi_square_test(counts, counts).statistic == 0.0
    sample = np.arange(10.0)
    assert ks_test(sample, sample).statistic == 0.0
    assert wasserstein_distance(sample, sample) == 0.0


def test_category_counts_align_new_and_missing_categories() -> None:
    categories, ref, cur = category_counts(["a", "a", "b"], ["b", "c", "c"])
    assert categories.tolist() == ["a", "b", "c"]
    assert ref.tolist() == [2, 1, 0]
    assert cur.tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    ("function", "reference", "current", "field"),
    [
        (population_stability_index, [], [1], "reference"),
        (population_stability_index, [1, 2], [1], "current"),
        (population_stability_index, [1, -1], [1, 1], "reference"),
        (population_stability_index, [0, 0], [1, 1], "reference"),
        (jensen_shannon_distance, [1], [], "current"),
        (chi_square_test, [1, np.nan], [1, 1], "reference"),
        (ks_test, [], [1.0], "reference"),
        (ks_test, [1.0], [np.nan], "current"),
        (wasserstein_distance, [1.0], [], "current"),
        (category_counts, [], ["a"], "reference"),
    ],
)
def test_bad_input_names_the_argument(
    function: object, reference: list[float], current: list[float], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        function(reference, current)  # type: ignore[operator]
    assert caught.value.field == field


# --- CDF knots ---------------------------------------------------------------------------


def test_cdf_distances_of_uniform_distributions() -> None:
    # U(0, 1) against U(0.5, 1.5): KS 0.5 and Wasserstein 0.5
    assert cdf_ks_distance([0, 1], [0, 1], [0.5, 1.5], [0, 1]) == pytest.approx(0.5)
    assert cdf_wasserstein_distance([0, 1], [0, 1], [0.5, 1.5], [0, 1]) == pytest.approx(0.5)
    # U(0, 2) against U(0, 1): the CDFs cross nowhere; area = 0.5
    assert cdf_wasserstein_distance([0, 2], [0, 1], [0, 1], [0, 1]) == pytest.approx(0.5)


def test_cdf_point_masses_are_steps() -> None:
    # all mass at 1 against all mass at 2: KS 1, Wasserstein 1
    assert cdf_ks_distance([1, 1], [0, 1], [2, 2], [0, 1]) == 1.0
    assert cdf_wasserstein_distance([1, 1], [0, 1], [2, 2], [0, 1]) == pytest.approx(1.0)
    masses = cdf_bin_masses([1, 1], [0, 1], [0.5, 1.0, 1.5])
    assert masses.tolist() == [0.0, 1.0, 0.0, 0.0]


def test_cdf_knots_must_describe_a_distribution() -> None:
    with pytest.raises(ValidationError) as caught:
        cdf_ks_distance([0, 1], [0, 0.5], [0, 1], [0, 1])
    assert caught.value.field == "reference"
    with pytest.raises(ValidationError) as caught:
        cdf_wasserstein_distance([0, 1], [0, 1], [1, 0], [0, 1])
    assert caught.value.field == "current"


# --- profiles ----------------------------------------------------------------------------


def test_profile_cdf_follows_the_data() -> None:
    values = np.random.default_rng(4).normal(0, 1, N)
    x, f = profile_cdf(profile_dataset(pa.table({"x": values})).column("x"))
    empirical = np.searchsorted(np.sort(values), x, side="right") / N
    np.testing.assert_allclose(f, empirical, atol=0.02)


@pytest.mark.parametrize("method", [DriftMethod.PSI, DriftMethod.WASSERSTEIN, DriftMethod.KS])
def test_numeric_drift_is_zero_for_the_same_profile(method: DriftMethod) -> None:
    column = normal_column()
    score = column_drift(column, column, method)
    assert score.score == 0.0
    assert not score.drifted
    assert score.threshold == DEFAULT_THRESHOLDS[method]


@pytest.mark.parametrize("method", [DriftMethod.PSI, DriftMethod.WASSERSTEIN, DriftMethod.KS])
def test_numeric_drift_separates_noise_from_a_shift(method: DriftMethod) -> None:
    reference = normal_column(seed=0)
    same = column_drift(reference, normal_column(seed=1), method)
    shifted = column_drift(reference, normal_column(shift=0.5, seed=2), method)
    wider = column_drift(reference, normal_column(scale=2.0, seed=3), method)
    assert same.score < same.threshold / 4
    assert not same.drifted
    assert shifted.drifted
    assert wider.drifted


def test_profile_ks_approximates_the_sample_ks() -> None:
    rng = np.random.default_rng(5)
    reference, current = rng.normal(0, 1, N), rng.normal(0.3, 1, N)
    ref, cur = (profile_dataset(pa.table({"x": v})).column("x") for v in (reference, current))
    exact = ks_test(reference, current).statistic
    assert column_drift(ref, cur, "ks").score == pytest.approx(exact, abs=0.02)
    # the normalised score: divided by the reference's standard deviation (about 1)
    distance = wasserstein_distance(reference, current) / reference.std()
    assert column_drift(ref, cur, "wasserstein").score == pytest.approx(distance, rel=0.1)


def test_categorical_drift_defaults_to_jensen_shannon() -> None:
    reference = category_column(["a", "b", "c"], [0.5, 0.3, 0.2])
    same = column_drift(reference, category_column(["a", "b", "c"], [0.5, 0.3, 0.2], seed=1))
    moved = column_drift(reference, category_column(["a", "b", "c"], [0.2, 0.3, 0.5], seed=2))
    assert same.method is DriftMethod.JENSEN_SHANNON
    assert same.score < 0.02
    assert not same.drifted
    assert moved.drifted
    assert column_drift(reference, reference).score == 0.0


def test_new_and_missing_categories_are_drift() -> None:
    reference = category_column(["a", "b", "c"], [0.4, 0.3, 0.3])
    current = category_column(["a", "b", "d"], [0.4, 0.3, 0.3], seed=1)
    for method in (DriftMethod.JENSEN_SHANNON, DriftMethod.PSI, DriftMethod.CHI_SQUARE):
        score = column_drift(reference, current, method)
        assert score.drifted, method
    chi = column_drift(reference, current, "chi_square")
    assert chi.p_value is not None
    assert chi.p_value < 1e-6


def test_align_frequencies_puts_unlisted_values_in_other() -> None:
    labels, ref, cur = align_frequencies(
        Frequencies(("a", "b"), (50, 30), n_other=20), Frequencies(("b", "z"), (60, 40))
    )
    assert labels == ("a", "b", None)
    assert ref.tolist() == [50, 30, 20]
    assert cur.tolist() == [0, 60, 40]


def test_boolean_columns_drift_like_categories() -> None:
    def flags(share: float, seed: int) -> ColumnProfile:
        sample = np.random.default_rng(seed).random(N) < share
        return profile_dataset(pa.table({"b": sample})).column("b")

    assert not column_drift(flags(0.3, 0), flags(0.3, 1)).drifted
    assert column_drift(flags(0.3, 0), flags(0.7, 2)).drifted


def test_a_threshold_can_be_given() -> None:
    reference, current = normal_column(seed=0), normal_column(seed=1)
    score = column_drift(reference, current, threshold=0.0)
    assert score.threshold == 0.0
    assert score.drifted


def test_unsuitable_pairs_and_methods_are_refused() -> None:
    numeric, categorical = normal_column(), category_column(["a", "b"], [0.5, 0.5])
    text = ColumnProfile("t", "string", ColumnKind.TEXT, n_rows=3, n_nulls=0)
    empty = ColumnProfile("x", "double", ColumnKind.NUMERIC, n_rows=3, n_nulls=3)
    cases = [
        ((numeric, categorical, None), "current"),
        ((text, text, None), "reference"),
        ((numeric, numeric, "jensen_shannon"), "method"),
        ((categorical, categorical, "wasserstein"), "method"),
        ((numeric, numeric, "magic"), "method"),
        ((empty, numeric, None), "reference"),
        ((numeric, empty, None), "current"),
    ]
    for (reference, current, method), field in cases:
        with pytest.raises(ValidationError) as caught:
            column_drift(reference, current, method)
        assert caught.value.field == field, (reference.kind, current.kind, method)


def test_a_profile_with_quantiles_only_still_has_a_cdf() -> None:
    column = ColumnProfile(
        "x",
        "double",
        ColumnKind.NUMERIC,
        n_rows=100,
        n_nulls=0,
        quantiles=Quantiles((0.25, 0.5, 0.75), (1.0, 2.0, 3.0)),
    )
    x, f = profile_cdf(column)
    assert x.tolist() == [1.0, 1.0, 2.0, 3.0]
    assert f.tolist() == [0.0, 0.25, 0.5, 1.0]
    histogram_only = ColumnProfile(
        "x",
        "double",
        ColumnKind.NUMERIC,
        n_rows=4,
        n_nulls=0,
        histogram=Histogram((0.0, 1.0), (4,)),
    )
    assert column_drift(histogram_only, histogram_only).score == 0.0


# --- sketches ----------------------------------------------------------------------------


@pytest.mark.parametrize("n_distinct", [0, 1, 50, 5_000, 200_000])
def test_hyperloglog_estimates_within_a_few_percent(n_distinct: int) -> None:
    precision = 14
    hashes = np.random.default_rng(n_distinct).integers(0, 2**64, n_distinct, dtype=np.uint64)
    q = np.uint64(64 - precision)
    index = (hashes >> q).astype(np.int64)
    low = hashes & np.uint64(2 ** (64 - precision) - 1) | np.uint64(2 ** (64 - precision))
    rank = np.log2((low & (~low + np.uint64(1))).astype(np.float64)).astype(np.int64) + 1
    registers = np.zeros(2**precision, dtype=np.int64)
    np.maximum.at(registers, index, rank)
    estimate = hyperloglog_estimate(registers, precision=precision)[0]
    assert estimate == pytest.approx(n_distinct, rel=0.03, abs=0.5)


def test_hyperloglog_refuses_registers_of_the_wrong_shape() -> None:
    with pytest.raises(ValidationError) as caught:
        hyperloglog_estimate(np.zeros(10), precision=4)
    assert caught.value.field == "registers"
