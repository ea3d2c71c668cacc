"""The published state of one entity: reading it back, aligning schemas, keys and sort order.

The state files are ``<entity>.parquet`` and ``<entity>.jsonl``, sorted by key, the JSONL
row-aligned with the Parquet. Comparing old and new records works on their canonical JSON lines
(``changes.py``), so the old lines are reused from the JSONL file when they can be trusted to be
row-aligned with the Parquet: the manifest lists the entity with the sizes on disk, the schema is
unchanged and no publish was interrupted after replacing one file but not the other (the
``.publishing`` marker, see ``publisher.py``). Otherwise they are rendered again from the Parquet
(about a second per million rows), which is always right.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exchanged.errors import OutputUnavailable
from exchanged.formats.jsonl import jsonl_lines, split_lines
from exchanged.formats.parquet import read_parquet

__all__ = ["CurrentState", "load_current", "align", "conform", "key_text", "sort_by_key"]

log = logging.getLogger(__name__)

_CASTS_THAT_FAIL = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)


@dataclass(frozen=True)
class CurrentState:
    """The state on disk, aligned to the update's schema, with its canonical lines row by row."""

    table: pa.Table
    lines: pa.LargeStringArray
    trusted: bool  # files on disk match the manifest entry and the schema: rewriting can be skipped


def load_current(shop_dir: Path, entity: str, schema: pa.Schema, key: tuple[str, ...],
                 entry: dict[str, Any] | None, interrupted: bool) -> CurrentState:
    """Read ``<entity>.parquet`` (and its JSONL when trustworthy); empty when there is none yet.

    The state on disk is used even when it is newer than the manifest (a publish interrupted after
    its writes): its changes were written to the feed before it, so diffing against it keeps the
    feed exact.
    """
    parquet_path = Path(shop_dir) / f"{entity}.parquet"
    jsonl_path = Path(shop_dir) / f"{entity}.jsonl"
    try:
        stored = read_parquet(parquet_path)
    except FileNotFoundError:
        empty = schema.empty_table()
        return CurrentState(empty, jsonl_lines(empty), trusted=False)
    except (OSError, pa.ArrowException) as exc:
        raise OutputUnavailable(f"cannot read the published state {parquet_path}: {exc}") from exc
    table, same_schema = align(stored, schema)
    if not same_schema and not _keys_carried_over(stored, schema, key):
        # The feed cannot express a change of key (consumers reload the state file): the old rows
        # are dropped without delete lines and every record is an upsert.
        log.warning("%s: its key columns no longer match %s; the old state is replaced", parquet_path, key)
        empty = schema.empty_table()
        return CurrentState(empty, jsonl_lines(empty), trusted=False)
    trusted = same_schema and not interrupted and _sizes_match(entry, parquet_path, jsonl_path)
    lines = _stored_lines(jsonl_path, table.num_rows) if trusted else None
    if lines is None:
        return CurrentState(table, jsonl_lines(table), trusted=False)
    return CurrentState(table, lines, trusted=True)


def align(table: pa.Table, schema: pa.Schema) -> tuple[pa.Table, bool]:
    """``table`` with exactly ``schema``'s columns and types; the flag says it already had them.

    Schema evolution never fails: a missing column, or one that no longer casts to its new type,
    becomes nulls (and its field nullable, see ``conform``).
    """
    if table.schema.equals(schema, check_metadata=False):
        return table.replace_schema_metadata(schema.metadata), True
    columns = []
    for field in schema:
        column = table.column(field.name) if field.name in table.column_names else None
        if column is not None and column.type != field.type:
            try:
                column = column.cast(field.type)
            except _CASTS_THAT_FAIL:
                column = None
        columns.append(column if column is not None else pa.nulls(table.num_rows, field.type))
    return conform(pa.Table.from_arrays(columns, names=schema.names), schema), False


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` under ``schema``, except that fields declared not-null but holding nulls are nullable.

    Parquet refuses nulls in a not-null column; such nulls only arise from schema evolution (a new
    required field that old rows lack), and the state must still be written.
    """
    fields = [
        field.with_nullable(True) if not field.nullable and table.column(i).null_count else field
        for i, field in enumerate(schema)
    ]
    columns = [table.column(i) for i in range(len(fields))]
    columns = [c if c.type == f.type else c.cast(f.type) for c, f in zip(columns, fields)]
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=schema.metadata))


def key_text(table: pa.Table, key: tuple[str, ...]) -> pa.Array:
    """One comparable value per row standing for its key (for ``pyarrow.compute.index_in``).

    A single string or integer key is itself; otherwise the canonical JSON of the key columns,
    which is injective and treats null as a value (a join would never match null keys).
    """
    if len(key) == 1:
        column = table.column(key[0])
        t = column.type
        if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t):
            return column.combine_chunks()
    return jsonl_lines(table.select(list(key)))


def sort_by_key(table: pa.Table, key: tuple[str, ...]) -> np.ndarray | None:
    """The permutation sorting ``table`` by ``key`` ascending (nulls last), or None when already sorted."""
    if table.num_rows < 2:
        return None
    order = pc.sort_indices(table.select(list(key)), [(name, "ascending") for name in key]).to_numpy()
    if np.array_equal(order, np.arange(len(order))):
        return None
    return order


def duplicate_keys(keys: pa.Array) -> int:
    """How many rows repeat the key of the row before them (``keys`` in key order)."""
    if len(keys) < 2:
        return 0
    same = pc.equal(keys.slice(1), keys.slice(0, len(keys) - 1))
    return int(pc.sum(pc.fill_null(same, True).cast(pa.int64())).as_py() or 0)


def _keys_carried_over(stored: pa.Table, schema: pa.Schema, key: tuple[str, ...]) -> bool:
    """True when every key column exists in the stored state and casts to its new type."""
    for name in key:
        if name not in stored.column_names:
            return False
        try:
            stored.column(name).cast(schema.field(name).type)
        except _CASTS_THAT_FAIL:
            return False
    return True


def _sizes_match(entry: dict[str, Any] | None, parquet_path: Path, jsonl_path: Path) -> bool:
    if not entry or not isinstance(entry.get("bytes"), dict):
        return False
    try:
        sizes = {"parquet": parquet_path.stat().st_size, "jsonl": jsonl_path.stat().st_size}
    except OSError:
        return False
    return sizes == entry["bytes"]


def _stored_lines(path: Path, rows: int) -> pa.LargeStringArray | None:
    try:
        with pa.memory_map(str(path)) as source:
            lines = split_lines(source.read_buffer())
    except OSError:
        return None
    return lines if len(lines) == rows else None
