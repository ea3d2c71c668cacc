"""Canonical order JSON (``exchanged schema order``): one order object, or an array of them.

Every fault is an issue located by the order's number in the file (``row``) and the field's path
(``lines[1].quantity``), with the offending value: JSON syntax (``invalid-json`` with line and
column), the order rules of ``records/order.py`` (``totals-mismatch``, ``missing-item-id``, …),
the field kinds (``invalid-gtin``, ``invalid-currency``, …), missing and unknown fields. Numbers
are read as decimals, never as floats, so ``19.99`` stays exactly ``19.99``.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from exchanged.records.order import Order
from exchanged.report import Issue, Location

_KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
_PYDANTIC_CODES = {"missing": "missing-value", "extra_forbidden": "unknown-field", "too_short": "missing-value"}


def read_orders(data: bytes) -> tuple[list[Order], list[Issue]]:
    """The valid orders of a canonical order file and the issues of the others."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [Issue(code="invalid-encoding", message=f"order JSON must be UTF-8: byte {exc.start} is not",
                          location=Location(column=exc.start + 1))]
    try:
        parsed = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        where = Location(line=exc.lineno, column=exc.colno)
        return [], [Issue(code="invalid-json", message=f"not JSON: {exc.msg}", location=where)]
    except RecursionError:
        return [], [Issue(code="invalid-json", message="not an order: nested too deeply")]
    items = parsed if isinstance(parsed, list) else [parsed]
    if not items:
        return [], [Issue(code="no-orders", message="the file is an empty array: no order")]
    orders: list[Order] = []
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            issues.append(Issue(code="invalid-json", location=Location(row=number),
                                message=f"order {number} is a JSON {type(item).__name__}, not an object"))
            continue
        try:
            order = Order.model_validate(item)
        except ValidationError as exc:
            issues.extend(validation_issues(exc, number))
            continue
        if order.order_id in seen:
            issues.append(Issue(code="duplicate-key", location=Location(row=number, field="order_id"), value=order.order_id,
                                message=f"order {order.order_id} is also order {seen[order.order_id]} of this file"))
            continue
        seen[order.order_id] = number
        orders.append(order)
    return orders, issues


def validation_issues(exc: ValidationError, row: int) -> list[Issue]:
    """One issue per pydantic error, coded the way the record kinds and rules name them."""
    issues = []
    for error in exc.errors():
        kind = error["type"]
        code = kind if _KEBAB.match(kind) else _PYDANTIC_CODES.get(kind, "invalid-value")
        field = field_path(error["loc"])
        value = error.get("input") if kind not in ("missing", "model_type") else None
        message = error["msg"] if kind != "missing" else "is required"
        issues.append(Issue(code=code, location=Location(row=row, field=field or None), value=_shown(value),
                            message=f"{field}: {message}" if field else message))
    return issues


def field_path(loc: tuple[Any, ...]) -> str:
    """``("lines", 1, "quantity")`` -> ``lines[1].quantity``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _shown(value: Any) -> Any:
    """A value as the report shows it: scalars as given, structures left out (they are long)."""
    if isinstance(value, (dict, list)):
        return None
    return str(value) if isinstance(value, Decimal) else value


__all__ = ["field_path", "read_orders", "validation_issues"]
