"""Undo a publish interrupted before its manifest, so that publishing its inputs again (in any order,
in any batches) writes exactly what a publish never interrupted writes (DESIGN §5 promise 4).

The manifest is the commit point: readers take the state files it names (checked by sha256) and the
change files up to its ``last_seq``. An interrupted publish may have written change files above
``last_seq`` and replaced ``<entity>.jsonl`` and ``<entity>.parquet``; its record in ``.publishing``
(``marker.py``) names them. Before replacing a state file, a publish gives the committed one a
second name (``.<entity>.parquet.committed``, a hard link: no copy); the name goes once the
manifest is written. The next publish, finding the record of a publish whose manifest was not
written, puts the committed files back under their names and removes the change files above
``last_seq``; the inputs are then published as if for the first time: same state, same feed.

Why undo rather than finish: the inputs are not kept by the publish layer, and a replay may come
in another order or batch (the daemon re-evaluates claimed files after a restart, several per
worker trip), so an interrupted publish's change files cannot be trusted to match the replay's.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from exchanged.atomic import fsync_directory
from exchanged.errors import output_context
from exchanged.publish.changes import uncommitted_change_files
from exchanged.publish.marker import Marker, Replay, Settled, committed, read_marker, write_marker

__all__ = ["keep_committed", "drop_committed", "recover", "replay_after_recovery"]

_SUFFIX = ".committed"


def _state_files(entity: str) -> tuple[str, str]:
    return f"{entity}.jsonl", f"{entity}.parquet"


def _copy(shop_dir: Path, name: str) -> Path:
    return shop_dir / f".{name}{_SUFFIX}"  # a dot file: watchers, importers and ``outputs`` skip it


def keep_committed(shop_dir: Path, entity: str) -> None:
    """Give ``entity``'s state files a second name before a publish replaces them. The JSONL's
    atomic write, next, syncs the folder: the names are durable before any file is replaced."""
    for name in _state_files(entity):
        path, copy = shop_dir / name, _copy(shop_dir, name)
        with output_context(copy):
            copy.unlink(missing_ok=True)
            try:
                os.link(path, copy)
            except FileNotFoundError:
                continue  # nothing committed yet (a first load)
            except OSError:  # a file system without hard links (some network shares)
                shutil.copyfile(path, copy)


def drop_committed(shop_dir: Path, entities: Iterable[str]) -> None:
    """Remove the second names once the manifest names the new state files."""
    for entity in entities:
        for name in _state_files(entity):
            copy = _copy(shop_dir, name)
            with output_context(copy):
                copy.unlink(missing_ok=True)


def recover(shop_dir: Path, marker: Marker, manifest: dict[str, Any]) -> Marker:
    """Undo the interrupted publish ``marker`` records, if any; returns the marker as it is then."""
    record = marker.record
    if record is None:
        return marker
    if committed(marker, manifest):  # a crash after the manifest: only the second names are left
        drop_committed(shop_dir, record.rewrites)
        return marker
    entries = manifest["entities"]
    for entity in sorted(record.rewrites):
        _restore(shop_dir, entity, entries.get(entity))
    fsync_directory(shop_dir)
    touched = record.rewrites.union(*(i.entities for i in record.inputs))
    for entity in sorted(touched):
        folder = shop_dir / "changes" / entity
        last_seq = int((entries.get(entity) or {}).get("last_seq", 0))
        names = uncommitted_change_files(folder, last_seq)
        for name in names:
            with output_context(folder / name):
                (folder / name).unlink(missing_ok=True)
        if names:
            fsync_directory(folder)
    # Pending stays: whether a restored JSONL was row-aligned with its Parquet before is unknown.
    after = Marker(marker.pending, None, marker.applied)
    write_marker(shop_dir, after)
    return after


def _restore(shop_dir: Path, entity: str, entry: dict[str, Any] | None) -> None:
    for name in _state_files(entity):
        path, copy = shop_dir / name, _copy(shop_dir, name)
        with output_context(path):
            if copy.exists():
                os.replace(copy, path)
                copy.unlink(missing_ok=True)  # still there when both names were one file: nothing replaced
            elif entry is None:
                path.unlink(missing_ok=True)  # an interrupted first load: no state was committed


def replay_after_recovery(shop_dir: Path, manifest: dict[str, Any], settled: Settled | None) -> Replay:
    """The first step of every publish, under the folder's lock: undo an interrupted publish, then
    know which inputs a committed publish applied already."""
    return Replay(recover(shop_dir, read_marker(shop_dir), manifest), manifest, settled)
