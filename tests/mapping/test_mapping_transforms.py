"""Each columnar transform, golden input -> output, failures as null plus a failure mask."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchanged.mapping import datetimes
from exchanged.mapping import transforms as tf


def col(*values: str | None) -> pa.ChunkedArray:
    """Two chunks, as the CSV reader gives big files."""
    half = len(values) // 2
    return pa.chunked_array([pa.array(values[:half], pa.string()), pa.array(values[half:], pa.string())])


def run(result: tuple) -> tuple[list, list | None]:
    values, failed = result
    return values.to_pylist(), (None if failed is None else [bool(x) for x in failed.to_pylist()])


def test_strip_trims_unicode_blanks_and_leaves_clean_columns_alone() -> None:
    messy = col("  a ", "\tb\r\n", "\u00a0c\u202f", "d\u3000", "x y", None, "")
    assert tf.strip_blanks(messy).to_pylist() == ["a", "b", "c", "d", "x y", None, ""]
    clean = col("A-1", "Größe", None, "")
    assert tf.may_need_strip(clean) is False
    assert tf.strip_blanks(clean) is clean
    assert tf.may_need_strip(col("ok", "ends in no-break space\u00a0")) is True


def test_empty_becomes_null_or_stays_empty_text() -> None:
    assert tf.empty_to_null(col("", "a", None, " ")).to_pylist() == [None, "a", None, " "]
    assert tf.keep_empty(col("", "a", None, "b")).to_pylist() == ["", "a", "", "b"]


def test_join_skips_empty_parts() -> None:
    street = pa.array(["Hauptstr.", None, "Ring", None])
    number = pa.array(["5", "7", None, None])
    assert tf.join_columns([street, number], " ").to_pylist() == ["Hauptstr. 5", "7", "Ring", None]


def test_constant_and_case() -> None:
    assert tf.constant("EUR", 3).to_pylist() == ["EUR"] * 3
    assert tf.constant(None, 2).to_pylist() == [None, None]
    assert tf.change_case(col("stk", "Kg"), "upper").to_pylist() == ["STK", "KG"]
    assert tf.change_case(col("STK", "Kg"), "lower").to_pylist() == ["stk", "kg"]


def test_map_passes_unmapped_values_through_unless_strict() -> None:
    table = {"Stk": "C62", "kg": "KGM", "-": ""}
    assert run(tf.map_codes(col("Stk", "kg", "Stück", None, "-"), table, False)) == (["C62", "KGM", "Stück", None, None], None)
    assert run(tf.map_codes(col("Stk", "kg", "Stück", None, "-"), table, True)) == (
        ["C62", "KGM", None, None, None], [False, False, True, False, False]
    )


def test_dates_in_a_format_become_iso_and_impossible_ones_fail() -> None:
    values = col("01.12.2026", "1.2.2026", "31.02.2026", "29.02.2028", "2026-12-01", "01.12.26", None, "31.04.2026")
    assert run(tf.parse_dates(values, "%d.%m.%Y")) == (
        ["2026-12-01", "2026-02-01", None, "2028-02-29", None, None, None, None],
        [False, False, True, False, True, True, False, True],
    )
    assert run(tf.parse_dates(col("01.12.26", "31.12.99"), "%d.%m.%y")) == (["2026-12-01", "1999-12-31"], [False, False])
    assert run(tf.parse_dates(col("20261201", "2026-1201"), "%Y%m%d"))[0] == ["2026-12-01", None]


def test_timestamps_get_the_zone_and_come_out_in_utc() -> None:
    values = col("27.11.2026 08:00", "01.07.2026 08:00", "29.03.2026 02:30", "25.10.2026 02:30", "27.11.2026", None,
                 "31.11.2026 08:00", "27.11.2026 24:00")
    assert run(tf.parse_timestamps(values, "%d.%m.%Y %H:%M", "Europe/Berlin")) == (
        ["2026-11-27T07:00:00Z", "2026-07-01T06:00:00Z", None, "2026-10-25T00:30:00Z", None, None, None, None],
        [False, False, True, False, True, False, True, True],  # 02:30 on 29 March does not exist in Berlin
    )


def test_timestamps_with_their_own_offset() -> None:
    values = col("27.11.2026 08:00 +0100", "27.11.2026 08:00 +0000", "27.11.2026 08:00", "31.11.2026 08:00 +0100")
    assert run(tf.parse_timestamps(values, "%d.%m.%Y %H:%M %z", None)) == (
        ["2026-11-27T07:00:00Z", "2026-11-27T08:00:00Z", None, None], [False, False, True, True]
    )


def test_iso_timestamps_without_offset_take_the_zone_and_the_others_pass() -> None:
    values = col("2026-11-27T08:00:00", "2026-11-27 08:00", "2026-11-27T08:00:00Z", "2026-11-27T08:00:00+05:30", "gestern", None)
    assert run(tf.parse_timestamps(values, None, "Europe/Berlin")) == (
        ["2026-11-27T07:00:00Z", "2026-11-27T07:00:00Z", "2026-11-27T08:00:00Z", "2026-11-27T08:00:00+05:30", None, None],
        [False, False, False, False, True, False],
    )


@pytest.mark.parametrize(
    ("fmt", "given", "expected"),
    [
        ("%d.%m.%Y", ["29.02.2028", "29.02.2026", "31.04.2026", "00.01.2026", "1.13.2026", "01.12.0026", "1.12.2026x"],
         ["2028-02-29", None, None, None, None, None, None]),
        ("%Y-%m-%d", ["2026-12-01", "2026-1-1", "26-12-01", "2026/12/01"], ["2026-12-01", "2026-01-01", None, None]),
        ("%d/%m/%y", ["01/12/26", "31/12/68", "01/01/69", "1/1/2026"], ["2026-12-01", "2068-12-31", "1969-01-01", None]),
        ("%d.%m.%Y", ["01.12.2026", "01-12-2026", "31.02.2026", "0a.12.2026"], ["2026-12-01", None, None, None]),
        ("%d.%m.%Y %H:%M", ["01.12.2026 08:00", None, "02.12.2026 09:30", None], ["2026-12-01", None, "2026-12-02", None]),
        ("%Y%m%d", ["20261201", "20260231"], ["2026-12-01", None]),               # general path
        ("%d %b %Y", ["01 Dec 2026", "31 Feb 2026"], ["2026-12-01", None]),       # general path
    ],
)
def test_date_formats_numeric_and_general(fmt: str, given: list[str], expected: list[str | None]) -> None:
    assert tf.parse_dates(col(*given), fmt)[0].to_pylist() == expected


@pytest.mark.parametrize(
    ("decimal", "thousands", "given", "expected"),
    [
        (",", ".", ["1.234,50", "-0,25", "12", ",5", "5,", "+1.234", "12.345.678,9"],
         ["1234.50", "-0.25", "12", "0.5", "5", "1234", "12345678.9"]),
        (",", ".", ["1.5", "1,2,3", "12.34,5", "1.234.56", "abc", "-", ".123", "1 234"], [None] * 8),
        (",", None, ["1234,5", "1.234,5"], ["1234.5", None]),
        (".", ",", ["1,234.5", "12,345,678", "1.5", "1,5"], ["1234.5", "12345678", "1.5", None]),
        (",", " ", ["1 234,5", "1\u00a0234,5", "1\u202f234", "12 34,5"], ["1234.5", "1234.5", "1234", None]),
        (".", "'", ["1'234.50", "1234.5"], ["1234.50", "1234.5"]),
    ],
)
def test_decimal_notation_to_canonical(decimal: str, thousands: str | None, given: list[str], expected: list[str | None]) -> None:
    values, failed = tf.parse_decimals(col(*given, None), decimal, thousands)
    assert values.to_pylist() == [*expected, None]
    assert failed is not None and failed.to_pylist() == [e is None for e in expected] + [False]


def test_dot_decimals_without_thousands_pass_untouched() -> None:
    values = col("1.5", "1,5", "x")
    assert tf.parse_decimals(values, ".", None) == (values, None)


def test_scale_multiplies_exactly() -> None:
    values = col("0.19", "0.07", "1", "-.5", "2.", "12,5", "0.1234567", None)
    assert run(tf.scale_decimals(values, Decimal(100))) == (
        ["19", "7", "100", "-50", "200", None, "12.34567", None],
        [False, False, False, False, False, True, False, False],
    )
    assert run(tf.scale_decimals(col("1500", "0"), Decimal("0.001"))) == (["1.5", "0"], [False, False])
    assert run(tf.scale_decimals(col("-0.001", "3"), Decimal("0.5")))[0] == ["-0.0005", "1.5"]


@settings(max_examples=200, deadline=None)
@given(
    dates=st.lists(st.tuples(st.integers(0, 35), st.integers(0, 14), st.integers(1000, 9999), st.booleans()), min_size=1, max_size=20),
    fmt=st.sampled_from(["%d.%m.%Y", "%Y-%m-%d", "%m/%d/%Y"]),
)
def test_the_numeric_date_parser_agrees_with_python(dates: list[tuple[int, int, int, bool]], fmt: str) -> None:
    def text(day: int, month: int, year: int, padded: bool) -> str:
        d, m = (f"{day:02d}", f"{month:02d}") if padded else (str(day), str(month))
        return fmt.replace("%d", d).replace("%m", m).replace("%Y", str(year))

    def python(value: str) -> str | None:
        try:
            return dt.datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            return None

    given = [text(*date) for date in dates]
    assert tf.parse_dates(pa.array(given), fmt)[0].to_pylist() == [python(v) for v in given]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-354_285, 2_932_896), min_size=1, max_size=50))  # years 1000 to 9999
def test_civil_dates_round_trip(days: list[int]) -> None:
    values = np.array(days, dtype=np.int64)
    year, month, day = datetimes.civil_from_days(values)
    expected = [dt.date(1970, 1, 1) + dt.timedelta(days=d) for d in days]
    assert list(zip(year.tolist(), month.tolist(), day.tolist())) == [(d.year, d.month, d.day) for d in expected]
    assert datetimes.days_from_civil(year, month, day).tolist() == days
