"""Builders of the pricing tests: price and customer tables in the published state's schema."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa

from exchanged.columns.schema import arrow_schema
from exchanged.pricing import PriceBook
from exchanged.records.customer import Customer
from exchanged.records.price import Price

PRICE_SCHEMA = arrow_schema(Price)
CUSTOMER_SCHEMA = arrow_schema(Customer)
UTC = dt.timezone.utc
NOON = dt.datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def D(text: str | int) -> Decimal:  # noqa: N802 - reads like the literal it stands for
    return Decimal(str(text))


def price(sku: str = "A", amount: str | int = "10", **fields: Any) -> dict[str, Any]:
    """One price row as the state holds it: net, EUR, from the first piece, unless said otherwise."""
    row = {name: None for name in PRICE_SCHEMA.names}
    row.update(sku=sku, price_type="net", currency="EUR", amount=D(amount), min_quantity=D(1))
    row.update({k: D(v) if k == "min_quantity" else v for k, v in fields.items()})
    return row


def prices(*rows: dict[str, Any]) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=PRICE_SCHEMA)


def customer(customer_id: str = "C1", **fields: Any) -> dict[str, Any]:
    row = {name: None for name in CUSTOMER_SCHEMA.names}
    row.update(customer_id=customer_id, name=f"Customer {customer_id}", **fields)
    return row


def customers(*rows: dict[str, Any]) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=CUSTOMER_SCHEMA)


def book(price_rows: list[dict[str, Any]], customer_rows: list[dict[str, Any]] = (), **options: Any) -> PriceBook:
    return PriceBook.from_tables(prices(*price_rows), customers(*customer_rows), **options)


def sheet_row(book_: PriceBook, customer_id: str, sku: str, **lookup: Any) -> dict[str, Any]:
    """The ``price_list`` row of one sku (the whole sheet is computed, as a shop would)."""
    rows = [row for row in book_.price_list(customer_id, **lookup).to_pylist() if row["sku"] == sku]
    assert len(rows) == 1
    return rows[0]
