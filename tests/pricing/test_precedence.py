"""Precedence: customer-specific > customer group > price list > list price; the most specific
level with an applicable row wins, and a level without one falls through."""

from __future__ import annotations

import datetime as dt

import pytest
from pricing_helpers import NOON, D, book, customer, price, sheet_row

from exchanged.pricing import Level, NoPrice, Quote

CUSTOMER = customer("C1", customer_group="G1", price_list="P1", currency="EUR")
ALL_LEVELS = [
    price(amount="40"),
    price(amount="30", price_list="P1"),
    price(amount="20", customer_group="G1"),
    price(amount="10", customer_id="C1"),
]


def quote(rows: list[dict], quantity: str = "1", customer_rows: list[dict] = (CUSTOMER,), who: str = "C1") -> Quote:
    result = book(rows, list(customer_rows)).quote(who, "A", D(quantity), NOON)
    assert isinstance(result, Quote), result
    return result


@pytest.mark.parametrize("levels, amount, level", [
    (4, "10", Level.CUSTOMER),
    (3, "20", Level.CUSTOMER_GROUP),
    (2, "30", Level.PRICE_LIST),
    (1, "40", Level.LIST),
])
def test_each_level_beats_the_next(levels: int, amount: str, level: Level) -> None:
    result = quote(ALL_LEVELS[:levels])
    assert (result.amount, result.level) == (D(amount), level)


def test_a_more_specific_level_wins_even_when_it_is_dearer() -> None:
    result = quote([price(amount="5"), price(amount="99", customer_id="C1")])
    assert (result.amount, result.level) == (D("99"), Level.CUSTOMER)


def test_rows_of_other_customers_groups_and_lists_do_not_apply() -> None:
    result = quote([price(amount="40"), price(amount="1", customer_id="C2"), price(amount="2", customer_group="G2"),
                    price(amount="3", price_list="P2")])
    assert (result.amount, result.level) == (D("40"), Level.LIST)


def test_a_level_whose_rows_do_not_apply_falls_through() -> None:
    rows = [
        price(amount="40"),
        price(amount="30", price_list="P1"),
        price(amount="20", customer_group="G1", valid_to=dt.date(2026, 1, 31)),  # expired
        price(amount="10", customer_id="C1", min_quantity=5),  # break not reached at 1
    ]
    result = quote(rows)
    assert (result.amount, result.level) == (D("30"), Level.PRICE_LIST)
    assert quote(rows, quantity="5").level is Level.CUSTOMER


def test_a_customer_row_naming_a_price_list_applies_only_while_the_customer_is_on_it() -> None:
    rows = [price(amount="40"), price(amount="10", customer_id="C1", price_list="P9")]
    assert quote(rows).level is Level.LIST
    assert quote(rows, customer_rows=[customer("C1", price_list="P9")]).amount == D("10")


def test_ties_go_to_the_row_setting_more_keys_then_the_later_start_then_the_lower_amount() -> None:
    both = price(amount="12", customer_id="C1", customer_group="G1")
    assert quote([price(amount="11", customer_id="C1"), both]).amount == D("12")
    newer = price(amount="13", customer_id="C1", valid_from=dt.date(2026, 3, 1))
    assert quote([price(amount="11", customer_id="C1", valid_from=dt.date(2026, 1, 1)), newer]).amount == D("13")
    assert quote([price(amount="11", customer_id="C1"), newer]).amount == D("13")  # an open start is the oldest


def test_unknown_customer_gets_the_list_price_only() -> None:
    result = book(ALL_LEVELS, [CUSTOMER]).quote("STRANGER", "A", D(1), NOON)
    assert isinstance(result, Quote)
    assert (result.amount, result.level, result.lookup.known_customer) == (D("40"), Level.LIST, False)


def test_unknown_customer_without_a_list_price_has_none() -> None:
    result = book([price(customer_id="STRANGER")], [CUSTOMER]).quote("STRANGER", "A", D(1), NOON)
    assert isinstance(result, NoPrice) and result.reason == "no-price"


def test_unknown_sku_is_no_price_not_an_exception() -> None:
    result = book(ALL_LEVELS, [CUSTOMER]).quote("C1", "NOPE", D(1), NOON)
    assert isinstance(result, NoPrice)
    assert (result.reason, result.message) == ("no-price", "no net price for sku NOPE")


def test_only_net_prices_count() -> None:
    rows = [price(amount="40"), price(amount="1", price_type="gross", customer_id="C1"), price(amount="2", price_type="retail")]
    assert quote(rows).amount == D("40")
    result = book([price(price_type="gross")], [CUSTOMER]).quote("C1", "A", D(1), NOON)
    assert isinstance(result, NoPrice) and result.reason == "no-price"


def test_the_amount_is_the_published_decimal() -> None:
    result = quote([price(amount="0.123456")])
    assert result.amount == D("0.123456") and isinstance(result.amount, type(D(1)))


def test_price_list_reports_the_same_level() -> None:
    row = sheet_row(book(ALL_LEVELS[:3], [CUSTOMER]), "C1", "A", at=NOON)
    assert (row["amount"], row["level"], row["customer_group"], row["reason"]) == (D("20"), "customer_group", "G1", None)
