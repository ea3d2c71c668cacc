"""Key uniqueness within one file: which rows hold the first occurrence of their key."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exchanged.nulls import filled

_NULL = "\x00"
_SEPARATOR = "\x1f"  # ASCII unit separator: cannot occur in an id (records.kinds.Identifier)


def key_strings(keys: pa.Table) -> pa.Array:
    """One string per row that is equal exactly when all key columns are equal (nulls included).

    The keys are typed values, which never hold control characters (``records.kinds.Identifier``),
    so NUL can stand for "no value" and US separate the parts.
    """
    parts = []
    for column in keys.columns:
        text = column if pa.types.is_string(column.type) else pc.cast(column, pa.string())
        parts.append(filled(text, _NULL))
    if len(parts) == 1:
        joined = parts[0]
    else:
        joined = pc.binary_join_element_wise(*parts, _SEPARATOR)
    return joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined


def first_occurrence(keys: pa.Table) -> np.ndarray:
    """Boolean per row: True where the row's key was not seen in an earlier row."""
    n = keys.num_rows
    if n == 0:
        return np.zeros(0, dtype=bool)
    joined = key_strings(keys)
    if n == 1 or pc.all(pc.less(joined.slice(0, n - 1), joined.slice(1))).as_py():
        # Exports usually come sorted by key: strictly rising keys are distinct, and one
        # comparison of neighbours costs a twentieth of hashing them.
        return np.ones(n, dtype=bool)
    distinct = pc.unique(joined)
    if len(distinct) == n:
        return np.ones(n, dtype=bool)
    group = np.asarray(pc.index_in(joined, value_set=distinct).to_numpy(zero_copy_only=False))
    first = np.zeros(n, dtype=bool)
    first[np.unique(group, return_index=True)[1]] = True
    return first
