"""Who is buying: the customer's pricing attributes, and which currency a lookup is priced in."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from exchanged.columns.schema import arrow_schema
from exchanged.pricing.results import CURRENCY_MISMATCH, MIXED_CURRENCY, NO_CURRENCY
from exchanged.publish.state import align
from exchanged.records.customer import Customer

__all__ = ["CustomerTerms", "CustomerDirectory", "CurrencyFacts", "CurrencyChoice", "Refusal", "settle_currency"]

_TERMS = ("customer_id", "customer_group", "price_list", "currency")
TERMS_SCHEMA = pa.schema([arrow_schema(Customer).field(name) for name in _TERMS])


@dataclass(frozen=True)
class CustomerTerms:
    """The customer attributes pricing depends on. An unknown customer has none of them (``known``
    False): only list prices apply to it."""

    customer_id: str
    customer_group: str | None = None
    price_list: str | None = None
    currency: str | None = None
    known: bool = False

    def key(self, name: str) -> str | None:
        """The customer's value for a price row's key column (``customer_id``, ``customer_group``,
        ``price_list``); None for all of them when the customer is unknown, even its id: without
        the customer record no restricted row can be checked, so only list prices apply."""
        return getattr(self, name) if self.known else None


class CustomerDirectory:
    """``customer.parquet`` reduced to the pricing attributes, by customer id."""

    def __init__(self, customers: pa.Table | None) -> None:
        if customers is None:
            customers = TERMS_SCHEMA.empty_table()
        # The state may come from an older schema: align() turns missing columns into nulls.
        table = align(customers.select([n for n in _TERMS if n in customers.column_names]), TERMS_SCHEMA)[0]
        # One dict of at most a few hundred thousand small tuples, built once per book: a lookup
        # then costs nothing (the published state is unique by customer_id).
        self._terms = {
            row[0]: CustomerTerms(*row, known=True)
            for row in zip(*(table.column(n).to_pylist() for n in _TERMS))
            if row[0] is not None
        }

    def __len__(self) -> int:
        return len(self._terms)

    def terms(self, customer_id: str) -> CustomerTerms:
        return self._terms.get(customer_id) or CustomerTerms(customer_id)


@dataclass(frozen=True)
class CurrencyFacts:
    """What the net price rows say about currencies, computed once per book."""

    currencies: tuple[str, ...]
    list_currencies: dict[str, str]
    mixed_lists: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class CurrencyChoice:
    currency: str
    source: str  # customer | requested | price-list | book


@dataclass(frozen=True)
class Refusal:
    """A lookup that cannot be priced for a reason that holds for every sku of the customer."""

    reason: str
    message: str


def settle_currency(terms: CustomerTerms, requested: str | None, facts: CurrencyFacts) -> CurrencyChoice | Refusal:
    """The currency the customer is priced in, or why there is none.

    In order: a customer assigned to a price list in several currencies is refused (any answer
    would be a guess at the currency the ERP bills); the customer's currency, which a different
    requested one contradicts; the requested one; the single currency of the customer's price
    list; the single currency of the whole book (a one-currency shop needs no flag). Else none.
    """
    if terms.price_list is not None and terms.price_list in facts.mixed_lists:
        found = ", ".join(facts.mixed_lists[terms.price_list])
        return Refusal(MIXED_CURRENCY, f"price list {terms.price_list} has net prices in several currencies ({found}); "
                                       f"a price list has one currency")
    if terms.currency is not None:
        if requested is not None and requested != terms.currency:
            return Refusal(CURRENCY_MISMATCH, f"customer {terms.customer_id} is priced in {terms.currency}, not {requested}")
        return CurrencyChoice(terms.currency, "customer")
    if requested is not None:
        return CurrencyChoice(requested, "requested")
    if terms.price_list is not None and terms.price_list in facts.list_currencies:
        return CurrencyChoice(facts.list_currencies[terms.price_list], "price-list")
    if len(facts.currencies) == 1:
        return CurrencyChoice(facts.currencies[0], "book")
    who = f"customer {terms.customer_id} has no currency" if terms.known else f"customer {terms.customer_id} is unknown"
    return Refusal(NO_CURRENCY, f"{who} and none was requested; the prices are in {', '.join(facts.currencies) or 'no currency'}")
