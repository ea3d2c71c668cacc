"""An order as EANCOM ORDERS (EANCOM 1997, UN/EDIFACT D.96A, association code EAN008).

Citations ("EANCOM 97") are to EANCOM Part II, 1997-07-01, ORDERS version 008; every choice an
integrator may need to change is a field of ``OrdersConfig``, with the EANCOM default. The message::

    UNA:+.? '                          explicit service characters (decimal mark per config)
    UNB+UNOC:3+<sender>:14+<recipient>:14+YYMMDD:HHMM+<control ref>'
    UNH+1+ORDERS:D:96A:UN:EAN008'
    BGM+220+<order_id>+9'              1001 220 = order, 1225 9 = original
    DTM+137:<CCYYMMDDHHMM>:203'        2005 137 = document date, 2379 203 = CCYYMMDDHHMM
    NAD+BY+<gln>::9++<name>+<street>+<city>++<postcode>+<country>'   buyer, billing address
    NAD+SU+<gln>::9'                   supplier, when configured
    NAD+DP+++<name>+<street>+<city>++<postcode>+<country>'           shipping address
    CUX+2:<currency>:9'                6347 2 = reference currency, 6343 9 = order currency
    LIN+<n>++<gtin>:EN'                1082 line number; 7143 EN = EAN/GTIN (EANCOM 97 LIN example)
    PIA+1+<sku>:SA'                    4347 1 = additional id (5 = product id when there is no GTIN);
                                       7143 SA = supplier's article number (the ERP's own number)
    IMD+F++:::<description>:<more>'    7077 F = free-form; C273 has two 7008 an..35
    QTY+21:<quantity>:<unit>'          6063 21 = ordered quantity, 6411 Rec. 20 unit
    PRI+AAA:<unit price>'              5125 AAA = calculation net
    UNS+S'                             0081 S = detail/summary separation
    MOA+79:<net>'  MOA+176:<tax>'  MOA+86:<gross>'   EANCOM 97 ORDERS summary MOA 5025 codes:
                                       79 total line items, 176 message total duty/tax/fee amount,
                                       86 message total monetary amount (124 "tax amount" belongs
                                       to the TAX-MOA groups, not to the summary)
    CNT+2:<lines>'                     6069 2 = number of line items
    UNT+<segments>+1'  UNZ+1+<control ref>'

The buyer's C082 3039 is the customer id; EANCOM wants a GLN there (3055 9 = EAN). A customer id
that is a valid GLN (13 digits, GS1 check digit) is written with 3055 ``9``, any other one with
``customer_id_agency`` (default 91 = assigned by the seller: the ERP's own customer number).

Lengths (D.96A): what is too long for its element is split over the repetitions the standard
offers (party name C080 5 × 35, street C059 4 × 35, item description 2 × 35 per IMD and IMD
repeated, up to 99), cut every 35 characters (a reader joins the parts without a separator).
What still does not fit is an ``edifact-too-long`` rejection, or with ``overflow = "truncate"`` is
cut with a warning issue. Identifiers (order id, customer id, sku) and numbers are never cut.

Characters: UNOC (ISO 8859-1) is the default. Text it cannot carry (e.g. "東京") is an
``edifact-charset`` rejection naming the field, never mojibake; ``charset = "UNOY"`` writes UTF-8
(UNOY needs syntax version 4, so UNB says ``UNOY:4``) for partners that agreed to it. It is not
chosen automatically: a partner set up for UNOC:3 could not read a file that suddenly says UNOY:4.
Line breaks and tabs in free text become spaces; other control characters are rejected.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import zoneinfo
from collections.abc import Iterator
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from exchanged.errors import InputRejected
from exchanged.formats.edifact.serialise import (
    CODECS,
    Envelope,
    Message,
    SegmentSpec,
    write_interchange,
)
from exchanged.records.customer import Address
from exchanged.records.kinds import Gtin, KindError
from exchanged.records.order import Order, OrderLine
from exchanged.records.types import format_decimal
from exchanged.report import Issue, Location
from exchanged.zones import ZoneName

__all__ = ["OrdersConfig", "write_orders"]

_log = logging.getLogger(__name__)


def _code(default: str, description: str) -> str:
    """A code of an EDIFACT code list (an..3)."""
    return Field(default, pattern=r"^[0-9A-Z]{1,3}$", description=description)  # type: ignore[no-any-return]


class OrdersConfig(BaseModel):
    """How orders are written as EDIFACT: the partner's ids and every EANCOM choice, with defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sender_id: str = Field(pattern=r"^[!-~]{1,35}$", description="UNB S002 0004: our id, usually our GLN")
    sender_qualifier: str | None = Field("14", pattern=r"^[0-9A-Z]{1,4}$", description="UNB S002 0007: 14 = GLN (EAN International); unset: none")
    recipient_id: str = Field(pattern=r"^[!-~]{1,35}$", description="UNB S003 0010: the ERP's id, usually its GLN")
    recipient_qualifier: str | None = Field("14", pattern=r"^[0-9A-Z]{1,4}$", description="UNB S003 0007: 14 = GLN; unset: none")
    charset: Literal["UNOC", "UNOY"] = Field("UNOC", description="UNOC:3 (ISO 8859-1) or UNOY:4 (UTF-8); text outside it is rejected")
    decimal_mark: Literal[".", ","] = Field(".", description="decimal mark, declared in UNA")
    newline: bool = Field(True, description="a line break after every segment")
    timezone: ZoneName = Field("UTC", description="IANA zone of DTM and UNB times (EDIFACT times carry no zone)")
    application_reference: str | None = Field(None, pattern=r"^[!-~]{1,14}$", description="UNB 0026, when the partner wants one")
    acknowledgement_request: bool = Field(False, description="UNB 0031 = 1: ask the ERP for a CONTRL")
    test_indicator: bool = Field(False, description="UNB 0035 = 1: a test interchange")
    message_version: str = _code("D", "UNH S009 0052")
    message_release: str = _code("96A", "UNH S009 0054")
    association_code: str | None = Field("EAN008", pattern=r"^[0-9A-Z]{1,6}$", description="UNH S009 0057: EANCOM ORDERS version 008")
    document_code: str = _code("220", "BGM 1001: 220 = order")
    message_function: str = _code("9", "BGM 1225: 9 = original")
    customer_id_agency: str = _code("91", "NAD BY 3055 for a customer id that is not a GLN: 91 = assigned by the seller")
    supplier_id: str | None = Field(None, pattern=r"^[!-~]{1,35}$", description="NAD SU 3039 (the supplier's GLN); unset: no NAD+SU")
    gtin_type: str = _code("EN", "LIN 7143: EN (EANCOM 97); SRV for EANCOM 2002 partners")
    sku_type: str = _code("SA", "PIA 7143: SA = supplier's article number")
    quantity_qualifier: str = _code("21", "QTY 6063: 21 = ordered quantity")
    unit_codes: dict[str, Annotated[str, Field(pattern=r"^[0-9A-Z]{0,3}$")]] = Field(default_factory=dict, description='QTY 6411 per Rec. 20 unit, e.g. {"C62": "PCE"}; "" leaves 6411 out')
    price_qualifier: str = _code("AAA", "PRI 5125: AAA = calculation net")
    descriptions: bool = Field(True, description="write line descriptions as IMD+F")
    net_qualifier: str = _code("79", "summary MOA 5025 of totals.net: 79 = total line items amount")
    tax_qualifier: str = _code("176", "summary MOA 5025 of totals.tax: 176 = message total duty/tax/fee amount")
    gross_qualifier: str = _code("86", "summary MOA 5025 of totals.gross: 86 = message total monetary amount")
    overflow: Literal["error", "truncate"] = Field("error", description="text longer than its elements: reject the order, or cut it with a warning")



def write_orders(order: Order, config: OrdersConfig, control_ref: str, now: dt.datetime, *, issues: list[Issue] | None = None) -> bytes:
    """One interchange holding one ORDERS message for ``order``; ``now`` is the UNB preparation time.

    Raises ``InputRejected`` (``edifact-too-long``, ``edifact-charset``) when the order cannot be
    written faithfully; warnings (text cut with ``overflow = "truncate"``) go to ``issues``, or to
    the log without it.
    """
    zone = zoneinfo.ZoneInfo(config.timezone)
    warnings: list[Issue] = issues if issues is not None else []
    text = _Text(config, warnings)
    version = 4 if config.charset == "UNOY" else 3
    envelope = Envelope(
        syntax=config.charset, version=version,
        sender=[config.sender_id, config.sender_qualifier or ""], recipient=[config.recipient_id, config.recipient_qualifier or ""],
        control_ref=control_ref, prepared_at=now.astimezone(zone) if now.tzinfo else now,
        trailer=["", config.application_reference or "", "", "1" if config.acknowledgement_request else "", "",
                 "1" if config.test_indicator else ""],
    )
    identifier = ["ORDERS", config.message_version, config.message_release, "UN", config.association_code or ""]
    body = list(_body(order, config, text, zone))
    if issues is None:
        for warning in warnings:
            _log.warning("order %s: %s: %s", order.order_id, warning.location.field, warning.message)
    return write_interchange(envelope, [Message("1", identifier, body)], decimal=config.decimal_mark, newline=config.newline)


def _body(order: Order, config: OrdersConfig, text: _Text, zone: dt.tzinfo) -> Iterator[SegmentSpec]:
    yield "BGM", [config.document_code, text.id(order.order_id, "order_id"), config.message_function]
    yield "DTM", [["137", order.ordered_at.astimezone(zone).strftime("%Y%m%d%H%M"), "203"]]
    customer = text.id(order.customer_id, "customer_id")
    buyer_agency = "9" if _is_gln(customer) else config.customer_id_agency
    yield "NAD", ["BY", [customer, "", buyer_agency], *_address(order.billing_address, "billing_address", text)]
    if config.supplier_id:
        yield "NAD", ["SU", [config.supplier_id, "", "9" if _is_gln(config.supplier_id) else "92"]]
    shipping = _address(order.shipping_address, "shipping_address", text)
    if any(shipping):
        yield "NAD", ["DP", "", *shipping]
    yield "CUX", [["2", order.currency, "9"]]
    for index, line in enumerate(order.lines):
        yield from _line(line, f"lines[{index}]", config, text)
    yield "UNS", ["S"]
    totals = order.totals
    yield "MOA", [[config.net_qualifier, text.number(totals.net, 18, "totals.net")]]
    if totals.tax is not None:
        yield "MOA", [[config.tax_qualifier, text.number(totals.tax, 18, "totals.tax")]]
    yield "MOA", [[config.gross_qualifier, text.number(totals.gross, 18, "totals.gross")]]
    yield "CNT", [["2", str(len(order.lines))]]


def _line(line: OrderLine, where: str, config: OrdersConfig, text: _Text) -> Iterator[SegmentSpec]:
    number = str(line.line_no)
    if len(number) > 6:  # LIN 1082 is n..6
        raise text.too_long(f"{where}.line_no", number, 6)
    yield ("LIN", [number, "", [line.gtin, config.gtin_type]]) if line.gtin else ("LIN", [number])
    if line.sku is not None:
        yield "PIA", ["1" if line.gtin else "5", [text.id(line.sku, f"{where}.sku"), config.sku_type]]
    if config.descriptions and line.description:
        parts = text.parts(line.description, 35, 2 * 99, f"{where}.description")
        for start in range(0, len(parts), 2):
            yield "IMD", ["F", "", ["", "", "", *parts[start : start + 2]]]
    unit = config.unit_codes.get(line.unit, line.unit)
    yield "QTY", [[config.quantity_qualifier, text.number(line.quantity, 15, f"{where}.quantity"), unit]]
    yield "PRI", [[config.price_qualifier, text.number(line.unit_price, 15, f"{where}.unit_price")]]


def _address(address: Address | None, where: str, text: _Text) -> list[str | list[str]]:
    """NAD after C082: C058 (not used), C080 name, C059 street, 3164 city, 3229, 3251 postcode, 3207."""
    if address is None:
        return []
    def part(value: str | None, width: int, count: int, name: str) -> list[str]:
        return text.parts(value, width, count, f"{where}.{name}") if value else []
    city = part(address.city, 35, 1, "city")
    postcode = part(address.postal_code, 9, 1, "postal_code")
    return ["", part(address.name, 35, 5, "name"), part(address.street, 35, 4, "street"),
            city[0] if city else "", "", postcode[0] if postcode else "", address.country or ""]


def _is_gln(value: str) -> bool:
    try:
        return len(value) == 13 and bool(Gtin().scalar(value))
    except KindError:
        return False


class _Text:
    """Checks and shapes values for the interchange's charset and element lengths."""

    _BREAKS = re.compile(r"[\t\r\n]+")
    _CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

    def __init__(self, config: OrdersConfig, issues: list[Issue]) -> None:
        self.codec = CODECS[config.charset]
        self.charset = config.charset
        self.mark = config.decimal_mark
        self.truncate = config.overflow == "truncate"
        self.issues = issues

    def id(self, value: str, field: str) -> str:
        """An identifier: checked, never cut (an..35)."""
        self._check(value, field)
        if len(value) > 35:
            raise self.too_long(field, value, 35)
        return value

    def parts(self, value: str, width: int, count: int, field: str) -> list[str]:
        """Free text in at most ``count`` parts of ``width`` characters (line breaks -> spaces)."""
        value = self._BREAKS.sub(" ", value)
        self._check(value, field)
        parts = [value[i : i + width] for i in range(0, len(value), width)]
        if len(parts) > count:
            if not self.truncate:
                raise self.too_long(field, value, width * count)
            self.issues.append(Issue(code="edifact-truncated", severity="warning", location=Location(field=field), value=value,
                                     message=f"cut to the {width * count} characters EDIFACT has room for"))
            parts = parts[:count]
        return parts

    def number(self, value: Decimal, digits: int, field: str) -> str:
        """A decimal in plain notation; its digits (sign and mark not counted) must fit n..digits."""
        plain = format_decimal(value)
        if sum(c.isdigit() for c in plain) > digits:
            raise self.too_long(field, plain, digits)
        return plain.replace(".", self.mark)

    def too_long(self, field: str, value: str, limit: int) -> InputRejected:
        return InputRejected(Issue(code="edifact-too-long", location=Location(field=field), value=value,
                                   message=f"longer than the {limit} characters its EDIFACT element holds"))

    def _check(self, value: str, field: str) -> None:
        for char in value:
            if self._CONTROL.match(char) or not _encodable(char, self.codec):
                raise InputRejected(Issue(code="edifact-charset", location=Location(field=field), value=value,
                                          message=f"{char!r} (U+{ord(char):04X}) cannot be written in {self.charset}"))


def _encodable(char: str, codec: str) -> bool:
    try:
        char.encode(codec)
    except UnicodeEncodeError:
        return False
    return True
