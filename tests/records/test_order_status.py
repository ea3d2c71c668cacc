"""The ``order_status`` record: one per order line, line 0 the order as a whole (DESIGN §2).

The same rules hold one record at a time (pydantic) and column by column (``columns.validate``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from test_kinds_agree import verdicts

from exchanged.columns import arrow_schema, validate
from exchanged.formats.jsonl import to_jsonl
from exchanged.records import ENTITIES
from exchanged.records.line_number import LineNumberKind
from exchanged.records.order_status import OrderStatus
from exchanged.report import IssueCollector
from exchanged.schemas import json_schema

SHIPPED = {"order_id": "SO-1001", "line_no": "1", "status": "shipped", "document_number": "DES587441",
           "document_date": "2026-11-27", "sku": "A-1", "gtin": "4006381333931", "shipped_quantity": "2",
           "tracking_number": "JJD0099"}


@dataclass
class _Batch:
    fields: pa.Table
    lines: pa.Array
    rows: pa.Array
    ops: pa.Array | None
    invalid: pa.Array
    failed: dict[str, pa.Array] = field(default_factory=dict)


def checked(rows: list[dict[str, str | None]]) -> tuple[list[dict[str, Any]], list[tuple]]:
    """Rows through the column validator: the records kept and (code, row, field, value) per issue."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    table = pa.table({name: pa.array([row.get(name) for row in rows], pa.string()) for name in names})
    n = len(rows)
    batch = _Batch(table, pa.array(range(2, n + 2), pa.int64()), pa.array(range(1, n + 1), pa.int64()), None,
                   pa.array([False] * n))
    collector = IssueCollector()
    valid = validate(ENTITIES["order_status"], batch, collector)
    assert valid.records.schema == arrow_schema(OrderStatus)
    issues = [(i.code, i.location.row, i.location.field, i.value) for i in collector.issues]
    return valid.records.to_pylist(), issues


def error_codes(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        OrderStatus.model_validate(data)
    return [error["type"] for error in caught.value.errors()]


def test_the_entity_is_registered_with_its_key() -> None:
    assert ENTITIES["order_status"].model is OrderStatus
    assert ENTITIES["order_status"].key == ("order_id", "line_no")


def test_a_shipped_line_is_typed() -> None:
    record = OrderStatus.model_validate(SHIPPED)
    assert (record.line_no, record.status, record.shipped_quantity, record.document_date) == (
        1, "shipped", Decimal(2), dt.date(2026, 11, 27))
    assert record.confirmed_quantity is None and record.invoice_number is None


def test_the_order_as_a_whole_is_line_zero_with_its_invoice_total() -> None:
    record = OrderStatus.model_validate({"order_id": "SO-1001", "line_no": 0, "status": "invoiced",
                                         "invoice_number": "IN432097", "invoiced_amount": "5767.10", "currency": "EUR"})
    assert (record.line_no, record.invoiced_amount, record.currency) == (0, Decimal("5767.10"), "EUR")


@pytest.mark.parametrize("item", [{"sku": "A-1"}, {"gtin": "4006381333931"}, {"confirmed_quantity": "1"},
                                  {"shipped_quantity": "0"}, {"invoiced_quantity": "3"}])
def test_line_zero_names_no_article_and_no_line_quantity(item: dict[str, str]) -> None:
    data = {"order_id": "SO-1", "line_no": "0", "status": "accepted", **item}
    assert error_codes(data) == ["order-level-with-item"]
    assert checked([data]) == ([], [("order-level-with-item", 1, "line_no", None)])


def test_an_amount_needs_its_currency() -> None:
    data = {"order_id": "SO-1", "line_no": "2", "status": "invoiced", "invoiced_amount": "10"}
    assert error_codes(data) == ["missing-currency"]
    assert checked([data])[1] == [("missing-currency", 1, "currency", None)]


def test_line_numbers_are_digits_and_leading_zeros_do_not_make_another_line() -> None:
    records, issues = checked([
        {"order_id": "SO-1", "line_no": "001", "status": "shipped"},
        {"order_id": "SO-1", "line_no": "1", "status": "invoiced"},     # the same line: the first wins
        {"order_id": "SO-1", "line_no": "1.5", "status": "shipped"},
        {"order_id": "SO-1", "line_no": "-1", "status": "shipped"},
        {"order_id": "SO-1", "line_no": "1000000", "status": "shipped"},
        {"order_id": "SO-1", "line_no": "000010", "status": "accepted"},
    ])
    assert [(r["line_no"], r["status"]) for r in records] == [(1, "shipped"), (10, "accepted")]
    assert issues == [
        ("duplicate-key", 2, "order_id", None),
        ("invalid-line-no", 3, "line_no", "1.5"),
        ("invalid-line-no", 4, "line_no", "-1"),
        ("out-of-range", 5, "line_no", "1000000"),
    ]
    assert error_codes({"order_id": "SO-1", "line_no": True, "status": "shipped"}) == ["invalid-line-no"]


def test_the_status_is_a_closed_list_and_quantities_are_not_negative() -> None:
    records, issues = checked([
        {"order_id": "SO-1", "line_no": "1", "status": "delivered"},
        {"order_id": "SO-1", "line_no": "2", "status": "Shipped"},
        {"order_id": "SO-1", "line_no": "3", "status": "changed", "confirmed_quantity": "-1"},
        {"order_id": "SO-1", "line_no": "4", "status": None},
        {"order_id": "SO-1", "line_no": "5", "status": "credited", "invoiced_quantity": "2", "gtin": "4006381333932"},
    ])
    assert records == []
    assert issues == [
        ("invalid-code", 1, "status", "delivered"),
        ("invalid-code", 2, "status", "Shipped"),
        ("out-of-range", 3, "confirmed_quantity", "-1"),
        ("missing-value", 4, "status", None),
        ("invalid-gtin", 5, "gtin", "4006381333932"),
    ]
    assert "literal_error" in error_codes({**SHIPPED, "status": "delivered"})


def test_the_column_verdict_equals_pydantic_record_by_record() -> None:
    rows = [
        SHIPPED,
        {"order_id": "SO-1", "line_no": "0", "status": "rejected", "document_number": "R-1"},
        {"order_id": "SO-1", "line_no": "0", "status": "rejected", "sku": "A-1"},
        {"order_id": "SO-2", "line_no": "3", "status": "invoiced", "invoiced_amount": "1.5"},
        {"order_id": "SO-2", "line_no": "4", "status": "invoiced", "invoiced_amount": "1.5", "currency": "EUR"},
        {"order_id": " SO-3", "line_no": "1", "status": "accepted"},
        {"order_id": "SO-3", "line_no": "x", "status": "accepted"},
    ]
    records, _ = checked(rows)
    expected = []
    for row in rows:
        try:
            expected.append(OrderStatus.model_validate({k: v for k, v in row.items() if v is not None}))
        except ValidationError:
            continue
    assert [OrderStatus.model_validate(r) for r in records] == expected


def test_json_is_the_same_from_the_model_and_from_the_published_table() -> None:
    records, _ = checked([SHIPPED])
    table = pa.Table.from_pylist(records, schema=arrow_schema(OrderStatus))
    published = json.loads(to_jsonl(table))
    assert published == json.loads(OrderStatus.model_validate(SHIPPED).model_dump_json())
    assert published["line_no"] == 1 and published["shipped_quantity"] == "2"


def test_the_json_schema_names_the_key_and_the_codes() -> None:
    schema = json_schema("order_status")
    assert schema["x-key"] == ["order_id", "line_no"]
    assert schema["required"] == ["order_id", "line_no", "status"]
    assert schema["properties"]["line_no"]["type"] == "integer"
    assert schema["properties"]["status"]["enum"] == [
        "received", "accepted", "changed", "rejected", "cancelled", "shipped", "invoiced", "credited"]


LINE_NUMBERS = st.one_of(st.text(max_size=12), st.from_regex(r"\A[+-]?\d{0,20}(\.\d{0,2})?\Z"),
                         st.sampled_from(["0", "000", "999999", "1000000", "001", " 1", "1 ", "١٢", "", "1e3"]))


@settings(max_examples=400, deadline=None)
@given(text=LINE_NUMBERS)
def test_the_line_number_kind_gives_one_verdict_per_value_in_both_forms(text: str) -> None:
    scalar, column = verdicts(LineNumberKind(), text)
    assert scalar == column


def test_a_null_line_number_is_neither_valid_nor_a_failure() -> None:
    check = LineNumberKind().column(pa.array([None], pa.string()))
    assert check.values[0].as_py() is None
    assert not any(mask[0].as_py() for mask, _, _ in check.failures)
