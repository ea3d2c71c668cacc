"""publish_batch: the same outputs as publishing the inputs one by one, with each state written once."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from publish_helpers import (change_files, change_lines, delta, full, manifest, outputs_of, product, products, source,
                             stock_table, stock_update, watch_writes)

from exchanged.publish import EntityResult, EntityUpdate, SourceRef, publish, publish_batch
from exchanged.publish import batch as batch_module
from exchanged.publish.marker import MARKER

SKUS = ["A", "B", "C", "D", "E"]
DATES = [None, "2026-11-26", "2026-11-27", "2026-11-27T12:00:00+01:00", "2026-11-28"]


@st.composite
def product_update(draw: st.DrawFn) -> EntityUpdate:
    skus = draw(st.lists(st.sampled_from(SKUS), unique=True, max_size=4))
    table = products(*(product(s, price=draw(st.sampled_from(["1", "2", None]))) for s in skus))
    if draw(st.booleans()):
        return full(table)
    return delta(table, deletes=draw(st.lists(st.sampled_from(SKUS), unique=True, max_size=2)))


@st.composite
def stock_change(draw: st.DrawFn) -> EntityUpdate:
    key = st.tuples(st.sampled_from(SKUS[:3]), st.sampled_from(["W1", None]))
    keys = draw(st.lists(key, unique=True, max_size=4))
    table = stock_table(*((s, w, draw(st.integers(0, 2))) for s, w in keys))
    if draw(st.booleans()):
        return stock_update(table, "full")
    return stock_update(table, "delta", draw(st.lists(key, unique=True, max_size=2)))


@st.composite
def batches(draw: st.DrawFn, two_entities: bool) -> tuple[list[tuple[list[EntityUpdate], SourceRef]], str, bool]:
    """Inputs, the shop they start from, and whether small deltas use the batch's overlay (else its
    general path: ``diff`` and ``merged`` against the whole state)."""
    inputs: list[tuple[list[EntityUpdate], SourceRef]] = []
    for n in range(draw(st.integers(2, 6))):
        if inputs and draw(st.integers(0, 5)) == 0:  # the same input again (same sha256)
            inputs.append(draw(st.sampled_from(inputs)))
            continue
        updates = [draw(product_update())] if not two_entities or draw(st.booleans()) else []
        if two_entities and (not updates or draw(st.booleans())):
            updates.append(draw(stock_change()))
        ref = SourceRef(id=f"id-{n}", file=f"inbox/{n}.csv", sha256=f"{n + 100:064x}",
                        document_date=draw(st.sampled_from(DATES)))
        inputs.append((updates, ref))
    return inputs, draw(st.sampled_from(["empty", "published", "interrupted"])), draw(st.booleans())


def prepare(shop: Path, start: str) -> None:
    """The shop before the batch: empty, published, or published with a crash marker left."""
    if start == "empty":
        return
    publish(shop, [full(products(product("A"), product("C", price="2"))),
                   stock_update(stock_table(("A", "W1", 1), ("B", None, 2)), "full")],
            SourceRef(id="id-0", file="inbox/0.csv", sha256=f"{1:064x}", document_date="2026-11-27"))
    if start == "interrupted":
        (shop / MARKER).write_text('{"entities": ["product", "stock"]}\n')


def one_by_one_and_batched(inputs: list[tuple[list[EntityUpdate], SourceRef]], start: str,
                           overlay: bool = True) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    # Equivalence, not durability, is tested here: skipping fsync makes an example 3x faster.
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "fsync", lambda fd: None)
        if not overlay:
            patch.setattr(batch_module, "_small", lambda records, rows: False)
        single, batched = Path(folder) / "single", Path(folder) / "batched"
        prepare(single, start)
        prepare(batched, start)
        singles = [publish(single, updates, ref, display_root=single) for updates, ref in inputs]
        batch = publish_batch(batched, inputs, display_root=batched)
        return (singles, outputs_of(single)), (batch, outputs_of(batched))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches(two_entities=False))
def test_a_batch_of_one_entity_is_byte_for_byte_the_inputs_published_one_by_one(
        case: tuple[list[tuple[list[EntityUpdate], SourceRef]], str, bool]) -> None:
    single, batched = one_by_one_and_batched(*case)
    assert batched[0] == single[0]  # results, input by input
    assert batched[1] == single[1]  # state files, change files, manifest (but its timestamps)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches(two_entities=True))
def test_a_batch_of_two_entities_is_byte_for_byte_the_inputs_published_one_by_one(
        case: tuple[list[tuple[list[EntityUpdate], SourceRef]], str, bool]) -> None:
    single, batched = one_by_one_and_batched(*case)
    assert batched[0] == single[0]
    assert batched[1] == single[1]


def test_each_input_gets_its_own_change_file_and_the_state_is_written_once(
        shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish(shop, [full(products(product("A"), product("B")))], source(1))
    writes = watch_writes(monkeypatch, shop)

    results = publish_batch(shop, [
        ([delta(products(product("A", price="1")))], source(2)),
        ([delta(products(product("A", price="1")))], source(3)),   # changes nothing
        ([delta(products(product("C")), deletes=["B"])], source(4)),
    ])

    assert [r.seq for [r] in results] == [2, None, 3]
    assert [(r.upserts, r.deletes, r.unchanged) for [r] in results] == [(1, 0, 0), (0, 0, 1), (1, 1, 0)]
    assert writes == [".publishing", "changes/product/0000000002.jsonl", "changes/product/0000000003.jsonl",
                      "product.jsonl", "product.parquet", "manifest.json"]
    assert [line[:26] for line in change_lines(shop, 3)] == ['{"op":"upsert","sku":"C","', '{"op":"delete","sku":"B"}']
    entry = manifest(shop)["entities"]["product"]
    assert entry["last_seq"] == 3
    assert [s["id"] for s in entry["sources"]] == ["id-1", "id-2", "id-3", "id-4"]


def test_a_batch_of_one_input_is_publish(shop: Path) -> None:
    [[result]] = publish_batch(shop, [([full(products(product("A")))], source(1))])
    assert (result.seq, result.upserts) == (1, 1)
    assert publish_batch(shop, []) == []


def test_a_programming_error_in_any_input_writes_nothing(shop: Path) -> None:
    publish(shop, [full(products(product("A")))], source(1))
    before = outputs_of(shop)
    with pytest.raises(ValueError, match="repeat a key"):
        publish_batch(shop, [([delta(products(product("B")))], source(2)),
                             ([full(products(product("C"), product("C", price="1")))], source(3))])
    with pytest.raises(ValueError, match="one update per entity"):
        publish_batch(shop, [([delta(products(product("B")))], source(2)),
                             ([full(products(product("C"))), full(products(product("D")))], source(3))])
    assert outputs_of(shop) == before
    assert change_files(shop) == ["0000000001.jsonl"]


def test_a_stale_snapshot_inside_a_batch_is_stale_against_the_inputs_before_it(shop: Path) -> None:
    def dated(n: int, date: str) -> SourceRef:
        return SourceRef(id=f"id-{n}", file=f"{n}.csv", sha256=f"{n:064x}", document_date=date)

    results = publish_batch(shop, [
        ([full(products(product("A")))], dated(1, "2026-11-27")),
        ([full(products(product("B")))], dated(2, "2026-11-26")),   # older than 1: stale
        ([full(products(product("C")))], dated(3, "2026-11-27")),   # same day: applies
    ])

    assert [(r.stale, r.seq) for [r] in results] == [(False, 1), (True, None), (False, 2)]
    assert [json.loads(line)["sku"] for line in (shop / "product.jsonl").read_text().splitlines()] == ["C"]


def test_a_schema_change_inside_a_batch_matches_publishing_one_by_one(tmp_path: Path) -> None:
    old = products(product("A"), product("B")).drop_columns(["changed_at"])
    old_update = EntityUpdate("product", ("sku",), old.schema, old, None, "full")
    inputs = [([old_update], source(1)), ([delta(products(product("C")))], source(2)),
              ([EntityUpdate("product", ("sku",), old.schema, old.slice(0, 1), None, "delta")], source(3))]
    single, batched = tmp_path / "single", tmp_path / "batched"
    singles = [publish(single, updates, ref, display_root=single) for updates, ref in inputs]
    assert publish_batch(batched, inputs, display_root=batched) == singles
    assert outputs_of(batched) == outputs_of(single)


def test_results_list_outputs_relative_to_the_display_root(shop: Path, tmp_path: Path) -> None:
    results = publish_batch(shop, [([delta(products(product("A")))], source(1)),
                                   ([delta(products(product("B")))], source(2))], display_root=tmp_path)
    assert results[1] == [EntityResult("product", 1, 0, 0, 2, 2, [
        "outbox/shop/changes/product/0000000002.jsonl", "outbox/shop/product.parquet", "outbox/shop/product.jsonl"])]


def test_an_interrupted_state_rewritten_for_an_empty_delta_has_the_same_bytes_either_way() -> None:
    """Found by the property test above: the state read back from Parquet (whose map field has
    Parquet's inner names) was written as it was by the batch, as the schema says one by one."""
    ref = SourceRef(id="id-0", file="inbox/0.csv", sha256=f"{100:064x}")
    single, batched = one_by_one_and_batched([([delta(products())], ref)], "interrupted", True)
    assert batched == single


def test_a_batch_syncs_its_change_folder_once_not_once_per_change_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from exchanged.publish import commit as commit_module

    synced: list[Path] = []
    real = commit_module.fsync_directory
    monkeypatch.setattr(commit_module, "fsync_directory", lambda folder: (synced.append(Path(folder)), real(folder))[1])
    inputs = [([stock_update(stock_table((f"K{i}", "main", i)))], source(i + 1)) for i in range(5)]
    publish_batch(tmp_path / "shop", inputs)
    assert len(list((tmp_path / "shop" / "changes" / "stock").glob("*.jsonl"))) == 5
    assert synced == [tmp_path / "shop" / "changes" / "stock"]
