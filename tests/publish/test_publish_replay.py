"""Crash replay (DESIGN §5 promise 4): killed at any write, then given the same input again, a publish
finds its own work — every change is in the feed exactly once, and the state files and manifest are
byte for byte those of a run never interrupted.

A crash is ``Crash`` raised just before one write of the publish (``watch_writes``): the marker,
each change file, each state file, the manifest; or just after the last.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from publish_helpers import (Crash, change_files, delta, full, manifest, marker_state, outputs_of, product, products,
                             source, stock_table, stock_update, watch_writes)

from exchanged.publish import EntityResult, EntityUpdate, SourceRef, publish, publish_batch
from exchanged.publish import publisher as publisher_module
from exchanged.publish import marker as marker_module
from exchanged.publish.manifest import MAX_SOURCES
from exchanged.publish.marker import MARKER

def catalogue(n: int, changed: Collection[int] = (), skip: Collection[int] = ()) -> pa.Table:
    return products(*(product(f"S{i:03d}", name=f"Artikel {i}" + (" (neu)" if i in changed else ""),
                              price=f"{i % 7}.50") for i in range(n) if i not in skip))


def stock(*rows: tuple[str, str | None, int]) -> EntityUpdate:
    return stock_update(stock_table(*rows))


Run = Callable[[Path], Any]


def single(updates: list[EntityUpdate], ref: SourceRef) -> Run:
    return lambda shop: publish(shop, updates, ref, display_root=shop)


def batched(*inputs: tuple[list[EntityUpdate], SourceRef]) -> Run:
    return lambda shop: publish_batch(shop, list(inputs), display_root=shop)


def base(shop: Path) -> None:
    publish(shop, [full(catalogue(40))], source(1))


def base_two(shop: Path) -> None:
    publish(shop, [full(catalogue(40)), stock(("S001", "W1", 1), ("S002", None, 2))], source(1))


# name: (setup, the publish that crashes and is replayed, its writes when not interrupted)
SCENARIOS: dict[str, tuple[Callable[[Path], None], Run, list[str]]] = {
    "full snapshot": (base, single([full(catalogue(40, changed={3, 4, 5, 6, 7, 8}, skip={9}))], source(2)), [
        ".publishing", "changes/product/0000000002.jsonl", "product.jsonl", "product.parquet", "manifest.json"]),
    "delta": (base, single([delta(products(product("S003", price="1"), product("X")), deletes=["S004"])], source(2)), [
        ".publishing", "changes/product/0000000002.jsonl", "product.jsonl", "product.parquet", "manifest.json"]),
    "first load": (lambda shop: None, single([full(catalogue(40))], source(1)), [
        ".publishing", "changes/product/0000000001.jsonl", "product.jsonl", "product.parquet", "manifest.json"]),
    "small change": (base, single([full(catalogue(40, changed={17}))], source(2)), [
        ".publishing", "changes/product/0000000002.jsonl", "product.jsonl", "product.parquet", "manifest.json"]),
    "two entities": (base_two, single([full(catalogue(40, changed={1})), stock(("S001", "W1", 5), ("S009", "W2", 1))],
                                      source(2)), [
        ".publishing", "changes/product/0000000002.jsonl", "changes/stock/0000000002.jsonl", "product.jsonl",
        "product.parquet", "stock.jsonl", "stock.parquet", "manifest.json"]),
    # The full snapshot of input 3 drops input 2 from the product's sources: the marker's record tells.
    "batch": (base_two, batched(
        ([delta(products(product("S003", price="1"))), stock(("S001", "W1", 7))], source(2)),
        ([full(catalogue(40, changed={5}))], source(3)),
        ([stock(("S002", None, 0))], source(4)),
        ([delta(products(product("S005", name="Artikel 5 (neu)", price="5.50")))], source(5)),  # changes nothing
    ), [
        ".publishing", "changes/product/0000000002.jsonl", "changes/product/0000000003.jsonl",
        "changes/stock/0000000002.jsonl", "changes/stock/0000000003.jsonl", "product.jsonl", "product.parquet",
        "stock.jsonl", "stock.parquet", "manifest.json"]),
}

# Every boundary between two writes (a crash after one write leaves what a crash before the next
# does), and after the last one.
CRASHES = [pytest.param(name, at, after, id=f"{name}-{'after' if after else 'before'}-{writes[at]}")
           for name, (_, _, writes) in SCENARIOS.items()
           for at, after in [*((at, False) for at in range(len(writes))), (len(writes) - 1, True)]]


@pytest.fixture(autouse=True)
def no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """What is written, and in which order, is tested here, not durability: fsync is skipped (2x faster)."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


def flat(results: Any) -> list[EntityResult]:
    return [r for row in results for r in (row if isinstance(row, list) else [row])]


@pytest.mark.parametrize(("name", "at", "after"), CRASHES)
def test_a_crash_then_the_same_input_again_publishes_each_change_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, at: int, after: bool) -> None:
    setup, run, writes = SCENARIOS[name]
    reference, shop = tmp_path / "reference" / "shop", tmp_path / "crashed" / "shop"
    setup(reference)
    setup(shop)
    with monkeypatch.context() as patch:
        seen = watch_writes(patch, reference)
        expected = run(reference)
    assert seen == writes  # the boundaries this case crashes at
    with monkeypatch.context() as patch:
        watch_writes(patch, shop, crash_at=at, after=after)
        with pytest.raises(Crash):
            run(shop)

    results = run(shop)  # the replay

    assert outputs_of(shop) == outputs_of(reference)  # change feed, state files, manifest (but timestamps)
    committed = at > writes.index("manifest.json") or (after and writes[at] == "manifest.json")
    if committed:  # the manifest was written: the input is published, the replay does nothing
        assert all(r.replayed and r.seq is None for r in flat(results))
    else:
        assert results == expected  # the same seqs and counts as the run never interrupted
    # and the shop goes on exactly as the one never interrupted
    follow = single([full(catalogue(40, changed={2})), stock(("S001", "W1", 9))], source(9))
    assert follow(shop) == follow(reference)
    assert outputs_of(shop) == outputs_of(reference)
    assert marker_state(shop) == marker_state(reference)  # nothing pending, the same inputs kept as applied
    assert not list(shop.glob(".*.committed"))


def test_the_small_change_and_first_load_cases_take_their_fast_paths(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_spliced, real_stream = publisher_module._spliced, publisher_module.open_stream
    monkeypatch.setattr(publisher_module, "_spliced", lambda *a: calls.append("spliced") or real_spliced(*a))
    monkeypatch.setattr(publisher_module, "open_stream",
                        lambda *a, **k: calls.append(f"stream first_load={k['first_load']}") or real_stream(*a, **k))
    for name in ("first load", "small change"):
        setup, run, _ = SCENARIOS[name]
        setup(tmp_path / name)
        calls.clear()
        run(tmp_path / name)
        assert calls == {"first load": ["stream first_load=True"], "small change": ["spliced"]}[name]


def test_a_replay_after_the_manifest_reports_replayed_and_writes_nothing(
        shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish(shop, [full(products(product("A")))], source(1))
    update = delta(products(product("B")))
    publish(shop, [update], source(2))
    before = outputs_of(shop)
    writes = watch_writes(monkeypatch, shop)

    [result] = publish(shop, [update], source(2))

    assert result == EntityResult("product", 0, 0, 0, 2, None, [], replayed=True)
    assert writes == [] and outputs_of(shop) == before


def test_the_same_input_again_after_other_inputs_is_still_replayed_while_its_sources_list_it(shop: Path) -> None:
    publish(shop, [delta(products(product("A")))], source(1))
    publish(shop, [delta(products(product("A", price="2")))], source(2))
    [again] = publish(shop, [delta(products(product("A")))], source(1))  # would undo 2 if applied
    assert again.replayed
    assert json.loads((shop / "product.jsonl").read_text())["price"] == "2"


def test_another_input_after_a_crash_is_published_from_the_committed_state(
        shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish(shop, [full(products(product("A")))], source(1))
    with monkeypatch.context() as patch:
        watch_writes(patch, shop, crash_at=2)  # after the marker and change file 2: before the state files
        with pytest.raises(Crash):
            publish(shop, [full(products(product("B")))], source(2))

    [other] = publish(shop, [full(products(product("C")))], source(3))
    [late] = publish(shop, [full(products(product("B")))], source(2))

    # File 2 (B's, never in the feed: last_seq stayed 1) was removed; each change is in it once.
    assert (other.seq, late.seq) == (2, 3)
    assert change_files(shop) == ["0000000001.jsonl", "0000000002.jsonl", "0000000003.jsonl"]
    feed = [[(line["op"], line["sku"]) for line in map(json.loads, (shop / "changes/product" / name).read_text().splitlines())]
            for name in change_files(shop)]
    assert feed == [[("upsert", "A")], [("upsert", "C"), ("delete", "A")], [("upsert", "B"), ("delete", "C")]]
    assert manifest(shop)["entities"]["product"]["last_seq"] == 3


A, B, C = (([delta(products(product(sku, price="1")))], source(n)) for n, sku in ((2, "S001"), (3, "S002"), (4, "S003")))
# How the daemon may publish the inputs again after a restart: alone, in another order, in other batches.
REPLAYS = {
    "one by one": [[A], [B], [C]],
    "reversed": [[B], [A], [C]],
    "a new input first": [[C], [B, A]],
    "another batch": [[B, C], [A]],
}


@pytest.mark.parametrize("replay", REPLAYS)
@pytest.mark.parametrize("at", range(6))  # the marker, change files 2 and 3, both state files, the manifest
def test_a_batch_interrupted_before_its_manifest_then_published_in_any_shape_is_published_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: int, replay: str) -> None:
    reference, shop = tmp_path / "reference" / "shop", tmp_path / "crashed" / "shop"
    for folder in (reference, shop):
        base(folder)
    with monkeypatch.context() as patch:
        watch_writes(patch, shop, crash_at=at)
        with pytest.raises(Crash):
            publish_batch(shop, [A, B])

    for batch in REPLAYS[replay]:
        replayed, expected = (flat(publish_batch(folder, batch, display_root=folder)) for folder in (shop, reference))
        assert replayed == expected

    assert outputs_of(shop) == outputs_of(reference)  # the feed holds each change once, in the replay's order
    assert marker_state(shop) == marker_state(reference)
    assert not list(shop.glob(".*.committed"))


def test_an_input_a_later_full_snapshot_dropped_from_the_sources_is_still_replayed(shop: Path) -> None:
    base(shop)
    old = ([delta(products(product("S001", price="1")))], source(2))
    publish(shop, *old)
    publish(shop, [full(catalogue(40))], source(3))  # the sources now list input 3 only

    [again] = publish(shop, *old)  # e.g. its ledger row was lost to a crash: it would undo input 3

    assert again.replayed and again.seq is None
    assert json.loads((shop / "product.jsonl").read_text().splitlines()[1])["price"] == "1.5"  # input 3's


def test_an_input_older_than_the_last_sources_is_still_replayed(shop: Path) -> None:
    publish(shop, [delta(products(product("A", price="1")))], source(1))
    for n in range(2, 2 + MAX_SOURCES + 5):
        publish(shop, [delta(products(product(f"B{n}")))], source(n))
    assert source(1).sha256 not in {s["sha256"] for s in manifest(shop)["entities"]["product"]["sources"]}

    [again] = publish(shop, [delta(products(product("A", price="1")))], source(1))

    assert again.replayed


def test_an_input_its_caller_has_settled_is_no_longer_kept(shop: Path) -> None:
    recorded: set[str] = set()
    publish(shop, [delta(products(product("A")))], source(1), settled=recorded.intersection)
    recorded.add(source(1).id)  # the caller (the daemon's ledger) recorded input 1
    publish(shop, [delta(products(product("B")))], source(2), settled=recorded.intersection)

    assert marker_state(shop)[1] == [source(2).sha256]  # input 2's record, committed; 1 forgotten
    before = outputs_of(shop)
    publish(shop, [delta(products(product("C")))], source(3), settled=lambda ids: ids)
    assert marker_state(shop)[1] == [source(3).sha256]
    assert outputs_of(shop) != before


def test_without_a_caller_that_settles_the_last_inputs_are_kept(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(marker_module, "MAX_APPLIED", 3)
    for n in range(1, 7):
        publish(shop, [delta(products(product(f"S{n}")))], source(n))
    assert marker_state(shop)[1] == [source(n).sha256 for n in (4, 5, 6)]


def test_an_old_marker_is_read(shop: Path) -> None:
    publish(shop, [full(products(product("A")))], source(1))
    (shop / MARKER).write_text('{"entities": ["product"]}\n')
    [result] = publish(shop, [full(products(product("A"), product("B")))], source(2))
    assert (result.upserts, result.seq) == (1, 2)
    assert marker_state(shop) == (frozenset(), [source(2).sha256], True)


def test_a_version_2_marker_of_a_committed_publish_is_read(shop: Path) -> None:
    publish(shop, [full(products(product("A")))], source(1))
    update = delta(products(product("B")))
    publish(shop, [update], source(2))
    applied = {"seq": 2, "upserts": 1, "deletes": 0, "unchanged": 0, "records": 2, "rewrote": True}
    (shop / MARKER).write_text(json.dumps({"version": 2, "entities": ["product"], "publish": {
        "updated_at": manifest(shop)["updated_at"], "rewrites": ["product"],
        "inputs": [{"sha256": source(2).sha256, "entities": {"product": applied}}]}}))
    publish(shop, [full(products(product("C")))], source(3))  # the sources no longer list input 2

    [again] = publish(shop, [update], source(2))

    assert again.replayed


def test_an_unreadable_marker_leaves_a_change_file_it_cannot_explain_alone(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish(shop, [full(products(product("A")))], source(1))
    with monkeypatch.context() as patch:
        watch_writes(patch, shop, crash_at=2)
        with pytest.raises(Crash):
            publish(shop, [full(products(product("B")))], source(2))
    data = json.loads((shop / MARKER).read_text())
    data["publish"]["inputs"] = "garbage"
    (shop / MARKER).write_text(json.dumps(data))

    [result] = publish(shop, [full(products(product("B")))], source(2))

    assert result.seq == 3
