"""The built-in UBL mappings (mappings/ubl-*.toml) on small documents written here: every branch of
their code maps, the header fallbacks, and what a missing or wrong element becomes (the issue code,
with the record's line and XPath)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from standard_helpers import BUILTIN, UTC, deletes, errors, records, run, ubl, where

# --- UBL Catalogue --------------------------------------------------------------------------------

def catalogue_line(sku: str, *, action: str = "", gtin: str = "", scheme: str = "0160", extra_line: str = "",
                   price: str = "", item: str = "") -> str:
    code = f"<cbc:ActionCode>{action}</cbc:ActionCode>" if action else ""
    identification = (f'<cac:StandardItemIdentification><cbc:ID schemeID="{scheme}">{gtin}</cbc:ID>'
                      f"</cac:StandardItemIdentification>" if gtin else "")
    return (f"<cac:CatalogueLine><cbc:ID>{sku}</cbc:ID>{code}{extra_line}{price}"
            f"<cac:Item><cbc:Name>Item {sku}</cbc:Name>{item}"
            f"<cac:SellersItemIdentification><cbc:ID>{sku}</cbc:ID></cac:SellersItemIdentification>{identification}"
            f"</cac:Item></cac:CatalogueLine>")


def rilq(amount: str, *, currency: str = "EUR", base: str = "", minimum: str = "", price: str = "", unit: str = "C62") -> str:
    minimum_part = f'<cbc:MinimumQuantity unitCode="{unit}">{minimum}</cbc:MinimumQuantity>' if minimum else ""
    amount_part = f'<cbc:PriceAmount currencyID="{currency}">{amount}</cbc:PriceAmount>' if amount else ""
    base_part = f'<cbc:BaseQuantity unitCode="{unit}">{base}</cbc:BaseQuantity>' if base else ""
    return (f"<cac:RequiredItemLocationQuantity>{minimum_part}<cac:Price>{amount_part}{base_part}{price}</cac:Price>"
            f"</cac:RequiredItemLocationQuantity>")


def test_a_ubl_catalogue_gives_products_and_prices() -> None:
    evaluation = run(ubl("Catalogue", "\n".join([
        catalogue_line("A-1", action="Add", gtin="4006381333931", price=rilq("12.50", minimum="1", base="1"),
                       item="<cbc:Description>Blue</cbc:Description><cbc:BrandName>Acme</cbc:BrandName>"
                            "<cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent>"
                            "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory>"),
        catalogue_line("B-2", gtin="96385074", scheme="GTIN", extra_line="<cbc:OrderableIndicator>false</cbc:OrderableIndicator>"),
    ])))
    assert evaluation.report.mapping == "ubl-catalogue"
    assert evaluation.report.status.value == "accepted", evaluation.report.issues
    assert records(evaluation, "product") == [
        {"sku": "A-1", "gtin": "4006381333931", "name": "Item A-1", "unit": "C62", "vat_rate": Decimal(19),
         "description": "Blue", "brand": "Acme", "active": True},
        {"sku": "B-2", "gtin": "96385074", "name": "Item B-2", "unit": "C62", "active": False},
    ]
    assert records(evaluation, "price") == [
        {"sku": "A-1", "price_type": "net", "currency": "EUR", "amount": Decimal("12.5"), "min_quantity": Decimal(1)},
    ]


def test_a_gtin_of_another_scheme_and_taxes_of_another_scheme_are_not_read() -> None:
    evaluation = run(ubl("Catalogue", catalogue_line(
        "A-1", gtin="4006381333931", scheme="0088",
        item="<cac:ClassifiedTaxCategory><cbc:Percent>5</cbc:Percent><cac:TaxScheme><cbc:ID>GST</cbc:ID></cac:TaxScheme>"
             "</cac:ClassifiedTaxCategory><cac:ManufacturerParty><cac:PartyName><cbc:Name>Maker AG</cbc:Name>"
             "</cac:PartyName></cac:ManufacturerParty>")))
    assert records(evaluation, "product") == [{"sku": "A-1", "name": "Item A-1", "unit": "C62", "brand": "Maker AG", "active": True}]


@pytest.mark.parametrize(("line", "unit"), [
    (catalogue_line("A-1", extra_line="<cbc:OrderableUnit>KGM</cbc:OrderableUnit>"
                                      '<cbc:MinimumOrderQuantity unitCode="MTR">1</cbc:MinimumOrderQuantity>',
                    price=rilq("1", base="1", unit="C62")), "KGM"),
    (catalogue_line("A-1", extra_line='<cbc:MinimumOrderQuantity unitCode="MTR">1</cbc:MinimumOrderQuantity>',
                    price=rilq("1", base="1", unit="C62")), "MTR"),
    (catalogue_line("A-1", price=rilq("1", base="1", unit="LTR")), "LTR"),
    (catalogue_line("A-1"), "C62"),
])
def test_the_unit_is_the_orderable_unit_else_a_unit_code_of_the_line(line: str, unit: str) -> None:
    assert [p["unit"] for p in records(run(ubl("Catalogue", line)), "product")] == [unit]


@pytest.mark.parametrize(("header", "action", "op"), [
    ("", "Add", "upsert"),
    ("", "Update", "upsert"),
    ("", "Delete", "delete"),
    ("", "", "upsert"),                                          # no code anywhere
    ("<cbc:ActionCode>Delete</cbc:ActionCode>", "", "delete"),    # the header's code, for a line without one
    ("<cbc:ActionCode>Replace</cbc:ActionCode>", "", "upsert"),
    ("<cbc:ActionCode>Add</cbc:ActionCode>", "", "upsert"),
    ("<cbc:ActionCode>Delete</cbc:ActionCode>", "Update", "upsert"),  # the line's code wins
])
def test_the_action_code_decides_upsert_or_delete(header: str, action: str, op: str) -> None:
    evaluation = run(ubl("Catalogue", catalogue_line("A-1", action=action, price=rilq("2.00")), header=header))
    assert evaluation.report.status.value == "accepted", evaluation.report.issues
    if op == "upsert":
        assert [p["sku"] for p in records(evaluation, "product")] == ["A-1"]
        assert [p["sku"] for p in records(evaluation, "price")] == ["A-1"]
        assert deletes(evaluation, "product") == []
    else:
        assert records(evaluation, "product") == []
        assert deletes(evaluation, "product") == [{"sku": "A-1"}]
        assert [(d["sku"], d["currency"], d["price_type"]) for d in deletes(evaluation, "price")] == [("A-1", "EUR", "net")]


def test_an_unknown_action_code_is_an_invalid_op() -> None:
    evaluation = run(ubl("Catalogue", catalogue_line("A-1", action="Remove")))
    assert [(i.code, i.value, i.location.line, i.location.xpath) for i in errors(evaluation)] == [
        ("invalid-op", "Remove", 4, "/cat:Catalogue/cac:CatalogueLine[1]")]


def test_a_base_quantity_divides_the_price_and_an_inexact_quotient_is_an_issue() -> None:
    evaluation = run(ubl("Catalogue", "\n".join([
        catalogue_line("A-1", price=rilq("91.50", base="20", minimum="20")),
        catalogue_line("B-2", price=rilq("10", base="3")),
    ])))
    assert [(p["sku"], p["amount"], p["min_quantity"]) for p in records(evaluation, "price")] == [
        ("A-1", Decimal("4.575"), Decimal(20))]
    assert [where(i) for i in errors(evaluation)] == [
        ("invalid-decimal", "amount", 5, "(/cat:Catalogue/cac:CatalogueLine[2]/cac:RequiredItemLocationQuantity/cac:Price)[1]")]


def test_price_type_codes() -> None:
    evaluation = run(ubl("Catalogue", "\n".join([
        catalogue_line("A-1", price=rilq("1", price="<cbc:PriceType>AAA</cbc:PriceType>")),
        catalogue_line("B-2", price=rilq("2", price="<cbc:PriceTypeCode>SRP</cbc:PriceTypeCode>")),
    ])))
    assert [(p["sku"], p["price_type"]) for p in records(evaluation, "price")] == [("A-1", "net")]
    [issue] = errors(evaluation)  # a mapping-stage issue names the XPath it read
    assert (where(issue), issue.value) == (
        ("unmapped-code", "(cbc:PriceTypeCode | cbc:PriceType)[1]", 5, "(/cat:Catalogue/cac:CatalogueLine[2]/cac:RequiredItemLocationQuantity/cac:Price)[1]"),
        "SRP")


def test_validity_comes_from_the_price_else_the_line_else_the_catalogue() -> None:
    header = "<cac:ValidityPeriod><cbc:StartDate>2024-01-01</cbc:StartDate><cbc:EndDate>2024-12-31</cbc:EndDate></cac:ValidityPeriod>"
    line_period = "<cac:LineValidityPeriod><cbc:StartDate>2024-03-01</cbc:StartDate></cac:LineValidityPeriod>"
    own = "<cac:ValidityPeriod><cbc:StartDate>2024-06-01</cbc:StartDate><cbc:EndDate>2024-06-30</cbc:EndDate></cac:ValidityPeriod>"
    evaluation = run(ubl("Catalogue", "\n".join([
        catalogue_line("A-1", extra_line=line_period, price=rilq("1", price=own)),
        catalogue_line("B-2", extra_line=line_period, price=rilq("2")),
        catalogue_line("C-3", price=rilq("3")),
    ]), header=header))
    assert [(p["sku"], p["valid_from"], p["valid_to"]) for p in records(evaluation, "price")] == [
        ("A-1", dt.date(2024, 6, 1), dt.date(2024, 6, 30)),
        ("B-2", dt.date(2024, 3, 1), dt.date(2024, 12, 31)),
        ("C-3", dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
    ]


def test_a_catalogue_line_without_seller_id_or_price_amount_says_where() -> None:
    line = ("<cac:CatalogueLine><cbc:ID>1</cbc:ID>" + rilq("") +
            "<cac:Item><cbc:Name>Nameless id</cbc:Name></cac:Item></cac:CatalogueLine>")
    evaluation = run(ubl("Catalogue", line))
    assert sorted(where(i) for i in errors(evaluation)) == [
        ("missing-value", "amount", 4, "(/cat:Catalogue/cac:CatalogueLine[1]/cac:RequiredItemLocationQuantity/cac:Price)[1]"),
        ("missing-value", "currency", 4, "(/cat:Catalogue/cac:CatalogueLine[1]/cac:RequiredItemLocationQuantity/cac:Price)[1]"),
        ("missing-value", "sku", 4, "(/cat:Catalogue/cac:CatalogueLine[1]/cac:RequiredItemLocationQuantity/cac:Price)[1]"),
        ("missing-value", "sku", 4, "/cat:Catalogue/cac:CatalogueLine[1]"),
    ]
    assert evaluation.report.status.value == "rejected"


# --- UBL InventoryReport and StockAvailabilityReport ------------------------------------------------

def stock_line(tag: str, sku: str, quantity: str, extra: str = "", location: str = "") -> str:
    seller = f"<cac:SellersItemIdentification><cbc:ID>{sku}</cbc:ID></cac:SellersItemIdentification>" if sku else ""
    return (f'<cac:{tag}><cbc:ID>1</cbc:ID><cbc:Quantity unitCode="C62">{quantity}</cbc:Quantity>{extra}'
            f"<cac:Item><cbc:Description>x</cbc:Description>{seller}</cac:Item>{location}</cac:{tag}>")


def test_an_inventory_report_gives_stock_per_line_and_location() -> None:
    location = "<cac:InventoryLocation><cbc:ID>WH-2</cbc:ID></cac:InventoryLocation>"
    evaluation = run(ubl("InventoryReport", "\n".join([
        stock_line("InventoryReportLine", "A-1", "10"),
        stock_line("InventoryReportLine", "A-1", "4", location=location),
    ])))
    assert evaluation.report.mapping == "ubl-inventory-report"
    assert records(evaluation, "stock") == [
        {"sku": "A-1", "warehouse": "default", "quantity": Decimal(10), "as_of": dt.datetime(2024, 5, 2, tzinfo=UTC)},
        {"sku": "A-1", "warehouse": "WH-2", "quantity": Decimal(4), "as_of": dt.datetime(2024, 5, 2, tzinfo=UTC)},
    ]


def test_an_inventory_report_is_as_of_the_end_of_its_period() -> None:
    period = "<cac:InventoryPeriod><cbc:StartDate>2024-04-01</cbc:StartDate><cbc:EndDate>2024-04-30</cbc:EndDate></cac:InventoryPeriod>"
    evaluation = run(ubl("InventoryReport", stock_line("InventoryReportLine", "A-1", "1"), header=period))
    assert [s["as_of"] for s in records(evaluation, "stock")] == [dt.datetime(2024, 4, 30, tzinfo=UTC)]


def test_an_inventory_line_without_item_id_or_with_a_negative_quantity_says_where() -> None:
    evaluation = run(ubl("InventoryReport", "\n".join([
        stock_line("InventoryReportLine", "", "1"),
        stock_line("InventoryReportLine", "B-2", "-3"),
    ])))
    assert [where(i) for i in errors(evaluation)] == [
        ("missing-value", "sku", 4, "/inv:InventoryReport/cac:InventoryReportLine[1]"),
        ("out-of-range", "quantity", 5, "/inv:InventoryReport/cac:InventoryReportLine[2]"),
    ]


@pytest.mark.parametrize(("header", "extra", "as_of"), [
    ("", "", dt.datetime(2024, 5, 2, tzinfo=UTC)),                                              # IssueDate
    ("<cac:InventoryPeriod><cbc:StartDate>2024-05-03</cbc:StartDate></cac:InventoryPeriod>", "",
     dt.datetime(2024, 5, 3, tzinfo=UTC)),                                                      # the period's start
    ("<cac:InventoryPeriod><cbc:StartDate>2024-05-03</cbc:StartDate></cac:InventoryPeriod>",
     "<cbc:AvailabilityDate>2024-05-20</cbc:AvailabilityDate>", dt.datetime(2024, 5, 20, tzinfo=UTC)),  # the line's
])
def test_a_stock_availability_line_is_as_of_its_availability_date(header: str, extra: str, as_of: dt.datetime) -> None:
    evaluation = run(ubl("StockAvailabilityReport", stock_line("StockAvailabilityReportLine", "A-1", "7", extra=extra),
                         header=header))
    assert evaluation.report.mapping == "ubl-stock-availability-report"
    assert records(evaluation, "stock") == [{"sku": "A-1", "warehouse": "default", "quantity": Decimal(7), "as_of": as_of}]


# --- UBL OrderResponse ------------------------------------------------------------------------------

def order_line(line_id: str, status: str = "", *, quantity: str = "", reference: str = "", sku: str = "") -> str:
    code = f"<cbc:LineStatusCode>{status}</cbc:LineStatusCode>" if status else ""
    amount = f'<cbc:Quantity unitCode="C62">{quantity}</cbc:Quantity>' if quantity else ""
    seller = f"<cac:SellersItemIdentification><cbc:ID>{sku}</cbc:ID></cac:SellersItemIdentification>" if sku else ""
    return (f"<cac:OrderLine><cac:LineItem><cbc:ID>{line_id}</cbc:ID>{code}{amount}<cac:Item><cbc:Name>x</cbc:Name>"
            f"{seller}</cac:Item></cac:LineItem>{reference}</cac:OrderLine>")


def order_response(lines: str, code: str = "", order: str = "PO-7") -> str:
    response = f"<cbc:OrderResponseCode>{code}</cbc:OrderResponseCode>" if code else ""
    return ubl("OrderResponse", lines, header=f"{response}<cac:OrderReference><cbc:ID>{order}</cbc:ID></cac:OrderReference>")


STATUS_MAP = BUILTIN["ubl-order-response"].entity["order_status"]["status"].map or {}


@pytest.mark.parametrize("joined", sorted(STATUS_MAP))
def test_every_order_response_code_pair(joined: str) -> None:
    line_code, _, header_code = joined.partition(":")
    if line_code in ("AB", "AP", "RE"):  # a header code alone: the line has none
        line_code, header_code = "", line_code
    evaluation = run(order_response(order_line("3", line_code, quantity="5", sku="A-1"), header_code))
    assert evaluation.report.status.value == "accepted", evaluation.report.issues
    assert records(evaluation, "order_status") == [{
        "order_id": "PO-7", "line_no": 3, "status": STATUS_MAP[joined], "document_number": "DOC-1",
        "document_date": dt.date(2024, 5, 2), "sku": "A-1", "confirmed_quantity": Decimal(5)}]


@pytest.mark.parametrize(("line_code", "header_code", "value"), [
    ("Revised", "RE", "Revised | RE"),   # a line revised in a rejected order
    ("", "CA", " | CA"),                 # a conditionally accepted order's line without a status
    ("5", "RE", "5 | RE"),
    ("Unknown", "", "Unknown | "),
])
def test_an_inconsistent_or_unknown_order_response_code_is_unmapped(line_code: str, header_code: str, value: str) -> None:
    evaluation = run(order_response(order_line("1", line_code), header_code))
    line = "/or:OrderResponse/cac:OrderLine[1]"
    assert [(*where(i), i.value) for i in errors(evaluation)] == [
        ("unmapped-code", "cac:LineItem/cbc:LineStatusCode+/or:OrderResponse/cbc:OrderResponseCode", 4, line, value),
    ]  # and not a missing status as well
    assert records(evaluation, "order_status") == []


def test_the_line_order_reference_wins_over_the_document_one() -> None:
    reference = ("<cac:OrderLineReference><cbc:LineID>20</cbc:LineID><cac:OrderReference><cbc:ID>PO-9</cbc:ID>"
                 "</cac:OrderReference></cac:OrderLineReference>")
    evaluation = run(order_response("\n".join([order_line("1", "5", reference=reference), order_line("2", "7")]), "CA"))
    assert [(r["order_id"], r["line_no"], r["status"]) for r in records(evaluation, "order_status")] == [
        ("PO-9", 20, "accepted"), ("PO-7", 2, "rejected")]


def test_an_order_response_without_lines_gives_no_record_and_says_so() -> None:
    evaluation = run(order_response("", "AP"))
    assert evaluation.report.status.value == "accepted"
    assert evaluation.report.entities == {"order_status": 0}
    assert [i.code for i in evaluation.report.issues] == ["xml-no-records"]


def test_an_order_response_without_order_reference_or_line_id_says_where() -> None:
    evaluation = run(ubl("OrderResponse", order_line("", "NoStatus")))
    assert sorted(where(i) for i in errors(evaluation)) == [
        ("missing-value", "line_no", 4, "/or:OrderResponse/cac:OrderLine[1]"),
        ("missing-value", "order_id", 4, "/or:OrderResponse/cac:OrderLine[1]"),
    ]


# --- UBL DespatchAdvice -----------------------------------------------------------------------------

def despatch_line(order_line_id: str, status: str = "", *, quantity: str = "3", shipment: str = "") -> str:
    code = f"<cbc:LineStatusCode>{status}</cbc:LineStatusCode>" if status else ""
    reference = f"<cac:OrderLineReference><cbc:LineID>{order_line_id}</cbc:LineID></cac:OrderLineReference>" if order_line_id else ""
    return (f'<cac:DespatchLine><cbc:ID>9</cbc:ID>{code}<cbc:DeliveredQuantity unitCode="C62">{quantity}</cbc:DeliveredQuantity>'
            f"{reference}<cac:Item><cbc:Name>x</cbc:Name><cac:SellersItemIdentification><cbc:ID>A-1</cbc:ID>"
            f"</cac:SellersItemIdentification></cac:Item>{shipment}</cac:DespatchLine>")


DESPATCH_HEADER = ("<cac:OrderReference><cbc:ID>PO-7</cbc:ID></cac:OrderReference>"
                   "<cac:Shipment><cbc:ID>1</cbc:ID><cac:Consignment><cbc:ID>1</cbc:ID>"
                   "<cbc:CarrierAssignedID>JJD0001</cbc:CarrierAssignedID></cac:Consignment></cac:Shipment>")


@pytest.mark.parametrize("status", ["", "NoStatus", "Added", "Revised"])
def test_a_despatch_line_is_shipped(status: str) -> None:
    evaluation = run(ubl("DespatchAdvice", despatch_line("2", status), header=DESPATCH_HEADER))
    assert evaluation.report.mapping == "ubl-despatch-advice"
    assert records(evaluation, "order_status") == [{
        "order_id": "PO-7", "line_no": 2, "status": "shipped", "document_number": "DOC-1",
        "document_date": dt.date(2024, 5, 2), "sku": "A-1", "shipped_quantity": Decimal(3), "tracking_number": "JJD0001"}]


@pytest.mark.parametrize("status", ["Cancelled", "Disputed"])
def test_a_cancelled_or_disputed_despatch_line_is_unmapped(status: str) -> None:
    evaluation = run(ubl("DespatchAdvice", despatch_line("2", status), header=DESPATCH_HEADER))
    [issue] = errors(evaluation)
    assert (where(issue), issue.value) == (
        ("unmapped-code", "cbc:LineStatusCode", 4, "/da:DespatchAdvice/cac:DespatchLine[1]"), status)
    assert records(evaluation, "order_status") == []  # the default does not rescue an unmapped code


def test_the_line_shipment_tracking_id_wins_over_the_document_one() -> None:
    shipment = "<cac:Shipment><cbc:ID>2</cbc:ID><cac:Delivery><cbc:TrackingID>TRK-2</cbc:TrackingID></cac:Delivery></cac:Shipment>"
    evaluation = run(ubl("DespatchAdvice", "\n".join([despatch_line("1", shipment=shipment), despatch_line("2")]),
                         header=DESPATCH_HEADER))
    assert [(r["line_no"], r["tracking_number"]) for r in records(evaluation, "order_status")] == [(1, "TRK-2"), (2, "JJD0001")]


def test_a_despatch_line_without_order_line_reference_says_where() -> None:
    evaluation = run(ubl("DespatchAdvice", despatch_line(""), header=DESPATCH_HEADER))
    assert [where(i) for i in errors(evaluation)] == [("missing-value", "line_no", 4, "/da:DespatchAdvice/cac:DespatchLine[1]")]


def test_a_ubl_2_0_despatch_advice_has_the_same_namespaces() -> None:
    evaluation = run(ubl("DespatchAdvice", despatch_line("1"), header=DESPATCH_HEADER).replace(
        "<cbc:UBLVersionID>2.1", "<cbc:UBLVersionID>2.0"))
    assert evaluation.report.status.value == "accepted"
