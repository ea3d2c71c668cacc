"""Column validation: the records' business rules over a whole batch, with located issues."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from exchanged.columns import arrow_schema, validate
from exchanged.records import ENTITIES, Product
from exchanged.records.kinds import Identifier, KindError
from exchanged.report import IssueCollector

from conftest import make_batch


def issues_of(collector: IssueCollector) -> list[tuple]:
    return [(i.code, i.location.line, i.location.row, i.location.field, i.value) for i in collector.issues]


def test_product_rules_golden() -> None:
    batch = make_batch([
        {"sku": "A1", "gtin": "4006381333931", "name": "Hammer", "unit": "C62", "vat_rate": "19", "weight": "0.5"},
        {"sku": "A2", "gtin": "4006381333932", "name": "Zange", "unit": "PCE", "vat_rate": "19", "weight": "-1"},
        {"sku": "A1", "gtin": None, "name": "Hammer again", "unit": None, "vat_rate": "7", "weight": None},
        {"sku": None, "gtin": None, "name": None, "unit": "KGM", "vat_rate": "101", "weight": "1,5"},
    ])
    collector = IssueCollector()
    valid = validate(ENTITIES["product"], batch, collector)
    assert issues_of(collector) == [
        ("invalid-gtin", 3, 2, "gtin", "4006381333932"),
        ("invalid-unit", 3, 2, "unit", "PCE"),
        ("out-of-range", 3, 2, "weight", "-1"),
        ("duplicate-key", 4, 3, "sku", None),
        ("missing-value", 5, 4, "sku", None),
        ("missing-value", 5, 4, "name", None),
        ("out-of-range", 5, 4, "vat_rate", "101"),
        ("invalid-decimal", 5, 4, "weight", "1,5"),
    ]
    assert valid.rejected_rows == 3
    assert valid.records.schema == arrow_schema(Product)
    assert valid.records.to_pylist() == [{
        "sku": "A1", "gtin": "4006381333931", "name": "Hammer", "unit": "C62", "vat_rate": Decimal("19"),
        "weight": Decimal("0.5"), "description": None, "brand": None, "attributes": [], "active": True,
    }]


def test_defaults_fill_missing_optional_fields() -> None:
    valid = validate(ENTITIES["price"], make_batch([{"sku": "A1", "currency": "EUR", "amount": "9.99"}]), IssueCollector())
    row = valid.records.to_pylist()[0]
    assert (row["price_type"], row["min_quantity"], row["valid_from"]) == ("net", Decimal(1), None)


def test_reject_file_keeps_nothing_when_one_row_is_bad() -> None:
    batch = make_batch([{"sku": "A1", "name": "ok"}, {"sku": "A2", "name": "bad", "unit": "XYZ"}])
    valid = validate(ENTITIES["product"], batch, IssueCollector(), on_row_error="reject_file")
    assert valid.records.num_rows == 0 and valid.rejected_rows == 1


def test_price_validity_window_is_a_row_rule() -> None:
    batch = make_batch([{"sku": "A", "currency": "EUR", "amount": "1", "valid_from": "2026-12-01", "valid_to": "2026-11-30"}])
    collector = IssueCollector()
    validate(ENTITIES["price"], batch, collector)
    assert issues_of(collector) == [("invalid-validity", 2, 1, "valid_to", None)]


def test_attributes_and_nested_addresses_are_assembled() -> None:
    product = validate(ENTITIES["product"], make_batch([
        {"sku": "A", "name": "x", "attributes.colour": "red", "attributes.size": None},
        {"sku": "B", "name": "y", "attributes.colour": None, "attributes.size": "XL"},
    ]), IssueCollector()).records.to_pylist()
    assert [p["attributes"] for p in product] == [[("colour", "red")], [("size", "XL")]]
    customer = validate(ENTITIES["customer"], make_batch([
        {"customer_id": "K1", "name": "Kunde", "billing_address.city": "Köln", "billing_address.country": "DE"},
        {"customer_id": "K2", "name": "Other", "billing_address.country": "XX"},
    ]), collector := IssueCollector()).records.to_pylist()
    assert customer[0]["billing_address"]["city"] == "Köln" and customer[0]["shipping_address"] is None
    assert issues_of(collector) == [("invalid-country", 3, 2, "billing_address.country", "XX")]


def test_deletes_need_only_a_valid_key() -> None:
    batch = make_batch([{"sku": "A", "warehouse": "W1", "quantity": None}, {"sku": "B", "warehouse": "W1", "quantity": "5"}],
                       ops=["delete", "upsert"])
    valid = validate(ENTITIES["stock"], batch, IssueCollector())
    assert valid.deletes.to_pylist() == [{"sku": "A", "warehouse": "W1"}]
    assert [r["sku"] for r in valid.records.to_pylist()] == ["B"]


def test_issue_cap_counts_what_it_cuts() -> None:
    batch = make_batch([{"sku": f"S{i}", "name": "n", "gtin": "123"} for i in range(50)])
    collector = IssueCollector(limit=10)
    validate(ENTITIES["product"], batch, collector)
    assert len(collector.issues) == 10 and collector.truncated == 40 and collector.errors == 50
    assert [i.location.row for i in collector.issues] == list(range(1, 11))


# --- the column path says exactly what pydantic says, row by row ------------------------------

VALUES = {
    "sku": st.one_of(st.none(), st.sampled_from(["A", "B", " C", "D\x01", "x" * 70]), st.text(max_size=5)),
    "gtin": st.one_of(st.none(), st.sampled_from(["4006381333931", "4006381333932", "96385074", "12"])),
    "name": st.one_of(st.none(), st.text(max_size=8)),
    "unit": st.one_of(st.none(), st.sampled_from(["C62", "KGM", "PCE", "c62"])),
    "vat_rate": st.one_of(st.none(), st.sampled_from(["19", "7.5", "-1", "100.0000001", "abc", "100"])),
    "weight": st.one_of(st.none(), st.from_regex(r"\A-?\d{1,3}(\.\d{1,7})?\Z")),
    "active": st.one_of(st.none(), st.sampled_from(["true", "0", "ja", "maybe"])),
    "attributes.colour": st.one_of(st.none(), st.text(max_size=4)),
}


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries(VALUES), min_size=1, max_size=6))
def test_column_verdict_equals_pydantic_row_by_row(rows: list[dict]) -> None:
    batch = make_batch(rows)
    collector = IssueCollector()
    valid = validate(ENTITIES["product"], batch, collector)
    bad_rows = {i.location.row for i in collector.issues}
    seen: set[str] = set()
    expected_good = []
    for number, row in enumerate(rows, start=1):
        data = {k: v for k, v in row.items() if v is not None and not k.startswith("attributes.")}
        data["attributes"] = {"colour": row["attributes.colour"]} if row["attributes.colour"] is not None else {}
        try:
            sku = Identifier().scalar(row["sku"]) if row["sku"] is not None else None
        except KindError:
            sku = None
        repeated = sku in seen  # the first row with a valid key owns it, even if that row is bad
        if sku is not None:
            seen.add(sku)
        try:
            record = Product.model_validate(data)
        except ValidationError:
            assert number in bad_rows, (row, collector.issues)
            continue
        if repeated:
            assert number in bad_rows
            continue
        assert number not in bad_rows, (row, collector.issues)
        expected_good.append(record.model_dump(mode="json"))
    got = [Product.model_validate({**r, "attributes": dict(r["attributes"])}).model_dump(mode="json") for r in valid.records.to_pylist()]
    assert got == expected_good


def test_composite_keys_with_empty_parts_are_still_unique() -> None:
    """Two prices for the same sku, currency and start date, neither with a customer: one key."""
    row = {"sku": "A", "currency": "EUR", "amount": "1", "valid_from": "2026-01-01"}
    collector = IssueCollector()
    valid = validate(ENTITIES["price"], make_batch([row, {**row, "amount": "2"}, {**row, "customer_id": "K1"}]), collector)
    assert issues_of(collector) == [("duplicate-key", 3, 2, "sku", None)]
    assert [(r["amount"], r["customer_id"]) for r in valid.records.to_pylist()] == [(Decimal(1), None), (Decimal(1), "K1")]


def test_rows_dropped_for_a_non_key_value_are_retained_by_key() -> None:
    batch = make_batch([
        {"sku": "A", "name": "ok"},
        {"sku": "B", "name": "bad unit", "unit": "XYZ"},   # key fine, row bad -> retained
        {"sku": " C", "name": "bad key"},                  # key unreadable -> cannot be retained
        {"sku": "A", "name": "duplicate"},                 # its key is already published by row 1
    ])
    valid = validate(ENTITIES["product"], batch, IssueCollector())
    assert valid.retained.to_pylist() == [{"sku": "B"}]


def test_field_checks_run_on_no_more_threads_than_the_process_has_cores(monkeypatch) -> None:
    import importlib

    validate_module = importlib.import_module("exchanged.columns.validate")  # the package exports the function
    monkeypatch.setattr(validate_module.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    validate_module._pool.cache_clear()
    try:
        assert validate_module._pool()._max_workers == 2  # not _THREADS (4): each thread holds its columns
    finally:
        validate_module._pool().shutdown()
        validate_module._pool.cache_clear()
