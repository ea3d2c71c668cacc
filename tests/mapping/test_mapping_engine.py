"""apply_mapping: a source table in, one batch of canonical text per entity out, issues located."""

from __future__ import annotations

import pyarrow as pa
import pytest
from mapping_helpers import make_mapping, make_source

from exchanged.columns import validate
from exchanged.errors import InputRejected
from exchanged.mapping import EntityBatch, apply_mapping, load_mappings
from exchanged.records import ENTITIES
from exchanged.report import IssueCollector

ARTICLES = """\
name = "articles"
on_row_error = "drop_row"
[match]
columns = ["Nr"]
[csv]
decimal = ","
thousands = "."
[entity.product]
sku = "Nr"
name = "Text"
unit = { column = "ME", map = { "Stk" = "C62", "kg" = "KGM" }, map_strict = true }
weight = "Gewicht"
"attributes.farbe" = { column = "Farbe", case = "lower" }
brand = { value = "ACME" }
[entity.price]
sku = "Nr"
amount = "Preis"
currency = { value = "EUR" }
valid_from = { column = "Ab", date_format = "%d.%m.%Y" }
"""


def issues_of(batch: EntityBatch) -> list[tuple]:
    return [(i.code, i.severity, i.location.line, i.location.row, i.location.field, i.value) for i in batch.issues]


def test_a_two_entity_mapping_gives_canonical_text_and_located_issues() -> None:
    source = make_source({
        "Nr": [" 1 ", "2", "3", "4"],
        "Text": ["Kabel 3x1,5", "Mörtel  ", None, "Stift"],
        "ME": ["Stk", "kg", "Sack", "Stk"],
        "Gewicht": ["0,5", "1.234,5", "", "1.5"],
        "Farbe": ["Blau", None, "ROT", " "],
        "Preis": ["1,49", "1.234,50", "x", "0,5"],
        "Ab": ["01.12.2026", "1.2.2026", "31.02.2026", None],
        "Unused": ["a", "b", "c", "d"],
    }, first_line=5)
    product, price = apply_mapping(make_mapping(ARTICLES), source)
    assert product.entity == "product" and product.mode == "full" and product.ops is None
    assert product.fields.to_pydict() == {
        "sku": ["1", "2", "3", "4"],
        "name": ["Kabel 3x1,5", "Mörtel", None, "Stift"],          # text keeps its comma
        "unit": ["C62", "KGM", None, "C62"],
        "weight": ["0.5", "1234.5", None, None],
        "attributes.farbe": ["blau", None, "rot", None],
        "brand": ["ACME"] * 4,
    }
    assert all(t == pa.string() for t in product.fields.schema.types)
    assert product.invalid.to_pylist() == [False, False, True, True]
    assert issues_of(product) == [
        ("unmapped-code", "error", 7, 3, "ME", "Sack"),
        ("invalid-decimal", "error", 8, 4, "Gewicht", "1.5"),
    ]
    assert product.issues[0].message == "unit: not in the code map (Stk, kg)"
    assert product.issues[1].message == "weight: not a number (decimal ',', thousands '.')"
    assert price.fields.to_pydict() == {
        "sku": ["1", "2", "3", "4"],
        "amount": ["1.49", "1234.50", None, "0.5"],
        "currency": ["EUR"] * 4,
        "valid_from": ["2026-12-01", "2026-02-01", None, None],
    }
    assert price.invalid.to_pylist() == [False, False, True, False]
    assert issues_of(price) == [
        ("invalid-decimal", "error", 7, 3, "Preis", "x"),
        ("invalid-date", "error", 7, 3, "Ab", "31.02.2026"),
    ]
    assert price.lines.to_pylist() == [5, 6, 7, 8] and price.rows.to_pylist() == [1, 2, 3, 4]
    assert price.issues_truncated == 0


def test_a_value_the_mapping_could_not_read_is_reported_once_not_as_missing_too() -> None:
    source = make_source({"Nr": ["1", "2"], "Text": [None, "Mörtel"], "ME": ["Sack", "kg"], "Gewicht": ["1", "2"],
                          "Farbe": [None, None], "Preis": ["x", None], "Ab": [None, None]})
    product, price = apply_mapping(make_mapping(ARTICLES), source)
    assert {path: rows.to_pylist() for path, rows in product.failed.items() if any(rows.to_pylist())} == {
        "unit": [True, False]}

    found = []
    for batch in (product, price):
        collector = IssueCollector()
        validate(ENTITIES[batch.entity], batch, collector)
        found += [(batch.entity, i.code, i.location.row, i.location.field) for i in collector.issues]

    # Row 1's unit ("Sack") and amount ("x") were reported by the mapping; its name is missing
    # indeed, and so is row 2's amount: those are the validator's.
    assert found == [("product", "missing-value", 1, "name"), ("price", "missing-value", 2, "amount")]


def test_a_mapped_column_missing_from_the_file_rejects_it() -> None:
    source = make_source({"Nr": ["1"], "Text": ["x"], "ME": ["Stk"], "Gewicht": ["1"], "Farbe": ["x"], "Preis": ["1"]})
    with pytest.raises(InputRejected) as caught:
        apply_mapping(make_mapping(ARTICLES), source)
    issue = caught.value.issue
    assert (issue.code, issue.location.field) == ("missing-column", "Ab")
    assert issue.message == (
        "the file has no column 'Ab', which mapping 'articles' reads for entity.price.valid_from; "
        "its header is: Nr, Text, ME, Gewicht, Farbe, Preis"
    )


def test_columns_are_found_ignoring_case_and_blanks_and_joined() -> None:
    mapping = make_mapping("""\
        [match]
        columns = ["id"]
        [entity.customer]
        customer_id = "ID"
        name = { columns = ["Vorname", "Nachname"] }
        "billing_address.street" = { columns = ["Straße", "Nr"], join = " " }
        """)
    source = make_source({" id ": ["K1", "K2"], "vorname": ["Eva", None], "NACHNAME": ["Roth", "Meier GmbH"],
                          "Straße": ["Ring", ""], "Nr": ["5", "7"]})
    (batch,) = apply_mapping(mapping, source)
    assert batch.fields.to_pydict() == {
        "customer_id": ["K1", "K2"], "name": ["Eva Roth", "Meier GmbH"], "billing_address.street": ["Ring 5", "7"],
    }


def test_optional_columns_may_be_absent_and_defaults_fill_what_is_empty() -> None:
    mapping = make_mapping("""\
        [match]
        columns = ["sku"]
        [entity.stock]
        sku = "sku"
        quantity = "qty"
        warehouse = { column = "Lager", optional = true, default = "main" }
        as_of = { column = "Zeit", optional = true }
        """)
    (batch,) = apply_mapping(mapping, make_source({"sku": ["A", "B"], "qty": ["1", "2"]}))
    assert batch.fields.to_pydict() == {"sku": ["A", "B"], "quantity": ["1", "2"], "warehouse": ["main", "main"]}
    (batch,) = apply_mapping(mapping, make_source({"sku": ["A", "B"], "qty": ["1", "2"], "Lager": ["L1", ""]}))
    assert batch.fields.column("warehouse").to_pylist() == ["L1", "main"]


def test_empty_keep_and_strip_false() -> None:
    mapping = make_mapping("""\
        [match]
        columns = ["sku"]
        [entity.product]
        sku = "sku"
        name = { column = "name", strip = false }
        description = { column = "d", empty = "keep" }
        """)
    (batch,) = apply_mapping(mapping, make_source({"sku": ["A", "B"], "name": [" x ", None], "d": [None, "y"]}))
    assert batch.fields.to_pydict() == {"sku": ["A", "B"], "name": [" x ", None], "description": ["", "y"]}


def test_attribute_patterns_read_every_matching_column() -> None:
    mapping = make_mapping("""\
        [match]
        columns = ["sku"]
        [entity.product]
        sku = "sku"
        name = "name"
        "attributes.*" = { column = "Merkmal_*", case = "lower" }
        "attributes.size" = "Merkmal_Größe"
        """)
    source = make_source({"sku": ["A"], "name": ["n"], "Merkmal_Farbe": ["ROT"], "merkmal_material": ["Holz"],
                          "Merkmal_Größe": ["XL"]})
    (batch,) = apply_mapping(mapping, source)
    assert batch.fields.to_pydict() == {
        "sku": ["A"], "name": ["n"], "attributes.size": ["XL"], "attributes.Farbe": ["rot"], "attributes.material": ["holz"],
    }


def test_delta_ops_are_mapped_and_bad_ones_reported_once() -> None:
    mapping = make_mapping("""\
        mode = "delta"
        [match]
        columns = ["Nr"]
        [op]
        column = "Kz"
        map = { "N" = "upsert", "U" = "upsert", "D" = "delete" }
        [entity.product]
        sku = "Nr"
        name = "Text"
        [entity.price]
        sku = "Nr"
        amount = "Preis"
        currency = { value = "EUR" }
        """)
    source = make_source({"Nr": ["1", "2", "3", "4"], "Text": ["a", None, "c", "d"], "Preis": ["1", None, "3", "4"],
                          "Kz": ["N", "D", "X", None]})
    product, price = apply_mapping(mapping, source)
    for batch in (product, price):
        assert batch.mode == "delta"
        assert batch.ops is not None and batch.ops.to_pylist() == ["upsert", "delete", None, None]
        assert batch.invalid.to_pylist() == [False, False, True, True]
    assert issues_of(product) == [("invalid-op", "error", 4, 3, "Kz", "X"), ("invalid-op", "error", 5, 4, "Kz", None)]
    assert price.issues == []


def test_a_delta_without_op_upserts_and_a_constant_op_deletes() -> None:
    base = '[match]\nfilename = "DEL_*.csv"\n[entity.product]\nsku = "Nr"\n'
    (batch,) = apply_mapping(make_mapping('mode = "delta"\n' + base), make_source({"Nr": ["1", "2"]}))
    assert batch.ops is not None and batch.ops.to_pylist() == ["upsert", "upsert"]
    mapping = make_mapping('mode = "delta"\nop = { value = "delete" }\n' + base)
    (batch,) = apply_mapping(mapping, make_source({"Nr": ["1", "2"]}))
    assert batch.ops is not None and batch.ops.to_pylist() == ["delete", "delete"]


def test_canonical_mode_auto_is_a_delta_only_with_an_op_column() -> None:
    canonical = load_mappings(None)["canonical-stock"]
    (full,) = apply_mapping(canonical, make_source({"sku": ["A"], "quantity": ["5"]}))
    assert (full.mode, full.ops) == ("full", None)
    (delta,) = apply_mapping(canonical, make_source({"op": ["UPSERT", "delete", ""], "sku": ["A", "B", "C"], "quantity": ["5", None, "1"]}))
    assert delta.mode == "delta"
    assert delta.ops is not None and delta.ops.to_pylist() == ["upsert", "delete", "upsert"]
    assert delta.fields.to_pydict() == {"sku": ["A", "B", "C"], "quantity": ["5", None, "1"]}


def test_canonical_files_warn_once_per_unknown_column() -> None:
    canonical = load_mappings(None)["canonical-product"]
    source = make_source({"sku": ["A", "B"], "name": ["x", "y"], "Farbe": ["r", "g"], "attributes.colour": ["red", None],
                          "price": ["1", "2"]})
    (batch,) = apply_mapping(canonical, source)
    assert [(i.code, i.severity, i.location.column, i.location.field) for i in batch.issues] == [
        ("unknown-column", "warning", 3, "Farbe"), ("unknown-column", "warning", 5, "price"),
    ]
    assert batch.issues[0].message == "column 'Farbe' is not read by mapping 'canonical-product'; its values are ignored"
    assert batch.fields.to_pydict() == {"sku": ["A", "B"], "name": ["x", "y"], "attributes.colour": ["red", None]}
    assert batch.invalid.to_pylist() == [False, False]


def test_canonical_decimal_comma_is_detected_per_file() -> None:
    canonical = load_mappings(None)["canonical-product"]
    source = make_source({"sku": ["A", "B"], "name": ["Kabel 3x1,5", "y"], "vat_rate": ["19", "7"], "weight": ["1.234,5", "0,2"]})
    (batch,) = apply_mapping(canonical, source)
    assert batch.fields.to_pydict()["weight"] == ["1234.5", "0.2"]
    assert batch.fields.to_pydict()["name"] == ["Kabel 3x1,5", "y"]
    dotted = make_source({"sku": ["A"], "name": ["n"], "weight": ["1.234"]})
    (batch,) = apply_mapping(canonical, dotted)
    assert batch.fields.to_pydict()["weight"] == ["1.234"]


def test_issues_stop_at_the_limit_shared_by_all_entities_and_the_rest_is_counted() -> None:
    count = 1500
    source = make_source({"Nr": [str(i) for i in range(count)], "Text": ["t"] * count, "ME": ["Sack"] * count,
                          "Gewicht": ["1"] * count, "Farbe": [None] * count, "Preis": ["x"] * count, "Ab": [None] * count})
    product, price = apply_mapping(make_mapping(ARTICLES), source, issue_limit=1000)
    assert (len(product.issues), product.issues_truncated) == (1000, 500)
    assert (len(price.issues), price.issues_truncated) == (0, 1500)
    assert product.issues[-1].location.row == 1000
    assert sum(product.invalid.to_pylist()) == count


def test_an_empty_file_gives_empty_batches() -> None:
    source = make_source({"Nr": [], "Text": [], "ME": [], "Gewicht": [], "Farbe": [], "Preis": [], "Ab": []})
    product, price = apply_mapping(make_mapping(ARTICLES), source)
    assert product.fields.num_rows == 0 and price.fields.num_rows == 0
    assert product.invalid.to_pylist() == [] and product.issues == []
