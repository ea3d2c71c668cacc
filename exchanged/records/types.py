"""Shared record field types: pydantic annotated types built from the kinds in ``kinds.py``.

Each type carries its :class:`~exchanged.records.kinds.Kind` in the annotation metadata, so the
column validator (``exchanged.columns``) finds the very rule pydantic applies. Decimals serialise
to JSON as plain strings without trailing zeros, timestamps as UTC with ``Z``
(docs/architecture.md, "Canonical representation in JSON").
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

from exchanged.records import codes
from exchanged.records.kinds import (
    BooleanKind,
    CodeList,
    DateKind,
    DecimalKind,
    Gtin,
    Identifier,
    Kind,
    KindError,
    PatternKind,
    TextKind,
    TimestampKind,
)
from exchanged.records.line_number import LineNumberKind


def format_decimal(value: Decimal) -> str:
    """Plain notation without trailing zeros: Decimal('19.900') -> '19.9', Decimal('1E+1') -> '10'."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_timestamp(value: dt.datetime) -> str:
    """UTC ISO 8601 with ``Z`` (what pydantic gives for an aware UTC datetime)."""
    text = value.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat()
    return text + "Z"


def _validator(kind: Kind) -> BeforeValidator:
    def check(value: Any) -> Any:
        try:
            return kind.scalar(value)
        except KindError as exc:
            raise PydanticCustomError(exc.code, exc.message) from None

    return BeforeValidator(check)


def kind_of(metadata: list[Any]) -> Kind | None:
    """The Kind in a field's annotation metadata, if any."""
    for item in metadata:
        if isinstance(item, Kind):
            return item
    return None


def _decimal(kind: DecimalKind, description: str) -> Any:
    schema: dict[str, Any] = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "description": description}
    return Annotated[
        Decimal,
        _validator(kind),
        kind,
        PlainSerializer(format_decimal, return_type=str, when_used="json"),
        WithJsonSchema(schema),
    ]


def _text(kind: Kind, description: str, **schema: Any) -> Any:
    return Annotated[str, _validator(kind), kind, WithJsonSchema({"type": "string", "description": description, **schema})]


ID = Identifier()
ATTRIBUTE_VALUE = TextKind(max_length=1000)
Id = _text(ID, "an identifier: 1 to 64 printable characters, no blanks at the ends", maxLength=64)
Text = _text(TextKind(), "free text, at most 4000 characters", maxLength=4000)
Name = _text(TextKind(max_length=500), "a name, at most 500 characters", maxLength=500)
AttributeValue = _text(ATTRIBUTE_VALUE, "an attribute value, at most 1000 characters", maxLength=1000)
GtinCode = _text(Gtin(), "GS1 GTIN-8/12/13/14 with a valid check digit", pattern=r"^(\d{8}|\d{12,14})$")


def _code_list(codes_: frozenset[str], list_name: str, issue_code: str, description: str) -> Any:
    kind = CodeList(codes=codes_, list_name=list_name, issue_code=issue_code)
    return _text(kind, description)


CurrencyCode = _code_list(codes.currency_codes(), "ISO 4217 currency", "invalid-currency", "ISO 4217 currency code")
UnitCode = _code_list(codes.unit_codes(), "UN/ECE Rec. 20 unit", "invalid-unit", "UN/ECE Recommendation 20 unit code (C62 = one/piece)")
CountryCode = _code_list(codes.country_codes(), "ISO 3166-1 alpha-2 country", "invalid-country", "ISO 3166-1 alpha-2 country code")

Money = _decimal(DecimalKind(minimum=Decimal(0)), "amount >= 0, at most 6 decimal places")
Quantity = _decimal(DecimalKind(), "a quantity, at most 6 decimal places")
NonNegativeQuantity = _decimal(DecimalKind(minimum=Decimal(0)), "a quantity >= 0")
MinQuantity = _decimal(DecimalKind(minimum=Decimal(1)), "the least quantity a price applies to, >= 1")
Weight = _decimal(DecimalKind(minimum=Decimal(0)), "weight in kilograms, >= 0")
Percent = _decimal(DecimalKind(minimum=Decimal(0), maximum=Decimal(100)), "percent: 19 means 19 %")

Boolean = Annotated[bool, _validator(BooleanKind()), BooleanKind()]
Date = Annotated[dt.date, _validator(DateKind()), DateKind()]
Timestamp = Annotated[
    dt.datetime,
    _validator(TimestampKind()),
    TimestampKind(),
    PlainSerializer(format_timestamp, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "description": "ISO 8601 with time zone"}),
]

Email = _text(
    PatternKind(pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[A-Za-z]{2,}$", issue_code="invalid-email", description="an e-mail address"),
    "an e-mail address",
)
# EU VAT ids (VIES): a two-letter country prefix and 2 to 13 letters or digits.
VatId = _text(
    PatternKind(pattern=r"^[A-Z]{2}[0-9A-Z+*]{2,13}$", issue_code="invalid-vat-id", description="a VAT id (country prefix and 2 to 13 letters or digits, no blanks)"),
    "a VAT identification number such as DE123456789",
)

_LINE_NUMBER = LineNumberKind()
LineNumber = Annotated[
    int, _validator(_LINE_NUMBER), _LINE_NUMBER,
    WithJsonSchema({"type": "integer", "minimum": 0, "maximum": _LINE_NUMBER.maximum,
                    "description": "line number; 0 is the order as a whole"}),
]
