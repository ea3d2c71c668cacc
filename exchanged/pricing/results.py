"""What a price lookup answers: a ``Quote`` (the price and why) or a ``NoPrice`` (why not)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from exchanged.records.types import format_decimal

__all__ = ["Level", "Quote", "NoPrice", "Lookup", "NO_PRICE", "MIXED_CURRENCY", "NO_CURRENCY", "CURRENCY_MISMATCH"]

# Reason codes of a NoPrice: stable strings, as issue codes are elsewhere in the package.
NO_PRICE = "no-price"
MIXED_CURRENCY = "mixed-currency"
NO_CURRENCY = "no-currency"
CURRENCY_MISMATCH = "currency-mismatch"


class Level(StrEnum):
    """The precedence levels, most specific first (their order is the precedence)."""

    CUSTOMER = "customer"
    CUSTOMER_GROUP = "customer_group"
    PRICE_LIST = "price_list"
    LIST = "list"

    @property
    def rank(self) -> int:
        return _RANKS[self]


LEVELS: tuple[Level, ...] = tuple(Level)
_RANKS = {level: rank for rank, level in enumerate(LEVELS)}


@dataclass(frozen=True)
class Lookup:
    """The question as the engine understood it: whose price, of what, how many, on which day
    (``date``: ``at`` in the book's zone), in which currency and why that one (``currency_source``:
    ``customer``, ``requested``, ``price-list`` or ``book``; None when no currency was settled)."""

    customer_id: str
    sku: str
    quantity: Decimal
    at: dt.datetime
    date: dt.date
    requested_currency: str | None
    currency: str | None
    currency_source: str | None
    known_customer: bool


@dataclass(frozen=True)
class Quote:
    """A price found: ``amount`` is the published Decimal (never rounded, never a float)."""

    lookup: Lookup
    amount: Decimal
    currency: str
    level: Level
    min_quantity: Decimal
    valid_from: dt.date | None
    valid_to: dt.date | None
    price_list: str | None
    customer_group: str | None

    found = True

    def explain(self) -> str:
        """One line of why: the level, the quantity break and the row's validity."""
        return f"{_level_text(self)}, quantity break from {format_decimal(self.min_quantity)}, {_validity_text(self)}"

    def to_json(self) -> dict[str, Any]:
        return {
            "found": True, **_lookup_json(self.lookup),
            "amount": format_decimal(self.amount), "currency": self.currency, "level": self.level.value,
            "min_quantity": format_decimal(self.min_quantity),
            "valid_from": _iso(self.valid_from), "valid_to": _iso(self.valid_to),
            "price_list": self.price_list, "customer_group": self.customer_group,
        }


@dataclass(frozen=True)
class NoPrice:
    """No price applies; ``reason`` is one of the codes above, ``message`` says it for a person."""

    lookup: Lookup
    reason: str
    message: str

    found = False

    def to_json(self) -> dict[str, Any]:
        return {"found": False, **_lookup_json(self.lookup), "reason": self.reason, "message": self.message}


def _level_text(quote: Quote) -> str:
    if quote.level is Level.CUSTOMER:
        return f"customer-specific price of {quote.lookup.customer_id}"
    if quote.level is Level.CUSTOMER_GROUP:
        return f"price of customer group {quote.customer_group}"
    if quote.level is Level.PRICE_LIST:
        return f"price list {quote.price_list}"
    return "list price"


def _lookup_json(lookup: Lookup) -> dict[str, Any]:
    return {
        "customer_id": lookup.customer_id, "known_customer": lookup.known_customer, "sku": lookup.sku,
        "quantity": format_decimal(lookup.quantity), "at": lookup.at.isoformat(), "date": lookup.date.isoformat(),
        "requested_currency": lookup.requested_currency, "currency": lookup.currency, "currency_source": lookup.currency_source,
    }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _validity_text(quote: Quote) -> str:
    starts, ends = quote.valid_from, quote.valid_to
    if starts is None and ends is None:
        return "valid without time limit"
    if ends is None:
        return f"valid from {_iso(starts)}"
    if starts is None:
        return f"valid until {_iso(ends)}"
    return f"valid {_iso(starts)} to {_iso(ends)}"
