"""The tabular inputs models accept (pandas, polars, Arrow, numpy, dicts), read as pandas.

Models see a pandas DataFrame: it is what scikit-learn, XGBoost and LightGBM were trained
on with column names, and what the other flavors convert from cheaply.

>>> import numpy as np
>>> list(as_pandas(np.zeros((1, 2)), names=("a", "b")).columns)
['a', 'b']
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from loopml.core.errors import ValidationError

__all__ = ["ACCEPTED", "as_arrow", "as_pandas", "rows_of"]

ACCEPTED = "a pandas or polars DataFrame, a pyarrow Table, a 2-D numpy array or a dict of columns"


def as_arrow(data: object) -> pa.Table | None:
    """``data`` as an Arrow table when it is a polars frame or Arrow data, else None."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    polars = sys.modules.get("polars")  # never imported just to find out it is not polars
    if polars is not None and isinstance(data, polars.DataFrame):
        table: pa.Table = data.to_arrow()
        return table
    return None


def as_pandas(data: object, *, names: Sequence[str] | None = None) -> pd.DataFrame:
    """``data`` as a pandas DataFrame with string column names.

    Args:
        data: One of the inputs listed in :data:`ACCEPTED`.
        names: Column names for a numpy array of the same width; other arrays get
            ``"0"``, ``"1"`` ...

    Raises:
        ValidationError: ``data`` is none of the accepted inputs, or an array not 2-D.
    """
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise ValidationError(
                f"a numpy array of {data.ndim} dimension(s) is not a table: pass a 2-D "
                "array (rows x columns)",
                field="data",
            )
        width = data.shape[1]
        columns = list(names) if names is not None and len(names) == width else None
        frame = pd.DataFrame(data, columns=columns or [str(i) for i in range(width)])
    elif isinstance(data, pd.Series):
        frame = data.to_frame(name=str(data.name) if data.name is not None else "0")
    elif isinstance(data, Mapping):
        frame = pd.DataFrame(dict(data))
    else:
        table = as_arrow(data)
        if table is None:
            raise ValidationError(
                f"a model takes {ACCEPTED}, not a {type(data).__qualname__}", field="data"
            )
        frame = table.to_pandas()
    if not all(isinstance(column, str) for column in frame.columns):
        frame = frame.set_axis([str(column) for column in frame.columns], axis=1)
    return frame


def rows_of(data: Any, n_rows: int) -> Any:
    """The first ``n_rows`` rows of any accepted input, in its own type."""
    if isinstance(data, pd.DataFrame | pd.Series):
        return data.iloc[:n_rows]
    if isinstance(data, np.ndarray | pa.Table | pa.RecordBatch):
        return data[:n_rows]
    if isinstance(data, Mapping):
        return {key: list(values)[:n_rows] for key, values in data.items()}
    head = getattr(data, "head", None)
    return head(n_rows) if callable(head) else data
