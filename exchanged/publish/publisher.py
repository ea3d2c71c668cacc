"""``publish``: merge validated records into the shop outputs (DESIGN §1 "Shop outputs", §5 promise 3).

One call publishes the entities of one input, under the folder's publish lock, in two phases:

1. compute, writing nothing: align schemas, sort by key, render canonical JSON lines, diff
   against the state on disk, build the change file, the new state's JSONL and Parquet bytes
   and their sha256 (Parquet encoding and hashing run in threads beside polars);
2. write, every file atomically (``write_atomic``): all change files, then the state files
   (``<entity>.parquet`` and ``<entity>.jsonl``), then ``manifest.json`` last.

An entity whose state did not change and whose files on disk are the ones the manifest lists is
not rewritten; only its manifest entry (sources, ``updated_at``) is.

Crash safety: ``.publishing`` (a dot file, skipped by watchers and importers) names the entities
whose state files are being replaced; it is written before the first state file and cleared after
the manifest. When it is still there at the next publish, those entities' JSONL is not trusted
to be row-aligned with their Parquet and is rendered again from the Parquet. A crash anywhere
leaves the manifest and every file whole; replaying the input then publishes the same state, its
changes already in the feed (files written before the crash keep their numbers, see
``changes.next_seq``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from exchanged.atomic import write_atomic
from exchanged.errors import output_context
from exchanged.formats.jsonl import jsonl_lines, lines_buffer
from exchanged.formats.parquet import parquet_bytes
from exchanged.publish.changes import Diff, change_file_name, change_parts, diff, next_seq
from exchanged.publish.lock import shop_lock
from exchanged.publish.manifest import entity_entry, read_manifest, utc_now, write_manifest
from exchanged.publish.state import StoredState, align, conform, duplicate_keys, key_text, sort_by_key
from exchanged.publish.update import EntityResult, EntityUpdate, SourceRef

__all__ = ["MARKER", "publish"]

MARKER = ".publishing"

_NONE = np.empty(0, dtype=np.int64)


@dataclass
class _Plan:
    """Everything phase 2 writes for one entity."""

    update: EntityUpdate
    previous: dict[str, Any] | None
    diff: Diff
    records: int
    last_seq: int
    seq: int | None
    change: list[pa.Buffer] | None
    jsonl: pa.Buffer | None  # None: state unchanged on disk, not rewritten
    parquet: Future[pa.Buffer] | None
    jsonl_sha: Future[str] | None


def publish(
    shop_dir: Path,
    updates: list[EntityUpdate],
    source: SourceRef,
    *,
    display_root: Path | None = None,
) -> list[EntityResult]:
    """Publish ``updates`` (one per entity) from ``source`` into ``shop_dir``; one result per update.

    Raises OutputUnavailable (transient) when a file cannot be read or written; ValueError for a
    programming error (two updates for one entity, duplicate keys in the records).
    """
    shop_dir = Path(shop_dir)
    entities = [u.entity for u in updates]
    if len(set(entities)) != len(entities):
        raise ValueError(f"one update per entity, got {entities}")
    if not updates:
        return []
    with shop_lock(shop_dir), ThreadPoolExecutor(max_workers=2, thread_name_prefix="publish") as pool:
        manifest = read_manifest(shop_dir)
        pending = _read_marker(shop_dir)
        plans = [
            _plan(shop_dir, u, manifest["entities"].get(u.entity), pending is None or u.entity in pending, pool)
            for u in updates
        ]
        results = _write(shop_dir, plans, manifest, pending, source, display_root)
    return results


def _plan(shop_dir: Path, update: EntityUpdate, previous: dict[str, Any] | None, interrupted: bool,
          pool: ThreadPoolExecutor) -> _Plan:
    key, schema, full = update.key, update.schema, update.mode == "full"
    records, _ = align(update.records, schema)
    order = sort_by_key(records, key)
    if order is not None:
        records = records.take(order)
    if duplicate_keys(key_text(records, key)):
        raise ValueError(f"{update.entity}: records repeat a key {key}; keys must be unique")
    last_seq = int((previous or {}).get("last_seq", 0))
    highest = next_seq(shop_dir / "changes" / update.entity, last_seq) - 1
    stored = StoredState(shop_dir, update.entity, schema, key, previous, interrupted)
    try:
        if full and stored.equals(records):  # the same snapshot again: nothing to render
            unchanged = Diff(_NONE, _NONE, _NONE, unchanged=records.num_rows)
            return _Plan(update, previous, unchanged, records.num_rows, highest, None, None, None, None, None)
        # A full snapshot's records are the new state: encode the Parquet beside the rendering.
        parquet = pool.submit(parquet_bytes, records, sorted_by=key, statistics=key) if full else None
        record_lines = jsonl_lines(records)
        current, trusted = stored.load(keys_only=full)
    finally:
        stored.close()
    deletes = None
    if update.deletes is not None and not full:
        deletes, _ = align(update.deletes.select(list(key)), pa.schema([schema.field(k) for k in key]))
    d = diff(current.table, current.lines, records, record_lines, deletes, key, full)
    if not d.changed and trusted:
        return _Plan(update, previous, d, current.table.num_rows, highest, None, None, None, None, None)
    seq = highest + 1 if d.changed else None
    change = change_parts(record_lines, current.table, d, key) if d.changed else None
    if full:
        state, lines = records, record_lines
    else:
        state, lines = _merge(current.table, current.lines, d.kept, records, record_lines, key, schema)
        parquet = pool.submit(parquet_bytes, state, sorted_by=key, statistics=key)
    jsonl = lines_buffer(lines)
    return _Plan(update, previous, d, state.num_rows, seq or highest, seq, change, jsonl,
                 parquet=parquet, jsonl_sha=pool.submit(_sha256, jsonl))


def _merge(current: pa.Table, current_lines: pa.Array, kept: np.ndarray, records: pa.Table,
           record_lines: pa.Array, key: tuple[str, ...], schema: pa.Schema) -> tuple[pa.Table, pa.Array]:
    """Delta: the kept current rows and the records, sorted by key, with their lines (one copy each)."""
    common = pa.schema([f.with_nullable(True) for f in schema], metadata=schema.metadata)
    both = pa.concat_tables([current.cast(common), records.cast(common)])
    rows = np.concatenate([kept, current.num_rows + np.arange(records.num_rows)])
    order = sort_by_key(both.select(list(key)).take(pa.array(rows, pa.int64())), key)
    if order is not None:
        rows = rows[order]
    if len(rows) == current.num_rows and np.array_equal(rows, np.arange(len(rows))):
        return conform(current, schema), current_lines
    take = pa.array(rows, pa.int64())
    lines = pa.concat_arrays([current_lines, record_lines]).take(take)  # 2x faster than a chunked take
    return conform(both.take(take), schema), lines


def _write(shop_dir: Path, plans: list[_Plan], manifest: dict[str, Any], pending: set[str] | None,
           source: SourceRef, display_root: Path | None) -> list[EntityResult]:
    show = _display(display_root)
    outputs: dict[str, list[str]] = {p.update.entity: [] for p in plans}
    for p in plans:  # 1. change files
        if p.change is not None and p.seq is not None:
            folder = shop_dir / "changes" / p.update.entity
            with output_context(folder):
                folder.mkdir(parents=True, exist_ok=True)
            write_atomic(folder / change_file_name(p.seq), _parts_writer(p.change))
            outputs[p.update.entity].append(show(folder / change_file_name(p.seq)))
    rewritten = [p.update.entity for p in plans if p.jsonl is not None]
    if rewritten:
        _write_marker(shop_dir, (pending or set()) | set(rewritten))
    now = utc_now()
    for p in plans:  # 2. state files, 3. manifest entries
        entity = p.update.entity
        if p.jsonl is not None and p.parquet is not None and p.jsonl_sha is not None:
            write_atomic(shop_dir / f"{entity}.jsonl", memoryview(p.jsonl))  # ready first
            parquet = p.parquet.result()
            write_atomic(shop_dir / f"{entity}.parquet", memoryview(parquet))
            outputs[entity] += [show(shop_dir / f"{entity}.parquet"), show(shop_dir / f"{entity}.jsonl")]
            sizes = {"parquet": parquet.size, "jsonl": p.jsonl.size}
            sha256 = {"parquet": _sha256(parquet), "jsonl": p.jsonl_sha.result()}
        else:
            assert p.previous is not None  # trusted state implies an entry
            sizes, sha256 = p.previous["bytes"], p.previous["sha256"]
        manifest["entities"][entity] = entity_entry(
            entity=entity, key=p.update.key, records=p.records, sizes=sizes, sha256=sha256,
            last_seq=p.last_seq, source=source, mode=p.update.mode, previous=p.previous, now=now,
        )
    manifest["updated_at"] = now
    write_manifest(shop_dir, manifest)
    if rewritten or pending is None:
        _write_marker(shop_dir, (pending or set()) - set(rewritten))
    return [
        EntityResult(entity=p.update.entity, upserts=len(p.diff.upserts), deletes=len(p.diff.deleted),
                     unchanged=p.diff.unchanged, records=p.records, seq=p.seq, outputs=outputs[p.update.entity])
        for p in plans
    ]


def _read_marker(shop_dir: Path) -> set[str] | None:
    """Entities of an interrupted publish (empty: none); None when the marker cannot be read (all)."""
    try:
        data = json.loads((shop_dir / MARKER).read_bytes())
        return {str(name) for name in data["entities"]}
    except FileNotFoundError:
        return set()
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_marker(shop_dir: Path, entities: set[str]) -> None:
    path = shop_dir / MARKER
    if entities:
        write_atomic(path, json.dumps({"entities": sorted(entities)}).encode() + b"\n")
        return
    with output_context(path):
        path.unlink(missing_ok=True)


def _parts_writer(parts: list[pa.Buffer]) -> Callable[[BinaryIO], None]:
    def write(stream: BinaryIO) -> None:
        for part in parts:
            stream.write(memoryview(part))

    return write


def _sha256(data: Any) -> str:
    return hashlib.sha256(memoryview(data)).hexdigest()


def _display(root: Path | None) -> Callable[[Path], str]:
    """Output paths as the report shows them: relative to ``root`` when under it."""
    base = Path(root).resolve() if root is not None else None

    def show(path: Path) -> str:
        if base is not None:
            try:
                return path.resolve().relative_to(base).as_posix()
            except ValueError:
                pass
        return path.as_posix()

    return show
