"""XML files through XPath mappings: records, nesting, the header, namespace variants, locations,
routing by root element, rules checked at load, BMEcat in all three transaction types."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchanged.config import Settings
from exchanged.errors import MappingError
from exchanged.formats.xml.paths import SEPARATOR
from exchanged.mapping import Mapping, load_mappings
from exchanged.mapping.loader import parse_mapping
from exchanged.pipeline import Evaluation, Source, evaluate

BUILTIN = load_mappings(None)
BME = "http://www.bmecat.org/bmecat/2005"


def run(data: bytes | str, mappings: dict[str, Mapping] | None = None, name: str = "catalog.xml") -> Evaluation:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return evaluate(Source.from_bytes(raw, f"inbox/{name}"), BUILTIN if mappings is None else mappings, Settings())


def mapping(text: str, name: str = "shop") -> dict[str, Mapping]:
    return {name: parse_mapping(text, Path(f"mappings/{name}.toml"))}


def records(evaluation: Evaluation, entity: str) -> list[dict]:
    update = next(u for u in evaluation.updates if u.entity == entity)
    return [{k: v for k, v in row.items() if v not in (None, {}, [])} for row in update.records.to_pylist()]


def codes(evaluation: Evaluation) -> list[str]:
    return [issue.code for issue in evaluation.report.issues]


def bmecat(body: str, *, transaction: str = "T_NEW_CATALOG", namespace: str = BME, header: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<BMECAT version="2005" xmlns="{namespace}">\n'
            f"<HEADER><CATALOG><LANGUAGE>deu</LANGUAGE><CATALOG_ID>C1</CATALOG_ID><CATALOG_VERSION>1</CATALOG_VERSION>"
            f"<CURRENCY>EUR</CURRENCY></CATALOG>{header}</HEADER>\n<{transaction}>\n{body}\n</{transaction}>\n</BMECAT>\n")


def product(sku: str, name: str, *prices: str, mode: str = "new", gtin: str = "") -> str:
    details = f"<PRODUCT_DETAILS><DESCRIPTION_SHORT>{name}</DESCRIPTION_SHORT>"
    details += f'<INTERNATIONAL_PID type="gtin">{gtin}</INTERNATIONAL_PID>' if gtin else ""
    details += "</PRODUCT_DETAILS>"
    price_details = f"<PRODUCT_PRICE_DETAILS>{''.join(prices)}</PRODUCT_PRICE_DETAILS>" if prices else ""
    return f'<PRODUCT mode="{mode}"><SUPPLIER_PID>{sku}</SUPPLIER_PID>{details}{price_details}</PRODUCT>'


def price(amount: str, *, kind: str = "net_list", currency: str = "", lower: str = "", tax: str = "") -> str:
    parts = f"<PRICE_AMOUNT>{amount}</PRICE_AMOUNT>" if amount else ""
    parts += f"<PRICE_CURRENCY>{currency}</PRICE_CURRENCY>" if currency else ""
    parts += f"<TAX>{tax}</TAX>" if tax else ""
    parts += f"<LOWER_BOUND>{lower}</LOWER_BOUND>" if lower else ""
    return f'<PRODUCT_PRICE price_type="{kind}">{parts}</PRODUCT_PRICE>'


# --- BMEcat, built in ---------------------------------------------------------------------------

def test_a_bmecat_catalogue_gives_products_and_their_nested_prices() -> None:
    data = bmecat("\n".join([
        product("A-1", "Schraube &amp; Mutter", price("1.50", lower="1", tax="0.19"), price("1.20", lower="100"),
                gtin="4006381333931"),
        product("B-2", "Dübel", price("0.10", currency="CHF", kind="nrp")),
    ]))
    evaluation = run(data)
    assert evaluation.report.mapping == "bmecat-new-catalog"
    assert evaluation.report.status.value == "accepted", evaluation.report.issues
    assert records(evaluation, "product") == [
        {"sku": "A-1", "gtin": "4006381333931", "name": "Schraube & Mutter", "unit": "C62", "vat_rate": Decimal(19),
         "active": True},
        {"sku": "B-2", "name": "Dübel", "unit": "C62", "active": True},
    ]
    assert [(p["sku"], p["price_type"], p["currency"], p["amount"], p["min_quantity"]) for p in records(evaluation, "price")] == [
        ("A-1", "net", "EUR", Decimal("1.50"), Decimal(1)),    # currency from the header
        ("A-1", "net", "EUR", Decimal("1.20"), Decimal(100)),
        ("B-2", "retail", "CHF", Decimal("0.10"), Decimal(1)),  # the price's own currency wins
    ]


def test_a_customer_price_is_for_the_catalogue_buyer() -> None:
    buyer = '<BUYER><BUYER_ID type="buyer_specific">K-77</BUYER_ID><BUYER_NAME>Kunde</BUYER_NAME></BUYER>'
    evaluation = run(bmecat(product("A-1", "Alpha", price("9.00"), price("8.00", kind="net_customer")), header=buyer))
    assert [(p["amount"], p.get("customer_id")) for p in records(evaluation, "price")] == [
        (Decimal("9.00"), None), (Decimal("8.00"), "K-77"),
    ]


def test_a_vendor_namespace_variant_is_read_by_the_same_mapping() -> None:
    data = bmecat(product("A-1", "Alpha", price("1.00")), namespace="http://www.bmecat.org/bmecat/2005+onto")
    evaluation = run(data)
    assert evaluation.report.mapping == "bmecat-new-catalog"
    assert [p["sku"] for p in records(evaluation, "product")] == ["A-1"]


def test_a_namespace_no_mapping_lists_is_no_mapping_naming_root_and_namespace() -> None:
    evaluation = run(bmecat(product("A-1", "Alpha"), namespace="urn:example:other"))
    assert codes(evaluation) == ["no-mapping"]
    message = evaluation.report.issues[0].message
    assert "<BMECAT>" in message and "urn:example:other" in message and "<T_NEW_CATALOG>" in message


def test_the_transaction_element_chooses_the_bmecat_mapping() -> None:
    update = bmecat("\n".join([
        product("A-1", "Alpha", price("2.50"), mode="update"),
        '<PRODUCT mode="delete"><SUPPLIER_PID>B-2</SUPPLIER_PID></PRODUCT>',
        product("C-3", "Gamma", mode="new"),
    ]), transaction="T_UPDATE_PRODUCTS")
    evaluation = run(update)
    assert evaluation.report.mapping == "bmecat-update-products"
    products = next(u for u in evaluation.updates if u.entity == "product")
    assert products.mode == "delta"
    assert [r["sku"] for r in products.records.to_pylist()] == ["A-1", "C-3"]
    assert products.deletes.to_pylist() == [{"sku": "B-2"}]
    assert [p["amount"] for p in records(evaluation, "price")] == [Decimal("2.50")]

    prices = run(bmecat(product("A-1", "Alpha", price("3.00"), mode="update"), transaction="T_UPDATE_PRICES"))
    assert prices.report.mapping == "bmecat-update-prices"
    assert [u.entity for u in prices.updates] == ["price"]


def test_an_unknown_product_mode_is_an_invalid_op() -> None:
    evaluation = run(bmecat(product("A-1", "Alpha", mode="replace"), transaction="T_UPDATE_PRODUCTS"))
    assert "invalid-op" in codes(evaluation)


def test_issues_carry_the_line_and_an_exact_xpath_of_the_record() -> None:
    data = bmecat("\n".join([
        product("A-1", "Alpha", price("1.00")),
        product("B-2", "Beta", price("1.00"), price("", lower="5")),  # a price without PRICE_AMOUNT
    ]))
    evaluation = run(data)
    assert evaluation.report.status.value == "partial"
    [issue] = evaluation.report.issues
    assert issue.code == "missing-value" and issue.location.field == "amount"
    assert issue.location.line == data.splitlines().index(next(x for x in data.splitlines() if "B-2" in x)) + 1
    assert issue.location.xpath == "(/bme:BMECAT/bme:T_NEW_CATALOG/bme:PRODUCT[2]/bme:PRODUCT_PRICE_DETAILS/bme:PRODUCT_PRICE)[2]"


def test_a_bad_gtin_is_located_by_line_and_xpath() -> None:
    data = bmecat("\n".join([product("A-1", "Alpha", price("1")), product("B-2", "Beta", price("2"), gtin="4006381333932")]))
    [issue] = run(data).report.issues
    assert (issue.code, issue.location.line, issue.location.xpath) == (
        "invalid-gtin", 6, "/bme:BMECAT/bme:T_NEW_CATALOG/bme:PRODUCT[2]")


def test_a_catalogue_without_products_is_a_warning_and_an_empty_snapshot() -> None:
    evaluation = run(bmecat(""))
    assert set(codes(evaluation)) == {"xml-no-records", "empty-snapshot"}


def test_malformed_and_unsafe_files_are_rejected_with_their_code() -> None:
    broken = run(bmecat(product("A-1", "Alpha")).replace("</SUPPLIER_PID>", "</SUPPLIER>", 1))
    assert codes(broken) == ["xml-syntax"] and broken.report.issues[0].location.line == 5
    bomb = run('<?xml version="1.0"?><!DOCTYPE BMECAT [<!ENTITY a "aaaa">]><BMECAT>&a;</BMECAT>')
    assert codes(bomb) == ["xml-unsafe"]


# --- the reader's own mechanics (a mapping written here) --------------------------------------------

SHOP = """
format = "xml"
[match]
root = "s:shop"
[xml]
namespaces = { s = "urn:shop" }
records = { product = "/s:shop/s:item", stock = "/s:shop/s:item/s:store" }
[entity.product]
sku = "@id"
name = "s:name"
description = { column = "s:note", optional = true }
[entity.stock]
sku = "../@id"
warehouse = "@code"
quantity = "."
as_of = "/s:shop/@date"
"""


def test_nested_records_see_their_ancestors_and_the_header() -> None:
    data = ('<shop xmlns="urn:shop" date="2026-11-27T08:00:00Z"><item id="A"><name>Alpha</name>'
            '<store code="W1">5</store><store code="W2">0</store></item>'
            '<item id="B"><name>Beta</name></item></shop>')
    evaluation = run(data, mapping(SHOP))
    assert [p["sku"] for p in records(evaluation, "product")] == ["A", "B"]
    assert [(s["sku"], s["warehouse"], s["quantity"]) for s in records(evaluation, "stock")] == [
        ("A", "W1", Decimal(5)), ("A", "W2", Decimal(0))]


def test_text_holding_the_internal_separator_is_still_read_exactly() -> None:
    name = f"odd{SEPARATOR}name"
    shop = '<shop xmlns="urn:shop" date="2026-11-27T08:00:00Z">'
    evaluation = run(f'{shop}<item id="A"><name>{name}</name><note>n</note></item></shop>', mapping(SHOP))
    assert records(evaluation, "product") == [{"sku": "A", "name": name, "description": "n", "unit": "C62", "active": True}]


def test_records_are_read_in_document_order_across_many_chunks() -> None:
    items = "".join(f'<item id="I{n}"><name>N{n}</name></item>' for n in range(20_000))
    evaluation = run(f'<shop xmlns="urn:shop" date="2026-11-27T08:00:00Z">{items}</shop>', mapping(SHOP))
    skus = [p["sku"] for p in records(evaluation, "product")]
    assert skus == [f"I{n}" for n in range(20_000)]


def test_utf16_and_latin1_files_are_decoded_from_their_declaration() -> None:
    text = ('<?xml version="1.0" encoding="{}"?><shop xmlns="urn:shop" date="2026-11-27T08:00:00Z">'
            '<item id="Ä"><name>Größe</name></item></shop>')
    for encoding, codec in (("UTF-16", "utf-16"), ("ISO-8859-1", "latin-1")):
        evaluation = run(text.format(encoding).encode(codec), mapping(SHOP))
        assert records(evaluation, "product")[0]["name"] == "Größe", encoding


# --- routing and rules ---------------------------------------------------------------------------------

def test_two_mappings_for_one_root_are_ambiguous_unless_a_child_decides() -> None:
    both = {**mapping(SHOP, "one"), **mapping(SHOP, "two")}
    assert codes(run('<shop xmlns="urn:shop"><item id="A"><name>A</name></item></shop>', both)) == ["ambiguous-mapping"]
    stricter = SHOP.replace('root = "s:shop"', 'root = "s:shop"\nchild = "s:item"')
    chosen = run('<shop xmlns="urn:shop" date="2026-11-27T08:00:00Z"><item id="A"><name>A</name></item></shop>',
                 {**mapping(SHOP, "one"), **mapping(stricter, "two")})
    assert chosen.report.mapping == "two"


@pytest.mark.parametrize(("change", "message"), [
    (('name = "s:name"', 'name = "x:name"'), 'line 10: entity.product.name: XPath \'x:name\': Undefined namespace prefix'),
    (('name = "s:name"', 'name = "s:name["'), "line 10: entity.product.name: XPath 's:name['"),
    (('product = "/s:shop/s:item"', 'product = "s:item"'), "records.product: 's:item': a record path is absolute"),
    (('product = "/s:shop/s:item"', 'product = "/s:other/s:item"'), "does not start at the root element 's:shop'"),
    (('root = "s:shop"', 'root = "q:shop"'), "match.root: prefix 'q' is not declared in [xml] namespaces"),
    (('records = { product', 'records = { customer = "/s:shop/s:c", product'),
     "xml.records.customer: no [entity.customer] reads these records"),
    (('sku = "@id"\n', 'sku = "@id"\n"attributes.*" = "x*"\n'), "attributes.* reads CSV columns"),
    (('format = "xml"', 'format = "csv"'), 'match.root, match.child and [xml] need format = "xml"'),
])
def test_mapping_mistakes_are_found_at_load_with_their_line(change: tuple[str, str], message: str) -> None:
    with pytest.raises(MappingError) as raised:
        mapping(SHOP.replace(*change))
    assert message in str(raised.value)


def test_a_record_path_needs_an_entity_and_an_entity_a_record_path() -> None:
    with pytest.raises(MappingError, match="say which element is one stock record"):
        mapping(SHOP.replace(', stock = "/s:shop/s:item/s:store"', ""))


def test_every_builtin_xml_mapping_loads_and_names_its_root() -> None:
    xml_mappings = [m for m in BUILTIN.values() if m.format == "xml"]
    assert {"bmecat-new-catalog", "bmecat-update-products", "bmecat-update-prices"} <= {m.name for m in xml_mappings}
    assert all(m.match.root for m in xml_mappings)


# --- round trip: records -> BMEcat (built with lxml) -> records ------------------------------------

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp", "Co", "Cn")),
                min_size=1, max_size=25)  # any letter, mark, symbol or punctuation: <, &, ", ', ]]>, emoji


def _built(products: list[tuple[str, str, Decimal, str]], encoding: str) -> bytes:
    """A T_NEW_CATALOG written by lxml (escaping is lxml's business, not this test's)."""
    from lxml import etree

    ns = f"{{{BME}}}"
    root = etree.Element(ns + "BMECAT", nsmap={None: BME}, version="2005")
    catalog = etree.SubElement(etree.SubElement(root, ns + "HEADER"), ns + "CATALOG")
    etree.SubElement(catalog, ns + "CURRENCY").text = "EUR"
    body = etree.SubElement(root, ns + "T_NEW_CATALOG")
    for sku, name, amount, currency in products:
        item = etree.SubElement(body, ns + "PRODUCT", mode="new")
        etree.SubElement(item, ns + "SUPPLIER_PID").text = sku
        etree.SubElement(etree.SubElement(item, ns + "PRODUCT_DETAILS"), ns + "DESCRIPTION_SHORT").text = name
        price_element = etree.SubElement(etree.SubElement(item, ns + "PRODUCT_PRICE_DETAILS"), ns + "PRODUCT_PRICE",
                                         price_type="net_list")
        etree.SubElement(price_element, ns + "PRICE_AMOUNT").text = str(amount)
        if currency:
            etree.SubElement(price_element, ns + "PRICE_CURRENCY").text = currency
    return etree.tostring(root, xml_declaration=True, encoding=encoding, pretty_print=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), encoding=st.sampled_from(["UTF-8", "UTF-16", "ISO-8859-1"]))
def test_products_and_prices_survive_records_to_bmecat_to_records(data: st.DataObject, encoding: str) -> None:
    text = _TEXT.map(str.strip).filter(bool)
    if encoding == "ISO-8859-1":  # lxml writes what Latin-1 lacks as character references: still exact
        text = st.one_of(text, st.text("abcÄÖÜäöüß<&>\"' ", min_size=1, max_size=10).map(str.strip).filter(bool))
    count = data.draw(st.integers(1, 5))
    skus = data.draw(st.lists(text.filter(lambda s: "  " not in s), min_size=count, max_size=count, unique=True))
    names = data.draw(st.lists(text, min_size=count, max_size=count))
    amounts = data.draw(st.lists(st.decimals(0, 99999, places=2), min_size=count, max_size=count))
    currencies = data.draw(st.lists(st.sampled_from(["", "CHF", "USD"]), min_size=count, max_size=count))
    evaluation = run(_built(list(zip(skus, names, amounts, currencies)), encoding))
    assert evaluation.report.status.value == "accepted", evaluation.report.issues
    assert [(p["sku"], p["name"]) for p in records(evaluation, "product")] == list(zip(skus, names))
    assert [(p["sku"], p["amount"], p["currency"]) for p in records(evaluation, "price")] == [
        (s, a, c or "EUR") for s, a, c in zip(skus, amounts, currencies)]


def test_huge_text_is_refused_unless_the_mapping_allows_huge_trees() -> None:
    note = "x" * 10_500_000  # over libxml2's 10,000,000-character limit for one text node
    data = f'<shop xmlns="urn:shop" date="2026-11-27T08:00:00Z"><item id="A"><name>A</name><note>{note}</note></item></shop>'
    refused = run(data, mapping(SHOP))
    assert codes(refused) == ["xml-syntax"]
    allowed = run(data, mapping(SHOP.replace('[xml]\n', '[xml]\nhuge_tree = true\n')))
    # Read this time: the note reaches the record checks (a description holds at most 4000 characters).
    assert [(i.code, i.location.xpath) for i in allowed.report.issues if i.severity == "error"] == [
        ("invalid-text", "/s:shop/s:item[1]")]
