"""A mapping file that cannot work is refused on load, naming the file, the line and the key."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from exchanged.errors import MappingError, UsageError
from exchanged.mapping import FieldSpec, Mapping, load_mapping
from exchanged.mapping.loader import find_line, key_lines, parse_mapping

GOOD = """\
name = "acme"
[match]
filename = "ARTIKEL_*.csv"
columns = ["Artikelnr"]
[entity.product]
sku = "Artikelnr"
name = "Bezeichnung"
"""


def write(tmp_path: Path, text: str, name: str = "acme.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mappings").mkdir(exist_ok=True)
    path = write(tmp_path / "mappings", text)
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    assert isinstance(caught.value, UsageError)  # the CLI turns it into one line and exit code 2
    return str(caught.value)


def test_a_valid_mapping_loads_with_the_file_stem_as_default_name(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('name = "acme"\n', ""), "my-erp.toml")
    mapping = load_mapping(path)
    assert mapping.name == "my-erp"
    assert mapping.source_path == path and mapping.builtin is False
    assert mapping.mode == "full" and mapping.on_row_error == "drop_row" and mapping.format == "csv"
    assert mapping.entity["product"]["sku"] == FieldSpec(column="Artikelnr")
    assert mapping.match.globs == ["ARTIKEL_*.csv"]


def test_unknown_field_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = GOOD + 'gtn = { column = "EAN", empty = "null" }\n'
    assert error_of(tmp_path, text, monkeypatch) == (
        "mappings/acme.toml line 8: entity.product.gtn: unknown field 'gtn' (product has: sku, gtin, name, "
        "unit, vat_rate, weight, description, brand, attributes.<name>, active)"
    )


def test_unknown_entity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = GOOD + "\n[entity.prodcut]\nsku = \"A\"\n"
    assert error_of(tmp_path, text, monkeypatch) == (
        "mappings/acme.toml line 9: entity.prodcut: unknown entity 'prodcut' (known: product, price, stock, customer, order_status, order)"
    )


def test_bad_toml_syntax(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = '[match]\ncolumns = ["A", "B"\n[entity.product]\n'
    assert error_of(tmp_path, text, monkeypatch) == "mappings/acme.toml line 3: invalid TOML: Unclosed array (column 1)"


def test_wrong_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = GOOD.replace('columns = ["Artikelnr"]\n', 'columns = ["Artikelnr"]\npriority = "high"\n')
    assert error_of(tmp_path, text, monkeypatch) == "mappings/acme.toml line 5: match.priority: Input should be a valid integer"


def test_wrong_literal_and_unknown_key_in_an_inline_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = GOOD + 'unit = { column = "ME", empty = "nul", colum = "x" }\n'
    assert error_of(tmp_path, text, monkeypatch).splitlines() == [
        "mappings/acme.toml line 8: entity.product.unit.empty: Input should be 'null' or 'keep'",
        "mappings/acme.toml line 8: entity.product.unit.colum: unknown key 'colum' (allowed: column, columns, join, "
        "value, optional, default, empty, strip, case, map, map_strict, date_format, timestamp_format, timezone, "
        "scale, decimal, thousands)",
    ]


def test_quoted_dotted_keys_are_found_and_shown_quoted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = GOOD + '"attributes.colour" = { column = "Farbe", date_format = "%d" }\n'
    assert error_of(tmp_path, text, monkeypatch) == (
        'mappings/acme.toml line 8: entity.product."attributes.colour": date_format applies to date fields; '
        "attributes.colour is an attribute (text)"
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('weight = { column = "G", date_format = "%d.%m.%Y" }',
         "line 8: entity.product.weight: date_format applies to date fields; weight is a decimal"),
        ('name2 = "N"', "line 8: entity.product.name2: unknown field 'name2'"),
        ('brand = 1', 'line 8: entity.product.brand: expected a column name ("Col") or a table ({ column = "Col", … })'),
        ('brand = { column = "B", value = "ACME" }',
         "line 8: entity.product.brand: give exactly one of column, columns, value (got column, value)"),
        ('brand = { value = "ACME", case = "upper" }',
         "line 8: entity.product.brand: a constant value takes no transforms (case)"),
        ('unit = { column = "ME", map_strict = true }', "line 8: entity.product.unit: map_strict needs a map"),
        ('"attributes.*" = { column = "Merkmal_" }',
         "line 8: entity.product.\"attributes.*\": attributes.* reads every column matching a pattern with one '*'"),
        ('vat_rate = { column = "M", scale = 0 }', "line 8: entity.product.vat_rate.scale: scale must be a non-zero number"),
    ],
)
def test_field_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str, message: str) -> None:
    assert error_of(tmp_path, GOOD + extra + "\n", monkeypatch).startswith("mappings/acme.toml " + message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace('name = "Bezeichnung"\n', ""),
         "line 5: entity.product: required field(s) not mapped: name"),
        (GOOD + '[op]\ncolumn = "Kz"\n', 'line 8: op: op goes with mode = "delta" or "auto"'),
        ('mode = "auto"\n' + GOOD, 'line 1: mode: mode = "auto" needs op = { column = "op" }'),
        (GOOD.replace('filename = "ARTIKEL_*.csv"\ncolumns = ["Artikelnr"]\n', ""), "line 2: match: give filename or columns"),
        (GOOD + '[csv]\ndecimal = ","\nthousands = ","\n', "line 8: csv: Value error, decimal and thousands separators must differ"
         .replace("Value error, ", "")),
        (GOOD + '[csv]\nencoding = "klingon"\n', "line 9: csv.encoding: unknown encoding 'klingon'"),
        (GOOD + 'as_of = { column = "T", timezone = "Europe/Berlin" }\n',
         "line 8: entity.product.as_of: unknown field 'as_of'"),
        ('name = "x"\n[match]\ncolumns = ["A"]\n[entity.stock]\nsku = "A"\nquantity = "Q"\n'
         'as_of = { column = "T", timestamp_format = "%d.%m.%Y %H:%M" }\n',
         "line 7: entity.stock.as_of: timestamp_format without %z needs a timezone"),
        ('name = "x"\n[match]\ncolumns = ["A"]\n[entity.stock]\nsku = "A"\nquantity = "Q"\n'
         'as_of = { column = "T", timezone = "Europe/Berlinn" }\n',
         "line 7: entity.stock.as_of.timezone: unknown time zone 'Europe/Berlinn'"),
        ('builtin = true\n' + GOOD, "line 1: builtin: builtin is set by the loader, not in the file"),
        (GOOD + '[document_date]\nfilename = "ARTIKEL_\\\\d{8}"\n',
         "line 9: document_date.filename: needs one group, (...), around the date"),
        (GOOD + '[document_date]\nfilename = "ARTIKEL_(\\\\d{8}"\n',
         "line 9: document_date.filename: not a regular expression: missing ), unterminated subpattern"),
    ],
)
def test_mapping_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str) -> None:
    assert error_of(tmp_path, text, monkeypatch).startswith("mappings/acme.toml " + message)


def test_a_missing_required_section_has_no_line_but_names_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert error_of(tmp_path, 'name = "x"\n[entity.product]\nsku = "A"\nname = "B"\n', monkeypatch) == (
        "mappings/acme.toml: match: required"
    )


def test_every_problem_is_listed_one_per_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = GOOD + 'gtn = "E"\n[entity.price]\nsku = "A"\ncurrency = { value = "EUR" }\n'
    lines = error_of(tmp_path, text, monkeypatch).splitlines()
    assert [line.split(":")[0:2] for line in lines] == [
        ["mappings/acme.toml line 8", " entity.product.gtn"],
        ["mappings/acme.toml line 9", " entity.price"],
    ]
    assert lines[1].endswith("required field(s) not mapped: amount")


def test_key_lines_track_tables_dotted_and_inline_keys() -> None:
    text = textwrap.dedent("""\
        # comment = "not a key"
        name = "x"
        [match]
        columns = [
          "A",
          "B",
        ]
        [entity.product]
        "attributes.colour" = { column = "Farbe" }
        'literal key'.inner = 1
        description = \"\"\"
        not = "a key"
        \"\"\"
        [entity . "price"]
        sku = "A"
        """)
    lines = dict(key_lines(text))
    assert lines[("name",)] == 2
    assert lines[("match", "columns")] == 4
    assert lines[("entity", "product", "attributes.colour")] == 9
    assert lines[("entity", "product", "attributes.colour", "column")] == 9
    assert lines[("entity", "product", "literal key", "inner")] == 10
    assert ("entity", "product", "not") not in lines
    assert lines[("entity", "price", "sku")] == 15
    # an unknown key of a known table points at the table's line
    assert find_line(key_lines(text), ("entity", "price", "nope", "deeper")) == 14
    assert find_line(key_lines(text), ("csv",)) is None


def test_json_schema_describes_the_file_not_the_loader_fields() -> None:
    schema = Mapping.model_json_schema()
    assert "source_path" not in schema["properties"] and "builtin" not in schema["properties"]
    assert {"name", "mode", "match", "csv", "entity", "op", "on_row_error"} <= set(schema["properties"])
    field = schema["$defs"]["FieldSpec"]
    assert field["anyOf"][0]["type"] == "string"  # the "Col" shorthand
    assert "column" in field["anyOf"][1]["properties"]


def test_constants_from_toml_become_canonical_text(tmp_path: Path) -> None:
    mapping = parse_mapping(
        GOOD + "active = { value = true }\n[entity.price]\nsku = \"A\"\ncurrency = { value = \"EUR\" }\n"
        "amount = \"P\"\nmin_quantity = { value = 1 }\nvalid_from = { column = \"V\", default = 2026-12-01 }\n"
        "[entity.product.\"attributes.x\"]\ncolumn = \"X\"\n",
        tmp_path / "x.toml",
    )
    assert mapping.entity["product"]["active"].constant == "true"
    assert mapping.entity["price"]["min_quantity"].constant == "1"
    assert mapping.entity["price"]["valid_from"].default_text == "2026-12-01"


def test_scale_accepts_integers_and_floats_exactly() -> None:
    assert FieldSpec.model_validate({"column": "M", "scale": 100}).scale == Decimal(100)
    assert FieldSpec.model_validate({"column": "M", "scale": 0.001}).scale == Decimal("0.001")
