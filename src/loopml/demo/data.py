"""The demo's data: a seeded, documented generator of customer-churn tables.

No dataset is downloaded: the demo makes its own. Each row is one customer of a
subscription business; ``churned`` is drawn from a logistic model of the features, so a
good classifier reaches a ROC AUC of about 0.8 and the truth is known exactly.

``drift`` (0 to 1) shifts the population the way later traffic shifts in the demo's
monitoring chapter: newer customers (shorter tenure), higher charges, more support calls
and more month-to-month contracts, and a stronger effect of support calls on churn.

>>> frame = generate_churn(1000, seed=1)
>>> sorted(frame.columns)[:3]
['churned', 'contract', 'customer_id']
>>> bool(0.15 < frame["churned"].mean() < 0.45)
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["FEATURES", "TARGET", "generate_churn"]

FEATURES = (
    "tenure_months",
    "monthly_charges",
    "support_calls",
    "contract",
    "region",
    "payment_method",
    "has_internet",
)
TARGET = "churned"
_CONTRACTS = np.array(["month-to-month", "one-year", "two-year"])
_REGIONS = np.array(["north", "south", "east", "west"])
_PAYMENTS = np.array(["card", "bank-transfer", "invoice"])


def generate_churn(n_rows: int, seed: int = 0, drift: float = 0.0) -> pd.DataFrame:
    """A churn table of ``n_rows`` customers.

    Args:
        n_rows: Number of customers.
        seed: Seed of the generator; the same seed gives the same table.
        drift: 0 for the training population, up to 1 for a fully shifted one.
    """
    if n_rows <= 0:
        raise ValueError(f"n_rows must be positive, got {n_rows}")
    if not 0.0 <= drift <= 1.0:
        raise ValueError(f"drift must be in [0, 1], got {drift}")
    rng = np.random.default_rng(seed)
    tenure = np.clip(rng.gamma(2.0, 14.0 * (1 - 0.5 * drift), n_rows), 0, 72).round()
    charges = np.clip(rng.normal(65 + 20 * drift, 20, n_rows), 18, 140).round(2)
    calls = rng.poisson(1.2 + 1.5 * drift, n_rows)
    p_monthly = 0.45 + 0.3 * drift
    contract = rng.choice(
        _CONTRACTS, n_rows, p=[p_monthly, (1 - p_monthly) * 0.55, (1 - p_monthly) * 0.45]
    )
    region = rng.choice(_REGIONS, n_rows, p=[0.3, 0.25, 0.25, 0.2])
    payment = rng.choice(_PAYMENTS, n_rows, p=[0.5, 0.3, 0.2])
    internet = rng.random(n_rows) < 0.7
    logit = (
        -1.2
        - 0.045 * tenure
        + 0.022 * (charges - 65)
        + (0.45 + 0.35 * drift) * calls
        + np.select([contract == "month-to-month", contract == "one-year"], [1.3, 0.0], -1.1)
        + 0.35 * (payment == "invoice")
        + 0.25 * (region == "south")
        - 0.2 * internet
    )
    churned = rng.random(n_rows) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "customer_id": np.arange(n_rows) + seed * 1_000_000,
            "tenure_months": tenure.astype("int64"),
            "monthly_charges": charges,
            "support_calls": calls.astype("int64"),
            "contract": contract,
            "region": region,
            "payment_method": payment,
            "has_internet": internet,
            TARGET: churned.astype("int64"),
        }
    )
