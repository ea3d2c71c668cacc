"""Reference code lists shipped as CSV in ``exchanged/records/data`` (sources: data/PROVENANCE.md).

* ``unece_rec20.csv``: UN/ECE Recommendation No. 20, *Codes for Units of Measure Used in
  International Trade*, Revision 17 (Annexes II/III), with each code's level and status
  (``active``, ``deprecated`` or ``deleted``). Deleted codes stay in the file for reference
  but are not valid unit codes.
* ``iso4217.csv``: ISO 4217 currency codes (List One as published by SIX) without ``XTS``
  (testing) and ``XXX`` (no currency).
* ``iso3166.csv``: ISO 3166-1 alpha-2 country codes.
* ``eancom_units.csv``: measure unit codes found in EANCOM/EDIFACT files that are not Rec 20
  codes, with the Rec 20 code each stands for (``PCE`` -> ``C62``).

Each list is read once, on first use.
"""

from __future__ import annotations

import csv
import functools
import io
from importlib import resources

__all__ = [
    "country_codes",
    "currency_codes",
    "currency_minor_units",
    "eancom_unit_aliases",
    "unit_codes",
    "unit_name",
]


def _rows(name: str) -> list[dict[str, str]]:
    text = (resources.files("exchanged.records") / "data" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


@functools.cache
def _units() -> dict[str, str]:
    """Rec 20 code -> name, for the codes that are not deleted (active or deprecated)."""
    return {row["code"]: row["name"] for row in _rows("unece_rec20.csv") if row["status"] != "deleted"}


@functools.cache
def _currencies() -> dict[str, int | None]:
    """ISO 4217 code -> minor units (None where the standard says N.A., e.g. XAU)."""
    return {
        row["code"]: int(row["minor_units"]) if row["minor_units"] else None
        for row in _rows("iso4217.csv")
    }


@functools.cache
def unit_codes() -> frozenset[str]:
    """UN/ECE Rec. 20 unit codes in force (active or deprecated, not deleted): C62, KGM, MTR, …"""
    return frozenset(_units())


def unit_name(code: str) -> str | None:
    """The Rec. 20 name of a unit code in force (``"KGM"`` -> ``"kilogram"``), else None."""
    return _units().get(code)


@functools.cache
def currency_codes() -> frozenset[str]:
    """ISO 4217 alphabetic currency codes (funds and X-codes included, XTS and XXX excluded)."""
    return frozenset(_currencies())


def currency_minor_units(code: str) -> int | None:
    """ISO 4217 minor units (EUR 2, JPY 0, BHD 3); None for an unknown code or N.A. (XAU)."""
    return _currencies().get(code)


@functools.cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 country codes: DE, AT, CH, …"""
    return frozenset(row["code"] for row in _rows("iso3166.csv"))


@functools.cache
def _eancom_unit_aliases() -> dict[str, str]:
    return {row["code"]: row["rec20"] for row in _rows("eancom_units.csv")}


def eancom_unit_aliases() -> dict[str, str]:
    """EANCOM/EDIFACT unit codes that are not Rec. 20 -> their Rec. 20 code (PCE -> C62).

    A fresh dict on each call, so a caller may change it without touching the cache.
    """
    return dict(_eancom_unit_aliases())
