"""``write_csv_order``: an order in the ERP's CSV import layout configured in TOML; examples, quoting,
decimals, encodings, located layout errors, and a round trip through the project's CSV reader."""

from __future__ import annotations

import codecs
import datetime as dt
import textwrap
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from exchanged.errors import InputRejected, MappingError
from exchanged.formats.csv import CsvOptions, read_csv
from exchanged.formats.csv_order_layout import LINE_FIELDS, ORDER_FIELDS
from exchanged.formats.csv_orders import (
    CsvOrderLayout,
    load_csv_order_layout,
    parse_csv_order_layout,
    write_csv_order,
)
from exchanged.records.order import Order
from tests.golden_files import matches_golden_in
from tests.order_strategies import orders_of

GOLDEN = Path(__file__).parent / "golden_csv_orders"
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
NOW = dt.datetime(2026, 3, 1, 10, 5, tzinfo=dt.UTC)


def order_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "order_id": "SO-2026-0042", "customer_id": "K-10077", "ordered_at": "2026-03-01T09:30:00+01:00", "currency": "EUR",
        "billing_address": {"name": "Müller & Söhne GmbH", "street": "Hauptstraße 1", "postal_code": "10115",
                            "city": "Berlin", "country": "DE"},
        "shipping_address": {"name": 'Lager "Tor 3"; Rampe', "city": "Hamburg", "country": "DE"},
        "lines": [
            {"sku": "A-100", "gtin": "4006381333931", "quantity": "2", "unit_price": "9.95",
             "description": 'Kaffeebecher "Classic"; 0,3l'},
            {"sku": "B-200", "quantity": "1.5", "unit": "KGM", "unit_price": "12.40",
             "description": "Käse: Gouda\r\nmittelalt, 50% Fett, 3 € Pfand"},
            {"gtin": "4000417025005", "quantity": "12", "unit_price": "0.79"},
        ],
        "totals": {"net": "47.98", "tax": "9.12", "gross": "57.10"},
    }
    data.update(changes)
    return data


matches_golden = partial(matches_golden_in, GOLDEN)


def layout(text: str) -> CsvOrderLayout:
    return parse_csv_order_layout(textwrap.dedent(text), "test.toml")


def write(data: dict[str, Any] | None = None, the_layout: CsvOrderLayout | str = "erp-order-lines.csv.toml") -> bytes:
    if isinstance(the_layout, str):
        the_layout = load_csv_order_layout(EXAMPLES / the_layout)
    return write_csv_order(Order.model_validate(data or order_data()), the_layout, NOW)


# --- the example layouts -----------------------------------------------------------------------------


def test_lines_example_golden() -> None:
    data = write()
    assert matches_golden("erp-order-lines.csv", data)
    text = data.decode("cp1252")
    assert text.split("\r\n")[1] == ('01;SO-2026-0042;01.03.2026;01.03.2026 09:30;K-10077;EUR;1;A-100;4006381333931;'
                                     '"Kaffeebecher ""Classic""; 0,3l";2;Stk;9,95;19,90;"Lager ""Tor 3""; Rampe";;;'
                                     'Hamburg;DE;47,98;57,10')
    assert b'"K\xe4se: Gouda\r\nmittelalt, 50% Fett, 3 \x80 Pfand";1,5;kg;12,40;18,60;' in data  # cp1252 bytes
    assert data.endswith(b";3;;4000417025005;;12;Stk;0,79;9,48;\"Lager \"\"Tor 3\"\"; Rampe\";;;Hamburg;DE;47,98;57,10\r\n")
    source = read_csv(data, CsvOptions(encoding="cp1252", delimiter=";"))
    assert source.issues == []
    rows_read = source.table.to_pylist()
    assert [row["Pos"] for row in rows_read] == ["1", "2", "3"]
    assert rows_read[1]["Bezeichnung"] == "Käse: Gouda\r\nmittelalt, 50% Fett, 3 € Pfand"
    assert {row["Belegnr"] for row in rows_read} == {"SO-2026-0042"}  # the order's fields on every row
    assert [row["Artikelnr"] for row in rows_read] == ["A-100", "B-200", None]


def test_records_example_golden() -> None:
    data = write(the_layout="erp-order-records.csv.toml")
    assert matches_golden("erp-order-records.csv", data)
    assert data.startswith(codecs.BOM_UTF8 + b"H;SO-2026-0042;20260301;K-10077;EUR;3;47.98;9.12;57.10;")
    rows = data.removeprefix(codecs.BOM_UTF8).decode("utf-8").split("\r\n")
    assert rows[0].endswith(";Müller & Söhne GmbH;Hauptstraße 1;10115;Berlin;DE")
    assert rows[1] == 'P;SO-2026-0042;1;A-100;4006381333931;2;PCE;9.95;19.90;"Kaffeebecher ""Classic""; 0,3l"'
    assert rows[2] == 'P;SO-2026-0042;2;B-200;;1.5;KGM;12.40;18.60;"Käse: Gouda'
    assert rows[4] == "P;SO-2026-0042;3;;4000417025005;12;PCE;0.79;9.48;" and rows[5] == "" and data.count(codecs.BOM_UTF8) == 1
    no_tax = write(order_data(totals={"net": "47.98", "gross": "47.98"}), "erp-order-records.csv.toml")
    assert b"H;SO-2026-0042;20260301;K-10077;EUR;3;47.98;0.00;47.98;" in no_tax  # map = { "" = "0.00" }


# --- quoting, decimals, times, encodings ----------------------------------------------------------------

SMALL = """
    delimiter = "{delimiter}"
    quoting = "{quoting}"
    newline = "\\n"
    columns = [{{ name = "Nr", value = "order_id" }}, {{ name = "Text", value = "lines.description" }},
               {{ name = "Menge", value = "lines.quantity" }}]
"""


@pytest.mark.parametrize(
    ("delimiter", "quoting", "expected"),
    [
        (",", "minimal", 'Nr,Text,Menge\nSO-1,"a,b;c",2\nSO-1,"say ""hi""",1\nSO-1,"two\nlines",1\nSO-1,"cr\ronly",1\nSO-1,,1\n'),
        (";", "minimal", 'Nr;Text;Menge\nSO-1;"a,b;c";2\nSO-1;"say ""hi""";1\nSO-1;"two\nlines";1\nSO-1;"cr\ronly";1\nSO-1;;1\n'),
        ("|", "all", '"Nr"|"Text"|"Menge"\n"SO-1"|"a,b;c"|"2"\n"SO-1"|"say ""hi"""|"1"\n"SO-1"|"two\nlines"|"1"\n'
                     '"SO-1"|"cr\ronly"|"1"\n"SO-1"|""|"1"\n'),
    ],
)
def test_quoting_of_delimiters_quotes_and_line_breaks(delimiter: str, quoting: str, expected: str) -> None:
    the_layout = layout(SMALL.format(delimiter=delimiter, quoting=quoting))
    texts = ["a,b;c", 'say "hi"', "two\nlines", "cr\ronly", None]  # "cr\ronly": a CR alone, while the newline is LF
    lines = [{"sku": f"S{n}", "quantity": "2" if n == 0 else "1", "unit_price": "0", "description": text}
             for n, text in enumerate(texts)]
    data = write(order_data(order_id="SO-1", lines=lines, totals={"net": "0", "gross": "0"}), the_layout)
    assert data.decode("utf-8") == expected
    source = read_csv(data, CsvOptions(delimiter=delimiter))
    assert source.issues == []
    assert source.table.column("Text").to_pylist() == texts


def test_single_quote_as_quotechar() -> None:
    the_layout = layout('delimiter = "|"\nquotechar = "\'"\nheader = false\nnewline = "\\n"\n'
                        'columns = [{ name = "Text", value = "lines.description" }, { name = "Sku", value = "lines.sku" }]')
    lines = [{"sku": "A|1", "quantity": "1", "unit_price": "1", "description": "it's \"ok\""}]
    assert write(order_data(lines=lines, totals={"net": "1", "gross": "1"}), the_layout) == b"'it''s \"ok\"'|'A|1'\n"


def test_decimal_comma_padding_never_rounds() -> None:
    the_layout = layout("""
        decimal = ","
        newline = "\\n"
        header = false
        columns = [{ name = "Menge", value = "lines.quantity" }, { name = "Preis", value = "lines.unit_price", min_decimals = 2 },
                   { name = "Betrag", value = "lines.amount", min_decimals = 2 },
                   { name = "Netto", value = "totals.net", min_decimals = 4 }]
    """)
    lines = [{"sku": "A", "quantity": "0.125", "unit_price": "8", "description": "x"},
             {"sku": "B", "quantity": "3", "unit_price": "0.333333"},
             {"sku": "C", "quantity": "10", "unit_price": "1.50"}]
    data = write(order_data(lines=lines, totals={"net": "16.999999", "gross": "16.999999"}), the_layout)
    assert data == b"0,125;8,00;1,00;16,999999\n3;0,333333;0,999999;16,999999\n10;1,50;15,00;16,999999\n"


def test_times_dates_constants_and_maps() -> None:
    the_layout = layout("""
        timezone = "America/New_York"
        timestamp_format = "%Y%m%d%H%M"
        newline = "\\n"
        header = false
        columns = [
          { name = "Mandant", const = "01" }, { name = "Leer", const = "" },
          { name = "Zeit", value = "ordered_at" }, { name = "Tag", value = "ordered_at.date" },
          { name = "Erzeugt", value = "generated_at", format = "%H:%M %Z" },
          { name = "Erzeugt am", value = "generated_at.date", format = "%d/%m/%y" },
          { name = "Pos", value = "lines.line_no", map = { "1" = "first" } },
          { name = "ME", value = "lines.unit", map = { C62 = "Stk" } },
          { name = "Positionen", value = "line_count" }, { name = "Land", value = "billing_address.country" },
        ]
    """)
    data = write(order_data(lines=order_data()["lines"][:2], totals={"net": "38.5", "gross": "38.5"}), the_layout)
    assert data == (b"01;;202603010330;2026-03-01;05:05 EST;01/03/26;first;Stk;2;DE\n"
                    b"01;;202603010330;2026-03-01;05:05 EST;01/03/26;2;KGM;2;DE\n")


def test_iso_timestamps_by_default_and_a_naive_now_is_in_the_layout_zone() -> None:
    the_layout = layout("""
        timezone = "Europe/Berlin"
        header = false
        columns = [{ name = "T", value = "ordered_at" }, { name = "G", value = "generated_at" },
                   { name = "S", value = "lines.sku" }]
    """)
    order = Order.model_validate(order_data(lines=order_data()["lines"][:1], totals={"net": "19.9", "gross": "19.9"}))
    data = write_csv_order(order, the_layout, dt.datetime(2026, 7, 1, 12, 0))
    assert data == b"2026-03-01T09:30:00+01:00;2026-07-01T12:00:00+02:00;A-100\r\n"


def test_cp1252_umlauts_and_euro() -> None:
    the_layout = layout("""
        encoding = "cp1252"
        header = true
        columns = [{ name = "Straße", value = "billing_address.street" }, { name = "Text", value = "lines.description" }]
    """)
    data = write(order_data(lines=order_data()["lines"][1:2], totals={"net": "18.6", "gross": "18.6"}), the_layout)
    assert data == b'Stra\xdfe;Text\r\nHauptstra\xdfe 1;"K\xe4se: Gouda\r\nmittelalt, 50% Fett, 3 \x80 Pfand"\r\n'


@pytest.mark.parametrize(
    ("encoding", "changes", "field", "char"),
    [
        ("cp1252", {"lines": [{"sku": "A", "quantity": "1", "unit_price": "1"}, {"sku": "B", "quantity": "1",
                                                                                 "unit_price": "1", "description": "Győr"}]},
         "lines[1].description", "ő"),
        ("iso-8859-1", {"lines": [{"sku": "A", "quantity": "2", "unit_price": "1", "description": "3 €"}]},
         "lines[0].description", "€"),
        ("cp1252", {"billing_address": {"name": "東京商事"}}, "billing_address.name", "東"),
        ("ascii", {"order_id": "SO-ä"}, "order_id", "ä"),
    ],
)
def test_a_character_the_encoding_lacks_is_csv_unencodable(encoding: str, changes: dict[str, Any], field: str,
                                                            char: str) -> None:
    the_layout = layout(f"""
        encoding = "{encoding}"
        columns = [{{ name = "Nr", value = "order_id" }}, {{ name = "Name", value = "billing_address.name" }},
                   {{ name = "Text", value = "lines.description" }}]
    """)
    data = order_data(**changes)
    if "lines" in changes:
        data["totals"] = {"net": "2", "gross": "2"}
    with pytest.raises(InputRejected) as caught:
        write(data, the_layout)
    issue = caught.value.issue
    assert (issue.code, issue.location.field) == ("csv-unencodable", field)
    assert repr(char) in issue.message and encoding in issue.message


# --- validation with located messages ----------------------------------------------------------------

GOOD_LINES = """layout = "lines"
delimiter = ";"
columns = [
  { name = "Belegnr", value = "order_id" },
  { name = "Menge", value = "lines.quantity" },
"""
GOOD_RECORDS = """layout = "records"
[header_record]
record_type = "H"
columns = [
  { name = "Satzart", value = "record_type" },
  { name = "Belegnr", value = "order_id" },
]
[line_record]
record_type = "P"
columns = [
  { name = "Satzart", value = "record_type" },
  { name = "Menge", value = "lines.quantity" },
]
"""


@pytest.mark.parametrize(
    ("toml", "line", "expected"),
    [
        (GOOD_LINES + '  { name = "X", value = "skuu" },\n]\n', 6, "columns[2].value: column 'X': unknown field 'skuu'"),
        (GOOD_LINES + '  { name = "X", value = "sku" },\n]\n', 6, "unknown field 'sku' (known: order_id"),
        (GOOD_LINES + '  { name = "X", value = "record_type" },\n]\n', 6, 'record_type is for layout = "records"'),
        (GOOD_LINES + '  { name = "X", value = "currency", format = "%Y" },\n]\n', 6,
         "columns[2].format: column 'X': format applies to time and date fields only"),
        (GOOD_LINES + '  { name = "X", value = "lines.sku", min_decimals = 2 },\n]\n', 6,
         "columns[2].min_decimals: column 'X': min_decimals applies to decimal fields only"),
        (GOOD_LINES + '  { name = "X", value = "order_id", const = "1" },\n]\n', 6,
         "columns[2]: column 'X' needs exactly one of value or const"),
        (GOOD_LINES + '  { name = "X" },\n]\n', 6, "columns[2]: column 'X' needs exactly one of value or const"),
        (GOOD_LINES + '  { name = "X", valeu = "order_id" },\n]\n', 6, "columns[2].valeu: unknown key 'valeu'"),
        (GOOD_LINES + '  { name = "", const = "1" },\n]\n', 6, "columns[2].name: String should have at least 1 character"),
        (GOOD_LINES + '  { name = "Menge", const = "1" },\n]\n', 6, "columns[2].name: 'Menge' is also the name of column 2"),
        (GOOD_LINES + ']\nencoding = "cp1252"\n[[x]]\n', 8, "x: unknown key 'x'"),
        (GOOD_LINES.replace('"Menge"', '"Mengeő"') + ']\nencoding = "cp1252"\n', 5,
         "columns[1].name: 'ő' cannot be written in cp1252"),
        (GOOD_LINES + '  { name = "X", const = "ő" },\n]\nencoding = "cp1252"\n', 6, "columns[2].const: 'ő' cannot be written"),
        (GOOD_LINES + '  { name = "X", value = "lines.unit", map = { C62 = "ő" } },\n]\nencoding = "cp1252"\n', 6,
         "columns[2].map.C62: 'ő' cannot be written in cp1252"),
        (GOOD_LINES.replace('delimiter = ";"', 'delimiter = ":"') + "]\n", 2,
         "delimiter: Input should be ';', ',', '\\t' or '|'"),
        (GOOD_LINES.replace('delimiter = ";"', 'delimiter = ","\ndecimal = ","') + "]\n", 3,
         "decimal: decimal ',' is also the delimiter"),
        (GOOD_LINES.replace('delimiter = ";"', "quotechar = ';'") + "]\n", 2, "quotechar: ';' cannot quote"),
        (GOOD_LINES + ']\nencoding = "utf-16"\n', 7, "encoding: 'utf-16' is not an ASCII-compatible text encoding"),
        (GOOD_LINES + ']\nencoding = "klingon"\n', 7, "encoding: unknown encoding 'klingon'"),
        (GOOD_LINES + ']\ntimezone = "Mars/Olympus"\n', 7, "timezone: unknown time zone 'Mars/Olympus'"),
        ('layout = "lines"\n', None, 'columns: required for layout = "lines"'),
        ('layout = "lines"\ncolumns = [{ name = "A", value = "order_id" }]\n', 2,
         "columns: names no line field (lines.sku, lines.quantity, …)"),
        (GOOD_LINES + ']\n[line_record]\nrecord_type = "P"\ncolumns = [{ name = "S", value = "lines.sku" }]\n', 7,
         'line_record: is for layout = "records"'),
        (GOOD_RECORDS.replace('{ name = "Belegnr", value = "order_id" }', '{ name = "Menge", value = "lines.quantity" }'), 6,
         "header_record.columns[1].value: column 'Menge': a line field in the header record: put it in line_record.columns"),
        (GOOD_RECORDS.replace('record_type = "P"', 'record_type = "H"'), 9, "line_record.record_type: 'H' is also the header"),
        (GOOD_RECORDS.replace('{ name = "Satzart", value = "record_type" },\n  { name = "Menge"', '{ name = "Menge"'), 10,
         'line_record.columns: needs exactly one column with value = "record_type" (has 0)'),
        (GOOD_RECORDS.replace('{ name = "Satzart", value = "record_type" },\n  { name = "Menge", value = "lines.quantity" },',
                              '{ name = "Menge", value = "lines.quantity" },\n  { name = "Satzart", value = "record_type" },'),
         12, "line_record.columns[1].value: the record type is column 2 here but column 1 in the header record"),
        ('header = true\n' + GOOD_RECORDS, 1, 'header: layout = "records" has no header row'),
        ('columns = []\n' + GOOD_RECORDS, 1, 'columns: is for layout = "lines"'),
        ('columns = []\n', 1, "columns: needs at least one column"),
        (GOOD_RECORDS.split("[line_record]")[0], None, 'line_record: required for layout = "records"'),
        (GOOD_RECORDS.replace('{ name = "Menge", value = "lines.quantity" }', '{ name = "Menge", value = "currency" }'), 10,
         "line_record.columns: names no line field"),
    ],
)
def test_layout_errors_are_located(toml: str, line: int | None, expected: str) -> None:
    with pytest.raises(MappingError) as caught:
        parse_csv_order_layout(toml, "erp.toml")
    message = str(caught.value)
    assert expected in message
    assert message.startswith(f"erp.toml line {line}: " if line else "erp.toml: ")


def test_errors_in_arrays_of_tables_are_located_too() -> None:
    toml = textwrap.dedent("""\
        layout = "records"
        [header_record]
        record_type = "H"
        columns = [{ name = "Satzart", value = "record_type" }, { name = "Belegnr", value = "order_id" }]
        [line_record]
        record_type = "P"
        [[line_record.columns]]
        name = "Satzart"
        value = "record_type"
        [[line_record.columns]]
        name = "Menge"
        value = "lines.quantity"
        [[line_record.columns]]
        name = "Datum"
        # a comment
        value = "ordered_at.date"
        format = "%d.%m.%Y"
        min_decimals = 2
    """)
    with pytest.raises(MappingError) as caught:
        parse_csv_order_layout(toml, "erp.toml")
    assert str(caught.value) == ("erp.toml line 18: line_record.columns[2].min_decimals: column 'Datum': "
                                 "min_decimals applies to decimal fields only")
    assert parse_csv_order_layout(toml.replace("min_decimals = 2\n", "")).line_record.columns[2].format == "%d.%m.%Y"


def test_several_problems_are_reported_together() -> None:
    with pytest.raises(MappingError) as caught:
        parse_csv_order_layout(GOOD_LINES + '  { name = "X", value = "skuu" },\n  { name = "Y", value = "nope" },\n]\n',
                               "erp.toml")
    known = ", ".join([*ORDER_FIELDS, *LINE_FIELDS])
    assert str(caught.value).splitlines() == [
        f"erp.toml line 6: columns[2].value: column 'X': unknown field 'skuu' (known: {known})",
        f"erp.toml line 7: columns[3].value: column 'Y': unknown field 'nope' (known: {known})",
    ]


def test_invalid_toml_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"^erp.toml line 2: invalid TOML: .*\(column \d+\)$"):
        parse_csv_order_layout('layout = "lines"\ncolumns = \n', "erp.toml")
    with pytest.raises(MappingError, match="cannot read"):
        load_csv_order_layout(tmp_path / "missing.toml")
    (tmp_path / "latin1.toml").write_bytes(b'description = "\xc4"\n')
    with pytest.raises(MappingError, match="not UTF-8"):
        load_csv_order_layout(tmp_path / "latin1.toml")


def test_layout_validates_as_a_model_too() -> None:
    with pytest.raises(ValidationError, match="unknown field 'sku'"):
        CsvOrderLayout.model_validate({"columns": [{"name": "X", "value": "sku"}]})
    plain = CsvOrderLayout.model_validate({"columns": [{"name": "X", "value": "lines.sku"}]})
    assert (plain.delimiter, plain.decimal, plain.encoding, plain.newline) == (";", ".", "utf-8", "\r\n") and plain.writes_header
    assert all(field.get("description") for field in CsvOrderLayout.model_json_schema()["properties"].values())


# --- any order round-trips through the project's CSV reader ------------------------------------------------

_SPECIAL = [";", ",", "|", "\t", '"', "'", "\r", "\n", "\r\n", " ", "ÄÖÜäöüß", "€", "é", "東京", "😀"]
_CONTROL = "".join(map(chr, range(0x20))) + "\x7f"
_TIMES = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 1, 1), timezones=st.just(dt.UTC))


def _alphabet(encoding: str) -> st.SearchStrategy[str]:
    codec = {"cp1252": "cp1252", "iso-8859-1": "latin-1"}.get(encoding, "utf-8")
    letters = st.characters(codec=codec, exclude_characters=_CONTROL)
    if codec == "cp1252":
        letters = letters.filter(lambda c: c.encode("cp1252", errors="ignore") != b"")
    special = [s for s in _SPECIAL if all(c.encode(codec, errors="ignore") for c in s)]
    return st.one_of(letters, st.sampled_from(special))


def orders(encoding: str) -> st.SearchStrategy[Order]:
    """Random valid orders whose text is full of delimiters, quotes, line breaks and letters ``encoding`` holds."""
    text = st.lists(_alphabet(encoding), min_size=1, max_size=12).map("".join)
    ids = text.map(lambda s: "".join(c for c in s if c not in _CONTROL).strip()[:40]).filter(bool)
    return orders_of(text, ids, times=_TIMES, currencies=("EUR", "CHF", "JPY"), units=("C62", "KGM", "MTR"),
                     gtins=(None, "4006381333931"), optional_sku=True)


_ORDER_COLUMNS = [("Order", "order_id"), ("Customer", "customer_id"), ("At", "ordered_at"), ("Currency", "currency"),
                  ("Billing", "billing_address.name"), ("City", "billing_address.city"), ("Shipping", "shipping_address.name"),
                  ("Net", "totals.net"), ("Tax", "totals.tax"), ("Gross", "totals.gross")]
_LINE_COLUMNS = [("No", "lines.line_no"), ("Sku", "lines.sku"), ("Gtin", "lines.gtin"), ("Text", "lines.description"),
                 ("Unit", "lines.unit"), ("Qty", "lines.quantity"), ("Price", "lines.unit_price"), ("Amount", "lines.amount")]


@st.composite
def layouts(draw: st.DrawFn) -> CsvOrderLayout:
    """Every delimiter, quote character, decimal mark, encoding, line end and quoting; both shapes."""
    delimiter = draw(st.sampled_from([";", ",", "\t", "|"]))
    settings_ = {
        "delimiter": delimiter, "quotechar": draw(st.sampled_from(['"', "'"])),
        "decimal": draw(st.sampled_from([mark for mark in ".," if mark != delimiter])),
        "encoding": draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "iso-8859-1"])),
        "newline": draw(st.sampled_from(["\r\n", "\n"])), "quoting": draw(st.sampled_from(["minimal", "all"])),
        "timezone": draw(st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kolkata"])),
    }
    columns = lambda pairs: [{"name": name, "value": value} for name, value in pairs]  # noqa: E731
    if draw(st.booleans()):
        return CsvOrderLayout.model_validate({**settings_, "layout": "lines", "columns": columns(_ORDER_COLUMNS + _LINE_COLUMNS)})
    head = columns([("Type", "record_type"), *_ORDER_COLUMNS])
    line = [*columns([("Type", "record_type"), ("Order", "order_id"), *_LINE_COLUMNS]), {"name": "Spare", "const": ""}]
    return CsvOrderLayout.model_validate({**settings_, "layout": "records",
                                          "header_record": {"record_type": "H", "columns": head},
                                          "line_record": {"record_type": "P", "columns": line}})


def _decimal(text: str | None, mark: str) -> Decimal | None:
    return None if text is None else Decimal(text.replace(mark, "."))


def _order_fields(row: dict[str, str | None], mark: str) -> dict[str, Any]:
    return {"order_id": row["Order"], "customer_id": row["Customer"], "ordered_at": dt.datetime.fromisoformat(row["At"] or ""),
            "currency": row["Currency"], "billing": (row["Billing"], row["City"]), "shipping": row["Shipping"],
            "totals": tuple(_decimal(row[name], mark) for name in ("Net", "Tax", "Gross"))}


def _line_fields(row: dict[str, str | None], mark: str) -> dict[str, Any]:
    return {"line_no": int(row["No"] or 0), "sku": row["Sku"], "gtin": row["Gtin"], "description": row["Text"],
            "unit": row["Unit"], **{name: _decimal(row[column], mark) for name, column in
                                    (("quantity", "Qty"), ("unit_price", "Price"), ("amount", "Amount"))}}


def read_back(data: bytes, layout: CsvOrderLayout) -> dict[str, Any]:
    """The order's fields as the project's CSV reader finds them in ``data``."""
    options = {"encoding": layout.encoding, "delimiter": layout.delimiter, "quotechar": layout.quotechar}
    mark = layout.decimal
    if layout.layout == "lines":
        source = read_csv(data, CsvOptions(**options))
        assert source.issues == []
        rows = source.table.to_pylist()
        assert all(_order_fields(row, mark) == _order_fields(rows[0], mark) for row in rows)  # the order on every row
        return {"order": _order_fields(rows[0], mark), "lines": [_line_fields(row, mark) for row in rows]}
    assert layout.header_record is not None and layout.line_record is not None
    head_names, line_names = ([column.name for column in record.columns] for record in (layout.header_record, layout.line_record))
    numbered = tuple(f"c{n}" for n in range(len(head_names)))  # one width for both records: the reader checks it
    source = read_csv(data, CsvOptions(**options, header_line=0, column_names=numbered))
    assert source.issues == []
    rows = [list(row.values()) for row in source.table.to_pylist()]
    assert [row[0] for row in rows] == ["H"] + ["P"] * (len(rows) - 1)
    assert all(row[1] == rows[0][1] and row[-1] is None for row in rows[1:])  # order_id on every P; the spare column
    return {"order": _order_fields(dict(zip(head_names, rows[0])), mark),
            "lines": [_line_fields(dict(zip(line_names, row)), mark) for row in rows[1:]]}


def expected(order: Order) -> dict[str, Any]:
    assert order.billing_address is not None
    blank = lambda text: text or None  # noqa: E731 - CSV cannot tell an empty text from none
    return {
        "order": {"order_id": order.order_id, "customer_id": order.customer_id, "ordered_at": order.ordered_at,
                  "currency": order.currency, "billing": (blank(order.billing_address.name), blank(order.billing_address.city)),
                  "shipping": blank(order.shipping_address.name) if order.shipping_address else None,
                  "totals": (order.totals.net, order.totals.tax, order.totals.gross)},
        "lines": [{"line_no": line.line_no, "sku": line.sku, "gtin": line.gtin, "description": blank(line.description),
                   "unit": line.unit, "quantity": line.quantity, "unit_price": line.unit_price, "amount": line.amount}
                  for line in order.lines],
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=layouts().flatmap(lambda the_layout: orders(the_layout.encoding).map(lambda order: (the_layout, order))))
def test_any_order_round_trips_through_the_csv_reader(case: tuple[CsvOrderLayout, Order]) -> None:
    the_layout, order = case
    assert read_back(write_csv_order(order, the_layout, NOW), the_layout) == expected(order)
