"""Pure, vectorised statistics shared by data diff and monitoring (no I/O, no stores)."""

from loopml.stats.drift import (
    PSI_EPSILON,
    TwoSampleResult,
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
    DriftScore,
    align_frequencies,
    column_drift,
    profile_cdf,
)
from loopml.stats.sketches import HLL_PRECISION, hyperloglog_estimate

__all__ = [
    "DEFAULT_THRESHOLDS",
    "HLL_PRECISION",
    "PSI_EPSILON",
    "DriftMethod",
    "DriftScore",
    "TwoSampleResult",
    "align_frequencies",
    "bin_counts",
    "category_counts",
    "cdf_bin_masses",
    "cdf_ks_distance",
    "cdf_wasserstein_distance",
    "chi_square_test",
    "column_drift",
    "hyperloglog_estimate",
    "jensen_shannon_distance",
    "ks_test",
    "population_stability_index",
    "profile_cdf",
    "quantile_edges",
    "wasserstein_distance",
]
