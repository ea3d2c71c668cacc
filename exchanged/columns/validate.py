"""Validate a whole batch of records column by column, with the models' own rules.

A mapping hands over one string column per record field (canonical text). Each field's Kind checks
its column in one pass; row rules check across fields; keys must be unique (the first occurrence
wins). The result is a typed Arrow table in the model's schema plus the issues, located by line,
row and field. No pydantic call per row: the kinds are the same rules pydantic applies
(``tests/records/test_kinds_agree.py``).
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exchanged.columns.keys import first_occurrence
from exchanged.columns.memory import LARGE, release_memory
from exchanged.columns.schema import ATTRIBUTES_TYPE, arrow_schema
from exchanged.nulls import filled
from exchanged.records.base import Entity
from exchanged.records.fields import ATTRIBUTES, FlatField, flat_fields, nested_models
from exchanged.records.types import ATTRIBUTE_VALUE
from exchanged.report import Issue, IssueCollector, Location

OP_UPSERT = "upsert"
OP_DELETE = "delete"
_THREADS = 4                  # most field checks at once; more buys nothing on the 2 to 4 cores this runs on
_PARALLEL_MIN_ROWS = 1 << 15  # shorter batches are checked on the caller's thread


class Batch(Protocol):
    """What a mapping produces for one entity (``mapping.engine.EntityBatch``)."""

    fields: pa.Table
    lines: pa.Array
    rows: pa.Array
    ops: pa.Array | None
    invalid: pa.Array
    failed: dict[str, pa.Array]  # field path -> rows whose value the mapping could not read (reported)


@dataclass
class ValidRecords:
    """The typed outcome for one entity of one file."""

    entity: Entity
    records: pa.Table                 # valid upserts, in the model's Arrow schema, file order
    deletes: pa.Table                 # key columns of valid delete rows
    retained: pa.Table                # key columns of upsert rows dropped for a bad non-key value:
                                      # a full snapshot keeps their published records (not deletes)
    rejected_rows: int = 0
    total_rows: int = 0


@dataclass
class _Failure:
    mask: pa.Array
    code: str
    message: str
    field: str
    raw: pa.Array | None


def _null_column(length: int) -> pa.Array:
    return pa.nulls(length, pa.string())


def _check_leaf(leaf: FlatField, raw: pa.Array, unread: pa.Array | None = None) -> tuple[pa.Array, list[_Failure]]:
    """``raw`` checked by the leaf's kind: its typed values and what failed (in a fixed order).
    ``unread``: rows whose value the mapping failed to read (already reported: not missing too)."""
    assert leaf.kind is not None
    result = leaf.kind.column(raw)
    failures = [_Failure(mask, code, message, leaf.path, raw) for mask, code, message in result.failures]
    values = result.values
    if leaf.required:
        missing = pc.is_null(raw) if unread is None else pc.and_(pc.is_null(raw), pc.invert(unread))
        failures.append(_Failure(missing, "missing-value", f"{leaf.path} is required", leaf.path, None))
    elif leaf.default is not None:
        values = filled(values, pa.scalar(leaf.default, leaf.kind.arrow_type))
    return values, failures


def _attributes(columns: dict[str, pa.Array], length: int, failures: list[_Failure]) -> pa.Array:
    """Assemble ``attributes.<name>`` columns into one map column (names in column order)."""
    names = sorted(name for name in columns if name.startswith(ATTRIBUTES + "."))
    if not names:
        offsets = pa.array(np.zeros(length + 1, dtype=np.int32))
        return pa.MapArray.from_arrays(offsets, pa.array([], pa.string()), pa.array([], pa.string()))
    present = []
    for name in names:
        checked = ATTRIBUTE_VALUE.column(columns[name])
        for mask, code, message in checked.failures:
            failures.append(_Failure(mask, code, message, name, columns[name]))
        present.append(np.asarray(pc.is_valid(checked.values).to_numpy(zero_copy_only=False), dtype=bool))
    matrix = np.stack(present, axis=1)  # rows x attributes
    counts = matrix.sum(axis=1)
    offsets = np.zeros(length + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    row_index, attr_index = np.nonzero(matrix)  # row-major: per row, attributes in name order
    keys = pa.array([names[i].split(".", 1)[1] for i in range(len(names))], pa.string()).take(pa.array(attr_index))
    stacked = pa.concat_arrays([columns[name] for name in names])
    items = stacked.take(pa.array(attr_index.astype(np.int64) * length + row_index))
    return pa.MapArray.from_arrays(pa.array(offsets), keys, items, type=ATTRIBUTES_TYPE)


def _struct(model: Any, prefix: str, columns: dict[str, pa.Array], length: int, failures: list[_Failure],
            unread: dict[str, pa.Array]) -> pa.Array:
    leaves = flat_fields(model)
    children = []
    for path, leaf in leaves.items():
        name = f"{prefix}.{path}"
        raw = columns.get(name, _null_column(length))
        values, failed = _check_leaf(FlatField(name, leaf.kind, leaf.required, leaf.default, prefix), raw, unread.get(name))
        children.append(values)
        failures.extend(failed)
    schema = arrow_schema(model)
    any_present = None
    for child in children:
        valid = pc.is_valid(child)
        any_present = valid if any_present is None else pc.or_(any_present, valid)
    struct = pa.StructArray.from_arrays(children, fields=list(schema), mask=pc.invert(any_present))
    return struct


def _check_fields(model: Any, columns: dict[str, pa.Array], length: int,
                  unread: dict[str, pa.Array]) -> tuple[dict[str, pa.Array], list[_Failure]]:
    """Every field of ``model`` checked; for a long batch the flat ones side by side on a few threads
    (Arrow's kernels and numpy release the GIL). Typed values and failures come out in model field
    order, whatever order the threads finish in, so the issue list is the same on every run."""
    nested = nested_models(model)
    leaves = flat_fields(model)
    plain = [name for name in model.model_fields if name not in nested and name != ATTRIBUTES]

    def check(name: str) -> tuple[pa.Array, list[_Failure]]:
        return _check_leaf(leaves[name], columns.get(name, _null_column(length)), unread.get(name))

    # A short batch (the daemon's usual small file) is checked on the caller's thread: handing
    # a field to another thread costs more than checking a few hundred values.
    checks = {name: _pool().submit(check, name) for name in plain} if length >= _PARALLEL_MIN_ROWS else {}
    typed: dict[str, pa.Array] = {}
    failures: list[_Failure] = []
    for name in model.model_fields:
        if name in nested:
            typed[name] = _struct(nested[name], name, columns, length, failures, unread)
        elif name == ATTRIBUTES:
            typed[name] = _attributes(columns, length, failures)
        else:
            typed[name], failed = checks[name].result() if checks else check(name)
            failures.extend(failed)
    return typed, failures


@functools.cache
def _pool() -> ThreadPoolExecutor:
    """The threads long batches are checked on, shared by every caller (the daemon's workers too).

    No more than the cores this process may run on: more threads make no check faster there, but
    each holds its own intermediate columns (and allocator caches) at the same time; on the 2-core
    machine four threads raised the peak RSS of validating a 100,000-item PRICAT by ≈10 MB.
    """
    return ThreadPoolExecutor(max_workers=min(_THREADS, _cores()), thread_name_prefix="validate")


def _cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _combine(masks: list[pa.Array], length: int) -> np.ndarray:
    out = np.zeros(length, dtype=bool)
    for mask in masks:
        out |= np.asarray(filled(mask, False).to_numpy(zero_copy_only=False), dtype=bool)
    return out


def validate(
    entity: Entity,
    batch: Batch,
    collector: IssueCollector,
    *,
    on_row_error: Literal["reject_file", "drop_row"] = "drop_row",
) -> ValidRecords:
    """Check every row of ``batch`` against ``entity``'s rules; report issues into ``collector``."""
    model = entity.model
    length = batch.fields.num_rows
    columns = {name: batch.fields.column(name).combine_chunks() for name in batch.fields.column_names}
    typed, failures = _check_fields(model, columns, length, batch.failed)
    for rule in model.row_rules:
        mask = rule.broken_rows({name: typed[name] for name in rule.fields})
        failures.append(_Failure(mask, rule.code, rule.message, rule.fields[-1], None))

    is_delete = (
        np.asarray(filled(pc.equal(batch.ops, OP_DELETE), False).to_numpy(zero_copy_only=False), dtype=bool)
        if batch.ops is not None
        else np.zeros(length, dtype=bool)
    )
    key_fields = set(entity.key)
    # A delete names a key and nothing else: only key-field failures count for it.
    failures = [
        f if f.field in key_fields else _Failure(pc.and_(f.mask, pa.array(~is_delete)), f.code, f.message, f.field, f.raw)
        for f in failures
    ]
    mapping_invalid = np.asarray(filled(batch.invalid, False).to_numpy(zero_copy_only=False), dtype=bool)
    bad = _combine([f.mask for f in failures], length) | mapping_invalid

    key_table = pa.table({k: typed[k] for k in entity.key})
    # A key that could not be read (a bad or missing value) cannot collide; a key field that is
    # empty by design (a price without customer_id) takes part as "empty".
    unreadable = [
        pc.is_null(typed[k]) if flat_fields(model)[k].required
        else pc.and_(pc.is_null(typed[k]), pc.is_valid(columns.get(k, _null_column(length))))
        for k in entity.key
    ]
    duplicate = ~first_occurrence(key_table) & ~_combine(unreadable, length)
    if duplicate.any():
        failures.append(_Failure(pa.array(duplicate), "duplicate-key", f"{'/'.join(entity.key)} already given in an earlier row of this file (the first one wins)", entity.key[0], None))
    bad |= duplicate

    _report(failures, batch, collector)
    if on_row_error == "reject_file" and bad.any():
        keep = np.zeros(length, dtype=bool)
    else:
        keep = ~bad
    table = pa.Table.from_arrays([typed[name] for name in model.model_fields], schema=_nullable(arrow_schema(model)))
    upserts = keep & ~is_delete
    # Filtering copies every column: skip it when every row stays (the usual clean file).
    records = (table if upserts.all() else table.filter(pa.array(upserts))).cast(arrow_schema(model))
    deletes = key_table.filter(pa.array(keep & is_delete))
    unreadable_key = _combine(unreadable, length)  # a bad key value leaves its typed key null
    retained = key_table.filter(pa.array(~keep & ~is_delete & ~duplicate & ~unreadable_key))
    result = ValidRecords(entity, records, deletes, retained, rejected_rows=int(bad.sum()), total_rows=length)
    del columns, typed, failures, table, key_table
    if length >= LARGE:  # the checks' intermediate columns are gone: let the next phase have their memory
        release_memory()
    return result


def _nullable(schema: pa.Schema) -> pa.Schema:
    return pa.schema([f.with_nullable(True) for f in schema])


def _report(failures: list[_Failure], batch: Batch, collector: IssueCollector) -> None:
    """Turn failure masks into located issues, row by row, at most the collector's room."""
    field_order: dict[str, int] = {}
    for failure in failures:  # model field order: failures are collected field by field
        field_order.setdefault(failure.field, len(field_order))
    found: list[tuple[int, int, int]] = []  # (row index, failure order, failure id)
    total = 0
    for number, failure in enumerate(failures):
        mask = filled(failure.mask, False)
        count = pc.sum(mask).as_py() or 0
        if not count:
            continue
        total += count
        indices = np.flatnonzero(np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool))
        found.extend((int(i), field_order[failure.field], number) for i in indices[: collector.room + 1])
    found.sort()
    kept = found[: collector.room]
    lines = batch.lines.take(pa.array([i for i, _, _ in kept], pa.int64())).to_pylist() if kept else []
    rows = batch.rows.take(pa.array([i for i, _, _ in kept], pa.int64())).to_pylist() if kept else []
    for (index, _, number), line, row in zip(kept, lines, rows):
        failure = failures[number]
        value = failure.raw[index].as_py() if failure.raw is not None else None
        where = (batch.locate(index).with_field(failure.field) if getattr(batch, "locate", None)
                 else Location(line=line, row=row, field=failure.field))
        collector.add(Issue(code=failure.code, message=failure.message, value=value, location=where))
    collector.count_more(total - len(kept))
