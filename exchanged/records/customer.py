"""``customer``: a buyer the shop knows, with the ERP's pricing attributes (DESIGN §2)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from exchanged.records.base import Record
from exchanged.records.types import CountryCode, CurrencyCode, Email, Id, Money, Name, VatId


class Address(BaseModel):
    """A postal address."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name | None = None
    street: Name | None = None
    postal_code: Id | None = None
    city: Name | None = None
    country: CountryCode | None = None


class Customer(Record):
    """A customer account as the ERP keeps it."""

    entity: ClassVar[str] = "customer"
    key: ClassVar[tuple[str, ...]] = ("customer_id",)

    customer_id: Id
    name: Name
    customer_group: Id | None = None
    price_list: Id | None = None
    currency: CurrencyCode | None = None
    vat_id: VatId | None = None
    email: Email | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    credit_limit: Money | None = Field(None, description="open amount the customer may order up to")
