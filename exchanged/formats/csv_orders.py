r"""An order as the ERP's own CSV import, in a layout configured in TOML (``csv_order_layout``).

>>> from exchanged.formats.csv_order_layout import parse_csv_order_layout
>>> layout = parse_csv_order_layout('''
... decimal = ","
... newline = "\\n"
... columns = [
...   { name = "Belegnr", value = "order_id" },
...   { name = "Menge", value = "lines.quantity" },
...   { name = "ME", value = "lines.unit", map = { C62 = "Stk" } },
...   { name = "Preis", value = "lines.unit_price", min_decimals = 2 },
... ]''')
>>> order = Order.model_validate({
...     "order_id": "SO-1", "customer_id": "C-7", "ordered_at": "2026-03-01T09:30:00+01:00",
...     "currency": "EUR", "lines": [{"sku": "A-1", "quantity": "1.5", "unit_price": "9.9"}],
...     "totals": {"net": "14.85", "gross": "14.85"}})
>>> print(write_csv_order(order, layout, dt.datetime(2026, 3, 1, tzinfo=dt.UTC)).decode())
Belegnr;Menge;ME;Preis
SO-1;1,5;Stk;9,90
<BLANKLINE>

Cells are quoted by the stdlib ``csv`` module (a value holding the delimiter, the quote character,
CR or LF is enclosed in quotes, quotes inside doubled); decimals are exact (``format_decimal``, then
the decimal mark), never through a float. An order is written whole or not at all: a character the
layout's encoding cannot hold is an ``InputRejected`` with the code ``csv-unencodable`` and the field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo
from decimal import Decimal
from typing import Any

from exchanged.errors import InputRejected
from exchanged.formats.csv_order_layout import (
    LINE_FIELDS,
    ORDER_FIELDS,
    RECORD_TYPE,
    CsvColumn,
    CsvOrderLayout,
    CsvRecord,
    load_csv_order_layout,
    parse_csv_order_layout,
)
from exchanged.records.order import Order, OrderLine
from exchanged.records.types import format_decimal
from exchanged.report import Issue, Location

__all__ = ["CsvColumn", "CsvOrderLayout", "CsvRecord", "load_csv_order_layout", "parse_csv_order_layout",
           "write_csv_order"]

# Rows are written with this terminator so that the csv module quotes a value holding CR or LF whatever
# the layout's newline; each row's terminator is then replaced by the layout's.
_QUOTING_TERMINATOR = "\r\n"


def write_csv_order(order: Order, layout: CsvOrderLayout, now: dt.datetime) -> bytes:
    """``order`` in ``layout``, encoded in the layout's encoding; ``now`` is the ``generated_at`` field.

    Raises ``InputRejected`` (``csv-unencodable``, naming the field) for a character the encoding
    cannot hold.
    """
    zone = zoneinfo.ZoneInfo(layout.timezone)
    now = now.astimezone(zone) if now.tzinfo else now.replace(tzinfo=zone)
    rows: list[list[str]] = []
    if layout.layout == "lines":
        columns = layout.columns or []
        if layout.writes_header:
            rows.append([column.name for column in columns])
        for index, line in enumerate(order.lines):
            rows.append(_row(columns, order, (index, line), now, layout, zone, record_type=None))
    else:
        head, per_line = layout.header_record, layout.line_record
        assert head is not None and per_line is not None  # the layout's validation guarantees them
        rows.append(_row(head.columns, order, None, now, layout, zone, record_type=head.record_type))
        for index, line in enumerate(order.lines):
            rows.append(_row(per_line.columns, order, (index, line), now, layout, zone, record_type=per_line.record_type))
    return _join(rows, layout).encode(layout.encoding)


def _row(columns: list[CsvColumn], order: Order, numbered: tuple[int, OrderLine] | None, now: dt.datetime,
         layout: CsvOrderLayout, zone: dt.tzinfo, *, record_type: str | None) -> list[str]:
    cells = []
    for column in columns:
        if column.const is not None:
            cells.append(column.const)
            continue
        name = column.value or ""
        if name == RECORD_TYPE:
            cells.append(record_type or "")
            continue
        line = numbered[1] if numbered else None
        source = LINE_FIELDS.get(name) or ORDER_FIELDS[name]
        text = _render(source.read(order, line, now), source.kind, column, layout, zone)
        where = f"lines[{numbered[0]}].{name.removeprefix('lines.')}" if numbered and name in LINE_FIELDS else name
        cells.append(_encodable(text, layout.encoding, where))
    return cells


def _render(raw: Any, kind: str, column: CsvColumn, layout: CsvOrderLayout, zone: dt.tzinfo) -> str:
    if raw is None:
        text = ""
    elif kind == "time":
        local = raw.astimezone(zone)
        time_format = column.format or layout.timestamp_format
        text = local.strftime(time_format) if time_format else local.isoformat()
    elif kind == "date":
        text = raw.astimezone(zone).date().strftime(column.format or layout.date_format)
    elif kind == "decimal":
        text = _decimal_text(raw, column.min_decimals, layout.decimal)
    else:
        text = str(raw)
    return column.map.get(text, text)


def _decimal_text(value: Decimal, min_decimals: int | None, mark: str) -> str:
    """Exact plain notation (``format_decimal``), padded to ``min_decimals`` (never rounded), with ``mark``."""
    text = format_decimal(value)
    whole, _, fraction = text.partition(".")
    if min_decimals:
        fraction = fraction.ljust(min_decimals, "0")
    return f"{whole}{mark}{fraction}" if fraction else whole


def _encodable(text: str, encoding: str, where: str) -> str:
    try:
        text.encode(encoding)
    except UnicodeEncodeError as exc:
        char = text[exc.start]
        raise InputRejected(Issue(code="csv-unencodable", location=Location(field=where), value=text,
                                  message=f"{char!r} (U+{ord(char):04X}) cannot be written in {encoding}")) from None
    return text


def _join(rows: list[list[str]], layout: CsvOrderLayout) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=layout.delimiter, quotechar=layout.quotechar, doublequote=True,
                        lineterminator=_QUOTING_TERMINATOR,
                        quoting=csv.QUOTE_ALL if layout.quoting == "all" else csv.QUOTE_MINIMAL)
    out = []
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        out.append(buffer.getvalue().removesuffix(_QUOTING_TERMINATOR) + layout.newline)
    return "".join(out)
