"""``PriceBook``: the published prices and customers, ready to answer price lookups."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

from exchanged.errors import OutputUnavailable
from exchanged.pricing.net_prices import PRICE_SCHEMA, NetPrices
from exchanged.pricing.results import NO_PRICE, Level, Lookup, NoPrice, Quote
from exchanged.pricing.rules import level_of, winning_row
from exchanged.pricing.sheet import price_sheet
from exchanged.pricing.terms import CustomerDirectory, CustomerTerms, Refusal, settle_currency
from exchanged.records.types import format_decimal

__all__ = ["PriceBook", "pricing_date"]

UTC = dt.timezone.utc
QUANTITY_TYPE = PRICE_SCHEMA.field("min_quantity").type


def pricing_date(at: dt.datetime, zone: dt.tzinfo) -> dt.date:
    """The day a moment falls on in ``zone``: price rows are valid for whole days, and a day
    only exists in some time zone (the ERP's; UTC unless configured)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()}: a pricing moment needs a time zone")
    return at.astimezone(zone).date()


class PriceBook:
    """Net prices and customer terms; ``quote`` prices one sku, ``price_list`` all skus at once."""

    def __init__(self, prices: NetPrices, customers: CustomerDirectory, zone: dt.tzinfo = UTC) -> None:
        self.prices, self.customers, self.zone = prices, customers, zone

    @classmethod
    def from_tables(cls, prices: pa.Table, customers: pa.Table | None = None, *, zone: dt.tzinfo | str = UTC) -> PriceBook:
        """From tables shaped like the published state (missing optional columns are nulls)."""
        return cls(NetPrices.of(prices), CustomerDirectory(customers), _zone(zone))

    @classmethod
    def load(cls, shop_dir: Path, *, zone: dt.tzinfo | str = UTC) -> PriceBook:
        """From ``price.parquet`` and ``customer.parquet`` in ``shop_dir`` (a missing file is empty)."""
        prices = _read_state(Path(shop_dir) / "price.parquet")
        customers = _read_state(Path(shop_dir) / "customer.parquet")
        return cls.from_tables(prices if prices is not None else PRICE_SCHEMA.empty_table(), customers, zone=zone)

    @property
    def mixed_currency_lists(self) -> dict[str, tuple[str, ...]]:
        """Price lists whose net rows are in several currencies (customers on them get no price)."""
        return dict(self.prices.facts.mixed_lists)

    def quote(self, customer_id: str, sku: str, quantity: Decimal, at: dt.datetime,
              currency: str | None = None) -> Quote | NoPrice:
        """The net price of ``quantity`` of ``sku`` for the customer at the moment ``at``, or why none applies."""
        terms, lookup = self._lookup(customer_id, sku, quantity, at, currency)
        rows = self.prices.sku_rows(sku)
        if rows is None:
            return NoPrice(lookup, NO_PRICE, f"no net price for sku {sku}")
        choice = settle_currency(terms, currency, self.prices.facts)
        if isinstance(choice, Refusal):
            return NoPrice(lookup, choice.reason, choice.message)
        lookup = _priced_in(lookup, choice.currency, choice.source)
        row = winning_row(rows.to_pylist(), terms, choice.currency, lookup.date, quantity)
        if row is None:
            return NoPrice(lookup, NO_PRICE, _why_none(sku, lookup, terms))
        return Quote(lookup=lookup, amount=row["amount"], currency=row["currency"], level=level_of(row),
                     min_quantity=row["min_quantity"], valid_from=row["valid_from"], valid_to=row["valid_to"],
                     price_list=row["price_list"], customer_group=row["customer_group"])

    def price_list(self, customer_id: str, at: dt.datetime, quantity: Decimal = Decimal(1),
                   currency: str | None = None) -> pa.Table:
        """Every sku's price for the customer (``sheet.SHEET_SCHEMA``: one row per sku with net
        prices, ascending; unpriced skus have a null amount and a ``reason``), as ``quote`` prices each."""
        terms, lookup = self._lookup(customer_id, "", quantity, at, currency)
        choice = settle_currency(terms, currency, self.prices.facts)
        return price_sheet(self.prices, terms, choice, lookup.date, quantity)

    def _lookup(self, customer_id: str, sku: str, quantity: Decimal, at: dt.datetime,
                currency: str | None) -> tuple[CustomerTerms, Lookup]:
        _check_quantity(quantity)
        terms = self.customers.terms(customer_id)
        lookup = Lookup(customer_id=customer_id, sku=sku, quantity=quantity, at=at, date=pricing_date(at, self.zone),
                        requested_currency=currency, currency=None, currency_source=None, known_customer=terms.known)
        return terms, lookup


def _priced_in(lookup: Lookup, currency: str, source: str) -> Lookup:
    return Lookup(**{**lookup.__dict__, "currency": currency, "currency_source": source})


def _why_none(sku: str, lookup: Lookup, terms: CustomerTerms) -> str:
    levels = "list prices only (unknown customer)" if not terms.known else ", ".join(level.value for level in Level)
    return (f"no net price of sku {sku} in {lookup.currency} applies on {lookup.date.isoformat()} "
            f"for quantity {format_decimal(lookup.quantity)} (looked at: {levels})")


def _check_quantity(quantity: Decimal) -> None:
    """A lookup quantity is an order line's: greater than 0, in the published decimal type (at
    most 6 decimal places), so that Arrow compares it with ``min_quantity`` exactly."""
    if not isinstance(quantity, Decimal) or not quantity.is_finite() or quantity <= 0:
        raise ValueError(f"quantity {quantity!r}: expected a finite Decimal greater than 0")
    try:
        pa.scalar(quantity, QUANTITY_TYPE)
    except (pa.ArrowInvalid, ValueError):
        raise ValueError(f"quantity {quantity}: at most {QUANTITY_TYPE.scale} decimal places and "
                         f"{QUANTITY_TYPE.precision - QUANTITY_TYPE.scale} digits before the point") from None


def _zone(zone: dt.tzinfo | str) -> dt.tzinfo:
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def _read_state(path: Path) -> pa.Table | None:
    try:
        return pq.read_table(path)
    except FileNotFoundError:
        return None
    except (OSError, pa.ArrowException) as exc:
        raise OutputUnavailable(f"cannot read the published state {path}: {exc}") from exc

