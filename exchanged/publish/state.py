"""The published state of one entity: reading it back, aligning schemas, keys and sort order.

The state files are ``<entity>.parquet`` and ``<entity>.jsonl``, sorted by key, the JSONL
row-aligned with the Parquet. Comparing old and new records works on their canonical JSON lines
(``changes.py``), so the old lines are reused from the JSONL file when it is *trusted* to be
row-aligned with the Parquet: the manifest lists the entity with the sizes found on disk, the
schema is unchanged, and no publish was interrupted between replacing one file and the manifest
(the ``.publishing`` marker, see ``publisher.py``). Otherwise the old lines are rendered again from
the Parquet (about a second per million rows), which is always right.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from exchanged.errors import OutputUnavailable
from exchanged.formats.jsonl import jsonl_lines, split_lines
from exchanged.nulls import filled

__all__ = ["CurrentState", "StoredState", "align", "conform", "key_text", "sort_by_key", "duplicate_keys",
           "repeats_a_key", "strictly_ascending", "keys_carried_over"]

log = logging.getLogger(__name__)

_CASTS_THAT_FAIL = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)
_UNREAD = object()


@dataclass(frozen=True)
class CurrentState:
    """The state on disk aligned to the update's schema (only its key columns when loaded so),
    with its canonical lines row by row."""

    table: pa.Table
    lines: pa.LargeStringArray


class StoredState:
    """``<entity>.parquet`` as found on disk, and whether its JSONL is trusted (see module docstring)."""

    def __init__(self, shop_dir: Path, entity: str, schema: pa.Schema, key: tuple[str, ...],
                 entry: dict[str, Any] | None, interrupted: bool) -> None:
        self.parquet_path = Path(shop_dir) / f"{entity}.parquet"
        self.jsonl_path = Path(shop_dir) / f"{entity}.jsonl"
        self.schema, self.key = schema, key
        self.file: pq.ParquetFile | None = None
        try:
            self.file = pq.ParquetFile(self.parquet_path)
        except FileNotFoundError:
            pass
        except (OSError, pa.ArrowException) as exc:
            raise OutputUnavailable(f"cannot read the published state {self.parquet_path}: {exc}") from exc
        stored = self.file.schema_arrow if self.file is not None else None
        self.rows = self.file.metadata.num_rows if self.file is not None else 0
        self.same_schema = stored is not None and stored.equals(schema, check_metadata=False)
        self.trusted = self.same_schema and not interrupted and _sizes_match(entry, self.parquet_path, self.jsonl_path)
        self._lines: pa.LargeStringArray | None | object = _UNREAD
        self._lines_lock = threading.Lock()

    def equals(self, table: pa.Table) -> bool:
        """True when the stored rows are ``table``'s, value for value (see ``changed_rows``)."""
        changed = self.changed_rows(table)
        return changed is not None and not changed.any()

    def changed_rows(self, table: pa.Table) -> np.ndarray | None:
        """Per row of ``table`` (aligned, sorted by key), whether it differs from the stored row at
        the same position; None when the rows cannot be paired so (no trusted state, another number
        of rows, other keys) or when a column that is only compared whole differs.

        A full snapshot identical to the published state is so recognised without rendering a
        line, and one changing a few records tells which (the publisher then renders only those).
        The key columns are read first, then all others at once (decoded on all cores: ≈0.25 s
        per million products, against 0.55 s column by column). A column equal as a whole costs
        one comparison; otherwise its values are compared row by row, which for the types
        ``_paired`` accepts is the same as comparing their JSON text.
        """
        if self.file is None or not self.trusted or self.rows != table.num_rows:
            return None
        changed = np.zeros(table.num_rows, dtype=bool)
        rest = [n for n in self.schema.names if n not in self.key]
        for names in ([*self.key], rest) if rest else ([*self.key],):
            stored = self._read(names)
            for name in names:
                old, new = stored.column(name), table.column(name)
                if old.equals(new):
                    continue
                if name in self.key or not _paired(new.type):
                    return None
                changed |= _differs(old, new)
        return changed

    def lines(self) -> pa.LargeStringArray | None:
        """The trusted JSONL's lines (memory-mapped, cut once; any thread may ask first), or None."""
        if self.file is None or not self.trusted:
            return None
        with self._lines_lock:
            if self._lines is _UNREAD:
                self._lines = _stored_lines(self.jsonl_path, self.rows)
            return self._lines

    def load(self, *, keys_only: bool) -> tuple[CurrentState, bool]:
        """The current state, and whether its lines came from the trusted JSONL.

        ``keys_only`` reads just the key columns when the JSONL is trusted (a full snapshot needs
        no more). The state on disk is used even when it is newer than the manifest (a publish
        interrupted after its writes): its changes went to the feed before it, so diffing against
        it keeps the feed exact.
        """
        if self.file is None:
            return _empty(self.schema), False
        lines = self.lines()
        if lines is not None:
            if keys_only:
                key_schema = pa.schema([self.schema.field(k) for k in self.key])
                return CurrentState(align(self._read(list(self.key)), key_schema)[0], lines), True
            return CurrentState(align(self._read(None), self.schema)[0], lines), True
        stored = self._read(None)
        if not keys_carried_over(stored.schema, self.schema, self.key):
            # The feed cannot express a change of key (consumers reload the state file): the old
            # rows are dropped without delete lines and every record is an upsert.
            log.warning("%s: key columns no longer match %s; the old state is replaced", self.parquet_path, self.key)
            return _empty(self.schema), False
        table = align(stored, self.schema)[0]
        return CurrentState(table, jsonl_lines(table)), False

    def read(self) -> pa.Table:
        """The whole stored table, in its stored schema."""
        return self._read(None)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()

    def _read(self, columns: list[str] | None) -> pa.Table:
        assert self.file is not None
        try:
            return self.file.read(columns=columns)
        except (OSError, pa.ArrowException) as exc:
            raise OutputUnavailable(f"cannot read the published state {self.parquet_path}: {exc}") from exc


def _paired(t: pa.DataType) -> bool:
    """Types whose values are equal exactly when their canonical JSON texts are (not floats: -0.0
    and NaN; not nested types; not date64 or nanosecond timestamps, finer than their JSON)."""
    return (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_boolean(t)
            or pa.types.is_integer(t) or pa.types.is_decimal(t) or pa.types.is_date32(t)
            or (pa.types.is_timestamp(t) and t.unit != "ns"))


def _differs(old: pa.ChunkedArray, new: pa.ChunkedArray) -> np.ndarray:
    """Per row: the values differ (a null equals a null only)."""
    same = filled(pc.equal(old, new), False)
    if old.null_count or new.null_count:
        same = pc.or_(same, pc.and_(pc.is_null(old), pc.is_null(new)))
    return ~same.to_numpy()


def align(table: pa.Table, schema: pa.Schema) -> tuple[pa.Table, bool]:
    """``table`` with exactly ``schema``'s columns and types; the flag says it already had them.

    Schema evolution never fails: a missing column, or one that no longer casts to its new type,
    becomes nulls (and its field nullable, see ``conform``); extra columns are dropped. Nested types
    get the schema's inner field names too (``_renamed``), so that the state's Parquet does not
    depend on where a table came from.
    """
    if table.schema.equals(schema, check_metadata=False) and not _renamed(table.schema, schema):
        return table.replace_schema_metadata(schema.metadata), True
    columns = []
    for field in schema:
        column = table.column(field.name) if field.name in table.column_names else None
        if column is not None and (column.type != field.type or _renamed_type(column.type, field.type)):
            try:
                column = column.cast(field.type)
            except _CASTS_THAT_FAIL:
                log.warning("column %r no longer casts to %s; its old values are dropped", field.name, field.type)
                column = None
        columns.append(column if column is not None else pa.nulls(table.num_rows, field.type))
    return conform(pa.Table.from_arrays(columns, names=schema.names), schema), False


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` under ``schema``, except that fields declared not-null but holding nulls stay nullable.

    Parquet refuses nulls in a not-null column; such nulls only arise from schema evolution (a new
    required field that old rows lack), and the state must still be written.
    """
    fields = [
        field.with_nullable(True) if not field.nullable and table.column(i).null_count else field
        for i, field in enumerate(schema)
    ]
    columns = [c if c.type == f.type and not _renamed_type(c.type, f.type) else c.cast(f.type)
               for c, f in zip(table.columns, fields)]
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=schema.metadata))


def _renamed(a: pa.Schema, b: pa.Schema) -> bool:
    return any(_renamed_type(x.type, y.type) for x, y in zip(a, b))


def _renamed_type(a: pa.DataType, b: pa.DataType) -> bool:
    """Types equal but for the names of inner fields, which ``==`` ignores and Parquet keeps: a map
    read back from Parquet names its entries after the column (``map<string, string ('attributes')>``)."""
    return pa.types.is_nested(a) and str(a) != str(b)


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
    if len(key) == 1 and _ascending(table.column(key[0])):
        return None  # ERP exports are often sorted already; checking is 10x cheaper than sorting
    order = pc.sort_indices(table.select(list(key)), [(name, "ascending") for name in key]).to_numpy()
    if np.array_equal(order, np.arange(len(order))):
        return None
    return order


def strictly_ascending(table: pa.Table, key: tuple[str, ...]) -> bool:
    """True when a single string or integer key has no nulls and rises strictly from row to row:
    ``table`` is then sorted by key and no key repeats (one comparison instead of both checks)."""
    if len(key) != 1 or table.num_rows < 2:
        return False
    column = table.column(key[0])
    if column.null_count or not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
                                 or pa.types.is_integer(column.type)):
        return False
    values = column.combine_chunks()
    return bool(pc.all(pc.less(values.slice(0, len(values) - 1), values.slice(1))).as_py())


def duplicate_keys(keys: pa.Array) -> int:
    """How many rows repeat the key of the row before them (``keys`` in key order)."""
    if len(keys) < 2:
        return 0
    same = pc.equal(keys.slice(1), keys.slice(0, len(keys) - 1))
    return int(pc.sum(filled(same, True).cast(pa.int64())).as_py() or 0)


def repeats_a_key(table: pa.Table, key: tuple[str, ...]) -> bool:
    """True when a row of ``table`` (sorted by key) has the key of the row before it.

    A key of several columns whose values are equal exactly when their JSON texts are (``_paired``)
    is compared column by column, row against row: rendering its canonical JSON (``key_text``) for
    every row only to compare neighbours held ≈65 MB at once for 125,000 prices, the peak of
    publishing them. Otherwise (one column, or a type only its text compares) ``key_text`` decides.
    """
    if table.num_rows < 2:
        return False
    if len(key) == 1 or not all(_paired(table.schema.field(name).type) for name in key):
        return bool(duplicate_keys(key_text(table, key)))
    repeated = np.ones(table.num_rows - 1, dtype=bool)
    for name in key:
        column = table.column(name)
        repeated &= ~_differs(column.slice(0, table.num_rows - 1), column.slice(1))
        if not repeated.any():
            return False
    return True


def _ascending(column: pa.ChunkedArray) -> bool:
    """True for a column without nulls whose values never decrease (a cheap adjacent comparison)."""
    if column.null_count or not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
                                 or pa.types.is_integer(column.type)):
        return False
    values = column.combine_chunks()
    return bool(pc.all(pc.less_equal(values.slice(0, len(values) - 1), values.slice(1))).as_py())


def _empty(schema: pa.Schema) -> CurrentState:
    empty = schema.empty_table()
    return CurrentState(empty, jsonl_lines(empty))


def keys_carried_over(stored: pa.Schema, schema: pa.Schema, key: tuple[str, ...]) -> bool:
    """True when every key column exists in the stored state and its type casts to the new one."""
    for name in key:
        if name not in stored.names:
            return False
        old, new = stored.field(name).type, schema.field(name).type
        if old != new:
            try:
                pa.array([], old).cast(new)
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
    """The lines of the JSONL file (memory-mapped, not copied), or None when they do not fit ``rows``."""
    try:
        with pa.memory_map(str(path)) as source:
            lines = split_lines(source.read_buffer())
    except OSError:
        return None
    return lines if len(lines) == rows else None
