"""``order``: a shop order on its way to the ERP (DESIGN §2), the input of the order writers.

An order is accepted whole or not at all (DESIGN §3, ``on_row_error = "reject_file"`` for orders), so
every rule here is checked when the model is built and names a stable issue code:

* ``missing-item-id`` — a line has neither ``sku`` nor ``gtin``;
* ``duplicate-line-no`` — two lines carry the same ``line_no``;
* ``out-of-range`` — a quantity that is not greater than 0;
* ``totals-mismatch`` — the lines' ``quantity × unit_price`` do not add up to ``totals.net``
  exactly (Decimal arithmetic, no rounding), or ``net + tax`` is not ``gross``.

>>> order = Order.model_validate({
...     "order_id": "SO-1", "customer_id": "C-7", "ordered_at": "2026-03-01T09:30:00+01:00",
...     "currency": "EUR", "lines": [{"sku": "A-1", "quantity": "2", "unit_price": "9.95"}],
...     "totals": {"net": "19.90", "tax": "3.78", "gross": "23.68"}})
>>> order.lines[0].line_no, order.lines[0].unit
(1, 'C62')
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from exchanged.records.base import Record
from exchanged.records.customer import Address
from exchanged.records.types import (
    CurrencyCode,
    GtinCode,
    Id,
    Money,
    Quantity,
    Text,
    Timestamp,
    UnitCode,
    format_decimal,
)

__all__ = ["Order", "OrderLine", "OrderTotals"]

# Products of two decimals of up to 24 digits each have up to 48 digits; the default context (28)
# would round them, and an exact check must not round.
_EXACT = decimal.Context(prec=200, traps=[decimal.Inexact, decimal.InvalidOperation])


class OrderLine(BaseModel):
    """One ordered article: who it is (``sku`` and/or ``gtin``), how many, at what net unit price."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    line_no: int | None = Field(None, ge=1, description="line number, 1-based; defaults to the line's position in the order")
    sku: Id | None = Field(None, description="the ERP's article number (the supplier's article number in EDIFACT)")
    gtin: GtinCode | None = Field(None, description="GS1 GTIN with a valid check digit")
    quantity: Quantity = Field(description="ordered quantity in ``unit``, greater than 0")
    unit: UnitCode = Field("C62", description="UN/ECE Rec. 20 unit of the quantity (C62 = one/piece)")
    unit_price: Money = Field(description="net price of one ``unit``, >= 0")
    description: Text | None = Field(None, description="free-text article description as the shop shows it")

    @field_validator("quantity")
    @classmethod
    def _positive(cls, quantity: Decimal) -> Decimal:
        if quantity <= 0:
            raise PydanticCustomError("out-of-range", "must be greater than 0")
        return quantity

    @model_validator(mode="after")
    def _identified(self) -> OrderLine:
        if self.sku is None and self.gtin is None:
            raise PydanticCustomError("missing-item-id", "a line needs a sku or a gtin (or both)")
        return self

    @property
    def amount(self) -> Decimal:
        """``quantity × unit_price``, exact."""
        return _EXACT.multiply(self.quantity, self.unit_price)


class OrderTotals(BaseModel):
    """The order's sums: ``net`` (all lines), ``tax`` (optional: not stated means 0), ``gross``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    net: Money = Field(description="sum of the lines' quantity × unit_price")
    tax: Money | None = Field(None, description="tax on the order; unset: none stated, gross must then equal net")
    gross: Money = Field(description="net + tax")


class Order(Record):
    """A shop order, checked so that the ERP receives an order that adds up."""

    entity: ClassVar[str] = "order"
    key: ClassVar[tuple[str, ...]] = ("order_id",)

    order_id: Id = Field(description="the shop's order number")
    customer_id: Id = Field(description="the buyer: the ERP's customer number, or the buyer's GLN")
    ordered_at: Timestamp = Field(description="when the order was placed, with time zone")
    currency: CurrencyCode = Field(description="ISO 4217 currency of every price and total")
    lines: list[OrderLine] = Field(min_length=1, description="ordered articles, at least one")
    billing_address: Address | None = None
    shipping_address: Address | None = None
    totals: OrderTotals

    @field_validator("lines")
    @classmethod
    def _number_lines(cls, lines: list[OrderLine]) -> list[OrderLine]:
        numbered = [
            line if line.line_no is not None else line.model_copy(update={"line_no": position})
            for position, line in enumerate(lines, start=1)
        ]
        seen: set[int | None] = set()
        for line in numbered:
            if line.line_no in seen:
                raise PydanticCustomError("duplicate-line-no", "line_no {line_no} is used twice", {"line_no": line.line_no})
            seen.add(line.line_no)
        return numbered

    @model_validator(mode="after")
    def _totals_add_up(self) -> Order:
        lines_net = Decimal(0)
        for line in self.lines:
            lines_net = _EXACT.add(lines_net, line.amount)
        totals = self.totals
        if lines_net != totals.net:
            raise PydanticCustomError(
                "totals-mismatch",
                "the lines add up to {lines} but totals.net is {net}",
                {"lines": format_decimal(lines_net), "net": format_decimal(totals.net)},
            )
        expected_gross = _EXACT.add(totals.net, totals.tax or Decimal(0))
        if expected_gross != totals.gross:
            raise PydanticCustomError(
                "totals-mismatch",
                "totals.net + totals.tax is {expected} but totals.gross is {gross}",
                {"expected": format_decimal(expected_gross), "gross": format_decimal(totals.gross)},
            )
        return self
