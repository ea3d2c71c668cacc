"""``publish``: merge validated records into the shop outputs (DESIGN §1 "Shop outputs", §5 promise 3).

One call publishes the entities of one input, under the folder's publish lock, in two phases:

1. compute, replacing nothing: align schemas, sort by key, render canonical JSON lines, diff
   against the state on disk, build the change file, the new state's JSONL and Parquet bytes
   and their sha256 (Parquet encoding and hashing run in threads beside polars);
2. write, every file atomically (``write_atomic``): all change files, then the state files
   (``<entity>.parquet`` and ``<entity>.jsonl``), then ``manifest.json`` last.

A full snapshot's lines are its new state's JSONL: they are written to a staged temporary file
(``atomic.StagedFile``, a dot file beside the target) and hashed while they render (``EntityStream``),
and on a first load (no state on disk: every record an upsert, in key order) so is the change
file. Phase 2 then only renames them into place, in the same order as any other write, once every
stream is written and synced. Measured with 1,000,000 products on the 2-core machine, this
overlaps the sha256 of the JSONL (≈0.6 s, the longest single task) and the writes with the
rendering instead of running them after it. A full snapshot with the published keys that changes
few records renders only those and swaps their lines into the trusted JSONL (``_spliced``); one
identical to the published state renders nothing.

An entity whose state did not change and whose files on disk are the ones the manifest lists is
not rewritten; only its manifest entry (sources, ``updated_at``) is.

Crash safety: ``.publishing`` (a dot file, skipped by watchers and importers) names the entities
whose state files are being replaced; it is written before the first state file and cleared after
the manifest. When it is still there at the next publish, those entities' JSONL is not trusted
to be row-aligned with their Parquet and is rendered again from the Parquet. A crash anywhere
leaves the manifest and every file whole (a staged file left by a crash is a dot file nobody
reads); replaying the input then publishes the same state, its changes already in the feed (files
written before the crash keep their numbers, see ``changes.next_seq``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from exchanged.atomic import StagedFile, write_atomic
from exchanged.errors import output_context
from exchanged.formats.jsonl import jsonl_lines, lines_buffer
from exchanged.formats.parquet import parquet_bytes
from exchanged.publish.changes import Diff, change_file_name, change_parts, diff, next_seq, upsert_lines
from exchanged.publish.lock import shop_lock
from exchanged.publish.manifest import entity_entry, read_manifest, utc_now, write_manifest
from exchanged.publish.retain import with_retained
from exchanged.publish.stream import EntityStream, hold_file, open_stream, release_files
from exchanged.publish.state import (CurrentState, StoredState, align, conform, duplicate_keys, key_text,
                                     sort_by_key, strictly_ascending)
from exchanged.publish.update import EntityResult, EntityUpdate, SourceRef

__all__ = ["MARKER", "publish"]

MARKER = ".publishing"

_NONE = np.empty(0, dtype=np.int64)
_FEW_CHANGES = 8        # a snapshot changing at most 1 row in 8 of the published ones renders only those
_BATCH = 512            # slices of JSONL text per hand-over to the writing and hashing threads


@dataclass
class _Plan:
    """Everything phase 2 writes for one entity."""

    update: EntityUpdate
    previous: dict[str, Any] | None
    diff: Diff
    records: int
    last_seq: int
    seq: int | None
    change: list[pa.Buffer] | StagedFile | None
    jsonl: pa.Buffer | EntityStream | None  # None: state unchanged on disk, not rewritten
    parquet: Future[tuple[pa.Buffer, str]] | None
    jsonl_sha: Future[str] | None

    def discard(self) -> None:
        if isinstance(self.jsonl, EntityStream):
            self.jsonl.discard()


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
        plans: list[_Plan] = []
        try:
            for u in updates:
                plans.append(_plan(shop_dir, u, manifest["entities"].get(u.entity),
                                   pending is None or u.entity in pending, pool))
            results = _write(shop_dir, plans, manifest, pending, source, display_root)
        finally:
            for plan in plans:  # staged files not renamed into place (after a failure)
                plan.discard()
    return results


def _plan(shop_dir: Path, update: EntityUpdate, previous: dict[str, Any] | None, interrupted: bool,
          pool: ThreadPoolExecutor) -> _Plan:
    key, schema, full = update.key, update.schema, update.mode == "full"
    records, _ = align(update.records, schema)
    if full:  # rows the snapshot sent but dropped as invalid keep their published record
        records = with_retained(shop_dir, update.entity, key, schema, records, update.retain)
    if not strictly_ascending(records, key):  # else already sorted, and no key repeats
        order = sort_by_key(records, key)
        if order is not None:
            records = records.take(order)
        if duplicate_keys(key_text(records, key)):
            raise ValueError(f"{update.entity}: records repeat a key {key}; keys must be unique")
    last_seq = int((previous or {}).get("last_seq", 0))
    highest = next_seq(shop_dir / "changes" / update.entity, last_seq) - 1
    stored = StoredState(shop_dir, update.entity, schema, key, previous, interrupted)
    stream: EntityStream | None = None
    loading: Future[tuple[CurrentState, bool]] | None = None
    try:
        try:
            if full and stored.trusted:  # its lines are needed unless nothing changed: cut them meanwhile
                pool.submit(stored.lines)
            changed = stored.changed_rows(records) if full else None
            if changed is not None and not changed.any():  # the same snapshot again: nothing to render
                unchanged = Diff(_NONE, _NONE, _NONE, unchanged=records.num_rows)
                return _Plan(update, previous, unchanged, records.num_rows, highest, None, None, None, None, None)
            # A full snapshot's records are the new state: encode the Parquet beside the rendering.
            parquet = pool.submit(_parquet, records, key) if full else None
            if changed is not None and np.count_nonzero(changed) * _FEW_CHANGES <= records.num_rows:
                old_lines = stored.lines()
                if old_lines is not None:
                    assert parquet is not None
                    return _spliced(shop_dir, update, previous, records, changed, old_lines, highest + 1, parquet)
            if full and records.num_rows and stored.file is None:
                # No state on disk (a first load): every record is an upsert, in key order, which is
                # what diff would find; the change file is the JSONL's lines, streamed beside it.
                seq = highest + 1
                stream = open_stream(shop_dir, update.entity, first_load=True, seq=seq)
                stream.render(records, keep=False)
                upserts = Diff(np.arange(records.num_rows), _NONE, _NONE, unchanged=0)
                return _Plan(update, previous, upserts, records.num_rows, seq, seq, stream.change, stream,
                             parquet, None)
            if full and records.num_rows:
                # The state on disk is read (its keys and JSONL lines) beside the rendering.
                stream = open_stream(shop_dir, update.entity, first_load=False, seq=highest + 1)
                loading = pool.submit(stored.load, keys_only=True)
                record_lines: pa.Array | pa.ChunkedArray | None = stream.render(records, keep=True)
                assert record_lines is not None
                current, trusted = loading.result()
            else:
                record_lines = jsonl_lines(records)
                current, trusted = stored.load(keys_only=full)
        finally:
            if loading is not None:
                wait([loading])  # before closing the file it reads
            stored.close()
        deletes = None
        if update.deletes is not None and not full:
            deletes, _ = align(update.deletes.select(list(key)), pa.schema([schema.field(k) for k in key]))
        d = diff(current.table, current.lines, records, record_lines, deletes, key, full)
        if not d.changed and trusted:
            if stream is not None:
                stream.discard()
            return _Plan(update, previous, d, current.table.num_rows, highest, None, None, None, None, None)
        seq = highest + 1 if d.changed else None
        change = change_parts(record_lines, current.table, d, key) if d.changed else None
        if full:
            state, lines = records, record_lines
        else:
            state, lines = _merge(current.table, current.lines, d.kept, records, record_lines, key, schema)
            parquet = pool.submit(_parquet, state, key)
        if stream is not None:
            return _Plan(update, previous, d, state.num_rows, seq or highest, seq, change, stream, parquet, None)
        jsonl = lines_buffer(lines)
        return _Plan(update, previous, d, state.num_rows, seq or highest, seq, change, jsonl,
                     parquet=parquet, jsonl_sha=pool.submit(_sha256, jsonl))
    except BaseException:
        if stream is not None:
            stream.discard()
        raise


def _spliced(shop_dir: Path, update: EntityUpdate, previous: dict[str, Any] | None, records: pa.Table,
             changed: np.ndarray, old_lines: pa.LargeStringArray, seq: int,
             parquet: Future[tuple[pa.Buffer, str]]) -> _Plan:
    """A full snapshot with the published keys in the same order and few ``changed`` rows: only
    those are rendered; the new JSONL is the trusted old one with their lines swapped in.

    Byte for byte what rendering every record gives: a row whose values all equal the stored
    row's (``StoredState.changed_rows``) has the same canonical line, the one the trusted JSONL
    holds. The diff is the same too: the changed rows are the upserts, nothing is deleted.
    """
    rows = np.flatnonzero(changed)
    new_lines = jsonl_lines(records.take(pa.array(rows, pa.int64())))
    stream = EntityStream(shop_dir / f"{update.entity}.jsonl", None)
    try:
        stream.feed(_swapped(old_lines, new_lines, rows), keep=False)
    except BaseException:
        stream.discard()
        raise
    change = [lines_buffer(upsert_lines(new_lines)), pa.py_buffer(b"")]  # as change_parts: upserts, no deletes
    d = Diff(rows, _NONE, _NONE, unchanged=records.num_rows - len(rows))
    return _Plan(update, previous, d, records.num_rows, seq, seq, change, stream, parquet, None)


def _swapped(old: pa.LargeStringArray, new: pa.LargeStringArray, rows: np.ndarray) -> Iterator[list[pa.Buffer]]:
    """The text of ``old`` with line ``rows[i]`` replaced by ``new[i]`` (``rows`` ascending), as
    zero-copy slices of both buffers (runs of old lines between changed rows, runs of consecutive
    new ones), a few hundred per list so that the threads write them with one ``writev``."""
    old_offsets, old_text = _offsets(old), old.buffers()[2]
    new_offsets, new_text = _offsets(new), new.buffers()[2]
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    firsts, stops = np.concatenate([[0], breaks]), np.concatenate([breaks, [len(rows)]])
    starts = np.concatenate([[0], rows[stops - 1] + 1])  # first old line of each run of old lines
    batch: list[pa.Buffer] = []
    for i in range(len(firsts) + 1):
        end = int(rows[firsts[i]]) if i < len(firsts) else len(old)  # the old run stops at a changed row
        if end > starts[i]:
            begin = int(old_offsets[starts[i]])
            batch.append(old_text.slice(begin, int(old_offsets[end]) - begin))
        if i < len(firsts):
            begin = int(new_offsets[firsts[i]])
            batch.append(new_text.slice(begin, int(new_offsets[stops[i]]) - begin))
        if len(batch) >= _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _offsets(lines: pa.LargeStringArray) -> np.ndarray:
    return np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset:lines.offset + len(lines) + 1]


def _parquet(table: pa.Table, key: tuple[str, ...]) -> tuple[pa.Buffer, str]:
    data = parquet_bytes(table, sorted_by=key, statistics=key)
    return data, _sha256(data)


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
    for p in plans:  # everything computed (streams written and synced, Parquet encoded) before any rename
        if isinstance(p.jsonl, EntityStream):
            p.jsonl.wait()
        if p.parquet is not None:
            p.parquet.result()
    for p in plans:  # 1. change files
        if p.change is not None and p.seq is not None:
            folder = shop_dir / "changes" / p.update.entity
            with output_context(folder):
                folder.mkdir(parents=True, exist_ok=True)
            write_atomic(folder / change_file_name(p.seq),
                         p.change if isinstance(p.change, StagedFile) else _parts_writer(p.change))
            outputs[p.update.entity].append(show(folder / change_file_name(p.seq)))
    rewritten = [p.update.entity for p in plans if p.jsonl is not None]
    if rewritten:
        _write_marker(shop_dir, (pending or set()) | set(rewritten))
    now = utc_now()
    replaced: list[int] = []
    try:
        for p in plans:  # 2. state files, 3. manifest entries
            entity = p.update.entity
            if p.jsonl is not None and p.parquet is not None:
                replaced += hold_file(shop_dir / f"{entity}.jsonl")
                if isinstance(p.jsonl, EntityStream):
                    jsonl_sha = p.jsonl.wait()
                    jsonl_size = p.jsonl.jsonl.size
                    write_atomic(shop_dir / f"{entity}.jsonl", p.jsonl.jsonl)
                else:
                    assert p.jsonl_sha is not None
                    write_atomic(shop_dir / f"{entity}.jsonl", memoryview(p.jsonl))
                    jsonl_sha, jsonl_size = p.jsonl_sha.result(), p.jsonl.size
                parquet, parquet_sha = p.parquet.result()
                write_atomic(shop_dir / f"{entity}.parquet", memoryview(parquet))
                outputs[entity] += [show(shop_dir / f"{entity}.parquet"), show(shop_dir / f"{entity}.jsonl")]
                sizes = {"parquet": parquet.size, "jsonl": jsonl_size}
                sha256 = {"parquet": parquet_sha, "jsonl": jsonl_sha}
            else:
                assert p.previous is not None  # trusted state implies an entry
                sizes, sha256 = p.previous["bytes"], p.previous["sha256"]
            manifest["entities"][entity] = entity_entry(
                entity=entity, key=p.update.key, records=p.records, sizes=sizes, sha256=sha256,
                last_seq=p.last_seq, source=source, mode=p.update.mode, previous=p.previous, now=now,
            )
        manifest["updated_at"] = now
        write_manifest(shop_dir, manifest)
    finally:
        release_files(replaced)
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
