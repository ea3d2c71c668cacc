"""The ERP's CSV order import, described in a TOML file instead of code: the layout model and its loading.

Two shapes. ``layout = "lines"`` writes one row per order line, the order's own fields repeated on
each row (the most common ERP import); ``columns`` lists the row's columns in order::

    layout = "lines"
    delimiter = ";"
    decimal = ","
    encoding = "cp1252"
    columns = [
      { name = "Mandant", const = "01" },
      { name = "Belegnr", value = "order_id" },
      { name = "Menge", value = "lines.quantity" },
      { name = "ME", value = "lines.unit", map = { C62 = "Stk" } },
    ]

``layout = "records"`` writes a header record, then one record per line (the classic SAP/Sage
import); each record type has its own columns, and the column ``value = "record_type"`` tells them
apart (``H``/``P``: ``[header_record] record_type = "H"``, ``[line_record] record_type = "P"``).

The layout is validated when it is loaded: unknown keys and field names, a line field in the header
record, a ``format`` on a field that is not a time, text the encoding cannot hold, and more;
``load_csv_order_layout`` reports each problem with the file, line and key. Writing is
``exchanged.formats.csv_orders.write_csv_order``.
"""

from __future__ import annotations

import codecs
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from exchanged.mapping.loader import display_path, find_line, key_lines
from exchanged.mapping.spec import format_key
from exchanged.records.order import Order, OrderLine
from exchanged.toml_file import Key, KeyProblems, read_toml_text, validate_toml
from exchanged.zones import ZoneName

__all__ = ["CsvColumn", "CsvOrderLayout", "CsvRecord", "FieldSource", "LINE_FIELDS", "ORDER_FIELDS",
           "RECORD_TYPE", "load_csv_order_layout", "parse_csv_order_layout"]

# --- the fields a column can read -------------------------------------------------------------------

FieldKind = Literal["text", "decimal", "time", "date", "integer"]


@dataclass(frozen=True)
class FieldSource:
    """What a field is (how it is rendered) and how it is read from the order, ``now`` and the line."""

    kind: FieldKind
    read: Callable[[Order, OrderLine | None, dt.datetime], Any]


def _order(read: Callable[[Order], Any], kind: FieldKind = "text") -> FieldSource:
    return FieldSource(kind, lambda order, _line, _now: read(order))


def _line(read: Callable[[OrderLine], Any], kind: FieldKind = "text") -> FieldSource:
    return FieldSource(kind, lambda _order, line, _now: read(line) if line is not None else None)


_ADDRESS_PARTS = ("name", "street", "postal_code", "city", "country")
ORDER_FIELDS: dict[str, FieldSource] = {
    "order_id": _order(lambda o: o.order_id),
    "customer_id": _order(lambda o: o.customer_id),
    "ordered_at": _order(lambda o: o.ordered_at, "time"),
    "ordered_at.date": _order(lambda o: o.ordered_at, "date"),
    "currency": _order(lambda o: o.currency),
    "line_count": _order(lambda o: len(o.lines), "integer"),
    "generated_at": FieldSource("time", lambda _order, _line, now: now),
    "generated_at.date": FieldSource("date", lambda _order, _line, now: now),
    "totals.net": _order(lambda o: o.totals.net, "decimal"),
    "totals.tax": _order(lambda o: o.totals.tax, "decimal"),
    "totals.gross": _order(lambda o: o.totals.gross, "decimal"),
    **{f"{kind}.{part}": _order(lambda o, kind=kind, part=part: getattr(getattr(o, kind), part, None))
       for kind in ("billing_address", "shipping_address") for part in _ADDRESS_PARTS},
}
LINE_FIELDS: dict[str, FieldSource] = {
    "lines.line_no": _line(lambda line: line.line_no, "integer"),
    "lines.sku": _line(lambda line: line.sku),
    "lines.gtin": _line(lambda line: line.gtin),
    "lines.quantity": _line(lambda line: line.quantity, "decimal"),
    "lines.unit": _line(lambda line: line.unit),
    "lines.unit_price": _line(lambda line: line.unit_price, "decimal"),
    "lines.description": _line(lambda line: line.description),
    "lines.amount": _line(lambda line: line.amount, "decimal"),
}
RECORD_TYPE = "record_type"  # the pseudo-field holding the record's type in the "records" layout

# Bytes every ASCII-compatible encoding writes as ASCII: the delimiters, quotes, decimals and line ends.
_ASCII_SAMPLE = "Aa0 ;,\t|\"'.\r\n"





class CsvColumn(BaseModel):
    """One column: its name in the header row and where its cells come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="the column's name (the header row's text)")
    value: str | None = Field(None, description='an order field ("order_id", "totals.net", "billing_address.city", …), '
                                                'a line field ("lines.sku", "lines.amount", …), or "record_type"')
    const: str | None = Field(None, description='a fixed text instead of a field ("" for an always-empty column)')
    map: dict[str, str] = Field(default_factory=dict, description='replace values, e.g. { C62 = "Stk" }; others as they are')
    min_decimals: int | None = Field(None, ge=0, le=12, description="pad a decimal with zeros to this many decimals, never round")
    format: str | None = Field(None, description="strftime format of this time or date field, instead of the layout's "
                                                 "timestamp_format / date_format")

    @model_validator(mode="after")
    def _one_source(self) -> CsvColumn:
        if (self.value is None) == (self.const is None):
            raise ValueError(f"column {self.name!r} needs exactly one of value or const")
        return self


class CsvRecord(BaseModel):
    """One record type of the ``"records"`` layout: its type value and its columns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    record_type: str = Field(min_length=1, description='the value of the record-type column, e.g. "H" or "P"')
    columns: list[CsvColumn] = Field(min_length=1, description="the record's columns, in order")


class CsvOrderLayout(BaseModel):
    """An ERP's CSV import layout for orders (see the module docstring for the TOML form)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str | None = Field(None, description="free text for people: which ERP, which import")
    layout: Literal["lines", "records"] = Field("lines", description='"lines": one row per order line, the order\'s fields '
                                                "repeated; \"records\": a header record, then one record per line")
    delimiter: Literal[";", ",", "\t", "|"] = Field(";", description="the field delimiter")
    quotechar: str = Field('"', min_length=1, max_length=1, description="encloses a value holding the delimiter, the "
                                                                        "quote itself or a line break (doubled inside)")
    quoting: Literal["minimal", "all"] = Field("minimal", description='"minimal": quote only values that need it; '
                                                                      '"all": every value')
    decimal: Literal[".", ","] = Field(".", description="the decimal mark of decimal fields")
    encoding: str = Field("utf-8", description="an ASCII-compatible encoding: utf-8, utf-8-sig (with BOM), cp1252, iso-8859-1, …")
    newline: Literal["\r\n", "\n"] = Field("\r\n", description="the line end after each row (most ERP imports are Windows)")
    header: bool | None = Field(None, description='write a header row of the column names; default: true for "lines"; '
                                                  '"records" has none')
    timezone: ZoneName = Field("UTC", description="IANA zone in which times and dates are written")
    timestamp_format: str | None = Field(None, description="strftime format of time fields (ordered_at, generated_at); "
                                                           "unset: ISO 8601 with offset")
    date_format: str = Field("%Y-%m-%d", description="strftime format of date fields (ordered_at.date, generated_at.date)")
    columns: list[CsvColumn] | None = Field(None, description='the row\'s columns, in order ("lines" layout)')
    header_record: CsvRecord | None = Field(None, description='the order\'s record ("records" layout): order fields only')
    line_record: CsvRecord | None = Field(None, description='the record written per order line ("records" layout)')

    @field_validator("encoding")
    @classmethod
    def _ascii_compatible(cls, name: str) -> str:
        try:
            with_bom = codecs.lookup(name).name == "utf-8-sig"
        except LookupError:
            raise ValueError(f"unknown encoding {name!r}") from None
        try:
            encoded = _ASCII_SAMPLE.encode(name).removeprefix(codecs.BOM_UTF8 if with_bom else b"")
        except (LookupError, UnicodeError):
            encoded = b""  # a bytes-to-bytes codec (base64, rot13) or one without these characters
        if encoded != _ASCII_SAMPLE.encode("ascii"):
            raise ValueError(f"{name!r} is not an ASCII-compatible text encoding (use utf-8, utf-8-sig, cp1252, iso-8859-1, …)")
        return name


    @model_validator(mode="after")
    def _consistent(self) -> CsvOrderLayout:
        problems = list(_check_layout(self))
        if problems:
            raise KeyProblems(problems)
        return self

    @property
    def writes_header(self) -> bool:
        """Whether a header row of column names comes first (never in the "records" layout)."""
        return self.layout == "lines" and self.header is not False

    def column_lists(self) -> list[tuple[Key, list[CsvColumn]]]:
        """The column lists with their TOML keys: ``columns``, or the two records' columns."""
        if self.layout == "lines":
            return [(("columns",), self.columns or [])]
        found: list[tuple[Key, list[CsvColumn]]] = []
        for name in ("header_record", "line_record"):
            record = getattr(self, name)
            if record is not None:
                found.append(((name, "columns"), record.columns))
        return found


# --- validation across keys ----------------------------------------------------------------------------


def _check_layout(layout: CsvOrderLayout) -> Iterator[tuple[Key, str]]:
    """Which keys the layout shape needs, field names in their context, and text the encoding cannot hold."""
    if layout.quotechar in (layout.delimiter, "\r", "\n"):
        yield ("quotechar",), f"{layout.quotechar!r} cannot quote: it is the delimiter or a line break"
    if layout.decimal == layout.delimiter:
        yield ("decimal",), f"decimal {layout.decimal!r} is also the delimiter: every decimal would need quotes"
    if layout.layout == "lines":
        if layout.columns is None:
            yield ("columns",), 'required for layout = "lines"'
        for name in ("header_record", "line_record"):
            if getattr(layout, name) is not None:
                yield (name,), 'is for layout = "records"; layout = "lines" uses columns'
    else:
        if layout.columns is not None:
            yield ("columns",), 'is for layout = "lines"; layout = "records" uses header_record.columns and line_record.columns'
        if layout.header:
            yield ("header",), 'layout = "records" has no header row: its records have different columns'
        for name in ("header_record", "line_record"):
            if getattr(layout, name) is None:
                yield (name,), 'required for layout = "records"'
        yield from _check_record_types(layout)
    for key, columns in layout.column_lists():
        yield from _check_columns(layout, key, columns)


def _check_record_types(layout: CsvOrderLayout) -> Iterator[tuple[Key, str]]:
    head, line = layout.header_record, layout.line_record
    if head is None or line is None:
        return
    if head.record_type == line.record_type:
        yield ("line_record", "record_type"), f"{line.record_type!r} is also the header record's type"
    positions = {}
    for name, record in (("header_record", head), ("line_record", line)):
        found = [n for n, column in enumerate(record.columns) if column.value == RECORD_TYPE]
        if len(found) != 1:
            yield (name, "columns"), f'needs exactly one column with value = "record_type" (has {len(found)})'
        else:
            positions[name] = found[0]
        yield from _unencodable(layout, (name, "record_type"), record.record_type)
    if len(positions) == 2 and positions["header_record"] != positions["line_record"]:
        yield (("line_record", "columns", positions["line_record"], "value"),
               f"the record type is column {positions['line_record'] + 1} here but column "
               f"{positions['header_record'] + 1} in the header record: the ERP tells records apart by one column")


def _check_columns(layout: CsvOrderLayout, key: Key, columns: list[CsvColumn]) -> Iterator[tuple[Key, str]]:
    in_header = key[0] == "header_record"
    known = dict(ORDER_FIELDS) if in_header else {**ORDER_FIELDS, **LINE_FIELDS}
    if layout.layout == "records":
        known[RECORD_TYPE] = FieldSource("text", lambda *_: None)
    names: dict[str, int] = {}
    for number, column in enumerate(columns):
        at: Key = (*key, number)
        source = known.get(column.value) if column.value is not None else None
        if column.value is not None and source is None:
            if in_header and column.value in LINE_FIELDS:
                message = "a line field in the header record: put it in line_record.columns"
            elif column.value == RECORD_TYPE:
                message = 'record_type is for layout = "records"'
            else:
                message = f"unknown field {column.value!r} (known: {', '.join(known)})"
            yield (*at, "value"), f"column {column.name!r}: {message}"
        if column.format is not None and (source is None or source.kind not in ("time", "date")):
            yield (*at, "format"), f"column {column.name!r}: format applies to time and date fields only"
        if column.min_decimals is not None and (source is None or source.kind != "decimal"):
            yield (*at, "min_decimals"), f"column {column.name!r}: min_decimals applies to decimal fields only"
        if layout.writes_header:
            if column.name in names:
                yield (*at, "name"), f"{column.name!r} is also the name of column {names[column.name] + 1}"
            names.setdefault(column.name, number)
            yield from _unencodable(layout, (*at, "name"), column.name)
        if column.const is not None:
            yield from _unencodable(layout, (*at, "const"), column.const)
        for original, replacement in column.map.items():
            yield from _unencodable(layout, (*at, "map", original), replacement)
    line_record = key[0] == "line_record" or layout.layout == "lines"
    if not columns:
        yield key, "needs at least one column"
    elif line_record and not any(column.value in LINE_FIELDS for column in columns):
        yield key, "names no line field (lines.sku, lines.quantity, …): each order line's row would say nothing about it"


def _unencodable(layout: CsvOrderLayout, key: Key, text: str) -> Iterator[tuple[Key, str]]:
    try:
        text.encode(layout.encoding)
    except UnicodeEncodeError as exc:
        yield key, f"{text[exc.start]!r} cannot be written in {layout.encoding}"


# --- loading from TOML --------------------------------------------------------------------------------


def load_csv_order_layout(path: Path) -> CsvOrderLayout:
    """Read and validate a layout file; raise ``MappingError`` naming the file, line and key."""
    shown = display_path(path)
    return parse_csv_order_layout(read_toml_text(path, shown), shown)


def parse_csv_order_layout(text: str, shown: str = "<layout>") -> CsvOrderLayout:
    """Validate a layout given as TOML text; ``shown`` names it in messages."""
    return validate_toml(text, shown, CsvOrderLayout, line_of=lambda key: _line_of(text, key), show_key=show_key)


def show_key(key: Key) -> str:
    """``('line_record', 'columns', 2, 'value')`` -> ``line_record.columns[2].value`` (odd keys quoted)."""
    out, run = "", []
    for part in (*key, None):
        if isinstance(part, str):
            run.append(part)
            continue
        if run:
            out += ("." if out else "") + format_key(tuple(run))
            run = []
        if isinstance(part, int):
            out += f"[{part}]"
    return out


# --- finding a key's line --------------------------------------------------------------------------------


def _line_of(text: str, key: Key) -> int | None:
    """The line of ``key``, whose integers index arrays: ``[[columns]]`` tables or ``columns = [{…}, …]``."""
    lines = key_lines(text)
    if not any(isinstance(part, int) for part in key):
        return find_line(lines, key)
    split = next(n for n, part in enumerate(key) if isinstance(part, int))
    array, index, rest = key[:split], key[split], key[split + 1:]
    source = text.splitlines()
    headers = [n for n, (path, number) in enumerate(lines) if source[number - 1].lstrip().startswith("[")]
    tables = [n for n in headers if lines[n][0] == array and source[lines[n][1] - 1].lstrip().startswith("[[")]
    assert isinstance(index, int)
    if tables:  # [[columns]] ... : the index-th table, then the key inside it
        if index >= len(tables):
            return lines[tables[-1]][1]
        start = tables[index]
        end = next((n for n in headers if n > start), len(lines))
        inside = [(path[len(array):], number) for path, number in lines[start:end]]
        return find_line(inside, tuple(part for part in rest if isinstance(part, str))) or lines[start][1]
    assigned = find_line(lines, array)
    if assigned is None:
        return None
    return _inline_table_line(text, assigned, index) or assigned


def _inline_table_line(text: str, line: int, index: int) -> int | None:
    """The line where the ``index``-th inline table of the array assigned on ``line`` starts."""
    offset = sum(len(part) for part in text.splitlines(keepends=True)[: line - 1])
    offset = text.index("=", offset) + 1
    depth, count, quote, position = 0, -1, "", offset
    while position < len(text):
        char = text[position]
        if quote:
            if char == "\\" and quote == '"':
                position += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            position = text.find("\n", position)
            if position < 0:
                return None
        elif char in "[{":
            if char == "{" and depth == 1:
                count += 1
                if count == index:
                    return text.count("\n", 0, position) + 1
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth <= 0:
                return None
        position += 1
    return None
