"""``write_xml_order``: an order in a layout configured in TOML; the example layout, validation, round trip."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from pydantic import ValidationError

from exchanged.errors import InputRejected, MappingError
from exchanged.formats.xml.layout import XmlLayout, load_xml_layout, parse_xml_layout, write_xml_order
from exchanged.records.order import Order
from tests.golden_files import matches_golden_in
from tests.order_strategies import TIMES, XML_DESCRIPTIONS, XML_IDS, XML_TEXT, orders_of, sample_order_data

GOLDEN = Path(__file__).parent / "golden"
EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "erp-order-layout.toml"
NOW = dt.datetime(2026, 3, 1, 10, 5, tzinfo=dt.UTC)
ERP = "urn:example:erp:auftrag:1"
NS = {"a": ERP}


order_data = sample_order_data


def parse(data: bytes) -> Any:
    return etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True))


matches_golden = partial(matches_golden_in, GOLDEN)


def layout(text: str) -> XmlLayout:
    return parse_xml_layout(textwrap.dedent(text), "test.toml")


def write(data: dict[str, Any] | None = None, the_layout: XmlLayout | None = None) -> bytes:
    return write_xml_order(Order.model_validate(data or order_data()), the_layout or load_xml_layout(EXAMPLE), NOW)


# --- the example layout ------------------------------------------------------------------------------


def test_example_layout_golden() -> None:
    data = write()
    assert matches_golden("erp-order-layout.xml", data)
    root = parse(data)
    assert root.tag == f"{{{ERP}}}Auftrag" and root.get("version") == "1.0"
    assert root.findtext("a:Kopf/a:Belegdatum", namespaces=NS) == "2026-03-01T09:30:00"  # Europe/Berlin, strftime
    assert root.find("a:Kopf/a:Kunde", NS).get("nr") == "K-10077"
    positions = root.findall("a:Positionen/a:Position", NS)
    assert [p.get("nr") for p in positions] == ["1", "2", "3"]
    assert [[c.tag.split("}")[1] for c in p] for p in positions][1:] == [
        ["Artikelnummer", "Bezeichnung", "Menge", "Einheit", "Preis", "Betrag"],  # no gtin: no <EAN>
        ["EAN", "Menge", "Einheit", "Preis", "Betrag"],
    ]
    assert [p.findtext("a:Einheit", namespaces=NS) for p in positions] == ["Stk", "kg", "Stk"]
    assert [p.findtext("a:Betrag", namespaces=NS) for p in positions] == ["19.90", "18.60", "9.48"]
    assert [e.text for e in root.find("a:Summen", NS)] == ["47.98", "9.12", "57.10"]


def test_example_layout_without_shipping_address_and_tax() -> None:
    root = parse(write(order_data(shipping_address=None, totals={"net": "47.98", "gross": "47.98"})))
    assert root.find("a:Kopf/a:Lieferadresse", NS) is None and root.find("a:Kopf/a:Rechnungsadresse", NS) is not None
    assert [e.tag.split("}")[1] for e in root.find("a:Summen", NS)] == ["Netto", "Brutto"]


def test_golden_prefixes_decimal_comma_indexes_required() -> None:
    the_layout = layout("""
        root = "erp:Import"
        namespace = "urn:example:default"
        indent = false
        decimal_mark = ","
        [namespaces]
        erp = "urn:example:erp"
        xsi = "http://www.w3.org/2001/XMLSchema-instance"
        [[element]]
        path = "@xsi:noNamespaceSchemaLocation"
        const = "import.xsd"
        [[element]]
        path = "erp:Beleg/@nr"
        value = "order_id"
        [[element]]
        path = "Adresse[2]/Name"
        value = "shipping_address.name"
        [[element]]
        path = "Adresse[1]/Name"
        value = "billing_address.name"
        [[element]]
        path = "Adresse[1]/Zusatz"
        value = "billing_address.street"
        required = true
        [[element]]
        path = "Leer"
        required = true
        [[element]]
        path = "Zeit"
        value = "generated_at"
        [[element]]
        path = "Zeilen/Zeile"
        repeat = "lines"
          [[element.children]]
          path = "Menge"
          value = "quantity"
          min_decimals = 3
          [[element.children]]
          path = "@beleg"
          value = "order.order_id"
          [[element.children]]
          path = "Text/@kurz"
          value = "description"
    """)
    data = write(order_data(billing_address={"name": "B"}, lines=order_data()["lines"][:2],
                            totals={"net": "38.5", "gross": "38.5"}), the_layout)
    assert matches_golden("layout-prefixes-decimal-comma.xml", data)
    root = parse(data)
    assert root.tag == "{urn:example:erp}Import" and root.find("{urn:example:erp}Beleg").get("nr") == "SO-2026-0042"
    assert root.get("{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation") == "import.xsd"
    default = {"d": "urn:example:default"}
    assert [a.findtext("d:Name", namespaces=default) for a in root.iterfind("d:Adresse", default)] == \
        ['Lager "Tor 3" ]]> Rampe', "B"]  # first named first: Adresse[2] is written before Adresse[1]
    assert root.find("d:Adresse[d:Name='B']/d:Zusatz", default).text is None  # required, empty
    assert root.find("d:Leer", default) is not None
    assert root.findtext("d:Zeit", namespaces=default) == "2026-03-01T10:05:00+00:00"
    assert [z.findtext("d:Menge", namespaces=default) for z in root.iterfind("d:Zeilen/d:Zeile", default)] == ["2,000", "1,500"]
    assert [z.get("beleg") for z in root.iterfind("d:Zeilen/d:Zeile", default)] == ["SO-2026-0042"] * 2


# --- escaping and what XML cannot carry --------------------------------------------------------------


def test_special_characters_are_escaped_in_text_and_attributes() -> None:
    the_layout = layout("""
        root = "A"
        [[element]]
        path = "Name"
        value = "billing_address.name"
        [[element]]
        path = "Lieferung/@name"
        value = "shipping_address.name"
    """)
    text = write(the_layout=the_layout).decode("utf-8")
    assert "<Name>Müller &amp; Söhne &lt;GmbH&gt;</Name>" in text
    assert '<Lieferung name="Lager &quot;Tor 3&quot; ]]&gt; Rampe"/>' in text


def test_unencodable_text_is_rejected_with_its_field() -> None:
    data = order_data()
    data["lines"][1]["sku"] = "B\ufffeC"
    with pytest.raises(InputRejected) as caught:
        write(data)
    assert (caught.value.issue.code, caught.value.issue.location.field) == ("xml-unencodable", "lines[1].sku")
    order = Order.model_validate(order_data())
    broken = order.model_copy(update={"customer_id": "K\x1b1"})
    with pytest.raises(InputRejected) as caught:
        write_xml_order(broken, load_xml_layout(EXAMPLE), NOW)
    assert (caught.value.issue.code, caught.value.issue.location.field) == ("xml-unencodable", "customer_id")
    assert "U+001B" in caught.value.issue.message


# --- validation with located messages -----------------------------------------------------------------

_GOOD_HEAD = 'root = "A"\n[[element]]\npath = "X"\nvalue = "order_id"\n'


@pytest.mark.parametrize(
    ("toml", "line", "expected"),
    [
        (_GOOD_HEAD + '[[element]]\npath = "P"\nrepeat = "lines"\n[[element.children]]\npath = "Q"\nvalue = "skuu"\n',
         10, "element[1].children[0].value: unknown line field 'skuu'"),
        (_GOOD_HEAD + '[[element]]\npath = "Y"\nvalue = "sku"\n', 7, "element[1].value: unknown order field 'sku'"),
        (_GOOD_HEAD + '[[element]]\npath = "1abc"\nconst = "x"\n', 6, "element[1].path: bad step '1abc'"),
        (_GOOD_HEAD + '[[element]]\npath = "@a/b"\nconst = "x"\n', 6, "an attribute (@name) may only be the last step"),
        (_GOOD_HEAD + '[[element]]\npath = "x:Y"\nconst = "x"\n', 6, "element[1].path: prefix 'x' is not declared"),
        (_GOOD_HEAD + '[[element]]\npath = "Y"\nvalue = "currency"\nformat = "%Y"\n', 8, "format applies to time fields only"),
        (_GOOD_HEAD + '[[element]]\npath = "Y"\nvalue = "order_id"\nmin_decimals = 2\n', 8, "min_decimals applies to decimal"),
        (_GOOD_HEAD + '[[element]]\npath = "X[1]"\nvalue = "currency"\n', 6, "element[1].path: 'X[1]' is already written by"),
        (_GOOD_HEAD + '[[element]]\npath = "X/Y"\nvalue = "currency"\n', 3, "element[0].path: its element also contains"),
        (_GOOD_HEAD + '[[element]]\npath = "P/Q"\nrepeat = "lines"\n[[element]]\npath = "P/Q/R"\nvalue = "currency"\n',
         9, "element[2].path: is inside the repeated element"),
        (_GOOD_HEAD + 'colour = "red"\n', 5, "element[0].colour: unknown key 'colour'"),
        (_GOOD_HEAD + '[[element]]\npath = "Y"\nvalue = "order_id"\nconst = "x"\n', 5, "give only one of value, const, repeat"),
        (_GOOD_HEAD + '[[element]]\npath = "Y"\n', 5, "needs a value, a const, repeat, or required = true"),
        (_GOOD_HEAD + '[[element]]\npath = "Y"\nconst = "x"\n[[element.children]]\npath = "Z"\nconst = "y"\n',
         5, "children are only for a repeated entry"),
        ('[[element]]\npath = "X"\nvalue = "order_id"\n', None, "root: required"),
        ('root = "1A"\n' + _GOOD_HEAD.split("\n", 1)[1], 1, "root: '1A' is not an XML element name"),
        ('root = "A"\ntimezone = "Mars/Olympus"\n' + _GOOD_HEAD.split("\n", 1)[1], 2, "unknown time zone"),
        ('root = "A"\n[namespaces]\nxmlfoo = "u"\n' + _GOOD_HEAD.split("\n", 1)[1], 2, "cannot be a namespace prefix"),
    ],
)
def test_layout_errors_are_located(toml: str, line: int | None, expected: str) -> None:
    with pytest.raises(MappingError) as caught:
        parse_xml_layout(toml, "erp.toml")
    message = str(caught.value)
    assert expected in message
    assert message.startswith(f"erp.toml line {line}: " if line else "erp.toml: ")


def test_invalid_toml_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"erp.toml line 1: invalid TOML: Invalid value \(column 8\)"):
        parse_xml_layout("root = \n", "erp.toml")
    with pytest.raises(MappingError, match="cannot read"):
        load_xml_layout(tmp_path / "missing.toml")
    (tmp_path / "latin1.toml").write_bytes(b'root = "\xc4"\n')
    with pytest.raises(MappingError, match="not UTF-8"):
        load_xml_layout(tmp_path / "latin1.toml")


def test_layout_validates_as_a_model_too() -> None:
    with pytest.raises(ValidationError, match="unknown order field 'sku'"):
        XmlLayout.model_validate({"root": "A", "element": [{"path": "X", "value": "sku"}]})


# --- any order round-trips through lxml ---------------------------------------------------------------

EVERYTHING = layout("""
    root = "Order"
    [[element]]
    path = "@id"
    value = "order_id"
    [[element]]
    path = "Customer"
    value = "customer_id"
    [[element]]
    path = "OrderedAt"
    value = "ordered_at"
    [[element]]
    path = "Currency"
    value = "currency"
    [[element]]
    path = "Billing/@name"
    value = "billing_address.name"
    [[element]]
    path = "Billing/City"
    value = "billing_address.city"
    [[element]]
    path = "Shipping/Name"
    value = "shipping_address.name"
    [[element]]
    path = "Lines/Line"
    repeat = "lines"
      [[element.children]]
      path = "@no"
      value = "line_no"
      [[element.children]]
      path = "Sku"
      value = "sku"
      [[element.children]]
      path = "Gtin"
      value = "gtin"
      [[element.children]]
      path = "Text"
      value = "description"
      [[element.children]]
      path = "Qty/@unit"
      value = "unit"
      [[element.children]]
      path = "Qty"
      value = "quantity"
      [[element.children]]
      path = "Price"
      value = "unit_price"
      [[element.children]]
      path = "Amount"
      value = "amount"
    [[element]]
    path = "Totals/Net"
    value = "totals.net"
    [[element]]
    path = "Totals/Tax"
    value = "totals.tax"
    [[element]]
    path = "Totals/Gross"
    value = "totals.gross"
""")



def orders() -> st.SearchStrategy[Order]:
    """Random valid orders whose text is full of XML's special characters and non-ASCII letters."""
    return orders_of(XML_TEXT, XML_IDS, times=TIMES, currencies=("EUR", "CHF", "JPY"), units=("C62", "KGM", "MTR"),
                     gtins=("4006381333931",), optional_sku=True,
                     descriptions=XML_DESCRIPTIONS)


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def read_back(data: bytes) -> dict[str, Any]:
    root = parse(data)
    return {
        "order_id": root.get("id"), "customer_id": root.findtext("Customer"),
        "ordered_at": dt.datetime.fromisoformat(root.findtext("OrderedAt")), "currency": root.findtext("Currency"),
        "billing": (root.find("Billing").get("name"), root.findtext("Billing/City")), "shipping": root.findtext("Shipping/Name"),
        "lines": [{"line_no": int(line.get("no")), "sku": line.findtext("Sku"), "gtin": line.findtext("Gtin"),
                   "description": line.findtext("Text"), "unit": line.find("Qty").get("unit"),
                   "quantity": Decimal(line.findtext("Qty")), "unit_price": Decimal(line.findtext("Price")),
                   "amount": Decimal(line.findtext("Amount"))} for line in root.iterfind("Lines/Line")],
        "totals": tuple(_decimal(root.findtext(f"Totals/{name}")) for name in ("Net", "Tax", "Gross")),
    }


def expected(order: Order) -> dict[str, Any]:
    assert order.billing_address is not None
    return {
        "order_id": order.order_id, "customer_id": order.customer_id, "ordered_at": order.ordered_at, "currency": order.currency,
        "billing": (order.billing_address.name, order.billing_address.city),
        "shipping": order.shipping_address.name if order.shipping_address else None,
        "lines": [{"line_no": line.line_no, "sku": line.sku, "gtin": line.gtin, "description": line.description,
                   "unit": line.unit, "quantity": line.quantity, "unit_price": line.unit_price, "amount": line.amount}
                  for line in order.lines],
        "totals": (order.totals.net, order.totals.tax, order.totals.gross),
    }


@settings(max_examples=60, deadline=None)
@given(order=orders())
def test_any_order_round_trips(order: Order) -> None:
    assert read_back(write_xml_order(order, EVERYTHING, NOW)) == expected(order)
