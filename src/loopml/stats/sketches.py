"""Estimates from streaming sketches that a database filled (pure, vectorised numpy).

HyperLogLog counts distinct values in a fixed memory: each value's 64-bit hash picks one
of ``m = 2**precision`` registers by its top ``precision`` bits, and the register keeps
the largest *rank* seen, the number of trailing zero bits of the other ``q = 64 -
precision`` bits plus one (``q + 1`` when they are all zero). :func:`hyperloglog_estimate`
turns the registers into a count with Ertl's improved estimator ("New cardinality
estimation algorithms for HyperLogLog sketches", 2017), which needs no bias tables and is
unbiased from empty to billions; its relative standard error is ``1.04 / sqrt(m)``, 0.8%
for the default precision 14.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from loopml.core.errors import ValidationError

__all__ = ["HLL_PRECISION", "hyperloglog_estimate"]

HLL_PRECISION = 14
"""Default register bits: 16,384 registers, 0.8% relative standard error."""


def _sigma(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Ertl's sigma(x) = x + sum_k x**(2**k) * 2**(k-1), for x in [0, 1]."""
    out = x.copy()
    power, weight = x.copy(), 1.0
    for _ in range(64):  # converges in a few dozen steps; x == 1 is handled by the caller
        power = power * power
        out = out + power * weight
        weight *= 2.0
    return out


def _tau(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Ertl's tau(x) = (1 - x - sum_k (1 - x**(2**-k))**2 * 2**-k) / 3, for x in [0, 1]."""
    total = 1.0 - x
    root, weight = x.copy(), 1.0
    for _ in range(64):
        root = np.sqrt(root)
        weight /= 2.0
        total = total - (1.0 - root) ** 2 * weight
    return total / 3.0


def hyperloglog_estimate(
    registers: npt.ArrayLike, *, precision: int = HLL_PRECISION
) -> npt.NDArray[np.float64]:
    """Distinct counts from HyperLogLog registers, one estimate per row.

    Args:
        registers: Ranks, shape ``(m,)`` or ``(n_sketches, m)`` with ``m = 2**precision``;
            0 marks a register no value reached.
        precision: Bits that pick the register.

    Returns:
        One estimate per sketch (shape ``(n_sketches,)``; ``(1,)`` for one sketch).

    >>> m = 2**4
    >>> hyperloglog_estimate(np.zeros(m), precision=4)
    array([0.])
    >>> rng = np.random.default_rng(0)
    >>> hashes = rng.integers(0, 2**64, size=100_000, dtype=np.uint64)  # 100,000 values
    >>> index = (hashes >> np.uint64(52)).astype(np.int64)  # top 12 bits
    >>> low = hashes & np.uint64(2**52 - 1) | np.uint64(2**52)  # 52 bits + a stop bit
    >>> lowest_bit = low & (~low + np.uint64(1))
    >>> rank = np.log2(lowest_bit.astype(np.float64)).astype(np.int64) + 1
    >>> registers = np.zeros(2**12, dtype=np.int64)
    >>> np.maximum.at(registers, index, rank)
    >>> estimate = hyperloglog_estimate(registers, precision=12)[0]
    >>> bool(abs(estimate / 100_000 - 1) < 0.05)
    True
    """
    if isinstance(precision, bool) or not isinstance(precision, int) or not 4 <= precision <= 18:
        raise ValidationError("precision must be an integer from 4 to 18", field="precision")
    ranks = np.atleast_2d(np.asarray(registers, dtype=np.int64))
    m, q = 1 << precision, 64 - precision
    if ranks.shape[1] != m or np.any(ranks < 0) or np.any(ranks > q + 1):
        raise ValidationError(
            f"registers must be {m} ranks per sketch, each from 0 to {q + 1}", field="registers"
        )
    # counts[s, k]: how many registers of sketch s hold rank k.
    offsets = (np.arange(ranks.shape[0]) * (q + 2))[:, None]
    counts = np.bincount((ranks + offsets).ravel(), minlength=ranks.shape[0] * (q + 2))
    counts = counts.reshape(ranks.shape[0], q + 2).astype(np.float64)
    z = m * _tau(1.0 - counts[:, q + 1] / m)
    for k in range(q, 0, -1):  # over ranks (at most 61), not over values
        z = 0.5 * (z + counts[:, k])
    z = z + m * _sigma(counts[:, 0] / m)
    with np.errstate(divide="ignore"):
        estimate = m * m / (2.0 * np.log(2.0) * z)
    # All registers empty: sigma(1) diverges, and the count is exactly 0.
    return np.where(counts[:, 0] == m, 0.0, estimate)
