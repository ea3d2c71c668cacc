"""Every CSV of ../shared/corpus/csv goes through the whole pipeline to a precise outcome.

A file is either processed with the right mapping (the built-in canonical ones, or the mappings
in tests/corpus/mappings written for three real ERP exports) or rejected with a precise code and
location: never a crash, never a silent wrong result. Skipped on a clone without ../shared.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from exchanged.config import load_settings
from exchanged.mapping import load_mappings
from exchanged.pipeline import Source, evaluate

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "csv"
MAPPINGS = Path(__file__).with_name("mappings")

# file -> (status, mapping, records per entity, error issues as (code, line))
EXPECTED: dict[str, tuple[str, str | None, dict[str, int], list[tuple[str, int | None]]]] = {
    "bots_alto_invoice-details_no-header-row.csv": ("rejected", None, {}, [("no-mapping", None)]),
    "bots_alto_invoice-headers_no-header-row.csv": ("rejected", None, {}, [("no-mapping", None)]),
    # every row repeats ArticleNumber 123456: the first row wins for product and price alike
    "bots_article-data_semicolon_decimal-comma_padded.csv": (
        "partial", "bots-articledata", {"product": 1, "price": 1},
        [("duplicate-key", 3), ("duplicate-key", 4), ("duplicate-key", 3), ("duplicate-key", 4)],
    ),
    # headerless: its first record, read as a header, repeats names ("1", "1", …)
    "bots_orders_flat_denormalised_all-quoted.csv": ("rejected", None, {}, [("duplicate-column", 1)]),
    "bots_sales-report_semicolon_decimal-comma_all-quoted.csv": ("rejected", None, {}, [("no-mapping", None)]),
    "datev_EXTF_Buchungsstapel_cp1252_semicolon.csv": ("rejected", None, {}, [("no-mapping", None)]),
    "datev_EXTF_Debitoren-Kreditoren_cp1252_semicolon.csv": ("accepted", "datev-debitoren", {"customer": 4}, []),
    "frictionless_leading-zeros_no-final-newline.csv": ("rejected", None, {}, [("no-mapping", None)]),
    "frictionless_ragged-rows_INVALID.csv": ("rejected", "frictionless-people", {}, [("ragged-row", 2), ("ragged-row", 3)]),
    "frictionless_utf8-BOM_cjk.csv": ("rejected", None, {}, [("no-mapping", None)]),
    "magento_orders_json-in-csv.csv": ("rejected", None, {}, [("no-mapping", None)]),
    "magento_products_gear-bags_multiline-html.csv": ("accepted", "canonical-product", {"product": 14}, []),
    "oca_bank-export_preamble-footer_decimal-comma.csv": ("rejected", None, {}, [("no-mapping", None)]),
    "oca_bank-line_no-header_thousands-separator.csv": ("rejected", None, {}, [("no-mapping", None)]),
    "shopify_product-import-template.csv": ("rejected", None, {}, [("no-mapping", None)]),
    "smooks_order-lines_denormalised_header.csv": ("rejected", None, {}, [("no-mapping", None)]),
    "smooks_variable-record-types_no-final-newline.csv": ("rejected", None, {}, [("no-mapping", None)]),
}

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/csv is not here (fresh clone)"),
]


def run(name: str):
    settings = load_settings(environ={})
    return evaluate(Source.from_bytes((CORPUS / name).read_bytes(), name), load_mappings(MAPPINGS), settings)


def test_every_corpus_file_has_an_expectation() -> None:
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_outcome(name: str) -> None:
    status, mapping, entities, errors = EXPECTED[name]
    report = run(name).report
    assert (report.status.value, report.mapping, report.entities) == (status, mapping, entities)
    assert [(i.code, i.location.line) for i in report.issues if i.severity == "error"] == errors


def test_datev_customers_are_read_in_windows_1252_from_the_second_line() -> None:
    (update,) = run("datev_EXTF_Debitoren-Kreditoren_cp1252_semicolon.csv").updates
    rows = update.records.to_pylist()
    assert [(r["customer_id"], r["name"]) for r in rows] == [
        ("10000", "Sabine Mustermann"), ("70001", "Meyer GmbH"), ("70002", "Schulze GmbH"), ("70003", "Scary Kitten  AG"),
    ]
    assert rows[0]["billing_address"] == {"name": None, "street": "Am Haagelspfädchen 14", "postal_code": "50999", "city": "Köln", "country": "DE"}
    assert rows[1]["billing_address"] is None


def test_bots_articles_strip_padding_and_read_dd_mm_yyyy() -> None:
    product, price = run("bots_article-data_semicolon_decimal-comma_padded.csv").updates
    assert product.records.to_pylist()[0]["attributes"] == [("color", "white"), ("size", "L")]
    row = price.records.to_pylist()[0]
    assert (str(row["valid_from"]), row["price_type"], row["amount"]) == ("2008-06-30", "retail", 40)


def test_magento_multiline_html_survives_and_unknown_columns_are_warned_once() -> None:
    evaluation = run("magento_products_gear-bags_multiline-html.csv")
    (update,) = evaluation.updates
    assert update.records.column("sku").to_pylist()[:3] == ["24-MB01", "24-MB04", "24-MB03"]
    warned = [i.location.field for i in evaluation.report.issues if i.code == "unknown-column"]
    assert len(warned) == len(set(warned)) and "price" in warned
