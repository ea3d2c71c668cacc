"""Full snapshots stream their JSONL (and on a first load the change file) while rendering: the bytes
are those of rendering everything first, and a failure anywhere leaves no file behind."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import threading
import time
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from publish_helpers import (PRODUCT, UTC, change_files, change_lines, full, manifest, product, products, source,
                             state_rows)

from exchanged import atomic
from exchanged.errors import OutputUnavailable
from exchanged.formats.jsonl_render import ndjson_bytes as _ndjson
from exchanged.publish import publish
from exchanged.publish import commit as commit_module
from exchanged.publish import stream as stream_module
from exchanged.publish.publisher import MARKER
from exchanged.publish.state import StoredState, align, strictly_ascending


@pytest.fixture(autouse=True)
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Render 7 lines at a time, so that a few dozen records stream in many parts."""
    monkeypatch.setattr(stream_module, "_PART_ROWS", 7)


def catalogue(n: int, changed: set[int] = frozenset(), skip: set[int] = frozenset()) -> pa.Table:  # type: ignore[assignment]
    rows = []
    for i in range(n):
        if i in skip:
            continue
        rows.append(product(
            f"S{i:04d}", name=f'Artikel {i} "{i % 3}"' + (" (neu)" if i in changed else ""),
            price=None if i % 9 == 0 else f"{i % 5}.{i % 10}0",
            attributes=[("farbe", "rot")] if i % 4 == 0 else [], active=i % 6 != 0,
            changed_at=dt.datetime(2026, 11, 27, 8, i % 60, tzinfo=UTC) if i % 2 else None))
    return products(*reversed(rows))


def dot_files(folder: Path) -> list[str]:
    """Temporary files left in ``folder`` and below (the lock and the marker are expected)."""
    return sorted(p.name for p in folder.rglob(".*") if p.name not in (".publish.lock", MARKER))


def test_a_first_load_streams_the_state_and_the_change_file_as_rendering_all_first_would(shop: Path) -> None:
    table = catalogue(50)

    [result] = publish(shop, [full(table)], source(1))

    expected = _ndjson(table.sort_by("sku"))  # the reference renderer, all at once
    assert (shop / "product.jsonl").read_bytes() == expected
    upserts = [b'{"op":"upsert",' + line[1:] for line in expected.split(b"\n")[:-1]]
    assert (shop / "changes/product/0000000001.jsonl").read_bytes() == b"\n".join(upserts) + b"\n"
    assert (result.upserts, result.deletes, result.unchanged, result.records, result.seq) == (50, 0, 0, 50, 1)
    entry = manifest(shop)["entities"]["product"]
    assert entry["sha256"]["jsonl"] == hashlib.sha256(expected).hexdigest()
    assert entry["bytes"]["jsonl"] == len(expected)
    parquet_rows, jsonl_rows = state_rows(shop)
    assert parquet_rows == jsonl_rows
    assert dot_files(shop) == []


def test_a_changed_snapshot_with_the_same_keys_lists_exactly_the_changed_records(shop: Path) -> None:
    publish(shop, [full(catalogue(50))], source(1))

    [result] = publish(shop, [full(catalogue(50, changed={3, 17, 48}))], source(2))

    assert (result.upserts, result.deletes, result.unchanged, result.seq) == (3, 0, 47, 2)
    assert [line[:30] for line in change_lines(shop, 2)] == [
        '{"op":"upsert","sku":"S0003","', '{"op":"upsert","sku":"S0017","', '{"op":"upsert","sku":"S0048","']
    assert (shop / "product.jsonl").read_bytes() == _ndjson(catalogue(50, changed={3, 17, 48}).sort_by("sku"))
    parquet_rows, jsonl_rows = state_rows(shop)
    assert parquet_rows == jsonl_rows
    assert dot_files(shop) == []


def test_a_changed_snapshot_with_new_and_missing_keys(shop: Path) -> None:
    publish(shop, [full(catalogue(50, skip={10}))], source(1))

    [result] = publish(shop, [full(catalogue(50, changed={20}, skip={30, 31}))], source(2))

    assert (result.upserts, result.deletes, result.unchanged, result.records) == (2, 2, 46, 48)
    assert [line[:30] for line in change_lines(shop, 2)] == [
        '{"op":"upsert","sku":"S0010","', '{"op":"upsert","sku":"S0020","',
        '{"op":"delete","sku":"S0030"}', '{"op":"delete","sku":"S0031"}']
    parquet_rows, jsonl_rows = state_rows(shop)
    assert parquet_rows == jsonl_rows


def fail_writes_after(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    """Staged files accept ``count`` writes, then the disk is full."""
    calls = [0]

    def failing(real):  # type: ignore[no-untyped-def]
        def write(self: atomic.StagedFile, data: object) -> None:
            calls[0] += 1
            if calls[0] > count:
                raise OutputUnavailable(f"cannot write {self.path}: {errno.errorcode[errno.ENOSPC]}")
            real(self, data)
        return write

    monkeypatch.setattr(atomic.StagedFile, "write", failing(atomic.StagedFile.write))
    monkeypatch.setattr(atomic.StagedFile, "write_all", failing(atomic.StagedFile.write_all))


@pytest.mark.parametrize("count", [0, 3])
def test_a_failing_write_while_streaming_a_first_load_leaves_nothing(
        shop: Path, monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    with monkeypatch.context() as patch:
        fail_writes_after(patch, count)
        with pytest.raises(OutputUnavailable, match="No space left|ENOSPC"):
            publish(shop, [full(catalogue(50))], source(1))

    assert not (shop / "manifest.json").exists() and not (shop / "product.jsonl").exists()
    assert change_files(shop) == []
    assert dot_files(shop) == []
    [result] = publish(shop, [full(catalogue(50))], source(1))  # the retry
    assert (result.upserts, result.seq) == (50, 1)


@pytest.mark.parametrize(("changed", "count"), [({1}, 0), (set(range(0, 50, 2)), 0), (set(range(0, 50, 2)), 3)])
def test_a_failing_write_while_streaming_a_changed_snapshot_keeps_the_published_state(
        shop: Path, monkeypatch: pytest.MonkeyPatch, changed: set[int], count: int) -> None:
    publish(shop, [full(catalogue(50))], source(1))
    before = {name: (shop / name).read_bytes() for name in ("product.jsonl", "product.parquet", "manifest.json")}

    with monkeypatch.context() as patch:
        fail_writes_after(patch, count)
        with pytest.raises(OutputUnavailable):
            publish(shop, [full(catalogue(50, changed=changed))], source(2))

    assert {name: (shop / name).read_bytes() for name in before} == before
    assert change_files(shop) == ["0000000001.jsonl"]
    assert dot_files(shop) == []


def test_a_failing_rename_after_streaming_removes_the_staged_files(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = commit_module.write_atomic

    def failing(path: Path, data: object) -> None:
        if str(path).endswith("product.jsonl"):
            raise OutputUnavailable(f"cannot write {path}: {errno.errorcode[errno.EIO]}")
        real(path, data)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(commit_module, "write_atomic", failing)
        with pytest.raises(OutputUnavailable):
            publish(shop, [full(catalogue(20))], source(1))

    assert change_files(shop) == ["0000000001.jsonl"]  # renamed before the state files, as any change file
    assert dot_files(shop) == []
    assert not (shop / "manifest.json").exists()
    written = change_lines(shop, 1)
    [result] = publish(shop, [full(catalogue(20))], source(1))  # the same input again: its own number
    assert (result.seq, result.upserts) == (1, 20)
    assert change_files(shop) == ["0000000001.jsonl"] and change_lines(shop, 1) == written
    [other] = publish(shop, [full(catalogue(20, changed={3}))], source(2))
    assert other.seq == 2


def test_an_error_while_rendering_removes_the_staged_files(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(table: pa.Table, rows: int = 1):  # type: ignore[no-untyped-def]
        yield from []
        raise RuntimeError("renderer failed")

    monkeypatch.setattr(stream_module, "jsonl_parts", broken)
    with pytest.raises(RuntimeError, match="renderer failed"):
        publish(shop, [full(catalogue(20))], source(1))
    assert dot_files(shop) == []
    assert change_files(shop) == []


def test_the_replaced_state_file_is_released(shop: Path) -> None:
    publish(shop, [full(catalogue(30))], source(1))
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None

    publish(shop, [full(catalogue(30, changed={5}))], source(2))

    deadline = time.monotonic() + 10
    while any(t.name == "publish-release" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) <= before
    parquet_rows, jsonl_rows = state_rows(shop)
    assert parquet_rows == jsonl_rows


def test_strictly_ascending_keys_need_neither_sorting_nor_a_duplicate_check(shop: Path) -> None:
    table = products(product("A"), product("B"), product("C"))
    assert strictly_ascending(table, ("sku",))
    assert not strictly_ascending(products(product("A"), product("A", price="1")), ("sku",))
    assert not strictly_ascending(products(product("B"), product("A")), ("sku",))
    assert not strictly_ascending(table, ("sku", "name"))
    with pytest.raises(ValueError, match="repeat a key"):
        publish(shop, [full(products(product("A"), product("B"), product("A", price="1")))], source(1))
    with pytest.raises(ValueError, match="repeat a key"):
        publish(shop, [full(products(product("A"), product("A", price="1"), product("B")))], source(1))


def test_decimal_and_text_columns_with_few_values_render_like_the_reference(shop: Path) -> None:
    rows = [product(f"S{i:05d}", name="Schraube" if i % 2 else 'Mutter "M8"',
                    price=None if i % 50 == 0 else str(Decimal(i % 7) / 4)) for i in range(2000)]
    publish(shop, [full(products(*rows))], source(1))
    assert (shop / "product.jsonl").read_bytes() == _ndjson(products(*rows))


def expected_changes(table: pa.Table, rows: list[int]) -> list[str]:
    lines = _ndjson(table.sort_by("sku")).decode().split("\n")[:-1]
    return ['{"op":"upsert",' + lines[i][1:] for i in rows]


@pytest.mark.parametrize("changed", [{0}, {49}, {0, 1, 2}, {5, 6, 20, 21, 22, 48, 49}, {24}])
def test_a_few_changed_records_swap_their_lines_into_the_published_jsonl(shop: Path, changed: set[int]) -> None:
    publish(shop, [full(catalogue(50))], source(1))
    snapshot = catalogue(50, changed=changed)

    [result] = publish(shop, [full(snapshot)], source(2))

    assert (result.upserts, result.deletes, result.unchanged, result.records) == (len(changed), 0, 50 - len(changed), 50)
    assert (shop / "product.jsonl").read_bytes() == _ndjson(snapshot.sort_by("sku"))
    assert change_lines(shop, 2) == expected_changes(snapshot, sorted(changed))
    entry = manifest(shop)["entities"]["product"]
    assert entry["sha256"]["jsonl"] == hashlib.sha256((shop / "product.jsonl").read_bytes()).hexdigest()
    assert dot_files(shop) == []


def test_each_kind_of_change_among_many_unchanged_records(shop: Path) -> None:
    base = [product(f"S{i:03d}", price="1.50", attributes=[("a", "1")] if i == 7 else [],
                    changed_at=dt.datetime(2026, 1, 1, tzinfo=UTC) if i % 2 else None) for i in range(40)]
    publish(shop, [full(products(*base))], source(1))
    variants = [
        (3, {"name": "other"}), (4, {"price": Decimal("1.51")}), (5, {"price": None}),
        (6, {"active": False}), (1, {"changed_at": dt.datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC)}),
        (2, {"changed_at": dt.datetime(2026, 1, 1, tzinfo=UTC)}),  # null -> a value
        (7, {"attributes": [("a", "2")]}),  # a map: compared whole, so every line is rendered again
    ]
    for n, (i, change) in enumerate(variants):
        rows = [dict(row) for row in base]
        rows[i].update(change)
        snapshot = products(*rows)
        [result] = publish(shop, [full(snapshot)], source(2 * n + 2))
        assert (result.upserts, result.unchanged, result.seq) == (1, 39, 2 * n + 2), change
        assert change_lines(shop, result.seq) == expected_changes(snapshot, [i]), change
        assert (shop / "product.jsonl").read_bytes() == _ndjson(snapshot)
        [back] = publish(shop, [full(products(*base))], source(2 * n + 3))
        assert (back.upserts, back.seq) == (1, 2 * n + 3), change
        assert (shop / "product.jsonl").read_bytes() == _ndjson(products(*base))


def test_equal_decimals_with_other_trailing_zeros_are_no_change(shop: Path) -> None:
    rows = [product(f"S{i:03d}", price="19.9") for i in range(20)]
    publish(shop, [full(products(*rows))], source(1))
    again = [product(f"S{i:03d}", price="19.900" if i % 2 else "19.90000") for i in range(20)]
    [result] = publish(shop, [full(products(*again))], source(2))
    assert (result.upserts, result.unchanged, result.seq) == (0, 20, None)


def test_changed_rows_pairs_rows_only_with_the_same_keys_and_comparable_columns(shop: Path) -> None:
    base = [product(f"S{i}", price="2.50") for i in range(6)]
    publish(shop, [full(products(*base))], source(1))
    entry = manifest(shop)["entities"]["product"]

    def changed(rows: list[dict]) -> list[int] | None:
        stored = StoredState(shop, "product", PRODUCT, ("sku",), entry, False)
        try:
            mask = stored.changed_rows(align(products(*rows), PRODUCT)[0])
        finally:
            stored.close()
        return None if mask is None else [int(i) for i in mask.nonzero()[0]]

    assert changed(base) == []
    assert changed([*base[:2], {**base[2], "name": "x"}, {**base[3], "price": None}, *base[4:]]) == [2, 3]
    assert changed([*base[:5], {**base[5], "price": Decimal("2.5000")}]) == []  # equal values
    assert changed([*base[:5], product("S9")]) is None  # another key
    assert changed(base[:5]) is None  # another number of rows
    assert changed([{**base[0], "attributes": [("a", "b")]}, *base[1:]]) is None  # a map: compared whole
