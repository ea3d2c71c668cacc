"""Decimal comma: auto detection per file, and notation -> canonical text for any decimal."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchanged.mapping import decimals
from exchanged.mapping import transforms as tf


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ([["19", "7"]], "."),
        ([["1.234"]], "."),                        # a dot decimal; never read as 1234 on its own
        ([["1,234"]], ","),
        ([["1.234", "5,5"]], ","),                 # the comma value shows the '.' is a thousands separator
        ([["1.5", "2,5"]], "."),                   # '.5' cannot be a thousands group: dot wins, 2,5 fails later
        ([["12,50", "1.234,50", None, ""]], ","),
        ([["19"], ["0,85", "25"]], ","),           # decided once per file, over all decimal fields
        ([["0.19"], ["0,85"]], "."),
        ([["3.14159", "1,5"]], "."),
        ([["1.234.567"]], "."),                    # thousands-looking, but no comma decimal anywhere
        ([["1.234.567", "1,5"]], ","),
        ([[]], "."),
        ([["Kabel 3x1,5"]], "."),                  # not a number: no evidence
    ],
)
def test_auto_detection(columns: list[list[str | None]], expected: str) -> None:
    assert tf.detect_decimal([pa.chunked_array([pa.array(c, pa.string())]) for c in columns]) == expected


def written(number: Decimal, decimal: str, thousands: str | None) -> str:
    """How an ERP writes ``number``: e.g. 1234.5 with (',', '.') -> '1.234,5'."""
    text = format(number, "f")
    sign = "-" if text.startswith("-") else ""
    integer, _, fraction = text.lstrip("-").partition(".")
    if thousands:
        head = len(integer) % 3 or 3
        integer = thousands.join([integer[:head]] + [integer[i : i + 3] for i in range(head, len(integer), 3)])
    return sign + integer + (decimal + fraction if fraction else "")


NOTATIONS = [(",", "."), (",", None), (",", " "), (",", "'"), (".", ","), (".", " "), (".", "'")]


@settings(max_examples=300, deadline=None)
@given(
    numbers=st.lists(st.decimals(min_value=-10**15, max_value=10**15, places=6, allow_nan=False), min_size=1, max_size=20),
    notation=st.sampled_from(NOTATIONS),
)
def test_any_decimal_written_in_any_notation_comes_back_canonical(numbers: list[Decimal], notation: tuple[str, str | None]) -> None:
    decimal, thousands = notation
    text = [written(n, decimal, thousands) for n in numbers]
    values, failed = tf.parse_decimals(pa.chunked_array([pa.array(text)]), decimal, thousands)
    assert values.to_pylist() == [format(n, "f") for n in numbers]
    assert failed is not None and not any(failed.to_pylist())


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(st.one_of(st.none(), st.text(alphabet="0123456789.,+- '", max_size=12)), min_size=1, max_size=30),
    notation=st.sampled_from(NOTATIONS + [(",", ","), (".", None)]),
)
def test_the_numpy_path_agrees_with_the_reference_regex(text: list[str | None], notation: tuple[str, str | None]) -> None:
    decimal, thousands = notation
    if thousands == decimal:
        thousands = None
    ascii_only = pa.array(text, pa.string())
    fast = decimals.notation(ascii_only, decimal, thousands)
    reference = decimals._regex_notation(ascii_only, decimal, thousands)
    assert fast.ok.tolist() == reference.ok.tolist()
    # the regex path is taken for a chunk with a non-ASCII value: the same values convert the same
    converted, _ = decimals.convert(ascii_only, decimal, thousands)
    via_regex, _ = decimals.convert(pa.array([*text, "ä"], pa.string()), decimal, thousands)
    assert converted.to_pylist() == via_regex.to_pylist()[:-1]


def test_long_values_take_the_regex_path_and_still_convert() -> None:
    long_number = "1" + ".000" * 80 + ",5"
    values, _ = tf.parse_decimals(pa.array([long_number, "1,5"]), ",", ".")
    assert values.to_pylist() == ["1" + "000" * 80 + ".5", "1.5"]
