"""``OrderRow``: one order line with its order's header fields, the shape an ERP or shop CSV export
of orders has (header fields repeated on every line row). A mapping with ``[entity.order]`` fills
it like any other entity; ``orders.assemble`` then groups the rows into ``Order`` models.

It is not a shop entity: nothing is published for it. ``records.MAPPABLE`` lists it beside the
shop entities of ``records.ENTITIES``.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from exchanged.records.base import Record
from exchanged.records.customer import Address
from exchanged.records.types import CurrencyCode, GtinCode, Id, LineNumber, Money, Quantity, Text, Timestamp, UnitCode


class RowTotals(BaseModel):
    """The order's sums, repeated on each row (``totals.net``, ``totals.tax``, ``totals.gross``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    net: Money
    tax: Money | None = None
    gross: Money


class OrderRow(Record):
    """One line of a shop order, with the order's header fields."""

    entity: ClassVar[str] = "order"
    # line_no is filled with the row's position within its order when the file has none.
    key: ClassVar[tuple[str, ...]] = ("order_id", "line_no")

    order_id: Id
    customer_id: Id
    ordered_at: Timestamp
    currency: CurrencyCode
    line_no: LineNumber | None = Field(None, description="the line's number; default: its position in the order")
    sku: Id | None = None
    gtin: GtinCode | None = None
    quantity: Quantity
    unit: UnitCode = "C62"
    unit_price: Money
    description: Text | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    totals: RowTotals


__all__ = ["OrderRow", "RowTotals"]
