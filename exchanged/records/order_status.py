"""``order_status``: what became of a shop order in the ERP (DESIGN §2), for the shop to poll.

One record per order line, keyed by ``(order_id, line_no)``; ``line_no`` 0 stands for the order as
a whole (its status, an invoice number and total, a tracking number) and names no article. The ERP
tells its side in EANCOM ORDRSP (accepted / rejected / changed, confirmed quantities), DESADV
(shipped quantities, tracking) and INVOIC (invoiced quantities, invoice number and amount); the
mappings turn their codes into ``status`` (mappings/eancom-ordrsp.toml, eancom-desadv.toml,
eancom-invoic.toml), so a partner's dialect is data, not code.

An input upserts whole records: the published state of a line is what the latest document said
about it, and the change feed (``changes/order_status/``) keeps every document's word.

>>> line = OrderStatus.model_validate({"order_id": "SO-1", "line_no": "001", "status": "shipped",
...                                    "shipped_quantity": "2", "tracking_number": "JJD0001"})
>>> line.line_no, line.sku is None
(1, True)
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from exchanged.nulls import filled
from exchanged.records.base import Record, RowRule
from exchanged.records.types import (
    CurrencyCode,
    Date,
    GtinCode,
    Id,
    LineNumber,
    Money,
    NonNegativeQuantity,
)

# What the shop is told; the EANCOM codes that lead to each are in the mappings and docs/mappings.md.
OrderStatusCode = Literal["received", "accepted", "changed", "rejected", "cancelled", "shipped", "invoiced", "credited"]

_ITEM_FIELDS = ("sku", "gtin", "confirmed_quantity", "shipped_quantity", "invoiced_quantity")


def _order_level_with_item(values: Any) -> bool:
    return values["line_no"] == 0 and any(values[name] is not None for name in _ITEM_FIELDS)


def _order_level_with_item_rows(columns: Any) -> pa.Array:
    named = pc.is_valid(columns[_ITEM_FIELDS[0]])
    for name in _ITEM_FIELDS[1:]:
        named = pc.or_(named, pc.is_valid(columns[name]))
    return filled(pc.and_(pc.equal(columns["line_no"], 0), named), False)


class OrderStatus(Record):
    """The ERP's word on one line of a shop order (``line_no`` ≥ 1) or on the whole order (0)."""

    entity: ClassVar[str] = "order_status"
    key: ClassVar[tuple[str, ...]] = ("order_id", "line_no")

    row_rules: ClassVar[tuple[RowRule, ...]] = (
        RowRule(
            code="order-level-with-item",
            message="line_no 0 is the order as a whole: it names no article (sku, gtin) and no line quantity",
            fields=(*_ITEM_FIELDS, "line_no"),
            broken=_order_level_with_item,
            broken_rows=_order_level_with_item_rows,
        ),
        RowRule(
            code="missing-currency",
            message="invoiced_amount needs a currency",
            fields=("invoiced_amount", "currency"),
            broken=lambda v: v["invoiced_amount"] is not None and v["currency"] is None,
            broken_rows=lambda c: filled(pc.and_(pc.is_valid(c["invoiced_amount"]), pc.is_null(c["currency"])), False),
        ),
    )

    order_id: Id = Field(description="the shop's order number, as the shop sent it (EANCOM RFF+ON)")
    line_no: LineNumber = Field(
        description="the order line (EANCOM LIN 1082, 1 and up); 0 is the order as a whole")
    status: OrderStatusCode = Field(description=(
        "received: the ERP has the order, not yet processed; accepted: as ordered; changed: accepted "
        "with other quantities, dates or articles; rejected: not accepted; cancelled: the line was "
        "deleted; shipped: despatched (DESADV); invoiced: on an invoice; credited: on a credit note"))
    document_number: Id | None = Field(
        None, description="number of the ERP document this status comes from (ORDRSP / DESADV / INVOIC: BGM 1004)")
    document_date: Date | None = Field(None, description="date of that document (DTM 137)")
    sku: Id | None = Field(None, description="the article: the ERP's (supplier's) article number")
    gtin: GtinCode | None = Field(None, description="the article's GS1 GTIN")
    confirmed_quantity: NonNegativeQuantity | None = Field(
        None, description="the quantity the supplier confirms it will deliver (ORDRSP)")
    shipped_quantity: NonNegativeQuantity | None = Field(None, description="the quantity despatched (DESADV)")
    invoiced_quantity: NonNegativeQuantity | None = Field(
        None, description="the quantity invoiced, or credited on a credit note (INVOIC)")
    tracking_number: Id | None = Field(None, description="the carrier's tracking / transport document number")
    invoice_number: Id | None = Field(None, description="the invoice (or credit note) number")
    invoiced_amount: Money | None = Field(
        None, description="the amount invoiced in `currency`: a line's net line amount; on line 0 the invoice total")
    currency: CurrencyCode | None = Field(None, description="ISO 4217 currency of invoiced_amount")


__all__ = ["OrderStatus", "OrderStatusCode"]
