"""The pricing rules for one sku, written out row by row as the package docstring states them.

``PriceBook.quote`` answers with this; ``sheet.py`` computes the same for every sku at once from
the precedence-sorted columns. The two are written independently on purpose, and the tests check
that they agree on random books (tests/pricing/test_equivalence.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from exchanged.pricing.results import LEVELS, Level
from exchanged.pricing.terms import CustomerTerms

__all__ = ["winning_row", "level_of", "applies_to", "valid_on"]

Row = Mapping[str, Any]


def level_of(row: Row) -> Level:
    """A row belongs to the most specific customer key it sets."""
    if row["customer_id"] is not None:
        return Level.CUSTOMER
    if row["customer_group"] is not None:
        return Level.CUSTOMER_GROUP
    if row["price_list"] is not None:
        return Level.PRICE_LIST
    return Level.LIST


def applies_to(row: Row, terms: CustomerTerms) -> bool:
    """Every customer key the row sets must be the customer's (as all fields of a condition
    record's key must match in an ERP): a customer-specific row that also names a price list
    applies only while the customer is on that list."""
    return all(row[name] is None or row[name] == terms.key(name) for name in ("customer_id", "customer_group", "price_list"))


def valid_on(row: Row, day: dt.date) -> bool:
    """``valid_from`` ≤ day ≤ ``valid_to``, both inclusive, a null end open."""
    return (row["valid_from"] is None or row["valid_from"] <= day) and (row["valid_to"] is None or day <= row["valid_to"])


def winning_row(rows: Iterable[Row], terms: CustomerTerms, currency: str, day: dt.date, quantity: Decimal) -> Row | None:
    """The row that prices ``quantity`` of one sku for ``terms`` on ``day`` in ``currency``, or None.

    Levels in precedence order; the first level with an applicable row wins (a level whose rows
    are all expired, not yet valid, in another currency or above the quantity falls through);
    within it the highest quantity break reached; remaining ties by ``_tie_order``.
    """
    applicable = [row for row in rows if row["currency"] == currency and applies_to(row, terms)
                  and valid_on(row, day) and row["min_quantity"] <= quantity]
    for level in LEVELS:
        at_level = [row for row in applicable if level_of(row) is level]
        if at_level:
            return min(at_level, key=_tie_order)
    return None


def _tie_order(row: Row) -> tuple[Any, ...]:
    """Highest break first; then the row restricting more keys; then the later ``valid_from``
    (a newer agreement supersedes an older overlapping one; an open start is the oldest); then
    the lower amount; then ``price_list`` and ``customer_group`` alphabetically, so the choice
    never depends on row order."""
    specificity = sum(row[name] is not None for name in ("customer_id", "customer_group", "price_list"))
    starts = row["valid_from"] or dt.date.min
    return (-row["min_quantity"], -specificity, -starts.toordinal(), row["amount"],
            _nulls_last(row["price_list"]), _nulls_last(row["customer_group"]))


def _nulls_last(value: str | None) -> tuple[bool, str]:
    return (value is None, value or "")
