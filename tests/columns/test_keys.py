"""Key uniqueness within a file: the first occurrence of a key wins, whatever order the rows are in."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from exchanged.columns.keys import first_occurrence


def _first_by_python(rows: list[tuple[str | None, ...]]) -> list[bool]:
    seen: set[tuple[str | None, ...]] = set()
    out = []
    for row in rows:
        out.append(row not in seen)
        seen.add(row)
    return out


def test_rising_keys_are_all_first() -> None:
    keys = pa.table({"sku": ["A-1", "A-2", "B", "b"]})
    assert first_occurrence(keys).tolist() == [True, True, True, True]


def test_sorted_keys_that_repeat_are_not_taken_for_rising() -> None:
    keys = pa.table({"sku": ["A", "B", "B", "C"]})  # sorted, but not strictly: the neighbours are equal
    assert first_occurrence(keys).tolist() == [True, True, False, True]


def test_composite_key_rising_in_its_joined_form_with_a_repeat_later() -> None:
    keys = pa.table({"sku": ["A", "A", "B", "A"], "currency": ["EUR", "USD", "EUR", "EUR"]})
    assert first_occurrence(keys).tolist() == [True, True, True, False]


# Typed keys never hold control characters (records.kinds.Identifier refuses them), which is what
# lets key_strings use NUL for "no value" and US as the separator.
_KEY_TEXT = st.one_of(st.none(), st.sampled_from(["", "A", "A B", "B", "a", "Ä", "0"]))


@given(st.lists(st.tuples(_KEY_TEXT, _KEY_TEXT), max_size=30), st.booleans())
def test_first_occurrence_matches_a_set_scan(rows: list[tuple[str | None, str | None]], sort: bool) -> None:
    if sort:  # sorted input takes the neighbour comparison first; the verdict must not change
        rows = sorted(rows, key=lambda r: tuple((v is not None, v or "") for v in r))
    keys = pa.table({"a": pa.array([r[0] for r in rows], pa.string()), "b": pa.array([r[1] for r in rows], pa.string())})
    expected = _first_by_python(rows)
    assert first_occurrence(keys).tolist() == expected
    assert first_occurrence(keys).dtype == np.bool_
