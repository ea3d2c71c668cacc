"""to_jsonl writes the canonical JSON of docs/architecture.md, the same as pydantic's model_dump_json."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from exchanged.formats.jsonl_render import _dictionary, _view_parts
from exchanged.formats.jsonl_render import ndjson_bytes as _ndjson
from exchanged.formats.jsonl import (jsonl_lines, jsonl_parts, line_digests,
                                     lines_buffer, prefix_lines, read_jsonl, split_lines, to_jsonl)
from tests.canonical_json import canonical

UTC = dt.timezone.utc
DECIMAL = pa.decimal128(24, 6)
ATTRIBUTES = pa.map_(pa.string(), pa.string())


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def test_golden_representation() -> None:
    table = pa.table({
        "sku": ["A-1", "Ü\"\\\t"],
        "amount": pa.array([Decimal("19.900000"), Decimal("10")], DECIMAL),
        "zero": pa.array([Decimal("0"), Decimal("-0.5")], DECIMAL),
        "valid_from": pa.array([dt.date(2026, 11, 27), None], pa.date32()),
        "as_of": pa.array([dt.datetime(2026, 11, 27, 8, 30, tzinfo=UTC),
                           dt.datetime(2026, 11, 27, 8, 30, 0, 500, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
        "quantity": pa.array([1, None], pa.int64()),
        "active": [True, False],
        "attributes": pa.array([[("farbe", "rot"), ("größe", "M")], []], ATTRIBUTES),
        "address": pa.array([{"city": "Köln", "zip": "50667"}, None]),
        "tags": pa.array([["a", None], []]),
    })
    assert to_jsonl(table).decode().splitlines() == [
        '{"sku":"A-1","amount":"19.9","zero":"0","valid_from":"2026-11-27","as_of":"2026-11-27T08:30:00Z",'
        '"quantity":1,"active":true,"attributes":{"farbe":"rot","größe":"M"},'
        '"address":{"city":"Köln","zip":"50667"},"tags":["a",null]}',
        '{"sku":"Ü\\"\\\\\\t","amount":"10","zero":"-0.5","valid_from":null,"as_of":"2026-11-27T08:30:00.000500Z",'
        '"quantity":null,"active":false,"attributes":{},"address":null,"tags":[]}',
    ]


class Line(BaseModel):
    qty: int
    amount: Decimal


class Record(BaseModel):
    sku: str
    amount: Decimal
    rate: Decimal | None
    valid_from: dt.date
    changed_at: dt.datetime
    active: bool
    attributes: dict[str, str]
    lines: list[Line]


@pytest.mark.parametrize("changed_at", [dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                                        dt.datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
                                        dt.datetime(1, 1, 1, tzinfo=UTC),
                                        dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)])
def test_same_text_as_pydantic_model_dump_json(changed_at: dt.datetime) -> None:
    text = "".join(chr(i) for i in range(0x80)) + "\u2028\u2029\U0001F600é\x85"
    record = Record(sku=text, amount=Decimal("19.9"), rate=None, valid_from=changed_at.date(), changed_at=changed_at,
                    active=False, attributes={"k": text}, lines=[Line(qty=2, amount=Decimal("0.5"))])
    schema = pa.schema([
        ("sku", pa.string()), ("amount", DECIMAL), ("rate", DECIMAL), ("valid_from", pa.date32()),
        ("changed_at", pa.timestamp("us", tz="UTC")), ("active", pa.bool_()), ("attributes", ATTRIBUTES),
        ("lines", pa.list_(pa.struct([("qty", pa.int64()), ("amount", DECIMAL)]))),
    ])
    row = record.model_dump()
    row["attributes"] = list(row["attributes"].items())
    table = pa.Table.from_pylist([row], schema=schema)

    assert to_jsonl(table) == record.model_dump_json().encode() + b"\n"


def test_every_character_round_trips_through_json_loads() -> None:
    texts = ["".join(chr(i) for i in range(0x20)), "\"\\/", "\x7f\x80\x9f\u00a0", "\u2028\u2029", "\ud7ff\ue000\ufffd",
             "\U0001F600\U0010FFFF", "", "null", "ä" * 1000]
    data = to_jsonl(pa.table({"text": texts, "map": pa.array([[(t, t)] for t in texts], ATTRIBUTES)}))
    assert data.count(b"\n") == len(texts)
    assert read_jsonl(data) == [{"text": t, "map": {t: t}} for t in texts]


def test_decimals_never_use_an_exponent() -> None:
    values = ["0.000001", "1E-10", "123456789012345678.123456", "1E+20", "-7.10", "100"]
    wide = pa.array([Decimal(v) for v in values], pa.decimal128(38, 12))
    assert [row["v"] for row in read_jsonl(to_jsonl(pa.table({"v": wide})))] == [
        "0.000001", "0.0000000001", "123456789012345678.123456", "100000000000000000000", "-7.1", "100"]
    integral = pa.array([Decimal("100"), Decimal("-7"), Decimal("0")], pa.decimal128(10, 0))
    negative_scale = pa.array([Decimal("1E+3"), Decimal("-2E+2")], pa.decimal128(5, -2))
    assert to_jsonl(pa.table({"v": integral})) == b'{"v":"100"}\n{"v":"-7"}\n{"v":"0"}\n'
    assert to_jsonl(pa.table({"v": negative_scale})) == b'{"v":"1000"}\n{"v":"-200"}\n'


def test_other_timestamp_units_zones_and_naive_timestamps() -> None:
    instant = dt.datetime(2026, 11, 27, 8, 30, 1, 250000, tzinfo=UTC)
    table = pa.table({
        "s": pa.array([instant.replace(microsecond=0)], pa.timestamp("s", tz="UTC")),
        "ms": pa.array([instant], pa.timestamp("ms", tz="UTC")),
        "ns": pa.array([instant], pa.timestamp("ns", tz="UTC")),
        "berlin": pa.array([instant], pa.timestamp("us", tz="Europe/Berlin")),
        "naive": pa.array([instant.replace(tzinfo=None)], pa.timestamp("us")),
        "date64": pa.array([dt.date(2026, 11, 27)], pa.date64()),
    })
    assert read_jsonl(to_jsonl(table)) == [{
        "s": "2026-11-27T08:30:01Z", "ms": "2026-11-27T08:30:01.250000Z", "ns": "2026-11-27T08:30:01.250000Z",
        "berlin": "2026-11-27T08:30:01.250000Z", "naive": "2026-11-27T08:30:01.250000", "date64": "2026-11-27"}]


def test_nested_and_encoded_columns() -> None:
    table = pa.table({
        "struct": pa.array([{"amount": Decimal("1.50"), "at": dt.datetime(2026, 1, 1, tzinfo=UTC)}, None],
                           pa.struct([("amount", DECIMAL), ("at", pa.timestamp("us", tz="UTC"))])),
        "lists": pa.array([[Decimal("2.50"), None], None], pa.list_(DECIMAL)),
        "map_of_decimals": pa.array([[("a", Decimal("3.000"))], None], pa.map_(pa.string(), DECIMAL)),
        "dictionary": pa.array(["x", "y"]).dictionary_encode(),
        "large": pa.array(["l", None], pa.large_string()),
    })
    assert read_jsonl(to_jsonl(table)) == [
        {"struct": {"amount": "1.5", "at": "2026-01-01T00:00:00Z"}, "lists": ["2.5", None],
         "map_of_decimals": {"a": "3"}, "dictionary": "x", "large": "l"},
        {"struct": None, "lists": None, "map_of_decimals": None, "dictionary": "y", "large": None},
    ]


def test_prefix_keys_come_first() -> None:
    table = pa.table({"sku": ["A", "B"], "warehouse": ["W", None]})
    assert to_jsonl(table, prefix={"op": "delete"}) == (
        b'{"op":"delete","sku":"A","warehouse":"W"}\n{"op":"delete","sku":"B","warehouse":null}\n')
    assert lines_buffer(prefix_lines(jsonl_lines(table), {"op": "delete"})).to_pybytes() == \
        to_jsonl(table, prefix={"op": "delete"})
    with pytest.raises(ValueError, match="also columns"):
        to_jsonl(table, prefix={"sku": "x"})


def test_empty_tables() -> None:
    assert to_jsonl(pa.table({"sku": pa.array([], pa.string())})) == b""
    assert to_jsonl(pa.table({"sku": pa.array([], pa.string())}), prefix={"op": "upsert"}) == b""
    assert to_jsonl(pa.table({"a": [1, 2]}).select([]), prefix={"op": "x"}) == b'{"op":"x"}\n{"op":"x"}\n'
    assert len(jsonl_lines(pa.table({"sku": pa.array([], pa.string())}))) == 0


def test_lines_are_the_file_cut_at_each_newline() -> None:
    texts = ["a\nb", "", None, "\\n", "x", "y", "z", "", "", "é"]
    table = pa.table({"sku": [f"S{i}" for i in range(10)], "text": texts})
    lines = jsonl_lines(table)
    assert len(lines) == 10 and all(line.endswith("\n") for line in lines.to_pylist())
    assert lines_buffer(lines).to_pybytes() == to_jsonl(table)
    assert lines_buffer(lines.slice(3, 4)).to_pybytes() == to_jsonl(table.slice(3, 4))
    assert lines_buffer(lines.take([7, 2])).to_pybytes() == to_jsonl(table.take([7, 2]))
    assert split_lines(b"{}\n{}").to_pylist() == ["{}\n", "{}"]
    assert split_lines(b"").to_pylist() == []


def test_line_digests_tell_equal_lines_from_different_ones() -> None:
    digests = line_digests(pa.array(['{"a":1}\n', '{"a":2}\n', '{"a":1}\n', '{"a":10}\n'], pa.large_string()))
    assert digests.shape == (4, 3)
    assert (digests[0] == digests[2]).all()
    assert not (digests[0] == digests[1]).all() and not (digests[0] == digests[3]).all()


# --- property: any typed table -> exactly json.dumps of the canonical Python values ----------------------------

TYPES: dict[str, tuple[pa.DataType, st.SearchStrategy[Any]]] = {
    "text": (pa.string(), st.text()),
    "int": (pa.int64(), st.integers(-2**63, 2**63 - 1)),
    "bool": (pa.bool_(), st.booleans()),
    "decimal": (DECIMAL, st.decimals(min_value=Decimal("-1e17"), max_value=Decimal("1e17"), places=6,
                                     allow_nan=False, allow_infinity=False)),
    "date": (pa.date32(), st.dates()),
    "timestamp": (pa.timestamp("us", tz="UTC"), st.datetimes(timezones=st.just(UTC))),
    "attributes": (ATTRIBUTES, st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3)
                   .map(lambda d: list(d.items()))),
    "address": (pa.struct([("city", pa.string()), ("credit", DECIMAL)]),
                st.fixed_dictionaries({"city": st.none() | st.text(max_size=5),
                                       "credit": st.none() | st.decimals(min_value=0, max_value=1000, places=2)})),
    "codes": (pa.list_(pa.string()), st.lists(st.none() | st.text(max_size=3), max_size=3)),
}


@st.composite
def tables(draw: st.DrawFn) -> pa.Table:
    names = draw(st.lists(st.sampled_from(sorted(TYPES)), min_size=1, max_size=5, unique=True))
    rows = draw(st.integers(0, 8))
    columns = {}
    for name in names:
        t, values = TYPES[name]
        columns[name] = pa.array(draw(st.lists(st.none() | values, min_size=rows, max_size=rows)), t)
    return pa.table(columns)


@settings(max_examples=150, deadline=None)
@given(tables())
def test_property_lines_are_json_dumps_of_the_canonical_values(table: pa.Table) -> None:
    types = {field.name: field.type for field in table.schema}
    expected = "".join(dumps({k: canonical(v, types[k]) for k, v in row.items()}) + "\n" for row in table.to_pylist())
    assert to_jsonl(table) == expected.encode()
    assert to_jsonl(table, prefix={"op": "upsert"}) == "".join(
        '{"op":"upsert",' + line[1:] + "\n" for line in expected.split("\n")[:-1]).encode()


# --- the column-by-column assembly (jsonl_lines, jsonl_parts) against the reference renderer -------------------

SPECIAL_TEXT = ["A-1", "Ü\"\\", "x\ny\r\t\b\f\x01\x1f", "", "\u2028é\U0001F600", "null", "a" * 20]
EXTRA_TYPES: dict[str, tuple[pa.DataType, st.SearchStrategy[Any]]] = {
    "code": (pa.string(), st.sampled_from(SPECIAL_TEXT) | st.text(max_size=15)),
    "large": (pa.large_string(), st.sampled_from(SPECIAL_TEXT) | st.text(max_size=15)),
    "qty": (pa.int8(), st.integers(-128, 127)),
    "wide": (pa.decimal128(38, 6), st.sampled_from([Decimal("1e20"), Decimal("-92233720368547.758080"),
                                                    Decimal("92233720368547.758079"), Decimal("0.5")])),
    "stamp": (pa.timestamp("ns", tz="Europe/Berlin"),
              st.datetimes(dt.datetime(1700, 1, 1), dt.datetime(2200, 1, 1), timezones=st.just(UTC))),
    "day": (pa.date64(), st.dates()),
    "ratio": (pa.float64(), st.floats(allow_nan=False)),
    "empty": (ATTRIBUTES, st.just([])),
    "nothing": (pa.list_(pa.string()), st.just([])),
}
ALL_TYPES = {**TYPES, **EXTRA_TYPES}


@st.composite
def assembled_tables(draw: st.DrawFn) -> pa.Table:
    """Tables of up to 60 rows whose columns hold few distinct values or many, with nulls or without,
    in several chunks, possibly a slice of a longer table (arrays with offsets)."""
    names = draw(st.lists(st.sampled_from(sorted(ALL_TYPES)), min_size=1, max_size=6, unique=True))
    rows = draw(st.integers(0, 60))
    skip = draw(st.integers(0, 3))
    columns = {}
    for name in names:
        t, values = ALL_TYPES[name]
        if draw(st.booleans()):  # few distinct values: the coded path
            values = st.sampled_from(draw(st.lists(values, min_size=1, max_size=3)))
        if draw(st.booleans()):
            values = st.none() | values
        column = pa.array(draw(st.lists(values, min_size=rows + skip, max_size=rows + skip)), t)
        if name == "code" and draw(st.booleans()):
            column = column.dictionary_encode()
        columns[name] = column
    table = pa.table(columns).slice(skip)
    cuts = sorted(draw(st.lists(st.integers(0, rows), max_size=3)))
    batches = [b for start, stop in zip([0, *cuts], [*cuts, rows]) for b in table.slice(start, stop - start).to_batches()]
    return pa.Table.from_batches(batches, schema=table.schema) if batches else table


@settings(max_examples=120, deadline=None)
@given(assembled_tables(), st.integers(1, 25))
def test_property_assembled_lines_are_the_reference_renderers_bytes(table: pa.Table, rows: int) -> None:
    reference = _ndjson(table)
    lines = jsonl_lines(table)
    assert lines.type == pa.large_string()
    assert lines_buffer(lines).to_pybytes() == reference
    assert lines.to_pylist() == split_lines(reference).to_pylist()
    parts = list(jsonl_parts(table, rows))
    assert b"".join(lines_buffer(part).to_pybytes() for part in parts) == reference
    assert sum(len(part) for part in parts) == table.num_rows
    assert all(part.type == pa.large_string() for part in parts)


def test_assembly_of_a_product_like_table_matches_the_reference() -> None:
    n = 5000
    index = list(range(n))
    table = pa.table({
        "sku": [f"SKU-{i:07d}" for i in index],
        "name": [f'Product {i} "quoted" \\ {"x" if i % 3 else ""}' for i in index],
        "unit": ["KGM" if i % 10 == 0 else "C62" for i in index],
        "vat_rate": pa.array([Decimal("7") if i % 3 == 0 else Decimal("19") for i in index], DECIMAL),
        "weight": pa.array([None if i % 7 == 0 else Decimal(f"{i % 1000}.25") for i in index], DECIMAL),
        "brand": [None if i % 11 == 0 else ("Acme" if i % 2 else "Müller & Söhne") for i in index],
        "attributes": pa.array([[] for _ in index], ATTRIBUTES),
        "tags": pa.array([[("colour", "red")] if i % 5 == 0 else [] for i in index], ATTRIBUTES),
        "active": [None if i % 13 == 0 else i % 2 == 0 for i in index],
    })
    reference = _ndjson(table)
    assert lines_buffer(jsonl_lines(table)).to_pybytes() == reference
    for rows in (333, 4096, n):
        assert b"".join(lines_buffer(p).to_pybytes() for p in jsonl_parts(table, rows)) == reference


def test_adjacent_coded_columns_with_too_many_combinations_stay_apart() -> None:
    n = 1200
    table = pa.table({"a": [i % 300 for i in range(n)], "b": [(i * 7) % 301 for i in range(n)],
                      "c": [i % 2 == 0 for i in range(n)]})
    assert lines_buffer(jsonl_lines(table)).to_pybytes() == _ndjson(table)


def test_parts_of_short_lines_and_of_constant_lines() -> None:
    short = pa.table({"a": list(range(100))})  # lines of at most 12 bytes: polars inlines them
    assert b"".join(lines_buffer(p).to_pybytes() for p in jsonl_parts(short, 7)) == _ndjson(short)
    constant = pa.table({"m": pa.array([[]] * 50, ATTRIBUTES), "l": pa.array([[]] * 50, pa.list_(pa.string()))})
    assert lines_buffer(jsonl_lines(constant)).to_pybytes() == b'{"m":{},"l":[]}\n' * 50
    assert b"".join(lines_buffer(p).to_pybytes() for p in jsonl_parts(constant, 16)) == _ndjson(constant)
    assert list(jsonl_parts(pa.table({"a": pa.array([], pa.int64())}))) == []


def test_keys_are_escaped_as_polars_writes_them() -> None:
    table = pa.table({'a"b': ["x"] * 20, "é\n": [1] * 20, "\\": [None] * 20})
    assert lines_buffer(jsonl_lines(table)).to_pybytes() == _ndjson(table)
    assert read_jsonl(to_jsonl(table))[0] == {'a"b': "x", "é\n": 1, "\\": None}


def test_decimal_dictionary_hashes_64_bit_values_and_falls_back_for_wider_ones() -> None:
    narrow = pa.array([Decimal("1.5"), None, Decimal("-2.25"), Decimal("1.5"), Decimal("-0.000001")], DECIMAL)
    values, indices = _dictionary(narrow)
    assert values.type == DECIMAL and values.to_pylist() == [Decimal("1.5"), Decimal("-2.25"), Decimal("-0.000001")]
    assert indices.to_pylist() == [0, None, 1, 0, 2]
    wide = pa.array([Decimal("1e17"), Decimal("-1e17"), Decimal("1e17")], pa.decimal128(38, 6))
    values, indices = _dictionary(wide)
    assert values.to_pylist() == [Decimal("1e17"), Decimal("-1e17")] and indices.to_pylist() == [0, 1, 0]
    # a null slot holding bytes that are no 64-bit value: the 128-bit path, same answer
    words = pa.py_buffer(b"".join(int(v).to_bytes(16, "little", signed=True) for v in (5, 7 << 64 | 3, 5)))
    odd = pa.Array.from_buffers(DECIMAL, 3, [pa.array([True, False, True]).buffers()[1], words])
    values, indices = _dictionary(odd)
    assert indices.to_pylist() == [0, None, 0]
    assert lines_buffer(jsonl_lines(pa.table({"v": pa.chunked_array([odd] * 4)}))).to_pybytes() == \
        _ndjson(pa.table({"v": pa.chunked_array([odd] * 4)}))


def test_prefix_lines_puts_the_keys_after_the_first_brace() -> None:
    lines = jsonl_lines(pa.table({"sku": ["A", "B"], "m": pa.array([[("k", "{")], []], ATTRIBUTES)}))
    assert prefix_lines(lines, {"op": "upsert"}).to_pylist() == [
        '{"op":"upsert","sku":"A","m":{"k":"{"}}\n', '{"op":"upsert","sku":"B","m":{}}\n']
    assert prefix_lines(lines, {}).to_pylist() == lines.to_pylist()


def test_split_lines_across_its_blocks() -> None:
    line = b'{"text":"' + b"x" * 1000 + b'"}\n'
    data = line * 3000 + b'{"last":1}'  # several MiB, lines straddling block boundaries, no final newline
    lines = split_lines(data)
    assert len(lines) == 3001 and lines_buffer(lines).to_pybytes() == data
    assert lines[0].as_py() == line.decode() and lines[3000].as_py() == '{"last":1}'


def test_line_digests_of_chunked_lines_are_those_of_the_array() -> None:
    lines = jsonl_lines(pa.table({"a": list(range(40)), "b": ["x" * (i % 5) for i in range(40)]}))
    chunked = pa.chunked_array([lines.slice(0, 13), lines.slice(13, 0), lines.slice(13)])
    assert (line_digests(chunked) == line_digests(lines)).all()


def test_long_lines_come_out_of_polars_buffers_uncopied_and_whole() -> None:
    table = pa.table({"sku": [f"S{i:06d}" for i in range(3000)], "text": ["ä" * (i % 90) for i in range(3000)]})
    parts = list(jsonl_parts(table, 3000))
    assert len(parts) > 1  # one per polars data buffer
    assert b"".join(lines_buffer(p).to_pybytes() for p in parts) == _ndjson(table)
    assert _view_parts(pa.array(["short", "lines"], pa.string_view())) is None  # stored inside the views
    assert _view_parts(pa.array(["x" * 20, None], pa.string_view())) is None
    ordered = pa.array(["b" * 20, "a" * 20], pa.string_view())
    views = ordered.buffers()[1].to_pybytes()
    swapped = pa.Array.from_buffers(pa.string_view(), 2, [None, pa.py_buffer(views[16:] + views[:16]),
                                                          *ordered.buffers()[2:]])
    assert swapped.to_pylist() == ["a" * 20, "b" * 20]
    assert _view_parts(swapped) is None  # not back to back in line order
    assert [p.to_pylist() for p in _view_parts(ordered) or []] == [["b" * 20, "a" * 20]]
