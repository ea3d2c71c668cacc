"""The business checks of an order against what is published (issue 6 point 2).

Each line's article must be published and active (``unknown-sku``, ``unknown-gtin``,
``inactive-sku``, ``gtin-mismatch``) and ordered in its sales unit (``unit-not-allowed``); the
customer must be known when customers are published (``unknown-customer``) and the order in the
customer's currency (``currency-mismatch``); each unit price must be the price the price engine
computes for this customer, article, quantity and order time, within ``price_tolerance``
(``price-mismatch`` naming both, ``no-price`` when the engine has none). Quantities > 0 and totals
that add up are the ``Order`` model's own rules.

Every issue names the order (``row``: its number in the file, or its first line's row) and the
line's field (``lines[1].unit_price``) with the offending value.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from exchanged.orders.published import Catalog
from exchanged.records.order import Order, OrderLine
from exchanged.records.types import format_decimal
from exchanged.report import Issue, Location

Quoter = Callable[[str, str, Decimal, Any, str], Any]  # (customer, sku, quantity, at, currency) -> Quote | NoPrice


def check_order(order: Order, where: Location, catalog: Catalog, quote: Quoter | None, tolerance: Decimal) -> list[Issue]:
    """Every issue of ``order`` (``where`` locates the order; issues add the field)."""
    issues: list[Issue] = []

    def issue(code: str, field: str, value: Any, message: str) -> None:
        issues.append(Issue(code=code, location=where.with_field(field), value=value, message=message))

    customers = catalog.customers
    if customers is not None:
        customer = customers.get(order.customer_id)
        if customer is None:
            issue("unknown-customer", "customer_id", order.customer_id, f"customer {order.customer_id} is not published")
        elif customer.currency and customer.currency != order.currency:
            issue("currency-mismatch", "currency", order.currency,
                  f"customer {order.customer_id} buys in {customer.currency}, the order is in {order.currency}")
    for index, line in enumerate(order.lines):
        sku = _article(line, index, catalog, issue)
        if sku is None:
            continue
        if quote is not None:
            _check_price(order, line, index, sku, quote, tolerance, issue)
    return issues


def _article(line: OrderLine, index: int, catalog: Catalog, issue: Callable[[str, str, Any, str], None]) -> str | None:
    """The line's published sku (None after reporting why there is none)."""
    field = f"lines[{index}]"
    sku = line.sku
    if sku is None:
        sku = catalog.by_gtin.get(line.gtin or "")
        if sku is None:
            issue("unknown-gtin", f"{field}.gtin", line.gtin, f"no published product has the GTIN {line.gtin}")
            return None
    product = catalog.products.get(sku)
    if product is None:
        issue("unknown-sku", f"{field}.sku", sku, f"article {sku} is not published")
        return None
    if line.gtin and product.gtin and line.gtin != product.gtin:
        issue("gtin-mismatch", f"{field}.gtin", line.gtin,
              f"article {sku} has the GTIN {product.gtin}, the line says {line.gtin}")
    if not product.active:
        issue("inactive-sku", f"{field}.sku", sku, f"article {sku} is published as not for sale (active = false)")
    if line.unit != product.unit:
        issue("unit-not-allowed", f"{field}.unit", line.unit, f"article {sku} is sold in {product.unit}, not in {line.unit}")
    return sku


def _check_price(order: Order, line: OrderLine, index: int, sku: str, quote: Quoter, tolerance: Decimal,
                 issue: Callable[[str, str, Any, str], None]) -> None:
    field = f"lines[{index}].unit_price"
    given = format_decimal(line.unit_price)
    result = quote(order.customer_id, sku, line.quantity, order.ordered_at, order.currency)
    amount = getattr(result, "amount", None)
    if amount is None:
        reason = getattr(result, "reason", None) or "no price applies"
        issue("no-price", field, given, f"no {order.currency} price for article {sku}, customer {order.customer_id}, "
                                        f"quantity {format_decimal(line.quantity)} at {order.ordered_at.isoformat()}: {reason}")
        return
    if abs(amount - line.unit_price) > tolerance:
        level = getattr(result, "level", None)
        why = f" ({level} price)" if level else ""
        issue("price-mismatch", field, given, f"article {sku}: expected {format_decimal(amount)} {order.currency}{why}, "
                                              f"the order says {given} (tolerance {format_decimal(tolerance)})")


def inconsistent_rows(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> list[str]:
    """The order header fields whose value differs between the rows of one order."""
    first = rows[0]
    return [name for name in fields if any(row.get(name) != first.get(name) for row in rows[1:])]


__all__ = ["Quoter", "check_order", "inconsistent_rows"]
