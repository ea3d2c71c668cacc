"""write_parquet/read_parquet: typed round trip, zstd, atomic replacement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from exchanged.errors import OutputUnavailable
from exchanged.formats import parquet as parquet_module
from exchanged.formats.parquet import parquet_bytes, read_parquet, write_parquet

SCHEMA = pa.schema([
    pa.field("sku", pa.string(), nullable=False),
    pa.field("amount", pa.decimal128(24, 6)),
    pa.field("valid_from", pa.date32()),
    pa.field("as_of", pa.timestamp("us", tz="UTC")),
    pa.field("quantity", pa.int64()),
    pa.field("active", pa.bool_(), nullable=False),
    pa.field("attributes", pa.map_(pa.string(), pa.string()), nullable=False),
    pa.field("address", pa.struct([("city", pa.string()), ("zip", pa.string())])),
    pa.field("lines", pa.list_(pa.struct([("sku", pa.string()), ("qty", pa.decimal128(24, 6))]))),
], metadata={b"entity": b"product"})


def table() -> pa.Table:
    return pa.Table.from_pylist([
        {"sku": "A", "amount": Decimal("19.9"), "valid_from": dt.date(2026, 11, 27),
         "as_of": dt.datetime(2026, 11, 27, 8, 0, 0, 1, tzinfo=dt.timezone.utc), "quantity": 3, "active": True,
         "attributes": [("farbe", "rot")], "address": {"city": "Köln", "zip": "50667"},
         "lines": [{"sku": "X", "qty": Decimal("1.5")}]},
        {"sku": "B", "amount": None, "valid_from": None, "as_of": None, "quantity": None, "active": False,
         "attributes": [], "address": None, "lines": None},
    ], schema=SCHEMA)


def test_round_trip_keeps_schema_and_values(tmp_path: Path) -> None:
    write_parquet(table(), tmp_path / "product.parquet")
    back = read_parquet(tmp_path / "product.parquet")
    assert back.schema.equals(SCHEMA)  # types and nullability (nested child names may differ)
    assert back.schema.metadata == SCHEMA.metadata
    assert back.equals(table())


def test_zstd_sort_order_and_key_statistics(tmp_path: Path) -> None:
    write_parquet(table(), tmp_path / "p.parquet", sorted_by=["sku"], statistics=["sku"])
    row_group = pq.ParquetFile(tmp_path / "p.parquet").metadata.row_group(0)
    assert {row_group.column(i).compression for i in range(row_group.num_columns)} == {"ZSTD"}
    assert [(c.column_index, c.descending) for c in row_group.sorting_columns] == [(0, False)]
    stats = row_group.column(0).statistics
    assert row_group.column(0).is_stats_set and (stats.min, stats.max) == ("A", "B")
    assert not row_group.column(1).is_stats_set


def test_statistics_for_every_column_by_default() -> None:
    metadata = pq.ParquetFile(pa.BufferReader(parquet_bytes(table()))).metadata.row_group(0)
    assert all(metadata.column(i).is_stats_set for i in range(5))


def test_empty_table(tmp_path: Path) -> None:
    write_parquet(SCHEMA.empty_table(), tmp_path / "e.parquet")
    back = read_parquet(tmp_path / "e.parquet")
    assert back.num_rows == 0 and back.schema.equals(SCHEMA)


def test_a_failed_write_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "product.parquet"
    write_parquet(table(), path)
    before = path.read_bytes()

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", refuse)
    with pytest.raises(OutputUnavailable):
        write_parquet(table().slice(0, 1), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["product.parquet"]


def test_writes_through_write_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    real = parquet_module.write_atomic
    monkeypatch.setattr(parquet_module, "write_atomic", lambda p, d: (calls.append(p), real(p, d))[1])
    write_parquet(table(), tmp_path / "x.parquet")
    assert calls == [tmp_path / "x.parquet"]
