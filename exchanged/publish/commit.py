"""The write phase of ``publish`` and ``publish_batch``: everything computed, then written in order.

1. ``.publishing`` (``marker.py``): the entities whose state files are replaced and the inputs
   (their sha256, report id and the entities each applies to), with the earlier inputs not yet
   settled — before anything else is written;
2. the change files, in input order;
3. the state files, ``<entity>.jsonl`` then ``<entity>.parquet``, each committed file kept under a
   second name first (``rollback.keep_committed``) so that a crash before 4 can be undone;
4. ``manifest.json``, last: the commit point; then the second names are removed.

The marker is not written again after the manifest: its record, now committed (its ``updated_at``
is the manifest's), is what tells the next publish which inputs were applied and that nothing is
pending for the entities it rewrote. So a publish costs one marker write, and the manifest is
never written under the record of an earlier publish (which would make that one look interrupted).

Every file is replaced atomically (``write_atomic``). Inputs that write nothing (``skipped``:
replayed or stale) leave everything as it is.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from exchanged.atomic import StagedFile, fsync_directory, write_atomic
from exchanged.errors import output_context
from exchanged.publish.changes import change_file_name
from exchanged.publish.dates import is_stale
from exchanged.publish.manifest import lists_source, write_manifest
from exchanged.publish.marker import InputRecord, Marker, PublishRecord, Replay, write_marker
from exchanged.publish.rollback import drop_committed, keep_committed
from exchanged.publish.stream import EntityStream, hold_file, release_files
from exchanged.publish.update import EntityResult, EntityUpdate, SourceRef

__all__ = ["EntityWrite", "commit", "skipped", "display", "sha256_hex"]

Change = list[pa.Buffer] | StagedFile


@dataclass
class EntityWrite:
    """What phase 2 writes for one entity: its change files, its state (None: not rewritten) and its
    manifest entry (``bytes`` and ``sha256`` filled in here when the state is rewritten)."""

    entity: str
    changes: list[tuple[int, Change]]
    jsonl: pa.Buffer | EntityStream | None
    jsonl_sha: Future[str] | None
    parquet: Future[tuple[pa.Buffer, str]] | None
    entry: dict[str, Any]

    def discard(self) -> None:
        if isinstance(self.jsonl, EntityStream):
            self.jsonl.discard()


def skipped(update: EntityUpdate, source: SourceRef, entry: dict[str, Any] | None, replay: Replay) -> EntityResult | None:
    """The result of an input that applies nothing to the entity (replayed, or a stale full
    snapshot), or None when it applies."""
    records = int(entry.get("records", 0)) if entry else 0
    if replay.applied_before(source.sha256, update.entity) or lists_source(entry, source.sha256):
        return EntityResult(update.entity, 0, 0, 0, records, None, [], replayed=True)
    if update.mode == "full" and entry and is_stale(source.document_date, entry.get("sources", [])):
        return EntityResult(update.entity, 0, 0, 0, records, None, [], stale=True)
    return None


_SYNCING = 8  # change files written (and fsynced) at once


def commit(shop_dir: Path, writes: list[EntityWrite], manifest: dict[str, Any], replay: Replay,
           inputs: list[InputRecord], *, now: str) -> None:
    """Write ``writes`` (see the module docstring); ``manifest`` is updated in place."""
    for w in writes:  # everything computed (streams written and synced, Parquet encoded) before any rename
        if isinstance(w.jsonl, EntityStream):
            w.jsonl.wait()
        elif w.jsonl_sha is not None:
            w.jsonl_sha.result()
        if w.parquet is not None:
            w.parquet.result()
    rewrites = frozenset(w.entity for w in writes if w.jsonl is not None)
    applied = tuple(i for i in inputs if i.entities)
    pending = replay.pending or frozenset()
    write_marker(shop_dir, Marker(pending | rewrites, PublishRecord(now, rewrites, applied), replay.carried))  # 1.
    _write_changes(shop_dir, writes)  # 2. change files
    replaced: list[int] = []
    try:
        for w in writes:  # 3. state files
            if w.jsonl is not None:
                assert w.parquet is not None
                replaced += hold_file(shop_dir / f"{w.entity}.jsonl") + hold_file(shop_dir / f"{w.entity}.parquet")
                keep_committed(shop_dir, w.entity)
                if isinstance(w.jsonl, EntityStream):
                    jsonl_sha, jsonl_size = w.jsonl.wait(), w.jsonl.jsonl.size
                    write_atomic(shop_dir / f"{w.entity}.jsonl", w.jsonl.jsonl)
                else:
                    assert w.jsonl_sha is not None
                    write_atomic(shop_dir / f"{w.entity}.jsonl", memoryview(w.jsonl))
                    jsonl_sha, jsonl_size = w.jsonl_sha.result(), w.jsonl.size
                parquet, parquet_sha = w.parquet.result()
                write_atomic(shop_dir / f"{w.entity}.parquet", memoryview(parquet))
                w.entry["bytes"] = {"parquet": parquet.size, "jsonl": jsonl_size}
                w.entry["sha256"] = {"parquet": parquet_sha, "jsonl": jsonl_sha}
            manifest["entities"][w.entity] = w.entry
        manifest["updated_at"] = now
        write_manifest(shop_dir, manifest)  # 4. the commit point
        drop_committed(shop_dir, rewrites)  # the old files' blocks are freed by release_files' thread
    finally:
        release_files(replaced)


def _write_changes(shop_dir: Path, writes: list[EntityWrite]) -> None:
    """Every change file of the publish. A batch's many small files are written side by side:
    their fsyncs then share the journal's commits (one fsync costs 1-5 ms here; 200 in a row cost
    a second, 200 at once a fraction of it). Their order on disk does not matter: the manifest,
    written after all of them, is what makes them part of the feed."""
    jobs = []
    for w in writes:
        folder = shop_dir / "changes" / w.entity
        if w.changes:
            with output_context(folder):
                folder.mkdir(parents=True, exist_ok=True)
        for seq, change in w.changes:
            jobs.append((folder / change_file_name(seq), change))
    if len(jobs) <= 2:
        for path, payload in jobs:
            write_atomic(path, payload)
        return
    futures = [_writers().submit(write_atomic, path, payload, sync_folder=False) for path, payload in jobs]
    wait(futures)  # all finished (or failed) before a failure is raised and the batch retried
    for future in futures:
        future.result()
    for folder in dict.fromkeys(path.parent for path, _ in jobs):  # one fsync per folder, not per file
        fsync_directory(folder)


@functools.cache
def _writers() -> ThreadPoolExecutor:
    """One pool for the process: a daemon commits a batch every few hundred milliseconds in a burst,
    and starting eight threads each time cost more than the writes they shared."""
    return ThreadPoolExecutor(max_workers=_SYNCING, thread_name_prefix="publish-changes")


def sha256_hex(data: Any) -> str:
    return hashlib.sha256(memoryview(data)).hexdigest()


def display(root: Path | None) -> Callable[[Path], str]:
    """Output paths as the report shows them: relative to ``root`` when under it.

    A burst shows thousands of paths, so the common case (a path spelt under ``root``) is a string
    prefix test; only other paths pay for resolving symbolic links."""
    if root is None:
        return lambda path: Path(path).as_posix()
    base = Path(root).resolve()
    prefixes = tuple(dict.fromkeys((os.path.abspath(root) + os.sep, str(base) + os.sep)))

    def show(path: Path) -> str:
        text = os.path.abspath(path)
        for prefix in prefixes:
            if text.startswith(prefix):
                return Path(text[len(prefix):]).as_posix()
        try:
            return Path(path).resolve().relative_to(base).as_posix()
        except ValueError:
            return Path(path).as_posix()

    return show
