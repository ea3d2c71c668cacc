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
from pydantic import BaseModel, TypeAdapter

from exchanged.formats.jsonl import (jsonl_lines, line_digests, lines_buffer, prefix_lines, read_jsonl,
                                     split_lines, to_jsonl)

UTC = dt.timezone.utc
DECIMAL = pa.decimal128(24, 6)
ATTRIBUTES = pa.map_(pa.string(), pa.string())
DATETIME = TypeAdapter(dt.datetime)


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

def canonical(value: Any, t: pa.DataType) -> Any:
    """The canonical JSON value of a Python value of Arrow type ``t``, written without the module under test."""
    if value is None:
        return None
    if pa.types.is_decimal(t):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if pa.types.is_timestamp(t):
        return json.loads(DATETIME.dump_json(value))  # pydantic's own text for the instant
    if pa.types.is_date(t):
        return value.isoformat()
    if pa.types.is_map(t):
        return {k: canonical(v, t.item_type) for k, v in value}
    if pa.types.is_struct(t):
        return {f.name: canonical(value[f.name], f.type) for f in t}
    if pa.types.is_list(t):
        return [canonical(v, t.value_type) for v in value]
    return value


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
