"""Validity: ``valid_from`` ≤ day ≤ ``valid_to`` inclusive, null ends open, the day in the book's zone."""

from __future__ import annotations

import datetime as dt

import pytest
from pricing_helpers import UTC, D, book, price, sheet_row

from exchanged.pricing import NoPrice, Quote, pricing_date

FEBRUARY = price(amount="7", valid_from=dt.date(2026, 2, 1), valid_to=dt.date(2026, 2, 28))


def on(day: dt.date, hour: int = 12, tz: dt.tzinfo = UTC) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=tz)


@pytest.mark.parametrize("day, amount", [
    (dt.date(2026, 1, 31), "10"),  # the day before: the list price
    (dt.date(2026, 2, 1), "7"),    # the first day
    (dt.date(2026, 2, 28), "7"),   # the last day
    (dt.date(2026, 3, 1), "10"),   # the day after
])
def test_validity_edges_are_inclusive(day: dt.date, amount: str) -> None:
    the_book = book([price(amount="10"), FEBRUARY])
    # both rows are list prices; the window row wins its tie by the later valid_from while valid
    result = the_book.quote("C1", "A", D(1), on(day))
    assert isinstance(result, Quote) and result.amount == D(amount)
    assert sheet_row(the_book, "C1", "A", at=on(day))["amount"] == D(amount)


@pytest.mark.parametrize("row, day, found", [
    (price(valid_from=dt.date(2026, 2, 1)), dt.date(2026, 1, 31), False),
    (price(valid_from=dt.date(2026, 2, 1)), dt.date(2099, 12, 31), True),   # open end
    (price(valid_to=dt.date(2026, 2, 1)), dt.date(1999, 1, 1), True),       # open start
    (price(valid_to=dt.date(2026, 2, 1)), dt.date(2026, 2, 2), False),
])
def test_open_ends(row: dict, day: dt.date, found: bool) -> None:
    assert book([row]).quote("C1", "A", D(1), on(day)).found is found


def test_the_quote_reports_the_rows_validity() -> None:
    result = book([FEBRUARY]).quote("C1", "A", D(1), on(dt.date(2026, 2, 10)))
    assert isinstance(result, Quote)
    assert (result.valid_from, result.valid_to) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))


def test_the_day_is_taken_in_the_books_zone_around_midnight() -> None:
    late_utc = dt.datetime(2026, 1, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 February in Berlin
    assert pricing_date(late_utc, UTC) == dt.date(2026, 1, 31)
    assert isinstance(book([FEBRUARY]).quote("C1", "A", D(1), late_utc), NoPrice)
    berlin = book([FEBRUARY], zone="Europe/Berlin")
    assert berlin.quote("C1", "A", D(1), late_utc).found
    assert sheet_row(berlin, "C1", "A", at=late_utc)["amount"] == D("7")
    # the last day ends at midnight in the zone, not at midnight UTC
    end_berlin = dt.datetime(2026, 2, 28, 23, 30, tzinfo=UTC)  # 00:30 on 1 March in Berlin
    assert book([FEBRUARY]).quote("C1", "A", D(1), end_berlin).found
    assert not berlin.quote("C1", "A", D(1), end_berlin).found


def test_a_moment_in_another_zone_is_converted() -> None:
    tokyo = dt.timezone(dt.timedelta(hours=9))
    morning_in_tokyo = dt.datetime(2026, 2, 1, 8, 0, tzinfo=tokyo)  # still 31 January in UTC
    assert not book([FEBRUARY]).quote("C1", "A", D(1), morning_in_tokyo).found


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        book([FEBRUARY]).quote("C1", "A", D(1), dt.datetime(2026, 2, 1, 12))
