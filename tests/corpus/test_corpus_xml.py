"""Every XML file of ../shared/corpus/xml through the whole pipeline to a precise outcome.

Read by a built-in XML mapping (BMEcat T_NEW_CATALOG -> product + price, UBL Catalogue -> product +
price, UBL InventoryReport / StockAvailabilityReport -> stock, UBL OrderResponse / DespatchAdvice
and openTRANS DISPATCHNOTIFICATION / INVOICE -> order_status) with the right counts and values, or
rejected with precise codes: ``no-mapping`` for documents sent *to* the ERP (UBL Order, openTRANS
ORDER). Never a crash, never a silent wrong result. Skipped on a clone without ../shared.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exchanged.config import load_settings
from exchanged.mapping import load_mappings
from exchanged.pipeline import Evaluation, Source, evaluate

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "xml"

# file -> (status, mapping, records per entity, error codes)
EXPECTED: dict[str, tuple[str, str | None, dict[str, int], list[str]]] = {
    "bmecat_2005_sample_BOM_DOCTYPE.xml": ("accepted", "bmecat-new-catalog", {"product": 1, "price": 4}, []),
    # PRODUCT_PRICE without PRICE_AMOUNT: the price is dropped, the product stays
    "bmecat_2005_weidmueller_relay_double-escaped-entity.xml": ("partial", "bmecat-new-catalog", {"product": 1, "price": 0}, ["missing-value"]),
    "bmecat_2005_weidmueller_terminal-marker.xml": ("partial", "bmecat-new-catalog", {"product": 1, "price": 0}, ["missing-value"]),
    # ORDER_REFERENCE/LINE_ITEM_ID is P697: openTRANS line ids are strings, ours are numbers
    "opentrans_DISPATCHNOTIFICATION_2.1_utf8_U+FFFD-mojibake.xml": ("rejected", "opentrans-dispatchnotification", {}, ["invalid-line-no"]),
    "opentrans_INVOICE_2.1_ISO-8859-1.xml": ("accepted", "opentrans-invoice", {"order_status": 1}, []),
    # an order is sent to the ERP, never read from it
    "opentrans_ORDER_2.1_INVALID-UDX-too-long.xml": ("rejected", None, {}, ["no-mapping"]),
    "opentrans_ORDER_2.1_spec-sample.xml": ("rejected", None, {}, ["no-mapping"]),
    # example GTINs with wrong check digits: every product is dropped, the prices stay
    "ubl_Catalogue_2.1_PEPPOL-BIS3_ISO-8859-1.xml": ("partial", "ubl-catalogue", {"product": 0, "price": 2}, ["invalid-gtin"]),
    "ubl_Catalogue_2.1_minimal_update-action.xml": ("partial", "ubl-catalogue", {"product": 0, "price": 3}, ["invalid-gtin"]),
    "ubl_DespatchAdvice_2.0_OASIS-example.xml": ("accepted", "ubl-despatch-advice", {"order_status": 1}, []),
    "ubl_InventoryReport_2.1_OASIS-example.xml": ("accepted", "ubl-inventory-report", {"stock": 3}, []),
    "ubl_OrderResponse_2.1_OASIS-example.xml": ("accepted", "ubl-order-response", {"order_status": 2}, []),
    "ubl_Order_2.1_OASIS-example.xml": ("rejected", None, {}, ["no-mapping"]),
    "ubl_StockAvailabilityReport_2.1_OASIS-example.xml": ("accepted", "ubl-stock-availability-report", {"stock": 3}, []),
}

UTC = dt.timezone.utc

# file -> entity -> the published records, each reduced to the fields listed (all records listed)
RECORDS: dict[str, dict[str, list[dict[str, Any]]]] = {
    "bmecat_2005_sample_BOM_DOCTYPE.xml": {
        "product": [{"sku": "Q20-P09", "gtin": "9783161484100", "name": "Post-Safe Polythene Envelopes", "unit": "C62"}],
        "price": [
            {"sku": "Q20-P09", "amount": Decimal("16.49"), "min_quantity": Decimal(1), "customer_id": None},
            {"sku": "Q20-P09", "amount": Decimal("11.49"), "min_quantity": Decimal(50), "customer_id": None},
            {"sku": "Q20-P09", "amount": Decimal("10.29"), "min_quantity": Decimal(1), "customer_id": "aggibuyer"},
            {"sku": "Q20-P09", "amount": Decimal("9.29"), "min_quantity": Decimal(50), "customer_id": "aggibuyer"},
        ],
    },
    "bmecat_2005_weidmueller_relay_double-escaped-entity.xml": {
        "product": [{"sku": "7760056069", "gtin": "4032248855865", "name": "Relais", "brand": "Weidmueller Group"}],
        "price": [],
    },
    "bmecat_2005_weidmueller_terminal-marker.xml": {
        "product": [{"sku": "1609801044", "gtin": "4008190397111", "name": "Klemmenmarkierung"}],
        "price": [],
    },
    "opentrans_INVOICE_2.1_ISO-8859-1.xml": {
        "order_status": [{
            "order_id": "O3849", "line_no": 1, "status": "invoiced", "sku": "NB-A4", "invoice_number": "I21298",
            "document_date": dt.date(2009, 5, 13), "invoiced_quantity": Decimal(4), "invoiced_amount": Decimal("4680"),
            "currency": "EUR",
        }],
    },
    "ubl_Catalogue_2.1_PEPPOL-BIS3_ISO-8859-1.xml": {
        "product": [],
        # line 1: the price's own validity; line 2: the catalogue's
        "price": [
            {"sku": "MNTR011", "amount": Decimal(10), "currency": "EUR", "price_type": "net", "min_quantity": Decimal(1),
             "valid_from": dt.date(2018, 10, 1), "valid_to": dt.date(2018, 12, 31)},
            {"sku": "MNTR012", "amount": Decimal(90), "currency": "EUR", "price_type": "net", "min_quantity": Decimal(1),
             "valid_from": dt.date(2018, 9, 1), "valid_to": dt.date(2019, 8, 31)},
        ],
    },
    "ubl_Catalogue_2.1_minimal_update-action.xml": {
        "product": [],
        # line 103: 91.50 EUR for a BaseQuantity of 20, from a MinimumQuantity of 20
        "price": [
            {"sku": "998000924", "amount": Decimal("1.35"), "min_quantity": Decimal(1), "valid_from": None},
            {"sku": "MNTR011X1", "amount": Decimal("12.55"), "min_quantity": Decimal(1), "valid_from": None},
            {"sku": "MNTR012X2", "amount": Decimal("4.575"), "min_quantity": Decimal(20), "valid_from": None},
        ],
    },
    "ubl_DespatchAdvice_2.0_OASIS-example.xml": {
        "order_status": [{
            "order_id": "AEG012345", "line_no": 1, "status": "shipped", "sku": "17589683", "document_number": "565899",
            "document_date": dt.date(2005, 6, 20), "shipped_quantity": Decimal(90), "tracking_number": None,
        }],
    },
    "ubl_InventoryReport_2.1_OASIS-example.xml": {
        "stock": [
            {"sku": "DD88", "warehouse": "default", "quantity": Decimal(10), "as_of": dt.datetime(2010, 4, 11, tzinfo=UTC)},
            {"sku": "DA008", "warehouse": "default", "quantity": Decimal(15), "as_of": dt.datetime(2010, 4, 11, tzinfo=UTC)},
            {"sku": "BA058", "warehouse": "default", "quantity": Decimal(5), "as_of": dt.datetime(2010, 4, 11, tzinfo=UTC)},
        ],
    },
    "ubl_OrderResponse_2.1_OASIS-example.xml": {
        # LineStatusCode NoStatus (as ordered) and Disputed, no OrderResponseCode
        "order_status": [
            {"order_id": "34", "line_no": 1, "status": "accepted", "document_number": "7", "document_date": dt.date(2010, 1, 21)},
            {"order_id": "34", "line_no": 2, "status": "rejected", "document_number": "7", "document_date": dt.date(2010, 1, 21)},
        ],
    },
    "ubl_StockAvailabilityReport_2.1_OASIS-example.xml": {
        # the line's AvailabilityDate, else the InventoryPeriod's start
        "stock": [
            {"sku": "ZZ738", "quantity": Decimal(50), "as_of": dt.datetime(2010, 4, 20, tzinfo=UTC)},
            {"sku": "K0058", "quantity": Decimal(80), "as_of": dt.datetime(2010, 4, 11, tzinfo=UTC)},
            {"sku": "PK009", "quantity": Decimal(0), "as_of": dt.datetime(2010, 4, 11, tzinfo=UTC)},
        ],
    },
}

# file -> (code, field, value) of every error issue: what exactly was wrong
ERRORS: dict[str, list[tuple[str, str | None, Any]]] = {
    "bmecat_2005_weidmueller_relay_double-escaped-entity.xml": [("missing-value", "amount", None)],
    "bmecat_2005_weidmueller_terminal-marker.xml": [("missing-value", "amount", None)],
    "opentrans_DISPATCHNOTIFICATION_2.1_utf8_U+FFFD-mojibake.xml": [("invalid-line-no", "line_no", "P697")],
    "ubl_Catalogue_2.1_PEPPOL-BIS3_ISO-8859-1.xml": [
        ("invalid-gtin", "gtin", "1234567890884"), ("invalid-gtin", "gtin", "1234567890885"),
    ],
    "ubl_Catalogue_2.1_minimal_update-action.xml": [
        ("invalid-gtin", "gtin", "1234567890924"), ("invalid-gtin", "gtin", "1234567890114"),
        ("invalid-gtin", "gtin", "1234567890124"), ("invalid-gtin", "gtin", "1234567890991"),
    ],
    "opentrans_ORDER_2.1_INVALID-UDX-too-long.xml": [("no-mapping", None, "ORDER")],
    "opentrans_ORDER_2.1_spec-sample.xml": [("no-mapping", None, "ORDER")],
    "ubl_Order_2.1_OASIS-example.xml": [("no-mapping", None, "Order")],
}

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/xml is not here (fresh clone)"),
]

MAPPINGS = load_mappings(None)


def _evaluate(name: str) -> Evaluation:
    settings = load_settings(environ={})
    return evaluate(Source.from_bytes((CORPUS / name).read_bytes(), f"inbox/{name}"), MAPPINGS, settings)


def test_every_corpus_file_has_an_expectation() -> None:
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_outcome(name: str) -> None:
    evaluation = _evaluate(name)
    report = evaluation.report
    status, mapping, entities, codes = EXPECTED[name]
    assert (report.status.value, report.mapping, report.entities) == (status, mapping, entities)
    errors = [i for i in report.issues if i.severity == "error"]
    assert sorted({i.code for i in errors}) == codes
    assert [(i.code, i.location.field, i.value) for i in errors] == ERRORS.get(name, [])
    for issue in errors:  # a record's issue says where the record is: line and XPath
        if issue.code != "no-mapping":
            assert issue.location.line is not None and issue.location.xpath, issue
    published = {u.entity: u.records.to_pylist() for u in evaluation.updates}
    expected = RECORDS.get(name, {})
    assert sorted(published) == sorted(expected)
    for entity, rows in expected.items():
        got = published[entity]
        assert len(got) == len(rows), entity
        for row, want in zip(got, rows):
            assert {field: row[field] for field in want} == want
