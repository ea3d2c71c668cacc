"""manifest.json: written last and atomically, naming files a reader can verify by sha256."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pyarrow as pa
import pytest
from publish_helpers import STOCK, full, manifest, product, products, source, watch_writes

from exchanged.errors import OutputUnavailable
from exchanged.publish import EntityUpdate, publish, read_manifest


def test_manifest_is_the_last_write_and_every_write_is_atomic(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writes = watch_writes(monkeypatch, shop)
    stock = pa.Table.from_pylist([{"sku": "A", "warehouse": "W", "quantity": 1}], schema=STOCK)
    publish(shop, [full(products(product("A"))), full(stock, entity="stock", key=("sku", "warehouse"),
                                                       schema=STOCK)], source(1))

    assert writes == [
        ".publishing",                                                          # the intent (crash replay)
        "changes/product/0000000001.jsonl", "changes/stock/0000000001.jsonl",  # 1. change files
        "product.jsonl", "product.parquet", "stock.jsonl", "stock.parquet",     # 2. state files
        "manifest.json",                                                        # 3. manifest last
    ]  # the marker stays: its record, committed now, tells the next publish what was applied


def test_a_publish_that_changes_nothing_writes_only_its_record_and_the_manifest(
        shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish(shop, [full(products(product("A")))], source(1))
    writes = watch_writes(monkeypatch, shop)
    [result] = publish(shop, [full(products(product("A")))], source(2))
    assert (result.seq, result.unchanged) == (None, 1)
    # Applied all the same: published again after a later input, it must not undo that one.
    assert writes == [".publishing", "manifest.json"]


def test_manifest_names_files_with_their_sha256_and_size(shop: Path) -> None:
    publish(shop, [full(products(product("A"), product("B")))], source(1))
    data = manifest(shop)
    entry = data["entities"]["product"]

    assert data["version"] == 1
    assert data["updated_at"].endswith("Z") and entry["updated_at"] == data["updated_at"]
    assert {k: entry[k] for k in ("parquet", "jsonl", "changes", "key", "records", "last_seq")} == {
        "parquet": "product.parquet", "jsonl": "product.jsonl", "changes": "changes/product", "key": ["sku"],
        "records": 2, "last_seq": 1}
    for kind in ("parquet", "jsonl"):
        content = (shop / entry[kind]).read_bytes()
        assert entry["sha256"][kind] == hashlib.sha256(content).hexdigest()
        assert entry["bytes"][kind] == len(content)
    assert entry["sources"] == [{"id": "id-1", "file": "inbox/ARTIKEL_1.csv", "sha256": f"{1:064x}"}]


def test_entities_not_published_keep_their_entry(shop: Path) -> None:
    stock = pa.Table.from_pylist([{"sku": "A", "warehouse": "W", "quantity": 1}], schema=STOCK)
    publish(shop, [full(stock, entity="stock", key=("sku", "warehouse"), schema=STOCK)], source(1))
    stock_entry = manifest(shop)["entities"]["stock"]

    publish(shop, [full(products(product("A")))], source(2))

    assert manifest(shop)["entities"]["stock"] == stock_entry
    assert set(manifest(shop)["entities"]) == {"stock", "product"}


def test_document_date_of_the_source_is_kept(shop: Path) -> None:
    ref = source(1)
    dated = type(ref)(id=ref.id, file=ref.file, sha256=ref.sha256, document_date="2026-11-27")
    publish(shop, [full(products(product("A")))], dated)
    assert manifest(shop)["entities"]["product"]["sources"][0]["document_date"] == "2026-11-27"


def test_read_manifest_of_an_empty_shop(shop: Path) -> None:
    assert read_manifest(shop) == {"version": 1, "updated_at": None, "entities": {}}


@pytest.mark.parametrize("text", ["{not json", '{"version": 1}', '{"version": 2, "entities": {}}'])
def test_an_invalid_manifest_is_a_transient_fault_and_is_not_overwritten(shop: Path, text: str) -> None:
    shop.mkdir(parents=True)
    (shop / "manifest.json").write_text(text)
    with pytest.raises(OutputUnavailable, match="manifest.json"):
        publish(shop, [full(products(product("A")))], source(1))
    assert (shop / "manifest.json").read_text() == text


def test_concurrent_publishes_of_different_entities_both_land(shop: Path) -> None:
    stock = pa.Table.from_pylist([{"sku": "A", "warehouse": "W", "quantity": 1}], schema=STOCK)
    updates = [full(products(product("A"))), full(stock, entity="stock", key=("sku", "warehouse"), schema=STOCK)]
    errors: list[BaseException] = []

    def run(update: EntityUpdate, n: int) -> None:
        try:
            for i in range(5):
                publish(shop, [update], source(10 * n + i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(u, n)) for n, u in enumerate(updates)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert set(json.loads((shop / "manifest.json").read_text())["entities"]) == {"product", "stock"}


def test_one_update_per_entity(shop: Path) -> None:
    with pytest.raises(ValueError, match="one update per entity"):
        publish(shop, [full(products(product("A"))), full(products(product("B")))], source(1))


def test_entity_names_cannot_escape_the_folder() -> None:
    with pytest.raises(ValueError, match="safe file name"):
        full(products(), entity="../product")
