"""``stock``: how many of an article a warehouse has (DESIGN §2)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from exchanged.records.base import Record
from exchanged.records.types import Id, NonNegativeQuantity, Timestamp


class Stock(Record):
    """Available quantity of ``sku`` in ``warehouse`` at ``as_of``."""

    entity: ClassVar[str] = "stock"
    key: ClassVar[tuple[str, ...]] = ("sku", "warehouse")

    sku: Id
    warehouse: Id = Field("default", description="the ERP's warehouse or storage location")
    quantity: NonNegativeQuantity = Field(description="available quantity in the article's unit, >= 0")
    as_of: Timestamp | None = Field(None, description="when the ERP counted it")
