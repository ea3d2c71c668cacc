"""The shipped code lists (exchanged/records/data) and their loader."""

from __future__ import annotations

import csv
import io
import re
from importlib import resources

import pytest

from exchanged.records import codes


def _rows(name: str) -> list[dict[str, str]]:
    text = (resources.files("exchanged.records") / "data" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("unece_rec20.csv", ["code", "name", "level", "status"]),
        ("iso4217.csv", ["code", "numeric", "minor_units", "name"]),
        ("iso3166.csv", ["code", "alpha3", "name"]),
        ("eancom_units.csv", ["code", "rec20", "note"]),
    ],
)
def test_files_have_their_header_and_no_duplicate_code(name: str, header: list[str]) -> None:
    rows = _rows(name)
    assert list(rows[0]) == header
    keys = [row["code"] for row in rows]
    assert len(keys) == len(set(keys))
    assert all(value is not None and value == value.strip() for row in rows for value in row.values())


# --- UN/ECE Recommendation 20 -------------------------------------------------------------


def test_rec20_is_the_full_list() -> None:
    rows = _rows("unece_rec20.csv")
    assert 2000 < len(rows) < 2500
    assert 1500 < len(codes.unit_codes()) < 2100
    assert {row["status"] for row in rows} == {"active", "deprecated", "deleted"}


def test_rec20_codes_and_levels_are_well_formed() -> None:
    for row in _rows("unece_rec20.csv"):
        assert re.fullmatch(r"[A-Z0-9]{2,3}", row["code"]), row
        assert row["name"], row
        assert re.fullmatch(r"(1|1S|1M|2|2S|3|3\.[1-9])(;(1S|1M|2|3\.[1-9]))*", row["level"]), row


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("C62", "one"),
        ("H87", "piece"),
        ("KGM", "kilogram"),
        ("GRM", "gram"),
        ("TNE", "tonne (metric ton)"),
        ("MTR", "metre"),
        ("CMT", "centimetre"),
        ("MMT", "millimetre"),
        ("KMT", "kilometre"),
        ("MTK", "square metre"),
        ("MTQ", "cubic metre"),
        ("LTR", "litre"),
        ("HUR", "hour"),
        ("DAY", "day"),
        ("SET", "set"),
        ("PR", "pair"),
        ("EA", "each"),
        ("ZZ", "mutually defined"),
    ],
)
def test_known_units(code: str, name: str) -> None:
    assert code in codes.unit_codes()
    assert codes.unit_name(code) == name


def test_deprecated_units_are_valid_and_deleted_ones_are_not() -> None:
    assert "NPR" in codes.unit_codes()  # number of pairs: deprecated, still in force
    for deleted in ("KG", "BX", "CT", "PK", "KTM"):  # moved to Rec 21 or withdrawn
        assert deleted not in codes.unit_codes()
        assert codes.unit_name(deleted) is None


@pytest.mark.parametrize("code", ["PCE", "PCS", "XXX", "kgm", "", "C6"])
def test_not_units(code: str) -> None:
    assert code not in codes.unit_codes()
    assert codes.unit_name(code) is None


# --- ISO 4217 -----------------------------------------------------------------------------


def test_currencies() -> None:
    currencies = codes.currency_codes()
    assert 150 < len(currencies) < 200
    assert all(re.fullmatch(r"[A-Z]{3}", code) for code in currencies)
    assert {"EUR", "USD", "CHF", "GBP", "JPY", "BHD", "XAU", "CHW"} <= currencies
    assert not {"XTS", "XXX", "DEM", "HRK", "eur", "EU"} & currencies


def test_currency_file_is_well_formed() -> None:
    for row in _rows("iso4217.csv"):
        assert re.fullmatch(r"\d{3}", row["numeric"]), row
        assert re.fullmatch(r"\d?", row["minor_units"]), row
        assert row["name"], row


@pytest.mark.parametrize(
    ("code", "minor_units"),
    [("EUR", 2), ("USD", 2), ("CHF", 2), ("JPY", 0), ("BHD", 3), ("KWD", 3), ("CLF", 4), ("XAU", None), ("XXX", None), ("NOPE", None)],
)
def test_currency_minor_units(code: str, minor_units: int | None) -> None:
    assert codes.currency_minor_units(code) == minor_units


# --- ISO 3166-1 ---------------------------------------------------------------------------


def test_countries() -> None:
    countries = codes.country_codes()
    assert 240 < len(countries) < 260
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in countries)
    assert {"DE", "AT", "CH", "FR", "GB", "US", "LI"} <= countries
    assert not {"UK", "EU", "XX", "de", "DEU"} & countries


def test_country_file_is_well_formed() -> None:
    rows = _rows("iso3166.csv")
    assert all(re.fullmatch(r"[A-Z]{3}", row["alpha3"]) and row["name"] for row in rows)
    assert {row["code"]: row["alpha3"] for row in rows}["DE"] == "DEU"


# --- EANCOM aliases -----------------------------------------------------------------------


def test_eancom_aliases() -> None:
    aliases = codes.eancom_unit_aliases()
    assert aliases["PCE"] == "C62"
    assert aliases["KG"] == "KGM"
    assert set(aliases.values()) <= codes.unit_codes()  # every target is a Rec 20 code in force
    assert not set(aliases) & codes.unit_codes()  # an alias never shadows a Rec 20 code


def test_eancom_aliases_are_a_copy() -> None:
    codes.eancom_unit_aliases()["PCE"] = "H87"
    assert codes.eancom_unit_aliases()["PCE"] == "C62"


def test_code_sets_are_cached_frozensets() -> None:
    for load in (codes.unit_codes, codes.currency_codes, codes.country_codes):
        assert isinstance(load(), frozenset)
        assert load() is load()
