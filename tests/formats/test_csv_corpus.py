"""The CSV reader on every file of ../shared/corpus/csv (skipped when the corpus is absent)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from exchanged.errors import InputRejected
from exchanged.formats.csv import (
    CsvOptions,
    read_csv,
    read_header,
    sniff_dialect,
)

from csv_helpers import ragged, rows_of


# --- corpus ---------------------------------------------------------------------------------------

_HERE = Path(__file__).resolve()
CORPUS = (_HERE.parents[3] if len(_HERE.parents) > 3 else _HERE.parent) / "shared" / "corpus" / "csv"

# file -> (options, rows, columns, delimiter, encoding, ragged-row issues as (line, row))
GOLDEN = {
    "bots_alto_invoice-details_no-header-row.csv": (CsvOptions(header_line=0), 5, 6, ",", "utf-8", []),
    "bots_alto_invoice-headers_no-header-row.csv": (CsvOptions(header_line=0), 4, 9, ",", "utf-8", []),
    "bots_article-data_semicolon_decimal-comma_padded.csv": (CsvOptions(), 3, 10, ";", "utf-8", []),
    "bots_orders_flat_denormalised_all-quoted.csv": (CsvOptions(header_line=0), 8, 30, ",", "utf-8", []),
    "bots_sales-report_semicolon_decimal-comma_all-quoted.csv": (CsvOptions(header_line=0), 392, 5, ";", "utf-8", []),
    "datev_EXTF_Buchungsstapel_cp1252_semicolon.csv": (CsvOptions(header_line=2), 2, 120, ";", "cp1252", []),
    "datev_EXTF_Debitoren-Kreditoren_cp1252_semicolon.csv": (CsvOptions(header_line=2), 4, 254, ";", "cp1252", []),
    "frictionless_leading-zeros_no-final-newline.csv": (CsvOptions(), 3, 1, ",", "utf-8", []),
    "frictionless_ragged-rows_INVALID.csv": (CsvOptions(), 0, 3, ",", "utf-8", [(2, 1), (3, 2)]),
    "frictionless_utf8-BOM_cjk.csv": (CsvOptions(), 2, 2, ",", "utf-8-sig", []),
    "magento_orders_json-in-csv.csv": (CsvOptions(), 2, 6, ",", "utf-8", []),
    "magento_products_gear-bags_multiline-html.csv": (CsvOptions(), 14, 19, ",", "utf-8", []),
    "oca_bank-export_preamble-footer_decimal-comma.csv": (
        CsvOptions(header_line=5, skip_footer_lines=1), 4, 6, ",", "utf-8", []),
    "oca_bank-line_no-header_thousands-separator.csv": (CsvOptions(header_line=0), 1, 8, ",", "utf-8", []),
    "shopify_product-import-template.csv": (CsvOptions(), 3, 47, ",", "utf-8", []),
    "smooks_order-lines_denormalised_header.csv": (CsvOptions(), 3, 13, ",", "utf-8", []),
    "smooks_variable-record-types_no-final-newline.csv": (
        CsvOptions(header_line=0), 2, 3, ",", "utf-8", [(2, 2), (3, 3)]),
}


def corpus_file(name: str) -> bytes:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not present at {CORPUS}")
    return (CORPUS / name).read_bytes()


@pytest.mark.corpus
def test_corpus_is_fully_covered():
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not present at {CORPUS}")
    assert sorted(p.name for p in CORPUS.glob("*.csv")) == sorted(GOLDEN)


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_corpus_golden(name):
    data = corpus_file(name)
    options, nrows, ncols, delimiter, encoding, issues = GOLDEN[name]
    src = read_csv(data, options)
    assert (src.table.num_rows, src.table.num_columns) == (nrows, ncols)
    assert (src.dialect.delimiter, src.dialect.encoding) == (delimiter, encoding)
    assert [(i.location.line, i.location.row) for i in src.issues if i.code == "ragged-row"] == issues
    assert all(t == pa.string() for t in src.table.schema.types)
    assert len(src.lines) == len(src.rows) == nrows
    assert read_header(data, options) == src.table.column_names
    assert sniff_dialect(data, options) == src.dialect


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_corpus_default_options_never_crash(name):
    data = corpus_file(name)
    for options in (CsvOptions(), CsvOptions(header_line=0), CsvOptions(header_line=3, skip_footer_lines=2)):
        try:
            src = read_csv(data, options)
        except InputRejected:
            continue
        assert len(src.lines) == len(src.rows) == src.table.num_rows


@pytest.mark.corpus
def test_corpus_bom_cjk():
    src = read_csv(corpus_file("frictionless_utf8-BOM_cjk.csv"))
    assert src.table.column_names == ["id", "name"]
    assert rows_of(src) == [["1", "english"], ["2", "中国人"]]


@pytest.mark.corpus
def test_corpus_magento_multiline_lines():
    src = read_csv(corpus_file("magento_products_gear-bags_multiline-html.csv"))
    # checked against csv.reader's line_num on the same file
    assert src.lines.to_pylist() == [2, 23, 49, 71, 91, 111, 132, 150, 165, 181, 197, 221, 242, 255]
    assert src.rows.to_pylist() == list(range(1, 15))
    assert src.table.column("category")[0].as_py() == "Gear\nBags"


@pytest.mark.corpus
def test_corpus_bank_export_amounts_stay_text():
    src = read_csv(corpus_file("oca_bank-export_preamble-footer_decimal-comma.csv"),
                   CsvOptions(header_line=5, skip_footer_lines=1))
    assert src.table.column_names == ["Date", "Operation Number", "Label", "Debit", "Credit", "Detail"]
    assert src.table.column("Debit").to_pylist() == ["-50,00", "-100,00", "-80,68", None]
    assert src.table.column("Credit").to_pylist() == [None, None, None, "1300,00"]
    assert src.lines.to_pylist() == [6, 7, 8, 9]


@pytest.mark.corpus
def test_corpus_ragged_rows():
    src = read_csv(corpus_file("frictionless_ragged-rows_INVALID.csv"))
    assert ragged(src) == [("ragged-row", 2, 1), ("ragged-row", 3, 2)]
    assert [i.message for i in src.issues] == ["expected 3 fields, found 2", "expected 3 fields, found 4"]


@pytest.mark.corpus
def test_corpus_datev_cp1252():
    src = read_csv(corpus_file("datev_EXTF_Buchungsstapel_cp1252_semicolon.csv"), CsvOptions(header_line=2))
    assert "Gegenkonto (ohne BU-Schlüssel)" in src.table.column_names
    assert src.table.column("Umsatz (ohne Soll/Haben-Kz)").to_pylist() == ["24,95", "5950,00"]
    assert src.table.column("Buchungstext")[0].as_py() == "Fachbuch: Controlling für Dummies"
    assert src.lines.to_pylist() == [3, 4]
    master = read_csv(corpus_file("datev_EXTF_Debitoren-Kreditoren_cp1252_semicolon.csv"), CsvOptions(header_line=2))
    assert any("Köln" in (v or "") for row in master.table.to_pylist() for v in row.values())


@pytest.mark.corpus
def test_corpus_leading_zeros_and_padding_survive():
    src = read_csv(corpus_file("frictionless_leading-zeros_no-final-newline.csv"))
    assert rows_of(src) == [["01"], ["002"], ["00003"]]
    padded = read_csv(corpus_file("bots_article-data_semicolon_decimal-comma_padded.csv"))
    assert any(v.startswith("   ") for v in padded.table.column("Color").to_pylist() if v)
