"""Quantity breaks: the highest ``min_quantity`` reached, within the winning level."""

from __future__ import annotations

import pytest
from pricing_helpers import NOON, D, book, customer, price, sheet_row

from exchanged.pricing import NoPrice, Quote

BREAKS = [price(amount="10", min_quantity=1), price(amount="9", min_quantity=10), price(amount="8", min_quantity=100)]


@pytest.mark.parametrize("quantity, amount, min_quantity", [
    ("1", "10", "1"),        # exactly the first break
    ("9.999999", "10", "1"),  # just below the second
    ("10", "9", "10"),       # exactly at a break
    ("50", "9", "10"),       # between two breaks
    ("100", "8", "100"),
    ("100000", "8", "100"),  # above the last
])
def test_the_highest_break_reached_applies(quantity: str, amount: str, min_quantity: str) -> None:
    the_book = book(BREAKS)
    result = the_book.quote("C1", "A", D(quantity), NOON)
    assert isinstance(result, Quote)
    assert (result.amount, result.min_quantity) == (D(amount), D(min_quantity))
    row = sheet_row(the_book, "C1", "A", at=NOON, quantity=D(quantity))
    assert (row["amount"], row["min_quantity"]) == (D(amount), D(min_quantity))


def test_below_the_first_break_there_is_no_price() -> None:
    the_book = book([price(amount="9", min_quantity=5), price(amount="8", min_quantity=10)])
    result = the_book.quote("C1", "A", D(4), NOON)
    assert isinstance(result, NoPrice) and result.reason == "no-price"
    assert "quantity 4" in result.message
    assert sheet_row(the_book, "C1", "A", at=NOON, quantity=D(4))["reason"] == "no-price"


def test_a_fractional_quantity_below_one_piece_has_no_price() -> None:
    result = book(BREAKS).quote("C1", "A", D("0.5"), NOON)
    assert isinstance(result, NoPrice)


def test_breaks_are_taken_within_the_winning_level_only() -> None:
    rows = [*BREAKS, price(amount="9.5", customer_id="C1", min_quantity=1)]
    result = book(rows, [customer("C1")]).quote("C1", "A", D(500), NOON)
    assert isinstance(result, Quote)
    assert (result.amount, result.level.value) == (D("9.5"), "customer")  # not the list's 8 from 100


def test_a_quantity_the_published_type_cannot_hold_is_refused() -> None:
    with pytest.raises(ValueError, match="decimal places"):
        book(BREAKS).quote("C1", "A", D("1.0000001"), NOON)
    with pytest.raises(ValueError, match="greater than 0"):
        book(BREAKS).quote("C1", "A", D(0), NOON)
