"""Currencies: the customer's, else the requested one; one currency per price list."""

from __future__ import annotations

import pytest
from pricing_helpers import NOON, D, book, customer, price, sheet_row

from exchanged.pricing import NoPrice, Quote


def test_the_customers_currency_is_used_and_rows_in_another_are_ignored() -> None:
    rows = [price(amount="10", currency="EUR"), price(amount="1", currency="USD", customer_id="C1")]
    result = book(rows, [customer("C1", currency="EUR")]).quote("C1", "A", D(1), NOON)
    assert isinstance(result, Quote)
    assert (result.amount, result.currency, result.level.value) == (D("10"), "EUR", "list")
    assert result.lookup.currency_source == "customer"


def test_the_customers_currency_selects_among_list_prices() -> None:
    rows = [price(amount="10", currency="EUR"), price(amount="12", currency="USD")]
    the_book = book(rows, [customer("C1", currency="USD")])
    result = the_book.quote("C1", "A", D(1), NOON)
    assert isinstance(result, Quote) and (result.amount, result.currency) == (D("12"), "USD")
    assert sheet_row(the_book, "C1", "A", at=NOON)["currency"] == "USD"


def test_a_requested_currency_applies_when_the_customer_has_none() -> None:
    rows = [price(amount="10", currency="EUR"), price(amount="12", currency="USD")]
    result = book(rows, [customer("C1")]).quote("C1", "A", D(1), NOON, currency="USD")
    assert isinstance(result, Quote) and (result.amount, result.lookup.currency_source) == (D("12"), "requested")


def test_a_requested_currency_contradicting_the_customers_is_reported() -> None:
    result = book([price()], [customer("C1", currency="EUR")]).quote("C1", "A", D(1), NOON, currency="USD")
    assert isinstance(result, NoPrice) and result.reason == "currency-mismatch"


def test_no_currency_known_and_several_in_the_book_is_reported() -> None:
    rows = [price(amount="10", currency="EUR"), price(amount="12", currency="USD")]
    result = book(rows).quote("STRANGER", "A", D(1), NOON)
    assert isinstance(result, NoPrice) and result.reason == "no-currency"
    assert "EUR, USD" in result.message


def test_a_single_currency_book_needs_no_currency() -> None:
    result = book([price(currency="CHF")]).quote("STRANGER", "A", D(1), NOON)
    assert isinstance(result, Quote) and (result.currency, result.lookup.currency_source) == ("CHF", "book")


def test_the_price_lists_currency_applies_to_a_customer_without_one() -> None:
    rows = [price(amount="10", currency="EUR"), price(amount="12", currency="USD"),
            price(amount="11", currency="USD", price_list="US")]
    result = book(rows, [customer("C1", price_list="US")]).quote("C1", "A", D(1), NOON)
    assert isinstance(result, Quote)
    assert (result.amount, result.currency, result.lookup.currency_source) == (D("11"), "USD", "price-list")


@pytest.mark.parametrize("customer_currency", [None, "EUR"])
def test_a_price_list_in_several_currencies_is_reported_naming_it(customer_currency: str | None) -> None:
    rows = [price(amount="10"), price(amount="9", price_list="P1", currency="EUR"),
            price(sku="B", amount="9", price_list="P1", currency="USD"), price(amount="1", customer_id="C1")]
    the_book = book(rows, [customer("C1", price_list="P1", currency=customer_currency)])
    result = the_book.quote("C1", "A", D(1), NOON)
    assert isinstance(result, NoPrice) and result.reason == "mixed-currency"
    assert "P1" in result.message and "EUR, USD" in result.message
    assert the_book.mixed_currency_lists == {"P1": ("EUR", "USD")}
    assert set(the_book.price_list("C1", NOON).column("reason").to_pylist()) == {"mixed-currency"}
    # customers on other lists, and unknown ones, are not affected
    assert book(rows, [customer("C2", currency="EUR")]).quote("C2", "A", D(1), NOON).found
