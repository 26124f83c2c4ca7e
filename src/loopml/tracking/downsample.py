"""Downsampling of long metric series for charts: largest triangle, three buckets (LTTB).

LTTB (Steinarsson, 2013) keeps the first and the last point and, from each of
``n_out - 2`` equal buckets in between, the point that spans the largest triangle with
the point kept from the bucket before and the mean of the bucket after. Peaks and dips
survive, which is what a reader of a loss curve looks for.

Each pick depends on the previous one, so the walk over buckets is a loop; all the work
inside a bucket (and the bucket means) is vectorised with numpy, so a million points
come down to a thousand in a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["lttb_indices"]


def lttb_indices(
    x: Sequence[float] | npt.ArrayLike, y: Sequence[float] | npt.ArrayLike, n_out: int
) -> npt.NDArray[np.int64]:
    """Indices of the points LTTB keeps, ascending; first and last always included.

    Args:
        x: Positions (steps), ascending.
        y: Values; NaN and +/-Inf are allowed (infinite points are always kept, NaN
            points count as 0 when areas are compared).
        n_out: How many points to keep, at least 2. A series no longer than ``n_out``
            is kept whole.

    Returns:
        An ``int64`` array of ``min(n_out, len(x))`` indices into ``x`` and ``y``.

    Raises:
        ValueError: ``n_out`` is below 2 or the lengths differ.

    >>> import numpy as np
    >>> y = np.array([0.0, 1, 0, 9, 0, 1, 0, -7, 0, 1, 0, 0])
    >>> lttb_indices(np.arange(12), y, 6).tolist()
    [0, 2, 3, 7, 8, 11]
    >>> lttb_indices([0, 1, 2], [1.0, 2.0, 3.0], 10).tolist()
    [0, 1, 2]
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    if xs.shape != ys.shape or xs.ndim != 1:
        raise ValueError(f"x and y must be 1-d and equally long, got {xs.shape} and {ys.shape}")
    if n_out < 2:
        raise ValueError(f"n_out must be at least 2, got {n_out}")
    n = len(xs)
    if n <= n_out:
        return np.arange(n, dtype=np.int64)
    if n_out == 2:
        return np.array([0, n - 1], dtype=np.int64)
    with np.errstate(all="ignore"):
        finite = ys[np.isfinite(ys)]
        span = float(np.abs(finite).max()) if finite.size else 1.0
        # Infinite points must win their bucket; a finite stand-in far beyond every
        # finite value does that without inf - inf = NaN in the areas.
        big = (span + 1.0) * 1e6
        yv = np.nan_to_num(ys, nan=0.0, posinf=big, neginf=-big)
        edges = np.linspace(1, n - 1, n_out - 1).astype(np.int64)
        # Means of every bucket from cumulative sums: one vectorised pass.
        cx = np.concatenate(([0.0], np.cumsum(xs)))
        cy = np.concatenate(([0.0], np.cumsum(yv)))
        counts = np.maximum(edges[1:] - edges[:-1], 1)
        mean_x = (cx[edges[1:]] - cx[edges[:-1]]) / counts
        mean_y = (cy[edges[1:]] - cy[edges[:-1]]) / counts
        kept = np.empty(n_out, dtype=np.int64)
        kept[0], kept[-1] = 0, n - 1
        a = 0
        n_buckets = n_out - 2
        for i in range(n_buckets):
            lo, hi = int(edges[i]), max(int(edges[i + 1]), int(edges[i]) + 1)
            if i + 1 < n_buckets:
                next_x, next_y = mean_x[i + 1], mean_y[i + 1]
            else:
                next_x, next_y = xs[n - 1], yv[n - 1]
            ax, ay = xs[a], yv[a]
            area = np.abs((ax - next_x) * (yv[lo:hi] - ay) - (ax - xs[lo:hi]) * (next_y - ay))
            a = lo + int(np.argmax(area))
            kept[i + 1] = a
    return kept
