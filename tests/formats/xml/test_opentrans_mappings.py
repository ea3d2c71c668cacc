"""The built-in openTRANS 2.1 mappings (mappings/opentrans-*.toml) on small documents written here:
every branch of their code maps, the header fallbacks, and the issues of missing or wrong elements."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from standard_helpers import errors, opentrans, records, run, where

# --- openTRANS ORDERRESPONSE --------------------------------------------------------------------------

ORDERRESPONSE_INFO = ("<ORDER_ID>SO-42</ORDER_ID><ORDERRESPONSE_DATE>2024-05-02T09:00:00+02:00</ORDERRESPONSE_DATE>"
                      "<SUPPLIER_ORDER_ID>AB-1001</SUPPLIER_ORDER_ID>")


def ot_item(root: str, line_id: str, quantity: str | None, *, sku: str = "A-1", extra: str = "") -> str:
    amount = f"<QUANTITY>{quantity}</QUANTITY>" if quantity is not None else ""
    return (f"<{root}_ITEM><LINE_ITEM_ID>{line_id}</LINE_ITEM_ID><PRODUCT_ID><bmecat:SUPPLIER_PID>{sku}</bmecat:SUPPLIER_PID>"
            f'<bmecat:INTERNATIONAL_PID type="gtin">4006381333931</bmecat:INTERNATIONAL_PID></PRODUCT_ID>'
            f"{amount}<bmecat:ORDER_UNIT>C62</bmecat:ORDER_UNIT>{extra}</{root}_ITEM>")


def test_an_opentrans_order_response_confirms_its_items() -> None:
    evaluation = run(opentrans("ORDERRESPONSE", ORDERRESPONSE_INFO, "\n".join([
        ot_item("ORDERRESPONSE", "1", "4"), ot_item("ORDERRESPONSE", "2", "0", sku="B-2")])))
    assert evaluation.report.mapping == "opentrans-orderresponse"
    base = {"order_id": "SO-42", "document_number": "AB-1001", "document_date": dt.date(2024, 5, 2), "gtin": "4006381333931"}
    assert records(evaluation, "order_status") == [
        {**base, "line_no": 1, "status": "accepted", "sku": "A-1", "confirmed_quantity": Decimal(4)},
        {**base, "line_no": 2, "status": "rejected", "sku": "B-2", "confirmed_quantity": Decimal(0)},
    ]


@pytest.mark.parametrize("quantity", [None, "many"])
def test_an_opentrans_order_response_item_without_a_readable_quantity_has_no_status(quantity: str | None) -> None:
    evaluation = run(opentrans("ORDERRESPONSE", ORDERRESPONSE_INFO, ot_item("ORDERRESPONSE", "1", quantity)))
    expected = [("missing-value", "status", 5, "/ot:ORDERRESPONSE/ot:ORDERRESPONSE_ITEM_LIST/ot:ORDERRESPONSE_ITEM[1]")]
    if quantity == "many":
        expected.insert(0, ("invalid-decimal", "confirmed_quantity", 5,
                            "/ot:ORDERRESPONSE/ot:ORDERRESPONSE_ITEM_LIST/ot:ORDERRESPONSE_ITEM[1]"))
    assert sorted(where(i) for i in errors(evaluation)) == sorted(expected)


def test_an_opentrans_order_response_without_order_id_says_where() -> None:
    evaluation = run(opentrans("ORDERRESPONSE", "<ORDERRESPONSE_DATE>2024-05-02</ORDERRESPONSE_DATE>",
                               ot_item("ORDERRESPONSE", "1", "1")))
    assert [where(i) for i in errors(evaluation)] == [
        ("missing-value", "order_id", 5, "/ot:ORDERRESPONSE/ot:ORDERRESPONSE_ITEM_LIST/ot:ORDERRESPONSE_ITEM[1]")]


# --- openTRANS DISPATCHNOTIFICATION ---------------------------------------------------------------------

DISPATCH_INFO = ("<DISPATCHNOTIFICATION_ID>LA-1</DISPATCHNOTIFICATION_ID>"
                 "<DISPATCHNOTIFICATION_DATE>2024-05-03T09:00:00+02:00</DISPATCHNOTIFICATION_DATE>"
                 "<SHIPMENT_ID>PARCEL-77</SHIPMENT_ID>")


def order_reference(order_id: str, line_id: str = "") -> str:
    line = f"<LINE_ITEM_ID>{line_id}</LINE_ITEM_ID>" if line_id else ""
    return f"<ORDER_REFERENCE><ORDER_ID>{order_id}</ORDER_ID>{line}</ORDER_REFERENCE>"


def test_an_opentrans_dispatch_notification_ships_the_referenced_order_lines() -> None:
    evaluation = run(opentrans("DISPATCHNOTIFICATION", DISPATCH_INFO, "\n".join([
        ot_item("DISPATCHNOTIFICATION", "1", "4", extra=order_reference("SO-42", "3")),
        ot_item("DISPATCHNOTIFICATION", "2", "1", extra=order_reference("SO-43")),  # no order line: the item's own
    ])))
    assert evaluation.report.mapping == "opentrans-dispatchnotification"
    base = {"status": "shipped", "document_number": "LA-1", "document_date": dt.date(2024, 5, 3), "sku": "A-1",
            "gtin": "4006381333931", "tracking_number": "PARCEL-77"}
    assert records(evaluation, "order_status") == [
        {**base, "order_id": "SO-42", "line_no": 3, "shipped_quantity": Decimal(4)},
        {**base, "order_id": "SO-43", "line_no": 2, "shipped_quantity": Decimal(1)},
    ]


def test_an_opentrans_dispatch_item_without_order_or_with_a_text_line_id_says_where() -> None:
    evaluation = run(opentrans("DISPATCHNOTIFICATION", DISPATCH_INFO, "\n".join([
        ot_item("DISPATCHNOTIFICATION", "1", "4"),
        ot_item("DISPATCHNOTIFICATION", "2", "1", extra=order_reference("SO-42", "P697")),
    ])))
    item = "/ot:DISPATCHNOTIFICATION/ot:DISPATCHNOTIFICATION_ITEM_LIST/ot:DISPATCHNOTIFICATION_ITEM"
    assert sorted((*where(i), i.value) for i in errors(evaluation)) == [
        ("invalid-line-no", "line_no", 6, f"{item}[2]", "P697"),
        ("missing-value", "order_id", 5, f"{item}[1]", None),
    ]


# --- openTRANS INVOICE ----------------------------------------------------------------------------------

def invoice(invoice_type: str | None, items: str, *, currency: str = "EUR", history: str = "SO-42") -> str:
    kind = f"<INVOICE_TYPE>{invoice_type}</INVOICE_TYPE>" if invoice_type is not None else ""
    money = f"<bmecat:CURRENCY>{currency}</bmecat:CURRENCY>" if currency else ""
    info = f"<INVOICE_ID>RE-9</INVOICE_ID><INVOICE_DATE>2024-05-04T10:00:00+02:00</INVOICE_DATE>{kind}{money}"
    order_history = f"<ORDER_HISTORY><ORDER_ID>{history}</ORDER_ID></ORDER_HISTORY>" if history else ""
    return opentrans("INVOICE", info, items, extra_header=order_history)


def invoice_item(line_id: str, *, amount: str = "10.00", extra: str = "") -> str:
    return ot_item("INVOICE", line_id, "2", extra=f"<PRICE_LINE_AMOUNT>{amount}</PRICE_LINE_AMOUNT>{extra}")


@pytest.mark.parametrize(("invoice_type", "status"), [
    (None, "invoiced"), ("invoice", "invoiced"), ("invoice_copy", "invoiced"), ("credit_memo", "credited"),
])
def test_an_opentrans_invoice_by_its_type(invoice_type: str | None, status: str) -> None:
    evaluation = run(invoice(invoice_type, invoice_item("1")))
    assert evaluation.report.mapping == "opentrans-invoice"
    assert records(evaluation, "order_status") == [{
        "order_id": "SO-42", "line_no": 1, "status": status, "document_number": "RE-9", "document_date": dt.date(2024, 5, 4),
        "sku": "A-1", "gtin": "4006381333931", "invoiced_quantity": Decimal(2), "invoice_number": "RE-9",
        "invoiced_amount": Decimal(10), "currency": "EUR"}]


def test_an_opentrans_invoice_of_another_type_is_unmapped() -> None:
    evaluation = run(invoice("advice_of_amendment", invoice_item("1")))
    [issue] = errors(evaluation)
    assert (where(issue), issue.value) == (
        ("unmapped-code", "/ot:INVOICE/ot:INVOICE_HEADER/ot:INVOICE_INFO/ot:INVOICE_TYPE", 5,
         "/ot:INVOICE/ot:INVOICE_ITEM_LIST/ot:INVOICE_ITEM[1]"), "advice_of_amendment")
    assert records(evaluation, "order_status") == []


def test_an_invoice_item_order_reference_wins_over_the_order_history() -> None:
    evaluation = run(invoice("invoice", "\n".join([
        invoice_item("1", extra=order_reference("SO-50", "7")), invoice_item("2")])))
    assert [(r["order_id"], r["line_no"]) for r in records(evaluation, "order_status")] == [("SO-50", 7), ("SO-42", 2)]


def test_an_invoice_without_currency_or_order_says_where() -> None:
    evaluation = run(invoice("invoice", invoice_item("1"), currency="", history=""))
    item = "/ot:INVOICE/ot:INVOICE_ITEM_LIST/ot:INVOICE_ITEM[1]"
    assert sorted(where(i) for i in errors(evaluation)) == [
        ("missing-currency", "currency", 5, item),
        ("missing-value", "order_id", 5, item),
    ]
