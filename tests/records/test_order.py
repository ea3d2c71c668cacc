"""The ``order`` record: lines, identification, and totals that must add up (DESIGN §2)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from exchanged.records.order import Order, OrderLine


def order_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "order_id": "SO-1001",
        "customer_id": "C-42",
        "ordered_at": "2026-03-01T09:30:00+01:00",
        "currency": "EUR",
        "lines": [
            {"sku": "A-1", "gtin": "4006381333931", "quantity": "2", "unit_price": "9.95"},
            {"sku": "B-2", "quantity": "0.5", "unit": "KGM", "unit_price": "12.40", "description": "Käse"},
        ],
        "totals": {"net": "26.10", "tax": "4.96", "gross": "31.06"},
    }
    data.update(changes)
    return data


def error_codes(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        Order.model_validate(data)
    return [error["type"] for error in caught.value.errors()]


def test_a_valid_order_is_typed_and_numbered() -> None:
    order = Order.model_validate(order_data())
    assert order.ordered_at == dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC)
    assert [line.line_no for line in order.lines] == [1, 2]
    assert order.lines[0].unit == "C62"
    assert order.lines[1].quantity == Decimal("0.5")
    assert order.totals.net == Decimal("26.1")


def test_given_line_numbers_are_kept() -> None:
    data = order_data()
    data["lines"][0]["line_no"] = 10
    data["lines"][1]["line_no"] = 20
    assert [line.line_no for line in Order.model_validate(data).lines] == [10, 20]


def test_a_line_number_twice_is_refused() -> None:
    data = order_data()
    data["lines"][1]["line_no"] = 1
    assert error_codes(data) == ["duplicate-line-no"]


def test_lines_must_add_up_to_net_exactly() -> None:
    assert error_codes(order_data(totals={"net": "26.11", "tax": "4.96", "gross": "31.07"})) == ["totals-mismatch"]


def test_net_plus_tax_must_be_gross() -> None:
    assert error_codes(order_data(totals={"net": "26.10", "tax": "4.96", "gross": "31.05"})) == ["totals-mismatch"]


def test_without_tax_gross_is_net() -> None:
    order = Order.model_validate(order_data(totals={"net": "26.10", "gross": "26.1"}))
    assert order.totals.tax is None
    assert error_codes(order_data(totals={"net": "26.10", "gross": "31.06"})) == ["totals-mismatch"]


def test_the_sum_is_exact_beyond_the_default_decimal_precision() -> None:
    # The product has 30 digits; Decimal's default context keeps 28 and rounds it to exactly the
    # stated net, so a naive check would accept an order that is off by 0.000000000001.
    quantity, price, net = "100000000000000000.000001", "1.000001", "100000100000000000.000001"
    assert Decimal(quantity) * Decimal(price) == Decimal(net)  # the naive check is fooled
    line = {"sku": "X", "quantity": quantity, "unit_price": price}
    assert error_codes(order_data(lines=[line], totals={"net": net, "gross": net})) == ["totals-mismatch"]


def test_many_lines_add_up() -> None:
    lines = [{"sku": f"A-{n}", "quantity": "3", "unit_price": "0.333333"} for n in range(1, 501)]
    order = Order.model_validate(order_data(lines=lines, totals={"net": "499.9995", "gross": "499.9995"}))
    assert len(order.lines) == 500 and order.lines[-1].line_no == 500


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ({"quantity": "1", "unit_price": "1"}, "missing-item-id"),
        ({"sku": "A", "quantity": "0", "unit_price": "1"}, "out-of-range"),
        ({"sku": "A", "quantity": "-1", "unit_price": "1"}, "out-of-range"),
        ({"sku": "A", "quantity": "1", "unit_price": "-1"}, "out-of-range"),
        ({"sku": "A", "gtin": "4006381333932", "quantity": "1", "unit_price": "1"}, "invalid-gtin"),
        ({"sku": "A", "quantity": "1", "unit": "PCE", "unit_price": "1"}, "invalid-unit"),
        ({"sku": "A", "quantity": "1", "unit_price": "1", "colour": "red"}, "extra_forbidden"),
    ],
)
def test_bad_lines(line: dict[str, str], code: str) -> None:
    assert code in error_codes(order_data(lines=[line], totals={"net": "1", "gross": "1"}))


def test_a_gtin_alone_identifies_a_line() -> None:
    line = OrderLine(gtin="4006381333931", quantity=Decimal(3), unit_price=Decimal("1.5"))
    assert line.sku is None and line.amount == Decimal("4.5")


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"lines": []}, "too_short"),
        ({"currency": "EURO"}, "invalid-currency"),
        ({"ordered_at": "2026-03-01T09:30:00"}, "invalid-timestamp"),
        ({"shipping_address": {"name": "X", "country": "XX"}}, "invalid-country"),
        ({"order_id": " SO-1"}, "invalid-id"),
        ({"note": "x"}, "extra_forbidden"),
    ],
)
def test_bad_orders(changes: dict[str, Any], code: str) -> None:
    assert code in error_codes(order_data(**changes))


def test_orders_are_frozen() -> None:
    order = Order.model_validate(order_data())
    with pytest.raises(ValidationError):
        order.order_id = "other"  # type: ignore[misc]


def test_addresses_reuse_the_customer_address() -> None:
    order = Order.model_validate(order_data(shipping_address={"name": "Müller & Söhne", "street": "Hauptstr. 1",
                                                               "postal_code": "10115", "city": "Berlin", "country": "DE"}))
    assert order.shipping_address is not None and order.shipping_address.city == "Berlin"


def test_json_round_trip() -> None:
    order = Order.model_validate(order_data())
    again = Order.model_validate_json(order.model_dump_json())
    assert again == order
    assert order.model_dump(mode="json")["lines"][0]["unit_price"] == "9.95"
