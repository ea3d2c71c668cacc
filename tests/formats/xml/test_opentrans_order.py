"""``write_opentrans_order``: an order as openTRANS 2.1 ORDER, byte for byte, in the schema's order, read back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from pydantic import ValidationError

from exchanged.errors import InputRejected
from exchanged.formats.xml.opentrans import BMECAT_NAMESPACE, OPENTRANS_NAMESPACE, OpenTransConfig, write_opentrans_order
from exchanged.records.order import Order
from tests.golden_files import matches_golden_in
from tests.order_strategies import TIMES, XML_DESCRIPTIONS, XML_IDS, XML_TEXT, orders_of, sample_order_data

GOLDEN = Path(__file__).parent / "golden"
CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "xml"  # ../shared beside the checkout
SPEC_SAMPLE = CORPUS / "opentrans_ORDER_2.1_spec-sample.xml"

NOW = dt.datetime(2026, 3, 1, 10, 5, tzinfo=dt.UTC)
CONFIG = OpenTransConfig(supplier_id="4098765000003", timezone="Europe/Berlin", language="deu")
OT, BME = f"{{{OPENTRANS_NAMESPACE}}}", f"{{{BMECAT_NAMESPACE}}}"
NS = {"ot": OPENTRANS_NAMESPACE, "bmecat": BMECAT_NAMESPACE}


order_data = sample_order_data


def write(data: dict[str, Any] | None = None, **config_changes: Any) -> bytes:
    config = OpenTransConfig.model_validate({**CONFIG.model_dump(), **config_changes})
    return write_opentrans_order(Order.model_validate(data or order_data()), config, NOW)


def parse(data: bytes) -> Any:
    return etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True))


matches_golden = partial(matches_golden_in, GOLDEN)


def rejection(order: Order) -> Any:
    with pytest.raises(InputRejected) as caught:
        write_opentrans_order(order, CONFIG, NOW)
    return caught.value.issue


# --- golden files -------------------------------------------------------------------------------------


def test_golden_three_lines() -> None:
    data = write()
    assert matches_golden("opentrans-order-three-lines.xml", data)
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<ORDER ")
    root = parse(data)
    assert root.tag == f"{OT}ORDER" and (root.get("version"), root.get("type")) == ("2.1", "standard")
    assert root.nsmap == {None: OPENTRANS_NAMESPACE, "bmecat": BMECAT_NAMESPACE, "xsi": "http://www.w3.org/2001/XMLSchema-instance"}


def test_golden_minimal_options() -> None:
    data = order_data(customer_id="4012345000016", billing_address=None, shipping_address=None,
                      lines=[{"sku": "LAMP-7", "quantity": "3", "unit_price": "49.90", "description": "Lampe"}],
                      totals={"net": "149.70", "tax": "28.44", "gross": "178.14"})
    written = write(data, language=None, unit_codes={"C62": "PCE"}, total_amount="gross", order_type="express",
                    generator_info=None, schema_location=False, indent=False, descriptions=False)
    assert matches_golden("opentrans-order-minimal.xml", written)
    root = parse(written)
    assert root.get("type") == "express" and written.count(b"\n") == 2  # after the declaration, at the end
    assert root.findtext("ot:ORDER_SUMMARY/ot:TOTAL_AMOUNT", namespaces=NS) == "178.14"
    assert root.findtext(".//bmecat:ORDER_UNIT", namespaces=NS) == "PCE"
    assert root.find(".//bmecat:DESCRIPTION_SHORT", NS) is None and root.find(".//ot:GENERATOR_INFO", NS) is None
    assert root.find(".//bmecat:PARTY_ID", NS).get("type") == "gln"  # a valid GLN is labelled so
    assert [e.text for e in root.iterfind(".//ot:PARTY_ROLE", NS)] == ["buyer", "supplier"]


# --- structure: the schema's element order and namespaces --------------------------------------------

# The child sequences of opentrans_2_1.xsd (and bmecat_2005.xsd) for the elements the writer uses,
# each reduced to the children that matter here; namespaces as in the schema.
SCHEMA_ORDER: dict[str, list[str]] = {
    "ORDER": ["ORDER_HEADER", "ORDER_ITEM_LIST", "ORDER_SUMMARY"],
    "ORDER_HEADER": ["CONTROL_INFO", "SOURCING_INFO", "ORDER_INFO"],
    "CONTROL_INFO": ["STOP_AUTOMATIC_PROCESSING", "GENERATOR_INFO", "GENERATION_DATE"],
    "ORDER_INFO": ["ORDER_ID", "ORDER_DATE", "DELIVERY_DATE", "bmecat:LANGUAGE", "bmecat:MIME_ROOT", "PARTIES",
                   "CUSTOMER_ORDER_REFERENCE", "ORDER_PARTIES_REFERENCE", "DOCEXCHANGE_PARTIES_REFERENCE",
                   "bmecat:CURRENCY", "PAYMENT", "TERMS_AND_CONDITIONS", "PARTIAL_SHIPMENT_ALLOWED", "bmecat:TRANSPORT",
                   "bmecat:INTERNATIONAL_RESTRICTIONS", "MIME_INFO", "REMARKS", "HEADER_UDX"],
    "PARTIES": ["PARTY"],
    "PARTY": ["bmecat:PARTY_ID", "PARTY_ROLE", "ADDRESS", "ACCOUNT", "MIME_INFO"],
    "ADDRESS": ["bmecat:NAME", "bmecat:NAME2", "bmecat:NAME3", "bmecat:DEPARTMENT", "CONTACT_DETAILS", "bmecat:STREET",
                "bmecat:ZIP", "bmecat:BOXNO", "bmecat:ZIPBOX", "bmecat:CITY", "bmecat:STATE", "bmecat:COUNTRY",
                "bmecat:COUNTRY_CODED", "bmecat:VAT_ID", "TAX_NUMBER", "bmecat:PHONE", "bmecat:FAX",
                "bmecat:EMAIL", "bmecat:URL", "bmecat:ADDRESS_REMARKS"],  # (EMAIL, PUBLIC_KEY*)* left at EMAIL
    "ORDER_PARTIES_REFERENCE": ["bmecat:BUYER_IDREF", "bmecat:SUPPLIER_IDREF", "INVOICE_RECIPIENT_IDREF",
                                "SHIPMENT_PARTIES_REFERENCE"],
    "SHIPMENT_PARTIES_REFERENCE": ["DELIVERY_IDREF", "FINAL_DELIVERY_IDREF", "DELIVERER_IDREF"],
    "ORDER_ITEM_LIST": ["ORDER_ITEM"],
    "ORDER_ITEM": ["LINE_ITEM_ID", "PRODUCT_ID", "PRODUCT_FEATURES", "PRODUCT_COMPONENTS", "QUANTITY", "bmecat:ORDER_UNIT",
                   "PRODUCT_PRICE_FIX", "PRICE_LINE_AMOUNT", "PARTIAL_SHIPMENT_ALLOWED", "DELIVERY_DATE", "SOURCING_INFO",
                   "CUSTOMER_ORDER_REFERENCE", "bmecat:ACCOUNTING_INFO", "SHIPMENT_PARTIES_REFERENCE", "bmecat:TRANSPORT",
                   "bmecat:INTERNATIONAL_RESTRICTIONS", "bmecat:SPECIAL_TREATMENT_CLASS", "MIME_INFO", "REMARKS", "ITEM_UDX"],
    "PRODUCT_ID": ["bmecat:SUPPLIER_PID", "bmecat:SUPPLIER_IDREF", "CONFIG_CODE_FIX", "LOT_NUMBER", "SERIAL_NUMBER",
                   "bmecat:INTERNATIONAL_PID", "bmecat:BUYER_PID", "bmecat:DESCRIPTION_SHORT", "bmecat:DESCRIPTION_LONG",
                   "MANUFACTURER_INFO", "bmecat:PRODUCT_TYPE"],
    "PRODUCT_PRICE_FIX": ["bmecat:PRICE_AMOUNT", "ALLOW_OR_CHARGES_FIX", "bmecat:PRICE_FLAG", "TAX_DETAILS_FIX",
                          "bmecat:PRICE_QUANTITY", "PRICE_BASE_FIX"],
    "ORDER_SUMMARY": ["TOTAL_ITEM_NUM", "TOTAL_AMOUNT"],
}


def prefixed(element: Any) -> str:
    """'bmecat:NAME' or 'ORDER_ID' (openTRANS), as SCHEMA_ORDER spells it; anything else as Clark notation."""
    qname = etree.QName(element)
    if qname.namespace == BMECAT_NAMESPACE:
        return f"bmecat:{qname.localname}"
    return qname.localname if qname.namespace == OPENTRANS_NAMESPACE else element.tag


def is_ordered_subsequence(children: list[str], sequence: list[str]) -> bool:
    """Every child is in ``sequence`` and they appear in its order (repetitions allowed)."""
    positions = [sequence.index(child) if child in sequence else -1 for child in children]
    return -1 not in positions and positions == sorted(positions)


def element_orders(root: Any) -> list[tuple[str, list[str]]]:
    return [(prefixed(e), [prefixed(c) for c in e if isinstance(c.tag, str)]) for e in root.iter() if len(e)]


def test_every_element_is_in_the_schema_order() -> None:
    for data in (write(), write(order_data(billing_address=None, shipping_address=None)), write(language=None, prices=False)):
        for parent, children in element_orders(parse(data)):
            assert parent in SCHEMA_ORDER, parent
            assert is_ordered_subsequence(children, SCHEMA_ORDER[parent]), (parent, children)


@pytest.mark.corpus
def test_the_schema_order_agrees_with_the_spec_sample() -> None:
    """The sample of the openTRANS 2.1 specification, wherever it shows an element we write, agrees."""
    if not SPEC_SAMPLE.is_file():
        pytest.skip(f"spec sample not present at {SPEC_SAMPLE}")
    sample = parse(SPEC_SAMPLE.read_bytes())
    checked = 0
    for parent, children in element_orders(sample):
        if parent in SCHEMA_ORDER and parent not in ("PRODUCT_COMPONENTS", "PRODUCT_FEATURES"):
            known = [child for child in children if child in SCHEMA_ORDER[parent]]
            assert is_ordered_subsequence(known, SCHEMA_ORDER[parent]), (parent, children)
            checked += 1
    assert checked >= 12
    # and every element we write sits in the namespace the sample puts it in
    sample_namespaces = {etree.QName(e).localname: etree.QName(e).namespace for e in sample.iter() if isinstance(e.tag, str)}
    for element in parse(write()).iter():
        name = etree.QName(element)
        if name.localname in sample_namespaces:
            assert name.namespace == sample_namespaces[name.localname], name.localname


def test_parties_and_references() -> None:
    root = parse(write())
    parties = root.findall(".//ot:PARTIES/ot:PARTY", NS)
    summary = [(p.findtext("bmecat:PARTY_ID", namespaces=NS), p.find("bmecat:PARTY_ID", NS).get("type"),
                [r.text for r in p.iterfind("ot:PARTY_ROLE", NS)], p.findtext("ot:ADDRESS/bmecat:CITY", namespaces=NS))
               for p in parties]
    assert summary == [
        ("K-10077", "supplier_specific", ["buyer", "invoice_recipient"], "Berlin"),
        ("4098765000003", "gln", ["supplier"], None),
        ("K-10077-delivery", "supplier_specific", ["delivery"], "Hamburg"),
    ]
    references = root.find(".//ot:ORDER_PARTIES_REFERENCE", NS)
    assert [(prefixed(e), e.text, e.get("type")) for e in references.iter() if e.text and e.text.strip()] == [
        ("bmecat:BUYER_IDREF", "K-10077", "supplier_specific"),
        ("bmecat:SUPPLIER_IDREF", "4098765000003", "gln"),
        ("INVOICE_RECIPIENT_IDREF", "K-10077", "supplier_specific"),
        ("DELIVERY_IDREF", "K-10077-delivery", "supplier_specific"),
    ]
    plain = parse(write(invoice_recipient=False, detect_gln=False, supplier_id_type="duns"))
    assert plain.find(".//ot:INVOICE_RECIPIENT_IDREF", NS) is None
    assert plain.find(".//bmecat:SUPPLIER_IDREF", NS).get("type") == "duns"


def test_items_and_numbers() -> None:
    root = parse(write())
    items = root.findall(".//ot:ORDER_ITEM", NS)
    assert [(i.findtext("ot:LINE_ITEM_ID", namespaces=NS), i.findtext("ot:QUANTITY", namespaces=NS),
             i.findtext("bmecat:ORDER_UNIT", namespaces=NS),
             i.findtext("ot:PRODUCT_PRICE_FIX/bmecat:PRICE_AMOUNT", namespaces=NS),
             i.findtext("ot:PRICE_LINE_AMOUNT", namespaces=NS)) for i in items] == [
        ("1", "2", "C62", "9.95", "19.9"), ("2", "1.5", "KGM", "12.4", "18.6"), ("3", "12", "C62", "0.79", "9.48")]
    assert items[0].find("ot:PRODUCT_ID/bmecat:INTERNATIONAL_PID", NS).get("type") == "gtin"
    assert items[2].find("ot:PRODUCT_ID/bmecat:SUPPLIER_PID", NS) is None
    assert root.findtext(".//ot:TOTAL_ITEM_NUM", namespaces=NS) == "3"
    assert root.findtext(".//ot:TOTAL_AMOUNT", namespaces=NS) == "47.98"
    assert root.findtext(".//ot:ORDER_DATE", namespaces=NS) == "2026-03-01T09:30:00+01:00"
    assert root.findtext(".//ot:GENERATION_DATE", namespaces=NS) == "2026-03-01T11:05:00+01:00"


def test_numbers_are_exact_and_plain() -> None:
    data = order_data(lines=[{"sku": "X", "quantity": Decimal("1E+2"), "unit_price": Decimal("0.123456")}],
                      totals={"net": "12.3456", "gross": "12.3456"})
    root = parse(write(data))
    assert root.findtext(".//ot:QUANTITY", namespaces=NS) == "100"
    assert root.findtext(".//bmecat:PRICE_AMOUNT", namespaces=NS) == "0.123456"
    assert root.findtext(".//ot:PRICE_LINE_AMOUNT", namespaces=NS) == "12.3456"


def test_a_long_description_is_short_and_long() -> None:
    description = "Schreibtischlampe " * 12
    data = order_data(lines=[{"sku": "L", "quantity": "1", "unit_price": "1", "description": description}],
                      totals={"net": "1", "gross": "1"})
    product = parse(write(data)).find(".//ot:PRODUCT_ID", NS)
    assert product.findtext("bmecat:DESCRIPTION_SHORT", namespaces=NS) == description[:150]
    assert product.findtext("bmecat:DESCRIPTION_LONG", namespaces=NS) == description
    assert product.find("bmecat:DESCRIPTION_LONG", NS).get("lang") == "deu"


# --- escaping and what XML cannot carry ---------------------------------------------------------------


def test_special_characters_are_escaped() -> None:
    text = write().decode("utf-8")
    assert "<bmecat:NAME>Müller &amp; Söhne &lt;GmbH&gt;</bmecat:NAME>" in text
    assert "<bmecat:NAME>Lager \"Tor 3\" ]]&gt; Rampe</bmecat:NAME>" in text
    assert "<bmecat:SUPPLIER_PID>B-200&amp;1</bmecat:SUPPLIER_PID>" in text
    assert "Käse: Gouda &lt; Edamer" in text


def test_line_breaks_survive() -> None:
    data = order_data()
    data["lines"][0]["description"] = "two\r\nlines\tand a tab"
    written = write(data)
    assert b"two&#13;\nlines\tand a tab" in written
    assert parse(written).findtext(".//bmecat:DESCRIPTION_SHORT", namespaces=NS) == "two\r\nlines\tand a tab"


def test_a_noncharacter_is_rejected() -> None:
    data = order_data()
    data["lines"][1]["sku"] = "B\uffffC"
    issue = rejection(Order.model_validate(data))
    assert (issue.code, issue.location.field) == ("xml-unencodable", "lines[1].sku")
    assert "U+FFFF" in issue.message


def test_a_control_character_is_rejected() -> None:
    order = Order.model_validate(order_data())
    address = order.billing_address.model_copy(update={"city": "Ber\x01lin"})  # type: ignore[union-attr]
    issue = rejection(order.model_copy(update={"billing_address": address}))
    assert (issue.code, issue.location.field) == ("xml-unencodable", "billing_address.city")


# --- config ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [{"supplier_id": ""}, {"supplier_id_type": "with space"}, {"order_type": "urgent"}, {"language": "de"},
     {"unit_codes": {"C62": "PIECE"}}, {"timezone": "Mars/Olympus"}, {"total_amount": "tax"}, {"colour": "red"}],
)
def test_bad_config(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        OpenTransConfig.model_validate({**CONFIG.model_dump(), **changes})


def test_config_documents_every_field() -> None:
    properties = OpenTransConfig.model_json_schema()["properties"]
    assert all(spec.get("description") for spec in properties.values())


# --- any order round-trips through lxml ------------------------------------------------------------------




def orders() -> st.SearchStrategy[Order]:
    """Random valid orders whose text is full of XML's special characters and non-ASCII letters."""
    return orders_of(XML_TEXT, XML_IDS, times=TIMES, tax=True,
                     descriptions=XML_DESCRIPTIONS)


def read_back(data: bytes) -> dict[str, Any]:
    root = parse(data)
    info = root.find("ot:ORDER_HEADER/ot:ORDER_INFO", NS)
    buyer = info.find("ot:PARTIES/ot:PARTY", NS)
    delivery = info.find("ot:PARTIES/ot:PARTY[ot:PARTY_ROLE='delivery']", NS)
    return {
        "order_id": info.findtext("ot:ORDER_ID", namespaces=NS),
        "ordered_at": dt.datetime.fromisoformat(info.findtext("ot:ORDER_DATE", namespaces=NS)),
        "customer_id": info.findtext("ot:ORDER_PARTIES_REFERENCE/bmecat:BUYER_IDREF", namespaces=NS),
        "buyer": (buyer.findtext("bmecat:PARTY_ID", namespaces=NS), buyer.findtext("ot:ADDRESS/bmecat:NAME", namespaces=NS),
                  buyer.findtext("ot:ADDRESS/bmecat:CITY", namespaces=NS)),
        "delivery_name": None if delivery is None else delivery.findtext("ot:ADDRESS/bmecat:NAME", namespaces=NS),
        "currency": info.findtext("bmecat:CURRENCY", namespaces=NS),
        "lines": [{
            "line_no": int(item.findtext("ot:LINE_ITEM_ID", namespaces=NS)),
            "sku": item.findtext("ot:PRODUCT_ID/bmecat:SUPPLIER_PID", namespaces=NS),
            "gtin": item.findtext("ot:PRODUCT_ID/bmecat:INTERNATIONAL_PID[@type='gtin']", namespaces=NS),
            "description": item.findtext("ot:PRODUCT_ID/bmecat:DESCRIPTION_LONG", namespaces=NS)
            or item.findtext("ot:PRODUCT_ID/bmecat:DESCRIPTION_SHORT", namespaces=NS),
            "quantity": Decimal(item.findtext("ot:QUANTITY", namespaces=NS)),
            "unit": item.findtext("bmecat:ORDER_UNIT", namespaces=NS),
            "unit_price": Decimal(item.findtext("ot:PRODUCT_PRICE_FIX/bmecat:PRICE_AMOUNT", namespaces=NS)),
            "amount": Decimal(item.findtext("ot:PRICE_LINE_AMOUNT", namespaces=NS)),
        } for item in root.iterfind("ot:ORDER_ITEM_LIST/ot:ORDER_ITEM", NS)],
        "total": Decimal(root.findtext("ot:ORDER_SUMMARY/ot:TOTAL_AMOUNT", namespaces=NS)),
    }


def expected(order: Order) -> dict[str, Any]:
    assert order.billing_address is not None
    return {
        "order_id": order.order_id, "ordered_at": order.ordered_at, "customer_id": order.customer_id,
        "buyer": (order.customer_id, order.billing_address.name, order.billing_address.city),
        "delivery_name": order.shipping_address.name if order.shipping_address else None,
        "currency": order.currency,
        "lines": [{"line_no": line.line_no, "sku": line.sku, "gtin": line.gtin, "description": line.description,
                   "quantity": line.quantity, "unit": line.unit, "unit_price": line.unit_price, "amount": line.amount}
                  for line in order.lines],
        "total": order.totals.net,
    }


@settings(max_examples=60, deadline=None)
@given(order=orders(), zone=st.sampled_from(["UTC", "Europe/Berlin", "America/St_Johns"]))
def test_any_order_round_trips(order: Order, zone: str) -> None:
    written = write_opentrans_order(order, OpenTransConfig(supplier_id="S-1", timezone=zone), NOW)
    assert read_back(written) == expected(order)
