"""An order as an openTRANS 2.1 ORDER document (the XML order built in, DESIGN §1 "ERP outputs").

Citations are to the openTRANS 2.1 schema (``opentrans_2_1.xsd``, Fraunhofer IAO / Universität
Duisburg-Essen, 2009) and the BMEcat 2005 schema it imports; every choice an integrator may need to
change is a field of ``OpenTransConfig``. The document, in the schema's element order::

    <ORDER version="2.1" type="standard">          xmlns = openTRANS 2.1, xmlns:bmecat = BMEcat 2005
      <ORDER_HEADER>
        <CONTROL_INFO>                              GENERATOR_INFO?, GENERATION_DATE (= now)
        <ORDER_INFO>
          <ORDER_ID/> <ORDER_DATE/>                 order_id, ordered_at (dtDATETIME, with offset)
          <bmecat:LANGUAGE/>?                       config.language (ISO 639-2, e.g. "deu")
          <PARTIES>
            <PARTY> bmecat:PARTY_ID = customer_id, PARTY_ROLE buyer (+ invoice_recipient), ADDRESS = billing
            <PARTY> bmecat:PARTY_ID = config.supplier_id, PARTY_ROLE supplier
            <PARTY> bmecat:PARTY_ID = customer_id + delivery suffix, PARTY_ROLE delivery, ADDRESS = shipping
          <ORDER_PARTIES_REFERENCE>                 bmecat:BUYER_IDREF, bmecat:SUPPLIER_IDREF,
                                                    INVOICE_RECIPIENT_IDREF?, SHIPMENT_PARTIES_REFERENCE/DELIVERY_IDREF?
          <bmecat:CURRENCY/>
      <ORDER_ITEM_LIST>
        <ORDER_ITEM>                                one per line
          <LINE_ITEM_ID/>                           line_no
          <PRODUCT_ID>                              bmecat:SUPPLIER_PID (sku), bmecat:INTERNATIONAL_PID
                                                    type="gtin", bmecat:DESCRIPTION_SHORT (+ _LONG)
          <QUANTITY/> <bmecat:ORDER_UNIT/>          quantity, unit (Rec. 20, mapped by unit_codes)
          <PRODUCT_PRICE_FIX><bmecat:PRICE_AMOUNT/> unit_price (net)
          <PRICE_LINE_AMOUNT/>                      quantity × unit_price
      <ORDER_SUMMARY>
        <TOTAL_ITEM_NUM/> <TOTAL_AMOUNT/>           number of ORDER_ITEMs, totals.net (or gross)

openTRANS ORDER has no header tax total (ORDER_SUMMARY is TOTAL_ITEM_NUM, TOTAL_AMOUNT only) and
the order carries no per-line tax rate for TAX_DETAILS_FIX, so ``totals.tax`` is not written.

Text: every value goes through lxml's element API, so ``<``, ``&``, ``>`` (also in ``]]>``) and
quotes come out escaped; a carriage return survives as ``&#13;``. Characters XML 1.0 cannot carry
(control characters other than tab, LF and CR; U+FFFE, U+FFFF; unpaired surrogates) are an
``xml-unencodable`` rejection naming the field. BMEcat's DESCRIPTION_SHORT holds 150 characters: a
longer description is cut there and written whole as DESCRIPTION_LONG, so nothing is lost. Other
BMEcat length limits (SUPPLIER_PID 32 characters, …) are not enforced here. Decimals are written
exactly, in plain notation without trailing zeros (``format_decimal``), never through a float.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Annotated, Any, Literal

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field

from exchanged.formats.xml.text import xml_text
from exchanged.records.customer import Address
from exchanged.records.kinds import Gtin, KindError
from exchanged.records.order import Order, OrderLine
from exchanged.records.types import format_decimal
from exchanged.zones import ZoneName

__all__ = ["BMECAT_NAMESPACE", "OPENTRANS_NAMESPACE", "OpenTransConfig", "write_opentrans_order"]

OPENTRANS_NAMESPACE = "http://www.opentrans.org/XMLSchema/2.1"
BMECAT_NAMESPACE = "http://www.bmecat.org/bmecat/2005"
_XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance"
_SCHEMA_LOCATION = f"{OPENTRANS_NAMESPACE} opentrans_2_1.xsd"

# BMEcat 2005 typePARTY_ID @type: a predefined value or any word (\w{1,250}; ASCII here).
_PARTY_ID_TYPE = r"^[A-Za-z0-9_]+$"
# BMEcat 2005 DESCRIPTION_SHORT is at most 150 characters.
_DESCRIPTION_SHORT_MAX = 150
# XML 1.0 §2.2 Char: what is not in it cannot be written, escaped or not.


class OpenTransConfig(BaseModel):
    """How orders are written as openTRANS 2.1 ORDER: the parties' ids and every choice, with defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    supplier_id: str = Field(min_length=1, max_length=250,
                             description="bmecat:PARTY_ID of the supplier (the ERP's company) and bmecat:SUPPLIER_IDREF")
    supplier_id_type: str = Field("buyer_specific", pattern=_PARTY_ID_TYPE, max_length=250,
                                  description='@type of the supplier\'s PARTY_ID: "buyer_specific", "gln", "duns", …')
    buyer_id_type: str = Field("supplier_specific", pattern=_PARTY_ID_TYPE, max_length=250,
                               description='@type of the buyer\'s PARTY_ID (customer_id): "supplier_specific": the ERP\'s')
    detect_gln: bool = Field(True, description='an id that is a valid GLN (13 digits, GS1 check digit) gets @type "gln"')
    delivery_party_suffix: str = Field("-delivery", min_length=1, max_length=50,
                                       description="PARTY_ID of the delivery party = customer_id + this (PARTY_IDs are unique)")
    invoice_recipient: bool = Field(True, description="with a billing address the buyer is also PARTY_ROLE invoice_recipient, "
                                                      "referenced by INVOICE_RECIPIENT_IDREF")
    order_type: Literal["standard", "express", "release", "consignment"] = Field("standard", description="ORDER/@type")
    language: str | None = Field(None, pattern=r"^[a-z]{3}$",
                                 description='ISO 639-2 code for bmecat:LANGUAGE and DESCRIPTION_SHORT/@lang, e.g. "deu"')
    descriptions: bool = Field(True, description="write line descriptions as DESCRIPTION_SHORT (+ DESCRIPTION_LONG over 150)")
    prices: bool = Field(True, description="write PRODUCT_PRICE_FIX/bmecat:PRICE_AMOUNT, PRICE_LINE_AMOUNT and TOTAL_AMOUNT")
    total_amount: Literal["net", "gross"] = Field("net", description="ORDER_SUMMARY/TOTAL_AMOUNT: totals.net (the sum of the "
                                                                     "PRICE_LINE_AMOUNTs) or totals.gross")
    unit_codes: dict[str, Annotated[str, Field(pattern=r"^[0-9A-Za-z]{1,3}$")]] = Field(
        default_factory=dict, description='bmecat:ORDER_UNIT per Rec. 20 unit, e.g. {"C62": "PCE"}; default: the Rec. 20 code')
    timezone: ZoneName = Field("UTC", description="IANA zone of ORDER_DATE and GENERATION_DATE (written with their UTC offset)")
    generator_info: str | None = Field("exchanged", min_length=1, max_length=250, description="CONTROL_INFO/GENERATOR_INFO")
    schema_location: bool = Field(True, description="write xsi:schemaLocation pointing at opentrans_2_1.xsd")
    indent: bool = Field(True, description="indent the document (two spaces); off: one line")



def write_opentrans_order(order: Order, config: OpenTransConfig, now: dt.datetime) -> bytes:
    """``order`` as one openTRANS 2.1 ORDER document, UTF-8 with an XML declaration; ``now`` is
    the GENERATION_DATE (a naive ``now`` is taken to be in ``config.timezone``).

    Raises ``InputRejected`` (``xml-unencodable``) for text XML 1.0 cannot carry.
    """
    zone = zoneinfo.ZoneInfo(config.timezone)
    writer = _Writer(config, zone)
    root = writer.document(order, now)
    if config.indent:
        etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


def _ot(name: str) -> str:
    return f"{{{OPENTRANS_NAMESPACE}}}{name}"


def _bme(name: str) -> str:
    return f"{{{BMECAT_NAMESPACE}}}{name}"


class _Writer:
    """Builds the ORDER tree; every text and attribute value passes ``_text`` (XML 1.0 check)."""

    def __init__(self, config: OpenTransConfig, zone: dt.tzinfo) -> None:
        self.config = config
        self.zone = zone

    def document(self, order: Order, now: dt.datetime) -> Any:
        nsmap = {None: OPENTRANS_NAMESPACE, "bmecat": BMECAT_NAMESPACE}
        if self.config.schema_location:
            nsmap["xsi"] = _XSI_NAMESPACE
        root = etree.Element(_ot("ORDER"), nsmap=nsmap)  # type: ignore[arg-type]
        root.set("version", "2.1")
        root.set("type", self.config.order_type)
        if self.config.schema_location:
            root.set(f"{{{_XSI_NAMESPACE}}}schemaLocation", _SCHEMA_LOCATION)
        header = etree.SubElement(root, _ot("ORDER_HEADER"))
        self._control_info(header, now)
        self._order_info(header, order)
        items = etree.SubElement(root, _ot("ORDER_ITEM_LIST"))
        for index, line in enumerate(order.lines):
            self._order_item(items, line, f"lines[{index}]")
        summary = etree.SubElement(root, _ot("ORDER_SUMMARY"))
        self._leaf(summary, _ot("TOTAL_ITEM_NUM"), str(len(order.lines)), "lines")
        if self.config.prices:
            total = order.totals.net if self.config.total_amount == "net" else order.totals.gross
            self._leaf(summary, _ot("TOTAL_AMOUNT"), format_decimal(total), f"totals.{self.config.total_amount}")
        return root

    # --- ORDER_HEADER -------------------------------------------------------------------------

    def _control_info(self, header: Any, now: dt.datetime) -> None:
        control = etree.SubElement(header, _ot("CONTROL_INFO"))
        if self.config.generator_info:
            self._leaf(control, _ot("GENERATOR_INFO"), self.config.generator_info, "generator_info")
        generated = now.astimezone(self.zone) if now.tzinfo else now.replace(tzinfo=self.zone)
        self._leaf(control, _ot("GENERATION_DATE"), generated.isoformat(), "generated_at")

    def _order_info(self, header: Any, order: Order) -> None:
        config = self.config
        info = etree.SubElement(header, _ot("ORDER_INFO"))
        self._leaf(info, _ot("ORDER_ID"), order.order_id, "order_id")
        self._leaf(info, _ot("ORDER_DATE"), order.ordered_at.astimezone(self.zone).isoformat(), "ordered_at")
        if config.language:
            language = self._leaf(info, _bme("LANGUAGE"), config.language, "language")
            language.set("default", "true")
        buyer_type = self._id_type(order.customer_id, config.buyer_id_type)
        supplier_type = self._id_type(config.supplier_id, config.supplier_id_type)
        billing = _filled(order.billing_address)
        shipping = _filled(order.shipping_address)
        invoice_recipient = config.invoice_recipient and billing is not None
        delivery_id = order.customer_id + config.delivery_party_suffix

        parties = etree.SubElement(info, _ot("PARTIES"))
        buyer_roles = ["buyer", "invoice_recipient"] if invoice_recipient else ["buyer"]
        self._party(parties, order.customer_id, buyer_type, "customer_id", buyer_roles, billing, "billing_address")
        self._party(parties, config.supplier_id, supplier_type, "supplier_id", ["supplier"], None, "")
        if shipping is not None:
            self._party(parties, delivery_id, config.buyer_id_type, "customer_id", ["delivery"], shipping, "shipping_address")

        # ORDER_PARTIES_REFERENCE: bmecat:BUYER_IDREF, bmecat:SUPPLIER_IDREF, INVOICE_RECIPIENT_IDREF?,
        # SHIPMENT_PARTIES_REFERENCE? (DELIVERY_IDREF first)
        references = etree.SubElement(info, _ot("ORDER_PARTIES_REFERENCE"))
        self._leaf(references, _bme("BUYER_IDREF"), order.customer_id, "customer_id").set("type", buyer_type)
        self._leaf(references, _bme("SUPPLIER_IDREF"), config.supplier_id, "supplier_id").set("type", supplier_type)
        if invoice_recipient:
            self._leaf(references, _ot("INVOICE_RECIPIENT_IDREF"), order.customer_id, "customer_id").set("type", buyer_type)
        if shipping is not None:
            shipment = etree.SubElement(references, _ot("SHIPMENT_PARTIES_REFERENCE"))
            self._leaf(shipment, _ot("DELIVERY_IDREF"), delivery_id, "customer_id").set("type", config.buyer_id_type)
        self._leaf(info, _bme("CURRENCY"), order.currency, "currency")

    def _party(self, parties: Any, party_id: str, id_type: str, id_field: str, roles: list[str],
               address: Address | None, where: str) -> None:
        """PARTY: bmecat:PARTY_ID, PARTY_ROLE*, ADDRESS? (in the schema's order)."""
        party = etree.SubElement(parties, _ot("PARTY"))
        self._leaf(party, _bme("PARTY_ID"), party_id, id_field).set("type", id_type)
        for role in roles:
            self._leaf(party, _ot("PARTY_ROLE"), role, id_field)
        if address is not None:
            # ADDRESS: bmecat:NAME, …, bmecat:STREET, bmecat:ZIP, …, bmecat:CITY, …, bmecat:COUNTRY_CODED
            element = etree.SubElement(party, _ot("ADDRESS"))
            for tag, name in (("NAME", "name"), ("STREET", "street"), ("ZIP", "postal_code"), ("CITY", "city"),
                              ("COUNTRY_CODED", "country")):
                value = getattr(address, name)
                if value:
                    self._leaf(element, _bme(tag), value, f"{where}.{name}")

    def _id_type(self, party_id: str, configured: str) -> str:
        return "gln" if self.config.detect_gln and _is_gln(party_id) else configured

    # --- ORDER_ITEM_LIST -----------------------------------------------------------------------

    def _order_item(self, items: Any, line: OrderLine, where: str) -> None:
        config = self.config
        item = etree.SubElement(items, _ot("ORDER_ITEM"))
        self._leaf(item, _ot("LINE_ITEM_ID"), str(line.line_no), f"{where}.line_no")
        # PRODUCT_ID: bmecat:SUPPLIER_PID?, …, bmecat:INTERNATIONAL_PID*, bmecat:BUYER_PID*,
        # bmecat:DESCRIPTION_SHORT*, bmecat:DESCRIPTION_LONG*
        product = etree.SubElement(item, _ot("PRODUCT_ID"))
        if line.sku is not None:
            self._leaf(product, _bme("SUPPLIER_PID"), line.sku, f"{where}.sku")
        if line.gtin is not None:
            self._leaf(product, _bme("INTERNATIONAL_PID"), line.gtin, f"{where}.gtin").set("type", "gtin")
        if config.descriptions and line.description:
            description = line.description
            short = self._leaf(product, _bme("DESCRIPTION_SHORT"), description[:_DESCRIPTION_SHORT_MAX], f"{where}.description")
            self._lang(short)
            if len(description) > _DESCRIPTION_SHORT_MAX:
                self._lang(self._leaf(product, _bme("DESCRIPTION_LONG"), description, f"{where}.description"))
        self._leaf(item, _ot("QUANTITY"), format_decimal(line.quantity), f"{where}.quantity")
        self._leaf(item, _bme("ORDER_UNIT"), config.unit_codes.get(line.unit, line.unit), f"{where}.unit")
        if config.prices:
            price = etree.SubElement(item, _ot("PRODUCT_PRICE_FIX"))
            self._leaf(price, _bme("PRICE_AMOUNT"), format_decimal(line.unit_price), f"{where}.unit_price")
            self._leaf(item, _ot("PRICE_LINE_AMOUNT"), format_decimal(line.amount), f"{where}.amount")

    def _lang(self, element: Any) -> None:
        if self.config.language:
            element.set("lang", self.config.language)

    # --- text ------------------------------------------------------------------------------------

    def _leaf(self, parent: Any, tag: str, value: str, field: str) -> Any:
        element = etree.SubElement(parent, tag)
        element.text = xml_text(value, field)
        return element


def _filled(address: Address | None) -> Address | None:
    """The address when it says anything, else None (an empty ADDRESS says nothing)."""
    if address is None or not any(address.model_dump().values()):
        return None
    return address


def _is_gln(value: str) -> bool:
    try:
        return len(value) == 13 and bool(Gtin().scalar(value))
    except KindError:
        return False


