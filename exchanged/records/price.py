"""``price``: what an article costs, for whom, from which quantity, when (DESIGN §2)."""

from __future__ import annotations

from typing import ClassVar, Literal

import pyarrow.compute as pc
from pydantic import Field

from exchanged.nulls import filled
from exchanged.records.base import Record, RowRule
from exchanged.records.types import CurrencyCode, Date, Id, MinQuantity, Money

PriceType = Literal["net", "gross", "retail"]


class Price(Record):
    """One price row. Orders are checked against ``net`` prices; ``retail`` is a recommended price."""

    entity: ClassVar[str] = "price"
    key: ClassVar[tuple[str, ...]] = (
        "sku", "price_type", "currency", "min_quantity", "price_list", "customer_id", "customer_group", "valid_from",
    )

    row_rules: ClassVar[tuple[RowRule, ...]] = (
        RowRule(
            code="invalid-validity",
            message="valid_to is before valid_from",
            fields=("valid_from", "valid_to"),
            broken=lambda v: v["valid_from"] is not None and v["valid_to"] is not None and v["valid_to"] < v["valid_from"],
            broken_rows=lambda c: filled(pc.less(c["valid_to"], c["valid_from"]), False),
        ),
    )

    sku: Id
    price_type: PriceType = "net"
    currency: CurrencyCode
    amount: Money
    min_quantity: MinQuantity = Field(default=1, description="quantity break: the price applies from this quantity")
    price_list: Id | None = None
    customer_id: Id | None = None
    customer_group: Id | None = None
    valid_from: Date | None = None
    valid_to: Date | None = None
