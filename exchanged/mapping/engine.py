"""Apply a mapping to a source table: one batch of canonical text columns per entity.

The source is any reader's ``TabularSource`` (an all-string Arrow table plus ``lines`` and ``rows``
per row). Every field is computed for the whole column at once (``transforms``); issues are built
only for rows that failed, at most ``issue_limit`` per call, the rest counted.

File-level faults raise ``InputRejected`` (``missing-column``); row-level ones are issues, with the
row marked ``invalid`` so the validator drops it (or rejects the file, per ``on_row_error``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from exchanged.mapping import transforms as tf
from exchanged.mapping.failures import Failure, IssueBudget, any_failed, build_issues
from exchanged.mapping.rules import ATTRIBUTE_WILDCARD
from exchanged.mapping.source import (
    SourceColumns,
    column_pattern,
    require_columns,
    unknown_columns,
)
from exchanged.mapping.spec import FieldSpec, Mapping
from exchanged.nulls import filled
from exchanged.records import MAPPABLE
from exchanged.records.fields import flat_fields
from exchanged.records.kinds import DateKind, DecimalKind, Kind, TimestampKind
from exchanged.report import Issue, Location

OPS = ("upsert", "delete")


class TabularSource(Protocol):
    """What the engine reads (``formats.csv.TabularSource``)."""

    table: pa.Table
    lines: pa.Array
    rows: pa.Array


@dataclass
class EntityBatch:
    """One entity's fields as canonical text, with the location and state of every row."""

    entity: str
    fields: pa.Table                 # one string column per mapped field path ("attributes.<name>" too)
    lines: pa.Array                  # int64: physical line where the row starts
    rows: pa.Array                   # int64: data record number
    ops: pa.Array | None             # "upsert"/"delete" per row in a delta, else None
    mode: Literal["full", "delta"]
    invalid: pa.Array                # bool: a transform failed for the row (issues already reported)
    failed: dict[str, pa.Array] = field(default_factory=dict)  # field path -> bool: its transform failed
                                                                # for the row (its value left empty)
    issues: list[Issue] = field(default_factory=list)
    issues_truncated: int = 0        # failures beyond issue_limit, counted but not built
    locate: Locator | None = None    # row index -> where it is, for readers richer than line/row (EDIFACT)


@dataclass
class _Field:
    values: tf.Column
    failures: list[Failure] = field(default_factory=list)


def apply_mapping(mapping: Mapping, source: TabularSource, *, issue_limit: int = 1000) -> list[EntityBatch]:
    """Map ``source`` to one :class:`EntityBatch` per entity of ``mapping``, in mapping order.

    A reader with rows of its own per entity (EDIFACT: a product per LIN group, a price per PRI
    group) gives ``entities``; each entity is then mapped from its own table."""
    per_entity = getattr(source, "entities", None)
    if per_entity is None:
        return _apply(mapping, source, issue_limit)
    budget = IssueBudget(issue_limit)
    batches = []
    for entity, specs in mapping.entity.items():
        rows = per_entity[entity]
        one = mapping.model_copy(update={"entity": {entity: specs}})
        batches.extend(_apply(one, rows, issue_limit, budget=budget, locate=rows.locate, decimal=rows.decimal))
    return batches


Locator = Callable[[int], Location]


def _apply(mapping: Mapping, source: TabularSource, issue_limit: int, *, budget: IssueBudget | None = None,
           locate: Locator | None = None, decimal: str | None = None) -> list[EntityBatch]:
    columns = SourceColumns(source.table)
    require_columns(mapping, columns)
    length = source.table.num_rows
    lines, rows = _array(source.lines, pa.int64()), _array(source.rows, pa.int64())
    separators = _Separators(mapping, columns, decimal)
    mode, ops, op_failures = _ops(mapping, columns, length)
    budget = budget or IssueBudget(issue_limit)
    warnings = unknown_columns(mapping, columns)
    batches = []
    for number, (entity, specs) in enumerate(mapping.entity.items()):
        leaves = flat_fields(MAPPABLE[entity].model)
        values: dict[str, tf.Column] = {}
        failures: list[Failure] = []
        failed: dict[str, pa.Array] = {}
        for path, spec in _expand(specs, columns):
            kind = leaves[path].kind if path in leaves else None
            result = _read_field(path, spec, kind, columns, separators, length)
            if result is not None:
                values[path] = result.values
                failures.extend(result.failures)
                if result.failures:
                    failed[path] = any_failed([f.mask for f in result.failures], length)
        invalid = any_failed([f.mask for f in op_failures + failures], length)
        # A bad op spoils the row in every entity; it is reported once, with the first entity.
        issues, truncated = build_issues((op_failures if number == 0 else []) + failures, lines, rows, budget, locate)
        batches.append(EntityBatch(
            entity=entity, fields=_table(values, length), lines=lines, rows=rows, ops=ops, mode=mode,
            invalid=invalid, failed=failed, issues=(warnings if number == 0 else []) + issues, issues_truncated=truncated,
            locate=locate,
        ))
    return batches


def _table(values: dict[str, tf.Column], length: int) -> pa.Table:
    if values:
        return pa.table(values)
    return pa.table({"_": pa.nulls(length, pa.string())}).drop_columns(["_"])


def _array(values: pa.Array | pa.ChunkedArray, type_: pa.DataType) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], type_)
    return values.cast(type_) if values.type != type_ else values


class _Separators:
    """Decimal notation per field: the field's own, else [csv]; ``auto`` decided once per file."""

    def __init__(self, mapping: Mapping, columns: SourceColumns, declared: str | None = None) -> None:
        self.csv = mapping.csv
        self._declared = declared  # the file's own decimal mark (EDIFACT UNA), which has no thousands
        self._auto: str | None = None
        self._mapping = mapping
        self._columns = columns

    def of(self, spec: FieldSpec) -> tuple[str, str | None]:
        if self._declared is not None and spec.decimal is None:
            return self._declared, None
        decimal = spec.decimal or self.csv.decimal
        thousands = self.csv.thousands if spec.thousands is None else (spec.thousands or None)
        if decimal == "auto":
            decimal = self._detect()
            if decimal == "," and thousands is None:
                thousands = "."
        if thousands == decimal:
            thousands = None
        return decimal, thousands

    def _detect(self) -> str:
        if self._auto is None:
            samples = []
            for entity, specs in self._mapping.entity.items():
                leaves = flat_fields(MAPPABLE[entity].model)
                for path, spec in specs.items():
                    leaf = leaves.get(path)
                    if leaf is None or not isinstance(leaf.kind, DecimalKind) or (spec.decimal or self.csv.decimal) != "auto":
                        continue
                    for name in spec.source_columns:
                        if (found := self._columns.find(name)) is not None:
                            samples.append(self._columns.prepared(found, spec.strip, spec.empty))
            self._auto = tf.detect_decimal(samples)
        return self._auto


def _ops(mapping: Mapping, columns: SourceColumns, length: int) -> tuple[str, pa.Array | None, list[Failure]]:
    """The file's mode and, for a delta, each row's op with the failures of bad ones."""
    spec = mapping.op
    present = spec is not None and all(columns.find(c) is not None for c in spec.source_columns)
    if mapping.mode == "full" or (mapping.mode == "auto" and not present):
        return "full", None, []
    if spec is None or not present:
        return "delta", tf.constant("upsert", length), []
    # Only invalid-op is reported: a code missing from a strict map is an invalid op as well.
    result = _read_field("op", spec.model_copy(update={"map_strict": False}), None, columns, None, length)
    assert result is not None
    bad = pc.invert(filled(pc.is_in(result.values, value_set=pa.array(OPS)), False))
    failure = Failure(bad, "invalid-op", "op must be upsert or delete (after map)", _label(spec), _raw(spec, columns))
    return "delta", _array(pc.if_else(bad, tf.NULL, result.values), pa.string()), [failure]


def _expand(specs: dict[str, FieldSpec], columns: SourceColumns) -> list[tuple[str, FieldSpec]]:
    """The entity's field specs, with ``attributes.*`` replaced by one spec per matching column."""
    out = [(path, spec) for path, spec in specs.items() if path != ATTRIBUTE_WILDCARD]
    wildcard = specs.get(ATTRIBUTE_WILDCARD)
    if wildcard is not None and wildcard.column is not None:
        pattern = column_pattern(wildcard.column)
        explicit = {path for path, _ in out} | {c for _, s in out for c in s.source_columns}
        for name in columns.names:
            found = pattern.match(name.strip())
            if found and f"attributes.{found[1]}" not in explicit and name not in explicit:
                out.append((f"attributes.{found[1]}", wildcard.model_copy(update={"column": name, "optional": False})))
    return out


def _label(spec: FieldSpec) -> str:
    return "+".join(spec.source_columns)


def _raw(spec: FieldSpec, columns: SourceColumns) -> list[tf.Column]:
    return [columns.raw(i) for name in spec.source_columns if (i := columns.find(name)) is not None]


def _read_field(
    path: str, spec: FieldSpec, kind: Kind | None, columns: SourceColumns, separators: _Separators | None, length: int
) -> _Field | None:
    """One field through the transform chain (docs/mappings.md "Transforms, in order")."""
    if spec.constant is not None:
        return _Field(tf.constant(spec.constant, length))
    found = [i for name in spec.source_columns if (i := columns.find(name)) is not None]
    if not found:
        return None if spec.default_text is None else _Field(tf.constant(spec.default_text, length))
    values = tf.join_columns([columns.prepared(i, spec.strip, spec.empty) for i in found], spec.join)
    failures: list[Failure] = []

    def check(result: tuple[tf.Column, tf.Failed], code: str, message: str) -> tf.Column:
        out, failed = result
        if failed is not None:
            failures.append(Failure(failed, code, f"{path}: {message}", _label(spec), _raw(spec, columns)))
        return out

    values = tf.change_case(values, spec.case)
    if spec.map is not None:
        listed = ", ".join(list(spec.map)[:8]) + (", …" if len(spec.map) > 8 else "")
        values = check(tf.map_codes(values, spec.map, spec.map_strict), "unmapped-code", f"not in the code map ({listed})")
    if isinstance(kind, DateKind) and spec.date_format:
        values = check(tf.parse_dates(values, spec.date_format), "invalid-date", f"not a date in the format {spec.date_format}")
    if isinstance(kind, TimestampKind) and (spec.timestamp_format or spec.timezone):
        shape = spec.timestamp_format or "ISO 8601"
        values = check(tf.parse_timestamps(values, spec.timestamp_format, spec.timezone), "invalid-timestamp",
                       f"not a timestamp in the format {shape} (or not a valid time in {spec.timezone or 'its zone'})")
    if isinstance(kind, DecimalKind) and separators is not None:
        decimal, thousands = separators.of(spec)
        notation = f"decimal {decimal!r}" + (f", thousands {thousands!r}" if thousands else "")
        values = check(tf.parse_decimals(values, decimal, thousands), "invalid-decimal", f"not a number ({notation})")
        if spec.scale is not None:
            values = check(tf.scale_decimals(values, Decimal(spec.scale)), "invalid-decimal", f"not a number to scale by {spec.scale}")
    if spec.default_text is not None:
        values = filled(values, pa.scalar(spec.default_text, pa.string()))
    return _Field(values, failures)


__all__ = ["EntityBatch", "TabularSource", "apply_mapping"]
