"""Full snapshots: the state becomes exactly the snapshot; the change feed says what differed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from publish_helpers import UTC, change_files, change_lines, full, manifest, product, products, source

from exchanged.formats.jsonl import read_jsonl
from exchanged.publish import EntityResult, publish


def test_first_load_upserts_every_record_as_seq_1(shop: Path) -> None:
    results = publish(shop, [full(products(product("B"), product("A", price="19.90")))], source(1))

    assert results == [EntityResult(entity="product", upserts=2, deletes=0, unchanged=0, records=2, seq=1,
                                    outputs=[str(shop / "changes/product/0000000001.jsonl"),
                                             str(shop / "product.parquet"), str(shop / "product.jsonl")])]
    assert change_files(shop) == ["0000000001.jsonl"]
    assert change_lines(shop, 1) == [
        '{"op":"upsert","sku":"A","name":"Article A","price":"19.9","attributes":{},"active":true,"changed_at":null}',
        '{"op":"upsert","sku":"B","name":"Article B","price":"9.9","attributes":{},"active":true,"changed_at":null}',
    ]
    assert manifest(shop)["entities"]["product"]["last_seq"] == 1


def test_the_same_snapshot_again_changes_nothing_and_writes_no_change_file(shop: Path) -> None:
    snapshot = products(product("A"), product("B"))
    publish(shop, [full(snapshot)], source(1))
    state_before = (shop / "product.parquet").read_bytes(), (shop / "product.jsonl").read_bytes()

    [result] = publish(shop, [full(snapshot)], source(2))

    assert (result.upserts, result.deletes, result.unchanged, result.records, result.seq) == (0, 0, 2, 2, None)
    assert result.outputs == []
    assert change_files(shop) == ["0000000001.jsonl"]
    assert ((shop / "product.parquet").read_bytes(), (shop / "product.jsonl").read_bytes()) == state_before
    entry = manifest(shop)["entities"]["product"]
    assert entry["last_seq"] == 1
    assert [s["id"] for s in entry["sources"]] == ["id-2"]  # a full snapshot replaces the sources


def test_the_same_snapshot_in_another_row_order_changes_nothing(shop: Path) -> None:
    publish(shop, [full(products(product("A"), product("B"), product("C")))], source(1))
    [result] = publish(shop, [full(products(product("C"), product("A"), product("B")))], source(2))
    assert (result.upserts, result.unchanged, result.seq) == (0, 3, None)


def test_one_changed_one_missing_one_new_golden_change_feed(shop: Path) -> None:
    publish(shop, [full(products(product("A"), product("B"), product("C")))], source(1))

    [result] = publish(shop, [full(products(
        product("A"),                                   # unchanged: no line
        product("B", price="10.00"),                    # changed
        product("D", name="Neu \"D\"", price=None,      # new
                attributes=[("farbe", "grün")], changed_at=dt.datetime(2026, 11, 27, 8, 0, tzinfo=UTC)),
    ))], source(2))                                     # C is missing: deleted

    assert (result.upserts, result.deletes, result.unchanged, result.records, result.seq) == (2, 1, 1, 3, 2)
    assert change_lines(shop, 2) == [
        '{"op":"upsert","sku":"B","name":"Article B","price":"10","attributes":{},"active":true,"changed_at":null}',
        '{"op":"upsert","sku":"D","name":"Neu \\"D\\"","price":null,"attributes":{"farbe":"grün"},'
        '"active":true,"changed_at":"2026-11-27T08:00:00Z"}',
        '{"op":"delete","sku":"C"}',
    ]
    assert [row["sku"] for row in read_jsonl((shop / "product.jsonl").read_bytes())] == ["A", "B", "D"]


def test_a_change_in_any_column_is_an_upsert(shop: Path) -> None:
    base = product("A", attributes=[("a", "1")], changed_at=dt.datetime(2026, 1, 1, tzinfo=UTC))
    publish(shop, [full(products(base))], source(1))
    variants = [
        {"name": "other"}, {"price": "9.91"}, {"price": None}, {"attributes": [("a", "2")]},
        {"attributes": [("a", "1"), ("b", "1")]}, {"attributes": []}, {"active": False},
        {"changed_at": dt.datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC)},
    ]
    for n, change in enumerate(variants):
        row = {**base, **change}
        if "price" in change and change["price"] is not None:
            row["price"] = Decimal(change["price"])
        [result] = publish(shop, [full(products(row))], source(2 * n + 2))
        assert (result.upserts, result.unchanged, result.seq) == (1, 0, 2 * n + 2), change
        [back] = publish(shop, [full(products(base))], source(2 * n + 3))  # back to the base state
        assert (back.upserts, back.seq) == (1, 2 * n + 3), change


def test_an_equal_decimal_with_other_trailing_zeros_is_unchanged(shop: Path) -> None:
    publish(shop, [full(products(product("A", price="19.9")))], source(1))
    [result] = publish(shop, [full(products(product("A", price="19.900")))], source(2))
    assert (result.upserts, result.unchanged) == (0, 1)


def test_an_empty_snapshot_deletes_everything(shop: Path) -> None:
    publish(shop, [full(products(product("A"), product("B")))], source(1))

    [result] = publish(shop, [full(products())], source(2))

    assert (result.upserts, result.deletes, result.records, result.seq) == (0, 2, 0, 2)
    assert change_lines(shop, 2) == ['{"op":"delete","sku":"A"}', '{"op":"delete","sku":"B"}']
    assert (shop / "product.jsonl").read_bytes() == b""
    assert manifest(shop)["entities"]["product"]["records"] == 0


def test_an_empty_first_snapshot_publishes_an_empty_state_without_change_file(shop: Path) -> None:
    [result] = publish(shop, [full(products())], source(1))
    assert (result.records, result.seq) == (0, None)
    assert change_files(shop) == []
    assert manifest(shop)["entities"]["product"]["last_seq"] == 0


def test_seq_is_zero_padded_and_strictly_increasing(shop: Path) -> None:
    seqs = []
    for n in range(1, 13):
        [result] = publish(shop, [full(products(product("A", price=f"{n}.5")))], source(n))
        seqs.append(result.seq)
    assert seqs == list(range(1, 13))
    assert change_files(shop) == [f"{n:010d}.jsonl" for n in range(1, 13)]
    assert manifest(shop)["entities"]["product"]["last_seq"] == 12


def test_a_change_file_beyond_the_manifest_is_never_reused(shop: Path) -> None:
    publish(shop, [full(products(product("A")))], source(1))
    # A publish that crashed after writing its change file but before the manifest left this:
    orphan = shop / "changes" / "product" / "0000000007.jsonl"
    orphan.write_text('{"op":"delete","sku":"Z"}\n')

    [result] = publish(shop, [full(products(product("A", price="1")))], source(2))

    assert result.seq == 8
    assert orphan.read_text() == '{"op":"delete","sku":"Z"}\n'
    assert manifest(shop)["entities"]["product"]["last_seq"] == 8


def test_outputs_are_relative_to_the_display_root(shop: Path, tmp_path: Path) -> None:
    [result] = publish(shop, [full(products(product("A")))], source(1), display_root=tmp_path)
    assert result.outputs == ["outbox/shop/changes/product/0000000001.jsonl",
                              "outbox/shop/product.parquet", "outbox/shop/product.jsonl"]
