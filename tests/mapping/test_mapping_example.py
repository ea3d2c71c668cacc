"""End to end through the CSV reader: the documented German ERP example and a canonical file."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchanged.mapping import apply_mapping, load_mapping, load_mappings, route_file

csv = pytest.importorskip("exchanged.formats.csv")

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def test_the_german_article_export_becomes_canonical_products_and_prices() -> None:
    mapping = load_mapping(EXAMPLES / "acme-erp-articles.toml")
    data = (EXAMPLES / "ARTIKEL_20261127.csv").read_bytes()
    assert data.startswith(b"ACME ERP") and "Gültig".encode("cp1252") in data  # cp1252, preamble
    assert route_file("ARTIKEL_20261127.csv", data, "csv", [*load_mappings(None).values(), mapping]) is mapping
    source = csv.read_csv(data, mapping.csv.options())
    product, price = apply_mapping(mapping, source)

    assert product.fields.to_pydict() == {
        "sku": ["10001", "10002", "10003", "10004", "10005"],
        "gtin": ["4006381333931", None, "4012345678901", "4012345678902", "4023456789011"],
        "name": ['Kugelschreiber "Büro"; blau', "Schraubendreher-Satz 6-tlg. – Aktion", "Mörtel grau", "Maßband 5 m",
                 "Kabel NYM-J 3x1,5"],
        "unit": ["C62", "C62", "KGM", "C62", "MTR"],
        "vat_rate": ["19", "19", "19", "7", "19"],
        "weight": ["0.012", "0.85", "25", "0.2", None],
        "brand": ["ACME"] * 5,
        "active": ["true", "true", "true", "false", None],
        "attributes.farbe": ["blau", None, "grau", "gelb", "schwarz"],
    }
    assert price.fields.to_pydict() == {
        "sku": ["10001", "10002", "10003", "10004", "10005"],
        "amount": ["1.49", "1234.50", "0.89", "7.90", "0.5"],
        "currency": ["EUR"] * 5,
        "valid_from": ["2026-12-01", "2026-12-01", "2026-12-01", None, "2026-12-01"],
    }
    assert product.lines.to_pylist() == [4, 5, 6, 7, 8] and product.rows.to_pylist() == [1, 2, 3, 4, 5]
    assert product.invalid.to_pylist() == [False, False, False, False, True]
    assert price.invalid.to_pylist() == [False, False, False, True, False]
    assert [i.to_json() for i in product.issues + price.issues] == [
        {"code": "unmapped-code", "severity": "error", "message": "active: not in the code map (A, I)",
         "location": {"line": 8, "row": 5, "field": "Status"}, "value": "X"},
        {"code": "invalid-date", "severity": "error", "message": "valid_from: not a date in the format %d.%m.%Y",
         "location": {"line": 7, "row": 4, "field": "Gültig ab"}, "value": "31.02.2026"},
    ]


def test_a_canonical_semicolon_file_with_decimal_comma_and_an_op_column() -> None:
    data = (
        "\ufeffop;sku;name;vat_rate;weight;attributes.colour;gtin\r\n"
        "upsert;A-1;Stift, blau;19;0,012;blau;4006381333931\r\n"
        "DELETE;A-2;;;;;\r\n"
        ";A-3;Kabel 3x1,5;7;1.234,5;;\r\n"
    ).encode("utf-8")
    mappings = load_mappings(None)
    mapping = route_file("products.csv", data, "csv", mappings.values())
    assert mapping.name == "canonical-product"
    (batch,) = apply_mapping(mapping, csv.read_csv(data, mapping.csv.options()))
    assert batch.mode == "delta"
    assert batch.ops is not None and batch.ops.to_pylist() == ["upsert", "delete", "upsert"]
    assert batch.fields.to_pydict() == {
        "sku": ["A-1", "A-2", "A-3"],
        "gtin": ["4006381333931", None, None],
        "name": ["Stift, blau", None, "Kabel 3x1,5"],
        "vat_rate": ["19", None, "7"],
        "weight": ["0.012", None, "1234.5"],
        "attributes.colour": ["blau", None, None],
    }
    assert batch.issues == [] and not any(batch.invalid.to_pylist())
