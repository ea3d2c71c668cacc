"""``exchanged price``: the command's argument parsing and output (``cli.py`` wires it up).

Every bad argument is a UsageError with one line naming the flag (exit 2); a price found exits
0, none exits 1 with the reason on one line.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from exchanged.errors import UsageError
from exchanged.pricing.book import QUANTITY_TYPE
from exchanged.pricing.results import NoPrice, Quote
from exchanged.records.codes import currency_codes
from exchanged.records.types import format_decimal

__all__ = ["parse_quantity", "parse_zone", "parse_moment", "parse_currency", "render"]


def parse_quantity(text: str) -> Decimal:
    try:
        quantity = Decimal(text.strip())
    except InvalidOperation:
        raise UsageError(f"--qty {text!r}: expected a number such as 3 or 2.5") from None
    if not quantity.is_finite() or quantity <= 0:
        raise UsageError(f"--qty {text!r}: expected a number greater than 0")
    whole_digits = QUANTITY_TYPE.precision - QUANTITY_TYPE.scale
    if quantity.as_tuple().exponent < -QUANTITY_TYPE.scale or quantity.adjusted() >= whole_digits:
        raise UsageError(f"--qty {text!r}: at most {QUANTITY_TYPE.scale} decimal places and "
                         f"{whole_digits} digits before the point")
    return quantity


def parse_zone(text: str) -> dt.tzinfo:
    if text.upper() == "UTC":
        return dt.timezone.utc
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--zone {text!r}: expected a time zone name such as UTC or Europe/Berlin") from None


def parse_moment(text: str | None, zone: dt.tzinfo) -> dt.datetime:
    """``--at``: an ISO timestamp or date; without an offset it is a wall-clock time in the
    pricing zone (a date alone is its midnight); unset: now."""
    if text is None:
        return dt.datetime.now(dt.timezone.utc)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--at {text!r}: expected an ISO timestamp or date such as "
                         f"2026-11-27T08:00+01:00 or 2026-11-27") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def parse_currency(text: str | None) -> str | None:
    if text is None:
        return None
    code = text.strip().upper()
    if code not in currency_codes():
        raise UsageError(f"--currency {text!r}: expected an ISO 4217 currency code such as EUR")
    return code


def render(result: Quote | NoPrice, *, as_json: bool) -> str:
    if as_json:
        return json.dumps(result.to_json(), indent=2, ensure_ascii=False)
    lookup = result.lookup
    if isinstance(result, NoPrice):
        return f"{result.reason}: {result.message}"
    who = lookup.customer_id if lookup.known_customer else f"{lookup.customer_id} (unknown customer: list prices only)"
    return (f"{format_decimal(result.amount)} {result.currency}  sku {lookup.sku}, customer {who}, "
            f"quantity {format_decimal(lookup.quantity)}, on {lookup.date.isoformat()}\n"
            f"  why: {result.explain()}; {_CURRENCY_SOURCES.get(lookup.currency_source or '', 'currency')} {result.currency}")


_CURRENCY_SOURCES = {
    "customer": "the customer's currency", "requested": "the requested currency",
    "price-list": "the currency of the customer's price list", "book": "the only currency of the prices",
}
