"""Crashes and faults mid-publish: every file stays whole, and the next publish undoes the failed one."""

from __future__ import annotations

import errno
import hashlib
import json
import threading
from pathlib import Path

import pytest
from publish_helpers import (change_files, change_lines, full, manifest, marker_state, product, products, source,
                             state_rows, stock_table, stock_update)

from exchanged.errors import OutputUnavailable
from exchanged.publish import manifest as manifest_module
from exchanged.publish import publish
from exchanged.publish import commit as commit_module
from exchanged.publish.publisher import MARKER


def fail_on(monkeypatch: pytest.MonkeyPatch, module: object, suffix: str) -> None:
    """Make ``write_atomic`` in ``module`` fail (disk full) for paths ending in ``suffix``."""
    real = module.write_atomic  # type: ignore[attr-defined]

    def failing(path: Path, data: object) -> None:
        if str(path).endswith(suffix):
            raise OutputUnavailable(f"cannot write {path}: {errno.errorcode[errno.ENOSPC]}")
        real(path, data)

    monkeypatch.setattr(module, "write_atomic", failing)


def assert_consistent(shop: Path) -> None:
    """The manifest's sizes and sha256 are the files', and the JSONL is the Parquet row by row."""
    entry = manifest(shop)["entities"]["product"]
    for kind in ("parquet", "jsonl"):
        content = (shop / entry[kind]).read_bytes()
        assert (len(content), hashlib.sha256(content).hexdigest()) == (entry["bytes"][kind], entry["sha256"][kind])
    parquet_rows, jsonl_rows = state_rows(shop)
    assert parquet_rows == jsonl_rows
    pending, _, committed = marker_state(shop)
    assert pending == frozenset() and committed


def test_failing_manifest_write_then_retry(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish(shop, [full(products(product("A")))], source(1))
    before = (shop / "manifest.json").read_bytes()
    snapshot = products(product("A", price="2"), product("B"))

    with monkeypatch.context() as patch:
        fail_on(patch, manifest_module, "manifest.json")
        with pytest.raises(OutputUnavailable):
            publish(shop, [full(snapshot)], source(2))
    assert (shop / "manifest.json").read_bytes() == before  # readers still see the old publish
    assert change_files(shop) == ["0000000001.jsonl", "0000000002.jsonl"]
    marker = json.loads((shop / MARKER).read_text())
    assert marker["entities"] == ["product"]
    assert marker["publish"]["inputs"] == [{"sha256": source(2).sha256, "id": "id-2", "entities": ["product"]}]

    [result] = publish(shop, [full(snapshot)], source(2))  # the retry of the same input

    # The failed publish was undone (its state files put back, change file 2 removed): the retry
    # publishes the input as the first time.
    assert (result.upserts, result.unchanged, result.seq, result.replayed) == (2, 0, 2, False)
    assert change_files(shop) == ["0000000001.jsonl", "0000000002.jsonl"]
    assert manifest(shop)["entities"]["product"]["last_seq"] == 2
    assert_consistent(shop)


def test_failing_parquet_write_leaves_jsonl_ahead_then_retry(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish(shop, [full(products(product("A"), product("B")))], source(1))
    snapshot = products(product("A", price="2"), product("C"))

    with monkeypatch.context() as patch:
        fail_on(patch, commit_module, ".parquet")
        with pytest.raises(OutputUnavailable):
            publish(shop, [full(snapshot)], source(2))
    # product.jsonl is already the new state, product.parquet still the old one: not row-aligned.
    written = change_lines(shop, 2)

    [result] = publish(shop, [full(snapshot)], source(2))

    assert (result.upserts, result.deletes, result.seq) == (2, 1, 2)  # the same input: its own number again
    assert change_files(shop) == ["0000000001.jsonl", "0000000002.jsonl"]
    assert change_lines(shop, 2) == written
    assert manifest(shop)["entities"]["product"]["last_seq"] == 2
    assert_consistent(shop)


def test_another_input_after_a_failure_is_diffed_against_the_committed_state(
        shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish(shop, [full(products(product("A"), product("B")))], source(1))
    with monkeypatch.context() as patch:
        fail_on(patch, commit_module, ".parquet")
        with pytest.raises(OutputUnavailable):
            publish(shop, [full(products(product("A", price="2")))], source(2))

    [result] = publish(shop, [full(products(product("A", price="3")))], source(3))

    # Change file 2 was never part of the feed (the manifest's last_seq stayed 1): it is replaced
    # by what input 3 changed relative to the state readers saw, B included.
    assert (result.upserts, result.deletes, result.seq) == (1, 1, 2)
    assert [json.loads(line)["op"] for line in change_lines(shop, 2)] == ["upsert", "delete"]
    assert manifest(shop)["entities"]["product"]["last_seq"] == 2
    assert_consistent(shop)


def test_failing_change_file_write_writes_no_state(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish(shop, [full(products(product("A")))], source(1))
    state = (shop / "product.parquet").read_bytes(), (shop / "product.jsonl").read_bytes()

    with monkeypatch.context() as patch:
        fail_on(patch, commit_module, "0000000002.jsonl")
        with pytest.raises(OutputUnavailable):
            publish(shop, [full(products(product("B")))], source(2))

    assert ((shop / "product.parquet").read_bytes(), (shop / "product.jsonl").read_bytes()) == state
    assert change_files(shop) == ["0000000001.jsonl"]
    assert json.loads((shop / MARKER).read_text())["publish"]["inputs"][0]["sha256"] == source(2).sha256
    [result] = publish(shop, [full(products(product("B")))], source(2))
    assert (result.upserts, result.deletes, result.seq) == (1, 1, 2)
    assert_consistent(shop)


def test_a_marker_left_by_a_crash_makes_the_jsonl_untrusted(shop: Path) -> None:
    publish(shop, [full(products(product("A", price="1"), product("B", price="2")))], source(1))
    # A crash between state files: same size, but the JSONL rows no longer match the Parquet's.
    lines = (shop / "product.jsonl").read_text().splitlines(keepends=True)
    (shop / "product.jsonl").write_text(lines[0].replace('"1"', '"3"') + lines[1])
    (shop / MARKER).write_text('{"entities": ["product"]}\n')

    [result] = publish(shop, [full(products(product("A", price="1"), product("B", price="2")))], source(2))

    assert (result.upserts, result.seq) == (0, None)  # compared with the Parquet, not the stale JSONL
    assert_consistent(shop)


def test_a_jsonl_of_another_size_than_the_manifest_says_is_untrusted(shop: Path) -> None:
    publish(shop, [full(products(product("A"), product("B")))], source(1))
    (shop / "product.jsonl").write_bytes(b"")

    [result] = publish(shop, [full(products(product("A"), product("B")))], source(2))

    assert (result.upserts, result.seq) == (0, None)
    assert_consistent(shop)


def test_a_reader_never_sees_a_torn_file(shop: Path) -> None:
    publish(shop, [full(products(product("A")))], source(0))
    published = {manifest(shop)["entities"]["product"]["sha256"]["jsonl"]}
    seen: set[str] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.add(hashlib.sha256((shop / "product.jsonl").read_bytes()).hexdigest())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(1, 30):
            rows = [product(f"S{i:04d}", price=str(n)) for i in range(n * 20)]
            publish(shop, [full(products(*rows))], source(n))
            published.add(manifest(shop)["entities"]["product"]["sha256"]["jsonl"])
    finally:
        done.set()
        reader.join()
    assert seen <= published  # every read was a complete file of some publish


def test_a_marker_for_another_entity_survives_until_that_entity_is_republished(shop: Path) -> None:
    publish(shop, [full(products(product("A")))], source(1))
    (shop / MARKER).write_text('{"entities": ["stock"]}\n')

    publish(shop, [full(products(product("B")))], source(2))

    assert marker_state(shop)[0] == frozenset({"stock"})


def test_the_next_publish_puts_back_the_state_files_an_interrupted_one_replaced(
        shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish(shop, [full(products(product("A"), product("B")))], source(1))
    committed = {name: (shop / name).read_bytes() for name in ("product.jsonl", "product.parquet")}
    with monkeypatch.context() as patch:
        fail_on(patch, manifest_module, "manifest.json")  # both state files replaced, no manifest
        with pytest.raises(OutputUnavailable):
            publish(shop, [full(products(product("C")))], source(2))
    assert (shop / "product.parquet").read_bytes() != committed["product.parquet"]

    publish(shop, [stock_update(stock_table(("A", "W1", 1)))], source(3))  # another entity only

    assert {name: (shop / name).read_bytes() for name in committed} == committed  # what the manifest names
    assert change_files(shop) == ["0000000001.jsonl"]  # the interrupted publish's change file is gone
    assert not list(shop.glob(".*.committed"))
    # Whether its JSONL was row-aligned before is not recorded: it stays untrusted until rewritten.
    assert marker_state(shop)[0] == frozenset({"product"})
    publish(shop, [full(products(product("A"), product("B")))], source(4))
    assert_consistent(shop)
