"""parse_dates' fast path for adjacent fixed-width fields (EDIFACT 2379 = 102 ``%Y%m%d``, 203
``%Y%m%d%H%M``) gives exactly what strptime with its round-trip check gives."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from exchanged.mapping import datetimes
from exchanged.mapping.transforms import _adjacent_fields, parse_dates

FORMATS = ["%Y%m%d", "%Y%m%d%H%M", "%Y%m%d%H%M%S", "%Y%m", "%Y%d%m"]
DIGITS = st.text(alphabet="0123456789", min_size=3, max_size=15) | st.text(alphabet="0129", min_size=5, max_size=13)
VALUES = st.one_of(DIGITS, st.text(alphabet="0123456789 -+.:Tx\u0660\u00e9", max_size=14),
                   st.builds(lambda y, m, d: f"{y:04d}{m:02d}{d:02d}", st.integers(0, 9999), st.integers(0, 13),
                             st.integers(0, 32)))


def via_strptime(values: pa.Array, fmt: str) -> list[str | None]:
    parsed = datetimes.strptime_exact(values, fmt)
    return pc.cast(pc.cast(parsed, pa.date32()), pa.string()).to_pylist()


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.none() | VALUES, max_size=12), fmt=st.sampled_from(FORMATS))
def test_adjacent_fields_agree_with_strptime(values: list[str | None], fmt: str) -> None:
    column = pa.array(values, pa.string())
    out, failed = parse_dates(column, fmt)
    assert isinstance(out, pa.ChunkedArray)
    assert out.to_pylist() == via_strptime(column, fmt)
    assert failed is not None and failed.to_pylist() == [v is not None and o is None for v, o in zip(values, out.to_pylist())]


def test_which_formats_take_the_fast_path() -> None:
    assert _adjacent_fields("%Y%m%d") is not None and _adjacent_fields("%Y%m%d%H%M") is not None
    for slower in ("%d%m%Y", "%d.%m.%Y", "%Y%m%Y", "%y%m%d", "%Y%b%d"):
        assert _adjacent_fields(slower) is None
    dates, _ = parse_dates(pa.array(["20240229", "20230229", "2024022", "202402290"]), "%Y%m%d")
    assert isinstance(dates, pa.ChunkedArray) and dates.to_pylist() == ["2024-02-29", None, None, None]
