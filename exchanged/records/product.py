"""``product``: one sellable article (DESIGN §2)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from exchanged.records.base import Record
from exchanged.records.types import AttributeValue, Boolean, GtinCode, Id, Name, Percent, Text, UnitCode, Weight


class Product(Record):
    """An article as the shop sells it; ``sku`` is the ERP's article number."""

    entity: ClassVar[str] = "product"
    key: ClassVar[tuple[str, ...]] = ("sku",)

    sku: Id = Field(description="the ERP's article number; unique within a file")
    gtin: GtinCode | None = Field(None, description="GS1 GTIN (EAN/UPC) with a valid check digit")
    name: Name = Field(description="the article name shown in the shop")
    unit: UnitCode = Field("C62", description="sales unit, UN/ECE Rec. 20 (C62 = one, KGM, MTR, …)")
    vat_rate: Percent | None = Field(None, description="VAT in percent: 19 means 19 %")
    weight: Weight | None = Field(None, description="gross weight in kg")
    description: Text | None = None
    brand: Name | None = None
    attributes: dict[Id, AttributeValue] = Field(default_factory=dict, description="free attributes (colour, size, …)")
    active: Boolean = Field(True, description="false: known but not for sale")
