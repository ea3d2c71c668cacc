"""The state files: complete, sorted by key, the JSONL row-aligned with the Parquet; schemas may evolve."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from publish_helpers import (PRODUCT, UTC, change_files, delta, full, manifest, product, products, source,
                             state_rows)

from exchanged.publish import EntityUpdate, publish


def test_jsonl_is_the_parquet_row_by_row_sorted_by_key(shop: Path) -> None:
    rows = [product(f"S{n:03d}", price=f"{n}.{n % 7}0", attributes=[("n", str(n))] if n % 2 else [],
                    changed_at=dt.datetime(2026, 1, 1, 0, 0, n % 60, n * 1000 % 1_000_000, tzinfo=UTC))
            for n in range(200, 0, -1)]
    publish(shop, [full(products(*rows))], source(1))
    publish(shop, [delta(products(product("S050", name="new \u2028 line\nbreak"), product("S999")),
                         deletes=["S007"])], source(2))

    parquet_rows, jsonl_rows = state_rows(shop)
    assert parquet_rows == jsonl_rows
    assert [row["sku"] for row in jsonl_rows] == sorted(row["sku"] for row in jsonl_rows)
    assert len(jsonl_rows) == 200
    assert pq.read_table(shop / "product.parquet").schema.equals(PRODUCT)


def test_parquet_records_its_sort_order(shop: Path) -> None:
    publish(shop, [full(products(product("B"), product("A")))], source(1))
    metadata = pq.ParquetFile(shop / "product.parquet").metadata
    assert [c.column_index for c in metadata.row_group(0).sorting_columns] == [0]
    assert metadata.row_group(0).column(0).compression == "ZSTD"


def test_a_new_column_is_filled_with_nulls_and_unchanged_records_stay_unchanged(shop: Path) -> None:
    old_schema = PRODUCT.remove(PRODUCT.get_field_index("changed_at"))
    old = pa.Table.from_pylist([product("A"), product("B")], schema=old_schema)
    publish(shop, [full(old, schema=old_schema)], source(1))

    [result] = publish(shop, [full(products(product("A"), product("B", name="new")))], source(2))

    assert (result.upserts, result.unchanged, result.records) == (1, 1, 2)
    parquet_rows, jsonl_rows = state_rows(shop)
    assert parquet_rows == jsonl_rows and jsonl_rows[0]["changed_at"] is None
    assert pq.read_table(shop / "product.parquet").schema.equals(PRODUCT)


def test_a_new_required_column_does_not_break_a_delta(shop: Path) -> None:
    old_schema = PRODUCT.remove(PRODUCT.get_field_index("active"))
    publish(shop, [full(pa.Table.from_pylist([product("A")], schema=old_schema), schema=old_schema)], source(1))

    [result] = publish(shop, [delta(products(product("B")))], source(2))

    assert (result.upserts, result.records) == (1, 2)
    stored = pq.read_table(shop / "product.parquet")
    assert stored.column("active").to_pylist() == [None, True]  # A predates the column
    assert stored.schema.field("active").nullable  # Parquet refuses nulls in a required column
    parquet_rows, jsonl_rows = state_rows(shop)
    assert parquet_rows == jsonl_rows


def test_a_column_whose_type_no_longer_casts_becomes_null(shop: Path) -> None:
    old_schema = PRODUCT.set(PRODUCT.get_field_index("price"), pa.field("price", pa.string()))
    old = pa.Table.from_pylist([{**product("A"), "price": "about 5"}], schema=old_schema)
    publish(shop, [full(old, schema=old_schema)], source(1))

    [result] = publish(shop, [delta(products(product("B")))], source(2))

    assert result.records == 2
    assert pq.read_table(shop / "product.parquet").column("price").to_pylist()[0] is None


def test_a_changed_key_replaces_the_old_state(shop: Path) -> None:
    old_schema = pa.schema([pa.field("article", pa.string()), pa.field("name", pa.string())])
    publish(shop, [EntityUpdate("product", ("article",), old_schema, pa.table({"article": ["A"], "name": ["x"]}),
                                None, "full")], source(1))

    [result] = publish(shop, [full(products(product("A")))], source(2))

    assert (result.upserts, result.deletes, result.records) == (1, 0, 1)
    assert manifest(shop)["entities"]["product"]["key"] == ["sku"]


def test_records_in_another_column_order_are_aligned_to_the_schema(shop: Path) -> None:
    table = products(product("A"))
    shuffled = table.select(list(reversed(table.column_names)))
    publish(shop, [full(shuffled)], source(1))
    first = (shop / "product.jsonl").read_text().splitlines()[0]
    assert list(json.loads(first)) == PRODUCT.names


def test_a_state_file_removed_by_hand_is_rebuilt(shop: Path) -> None:
    publish(shop, [full(products(product("A")))], source(1))
    (shop / "product.parquet").unlink()

    [result] = publish(shop, [full(products(product("A")))], source(2))

    assert (result.upserts, result.seq) == (1, 2)
    assert change_files(shop) == ["0000000001.jsonl", "0000000002.jsonl"]
    parquet_rows, jsonl_rows = state_rows(shop)
    assert parquet_rows == jsonl_rows
