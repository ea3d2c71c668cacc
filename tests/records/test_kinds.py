"""Golden cases for each field kind: the business rules spelled out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from exchanged.records.kinds import (
    BooleanKind,
    DateKind,
    DecimalKind,
    Gtin,
    Identifier,
    KindError,
    TimestampKind,
)


@pytest.mark.parametrize("gtin", ["4006381333931", "96385074", "036000291452", "10614141000415", "00000000"])
def test_valid_gtins(gtin: str) -> None:
    assert Gtin().scalar(gtin) == gtin


@pytest.mark.parametrize(
    "gtin, message",
    [
        ("4006381333932", "GS1 check digit should be 1"),
        ("400638133393", "GS1 check digit should be 0"),  # 12 digits: a UPC-A with a wrong digit
        ("40063813339", "a GTIN has 8, 12, 13 or 14 digits, not 11"),
        ("4006381-33393", "a GTIN has only digits"),
        ("٤٠٠٦٣٨١٣٣٣٩٣١", "a GTIN has only digits"),  # Arabic-Indic digits are not GS1 digits
    ],
)
def test_invalid_gtins(gtin: str, message: str) -> None:
    with pytest.raises(KindError) as info:
        Gtin().scalar(gtin)
    assert (info.value.code, info.value.message) == ("invalid-gtin", message)


def test_gtin_check_digit() -> None:
    assert Gtin.check_digit("400638133393") == 1
    assert Gtin.check_digit("9638507") == 4


@pytest.mark.parametrize(
    "text, expected",
    [("19", Decimal("19")), ("19.90", Decimal("19.9")), ("-0.5", Decimal("-0.5")), (".5", Decimal("0.5")),
     ("+3", Decimal(3)), ("1.1000000", Decimal("1.1")), ("123456789012345678.123456", Decimal("123456789012345678.123456"))],
)
def test_decimals(text: str, expected: Decimal) -> None:
    assert DecimalKind().scalar(text) == expected


@pytest.mark.parametrize("text", ["19,90", "1e5", "1 000", "0.0000001", "1234567890123456789", "NaN", ""])
def test_not_decimals(text: str) -> None:
    with pytest.raises(KindError) as info:
        DecimalKind().scalar(text)
    assert info.value.code == "invalid-decimal"


def test_decimal_range_has_its_own_code() -> None:
    with pytest.raises(KindError) as info:
        DecimalKind(minimum=Decimal(0)).scalar("-0.01")
    assert (info.value.code, info.value.message) == ("out-of-range", "must be at least 0")


def test_booleans() -> None:
    assert [BooleanKind().scalar(v) for v in ("true", "FALSE", "1", "0", "Ja", "nein")] == [True, False, True, False, True, False]
    with pytest.raises(KindError):
        BooleanKind().scalar("maybe")


def test_dates_are_real_calendar_dates() -> None:
    assert DateKind().scalar("2024-02-29") == dt.date(2024, 2, 29)
    for bad in ("2023-02-29", "27.11.2026", "2026-1-1"):
        with pytest.raises(KindError):
            DateKind().scalar(bad)


def test_a_long_date_column_parses_each_distinct_text_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from exchanged.records import kinds

    parsed: list[int] = []
    each = kinds._calendar_dates_each
    monkeypatch.setattr(kinds, "_calendar_dates_each", lambda text: parsed.append(len(text)) or each(text))
    texts = ["2026-12-01", "2023-02-29", None, "2024-02-29"] * 1000
    check = DateKind().column(pa.array(texts, pa.string()))
    assert parsed == [3]  # formatting back to text is the slow part: 3 texts, not 4,000 rows
    assert check.values.to_pylist()[:4] == [dt.date(2026, 12, 1), None, None, dt.date(2024, 2, 29)]
    [(bad, code, _)] = check.failures
    assert code == "invalid-date" and bad.to_pylist()[:4] == [False, True, False, False]


def test_timestamps_need_a_zone_and_are_stored_in_utc() -> None:
    assert TimestampKind().scalar("2026-11-27T15:41:00+01:00") == dt.datetime(2026, 11, 27, 14, 41, tzinfo=dt.timezone.utc)
    with pytest.raises(KindError) as info:
        TimestampKind().scalar("2026-11-27T15:41:00")
    assert info.value.code == "invalid-timestamp"


@pytest.mark.parametrize("bad", [" SKU-1", "SKU-1 ", "SK\tU", "", "x" * 65])
def test_identifiers(bad: str) -> None:
    assert Identifier().scalar("SKU-1/ä") == "SKU-1/ä"
    with pytest.raises(KindError):
        Identifier().scalar(bad)


@pytest.mark.parametrize(
    ("values", "bad_rows"),
    [
        (["1.5", "1/2", "2"], [1]),            # "/" lies between "." and "0": inside the byte range
        (["1.5", "-2", "3."], []),
        (["1.5", "1:2", "7"], [1]),            # ":" just above "9"
        (["1.5", "1e3", "7"], [1]),            # a letter: far outside the alphabet
    ],
)
def test_decimal_columns_refuse_bytes_inside_the_alphabets_range(values: list[str], bad_rows: list[int]) -> None:


    checked = DecimalKind().column(pa.array(values))
    failing = [i for mask, _, _ in checked.failures for i, bad in enumerate(mask.to_pylist()) if bad]
    assert failing == bad_rows


@pytest.mark.parametrize("width", [8, 12, 13, 14])
def test_gtin_columns_of_one_width_check_every_digit(width: int) -> None:
    """The one-width fast path: each single-digit change of a valid GTIN breaks its check digit."""


    valid = {8: "96385074", 12: "036000291452", 13: "4006381333931", 14: "10614141000415"}[width]
    changed = [valid[:i] + str((int(valid[i]) + 1) % 10) + valid[i + 1:] for i in range(width)]
    checked = Gtin().column(pa.array([valid, *changed, None]))
    assert checked.values.to_pylist() == [valid, *[None] * width, None]
    assert [bad for mask, _, _ in checked.failures for bad in mask.to_pylist()][: width + 2] == [False, *[True] * width, False]
