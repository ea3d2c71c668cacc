"""Deltas: upsert the records, delete the keys marked so; only real changes reach the feed."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from publish_helpers import STOCK, change_files, change_lines, delta, full, manifest, product, products, source

from exchanged.formats.jsonl import read_jsonl
from exchanged.publish import publish
from exchanged.publish.manifest import MAX_SOURCES


def skus(shop: Path) -> list[str]:
    return [row["sku"] for row in read_jsonl((shop / "product.jsonl").read_bytes())]


def test_delta_upserts_and_deletes(shop: Path) -> None:
    publish(shop, [full(products(product("A"), product("B"), product("C")))], source(1))

    [result] = publish(shop, [delta(products(product("B", price="5"), product("D")), deletes=["C"])], source(2))

    assert (result.upserts, result.deletes, result.unchanged, result.records, result.seq) == (2, 1, 0, 3, 2)
    assert change_lines(shop, 2) == [
        '{"op":"upsert","sku":"B","name":"Article B","price":"5","attributes":{},"active":true,"changed_at":null}',
        '{"op":"upsert","sku":"D","name":"Article D","price":"9.9","attributes":{},"active":true,"changed_at":null}',
        '{"op":"delete","sku":"C"}',
    ]
    assert skus(shop) == ["A", "B", "D"]  # A kept, sorted by key


def test_deleting_an_unknown_key_changes_nothing(shop: Path) -> None:
    publish(shop, [full(products(product("A")))], source(1))

    [result] = publish(shop, [delta(products(), deletes=["X"])], source(2))

    assert (result.upserts, result.deletes, result.records, result.seq) == (0, 0, 1, None)
    assert change_files(shop) == ["0000000001.jsonl"]


def test_an_unchanged_upsert_produces_no_line(shop: Path) -> None:
    publish(shop, [full(products(product("A"), product("B")))], source(1))

    [result] = publish(shop, [delta(products(product("A"), product("B", name="neu")))], source(2))

    assert (result.upserts, result.unchanged, result.seq) == (1, 1, 2)
    assert [line[:30] for line in change_lines(shop, 2)] == ['{"op":"upsert","sku":"B","name']


def test_a_key_both_deleted_and_upserted_ends_upserted(shop: Path) -> None:
    publish(shop, [full(products(product("A")))], source(1))
    [result] = publish(shop, [delta(products(product("A", price="1")), deletes=["A"])], source(2))
    assert (result.upserts, result.deletes, result.records) == (1, 0, 1)
    assert skus(shop) == ["A"]


def test_delta_on_an_empty_shop_creates_the_state(shop: Path) -> None:
    [result] = publish(shop, [delta(products(product("B"), product("A")), deletes=["Z"])], source(1))
    assert (result.upserts, result.deletes, result.records, result.seq) == (2, 0, 2, 1)
    assert skus(shop) == ["A", "B"]


def test_delta_deleting_everything_leaves_an_empty_state(shop: Path) -> None:
    publish(shop, [full(products(product("A"), product("B")))], source(1))
    [result] = publish(shop, [delta(products(), deletes=["A", "B"])], source(2))
    assert (result.deletes, result.records) == (2, 0)
    assert (shop / "product.jsonl").read_bytes() == b""


def test_delta_sources_accumulate_up_to_the_last_fifty(shop: Path) -> None:
    for n in range(1, MAX_SOURCES + 6):
        publish(shop, [delta(products(product("A", price=str(n))))], source(n))
    sources = manifest(shop)["entities"]["product"]["sources"]
    assert [s["id"] for s in sources] == [f"id-{n}" for n in range(6, MAX_SOURCES + 6)]
    assert sources[-1] == {"id": f"id-{MAX_SOURCES + 5}", "file": f"inbox/ARTIKEL_{MAX_SOURCES + 5}.csv",
                           "sha256": f"{MAX_SOURCES + 5:064x}"}


def test_a_full_snapshot_after_deltas_lists_only_itself(shop: Path) -> None:
    publish(shop, [delta(products(product("A")))], source(1))
    publish(shop, [delta(products(product("B")))], source(2))
    publish(shop, [full(products(product("A")))], source(3))
    assert [s["id"] for s in manifest(shop)["entities"]["product"]["sources"]] == ["id-3"]


def test_composite_key_with_a_null_part_matches_itself(shop: Path) -> None:
    rows = [{"sku": "A", "warehouse": None, "quantity": 1}, {"sku": "A", "warehouse": "W1", "quantity": 2}]
    stock = pa.Table.from_pylist(rows, schema=STOCK)
    key = ("sku", "warehouse")
    publish(shop, [full(stock, entity="stock", key=key, schema=STOCK)], source(1))

    [again] = publish(shop, [full(stock, entity="stock", key=key, schema=STOCK)], source(2))
    assert (again.upserts, again.deletes, again.unchanged) == (0, 0, 2)

    deletes = pa.table({"sku": ["A"], "warehouse": pa.array([None], pa.string())})
    [result] = publish(shop, [delta(stock.slice(1, 1), deletes=deletes, entity="stock", key=key, schema=STOCK)],
                       source(3))
    assert (result.upserts, result.deletes, result.unchanged, result.records) == (0, 1, 1, 1)
    assert change_lines(shop, result.seq, "stock") == ['{"op":"delete","sku":"A","warehouse":null}']


def test_records_repeating_a_key_are_a_programming_error(shop: Path) -> None:
    with pytest.raises(ValueError, match="repeat a key"):
        publish(shop, [full(products(product("A"), product("A", price="1")))], source(1))
    assert not (shop / "manifest.json").exists()
