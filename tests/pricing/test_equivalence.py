"""``price_list`` (vectorised) prices every sku exactly as ``quote`` (row by row) does."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from hypothesis import event, given, settings
from hypothesis import strategies as st
from pricing_helpers import UTC, book, customer, price

from exchanged.pricing import Quote

SKUS = ["A", "B", "C"]
DAYS = [dt.date(2026, 1, d) for d in (1, 5, 10, 15, 20)]
KEY = ("sku", "price_type", "currency", "min_quantity", "price_list", "customer_id", "customer_group", "valid_from")

maybe = lambda values: st.none() | st.sampled_from(values)  # noqa: E731
# Few distinct amounts, so that rows tie on amount too and the last tie-breaks are exercised.
amounts = st.sampled_from(["0", "1.5", "9.99", "10", "123.456789"])


@st.composite
def price_rows(draw: st.DrawFn, list_currency: dict[str, str]) -> dict:
    """A row of a drawn level (the key it sets), sometimes setting a less specific key as well."""
    level = draw(st.sampled_from(["list", "list", "price_list", "customer_group", "customer"]))
    rarely = lambda values: st.sampled_from([None, None, None, *values])  # noqa: E731
    customer_id = draw(st.sampled_from(["C1", "C2", "C9"])) if level == "customer" else None
    if level == "customer_group":
        group = draw(st.sampled_from(["G1", "G2"]))
    else:
        group = draw(rarely(["G1", "G2"])) if customer_id else None
    if level == "price_list":
        price_list = draw(st.sampled_from(["P1", "P2"]))
    else:
        price_list = draw(rarely(["P1", "P2"])) if level != "list" else None
    starts, ends = draw(st.sampled_from([None, None, *DAYS])), draw(st.sampled_from([None, None, *DAYS]))
    if starts and ends and ends < starts:
        starts, ends = ends, starts
    currency = list_currency[price_list] if price_list else draw(st.sampled_from(["EUR", "EUR", "EUR", "USD"]))
    return price(
        sku=draw(st.sampled_from(SKUS)), amount=draw(amounts), price_type=draw(st.sampled_from(["net", "net", "net", "gross"])),
        currency=currency, min_quantity=draw(st.sampled_from(["1", "1", "2.5", "5", "10"])), price_list=price_list,
        customer_id=customer_id, customer_group=group, valid_from=starts, valid_to=ends,
    )


@st.composite
def books(draw: st.DrawFn) -> list[dict]:
    """Price rows in which each price list has one currency, but for a few extra rows in another
    (so that mixed lists occur without refusing most lookups)."""
    list_currency = {"P1": "EUR", "P2": draw(st.sampled_from(["EUR", "USD"]))}
    rows = draw(st.lists(price_rows(list_currency), min_size=6, max_size=30))
    strays = draw(st.lists(price_rows({"P1": "USD", "P2": "CHF"}), max_size=1))
    return unique_by_key(rows + strays)


def unique_by_key(rows: list[dict]) -> list[dict]:
    """The published state holds one row per record key (the last one wins, as in a delta)."""
    return list({tuple(row[name] for name in KEY): row for row in rows}.values())


def customers_(who: str) -> st.SearchStrategy[dict]:
    return st.builds(customer, st.just(who), customer_group=maybe(["G1", "G2"]), price_list=maybe(["P1", "P2"]),
                     currency=st.sampled_from(["EUR", "EUR", None, "USD"]))


# C1 and C2 are always known, C3 sometimes, C9 never.
customers = st.tuples(customers_("C1"), customers_("C2"), st.none() | customers_("C3")).map(
    lambda known: [row for row in known if row is not None])


@settings(max_examples=200, deadline=None)
@given(rows=books(), customer_rows=customers, quantity=st.sampled_from(["0.5", "1", "2.5", "4", "5", "10", "99"]),
       day=st.sampled_from(DAYS + [dt.date(2025, 12, 31), dt.date(2026, 1, 21)]), hour=st.integers(0, 23),
       requested=st.sampled_from([None, None, "EUR", "USD"]))
def test_price_list_agrees_with_quote_for_every_sku(rows: list[dict], customer_rows: list[dict], quantity: str,
                                                    day: dt.date, hour: int, requested: str | None) -> None:
    berlin = book(rows, customer_rows, zone="Europe/Berlin")
    at = dt.datetime.combine(day, dt.time(hour), tzinfo=UTC)
    net_skus = sorted({row["sku"] for row in rows if row["price_type"] == "net"})
    for who in ("C1", "C2", "C3", "C9"):  # C3 is sometimes known, C9 never
        sheet = berlin.price_list(who, at, Decimal(quantity), requested).to_pylist()
        assert [row["sku"] for row in sheet] == net_skus
        for row in sheet:
            result = berlin.quote(who, row["sku"], Decimal(quantity), at, requested)
            event(f"level {result.level.value}" if isinstance(result, Quote) else result.reason)
            if isinstance(result, Quote):
                assert row == {
                    "sku": row["sku"], "amount": result.amount, "currency": result.currency, "level": result.level.value,
                    "min_quantity": result.min_quantity, "valid_from": result.valid_from, "valid_to": result.valid_to,
                    "price_list": result.price_list, "customer_group": result.customer_group, "reason": None,
                }
            else:
                assert row["reason"] == result.reason and row["amount"] is None
        for missing in set(SKUS) - set(net_skus):
            assert berlin.quote(who, missing, Decimal(quantity), at, requested).reason == "no-price"


tie_rows = st.lists(st.builds(
    price, st.just("A"), st.sampled_from(["1", "2"]),
    customer_id=st.sampled_from([None, "C1"]), customer_group=st.sampled_from([None, "G1"]),
    price_list=st.sampled_from([None, "P1"]), valid_from=st.sampled_from([None, DAYS[0], DAYS[1]]),
    min_quantity=st.sampled_from(["1", "5"]),
), min_size=2, max_size=12).map(unique_by_key)


@settings(max_examples=100, deadline=None)
@given(rows=tie_rows, quantity=st.sampled_from(["1", "5"]), order=st.randoms(use_true_random=False))
def test_ties_are_broken_the_same_way_whatever_the_row_order(rows: list[dict], quantity: str, order: random.Random) -> None:
    """One sku, every row applicable to C1: only precedence, breaks and tie-breaks decide."""
    at = dt.datetime.combine(DAYS[2], dt.time(12), tzinfo=UTC)
    c1 = [customer("C1", customer_group="G1", price_list="P1", currency="EUR")]
    result = book(rows, c1).quote("C1", "A", Decimal(quantity), at)
    shuffled = list(rows)
    order.shuffle(shuffled)
    again = book(shuffled, c1)
    assert again.quote("C1", "A", Decimal(quantity), at) == result
    [row] = again.price_list("C1", at, Decimal(quantity)).to_pylist()
    if not isinstance(result, Quote):  # only breaks above the quantity
        assert row["reason"] == result.reason == "no-price"
        return
    assert (row["amount"], row["level"], row["min_quantity"], row["valid_from"], row["price_list"], row["customer_group"]) == (
        result.amount, result.level.value, result.min_quantity, result.valid_from, result.price_list, result.customer_group)
