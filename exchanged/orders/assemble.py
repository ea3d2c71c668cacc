"""Order rows (``records.order_rows.OrderRow``, one per line, header fields repeated) into orders.

Rows are grouped by ``order_id`` in file order. The header fields must be the same on every row
of an order (``inconsistent-order`` names the field and the row that differs); the order is then
built and checked by the ``Order`` model like a canonical JSON order. A row without ``line_no``
is numbered by its position within its order (``number_lines``, before the rows are validated, so
that ``(order_id, line_no)`` is the rows' key).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from pydantic import ValidationError

from exchanged.orders.canonical import validation_issues
from exchanged.records.order import Order
from exchanged.report import Issue, Location

HEADER = ("order_id", "customer_id", "ordered_at", "currency", "billing_address", "shipping_address", "totals")
LINE = ("line_no", "sku", "gtin", "quantity", "unit", "unit_price", "description")


def number_lines(fields: pa.Table) -> pa.Table:
    """``fields`` (the mapped text columns) with ``line_no`` set where it is missing: the row's
    position among the rows of its order."""
    if "order_id" not in fields.column_names:
        return fields
    ids = fields.column("order_id").to_pylist()
    given = fields.column("line_no").to_pylist() if "line_no" in fields.column_names else [None] * len(ids)
    counts: dict[Any, int] = {}
    numbers = []
    for order_id, line_no in zip(ids, given):
        counts[order_id] = counts.get(order_id, 0) + 1
        numbers.append(line_no if line_no is not None else str(counts[order_id]))
    column = pa.array(numbers, pa.string())
    if "line_no" in fields.column_names:
        return fields.set_column(fields.column_names.index("line_no"), "line_no", column)
    return fields.append_column("line_no", column)


def assemble(records: pa.Table, where: list[Location]) -> tuple[list[tuple[Order, Location]], list[Issue]]:
    """Orders from valid order rows (``where``: each row's location); and the issues of the
    orders that could not be built."""
    groups: dict[str, list[int]] = {}
    rows = records.to_pylist()
    for index, row in enumerate(rows):
        groups.setdefault(row["order_id"], []).append(index)
    orders: list[tuple[Order, Location]] = []
    issues: list[Issue] = []
    for order_id, indexes in groups.items():
        first = where[indexes[0]]
        differing = next(((name, i) for i in indexes[1:] for name in HEADER if rows[i][name] != rows[indexes[0]][name]), None)
        if differing is not None:
            name, index = differing
            issues.append(Issue(code="inconsistent-order", location=where[index].with_field(name), value=order_id,
                                message=f"order {order_id}: {name} differs from the order's first row "
                                        f"(row {first.row}); every row of an order repeats the same header"))
            continue
        head = rows[indexes[0]]
        data = {name: head[name] for name in HEADER if head[name] is not None}
        data["lines"] = [{name: rows[i][name] for name in LINE if rows[i][name] is not None} for i in indexes]
        try:
            orders.append((Order.model_validate(data), first))
        except ValidationError as exc:
            issues.extend(issue.model_copy(update={"location": first.with_field(issue.location.field or "")})
                          for issue in validation_issues(exc, first.row or 0))
    return orders, issues


__all__ = ["HEADER", "LINE", "assemble", "number_lines"]
