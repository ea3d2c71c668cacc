"""Canonical order JSON: any valid order survives order -> JSON -> order, exactly."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from exchanged.orders.canonical import read_orders
from exchanged.records.order import Order
from tests.order_strategies import XML_DESCRIPTIONS, XML_IDS, XML_TEXT, orders_of

# Any letter, JSON's own specials (quotes, backslashes, control-free), emoji and markup.
_TEXT = st.one_of(XML_TEXT, st.text(st.sampled_from(list('"\\/{}[],:') + ["\u2028", "é", "😀"]), min_size=1, max_size=8))


@settings(max_examples=80, deadline=None)
@given(orders=st.lists(orders_of(_TEXT, XML_IDS, descriptions=XML_DESCRIPTIONS, currencies=("EUR", "CHF"),
                                 units=("C62", "KGM"), optional_sku=True), min_size=1, max_size=3,
                       unique_by=lambda order: order.order_id),
       single=st.booleans(), indent=st.sampled_from([None, 2]))
def test_any_orders_survive_json_and_back(orders: list[Order], single: bool, indent: int | None) -> None:
    payload = [json.loads(order.model_dump_json()) for order in orders]
    text = json.dumps(payload[0] if single else payload, indent=indent, ensure_ascii=False)
    read, issues = read_orders(text.encode("utf-8"))
    assert issues == []
    assert read == (orders[:1] if single else orders)


def test_numbers_are_read_as_exact_decimals() -> None:
    text = ('{"order_id": "1", "customer_id": "K", "ordered_at": "2026-11-27T10:00:00Z", "currency": "EUR",'
            ' "lines": [{"sku": "A", "quantity": 3, "unit_price": 0.1}], "totals": {"net": 0.3, "gross": 0.3}}')
    [order], issues = read_orders(text.encode())
    # As floats, 3 x 0.1 would be 0.30000000000000004 and the totals would not add up.
    assert issues == [] and order.lines[0].unit_price == Decimal("0.1") and order.lines[0].amount == Decimal("0.3")
