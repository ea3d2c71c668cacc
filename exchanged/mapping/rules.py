"""The rules of a mapping that need the record models: entities, field paths, kinds, the op.

They run after pydantic has checked the file's structure (``spec.Mapping``) and return
``(key, message)`` pairs, so the loader can point at each problem's line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from exchanged.records import ENTITIES
from exchanged.records.fields import ATTRIBUTES, FlatField, flat_fields
from exchanged.records.kinds import DateKind, DecimalKind, TimestampKind

if TYPE_CHECKING:
    from exchanged.mapping.spec import FieldSpec, Key, Mapping

ATTRIBUTE_WILDCARD = f"{ATTRIBUTES}.*"

_KIND_NAMES = {
    "DecimalKind": "a decimal", "DateKind": "a date", "TimestampKind": "a timestamp", "BooleanKind": "a boolean",
    "Identifier": "an identifier", "CodeList": "a code", "Gtin": "a GTIN", "TextKind": "text", "PatternKind": "text",
}


def _kind_name(leaf: FlatField) -> str:
    if leaf.kind is None:
        return "an attribute (text)"
    return _KIND_NAMES.get(type(leaf.kind).__name__, type(leaf.kind).__name__)


def entity_problems(entity: str, fields: dict[str, FieldSpec], mode: str) -> list[tuple[Key, str]]:
    if entity not in ENTITIES:
        return [(("entity", entity), f"unknown entity {entity!r} (known: {', '.join(ENTITIES)})")]
    leaves = flat_fields(ENTITIES[entity].model)
    problems: list[tuple[Key, str]] = []
    for path, spec in fields.items():
        key: Key = ("entity", entity, path)
        if path.startswith(ATTRIBUTES + "."):
            name = path[len(ATTRIBUTES) + 1:]
            if not name:
                problems.append((key, "give the attribute's name: attributes.<name>"))
            elif path == ATTRIBUTE_WILDCARD:
                if spec.column is None or spec.column.count("*") != 1:
                    problems.append((key, "attributes.* reads every column matching a pattern with one '*', e.g. column = \"attributes.*\""))
            elif spec.column and "*" in spec.column:
                problems.append((key, "a column pattern with '*' only goes with attributes.*"))
            elif ATTRIBUTES not in leaves:
                problems.append((key, f"{entity} has no attributes"))
            problems.extend((key, message) for message in _kind_problems(spec, FlatField(path, None, False, None, None)))
            continue
        leaf = leaves.get(path)
        if leaf is None or path == ATTRIBUTES:
            known = ", ".join(p if p != ATTRIBUTES else "attributes.<name>" for p in leaves)
            problems.append((key, f"unknown field {path!r} ({entity} has: {known})"))
            continue
        if spec.column and "*" in spec.column:
            problems.append((key, "a column pattern with '*' only goes with attributes.*"))
        problems.extend((key, message) for message in _kind_problems(spec, leaf))
    if mode == "full":
        missing = [p for p, leaf in leaves.items() if leaf.required and p not in fields]
        if missing:
            problems.append((("entity", entity), f"required field(s) not mapped: {', '.join(missing)}"))
    return problems


def _kind_problems(spec: FieldSpec, leaf: FlatField) -> list[str]:
    out = []
    kind = leaf.kind
    if (spec.decimal or spec.thousands is not None or spec.scale is not None) and not isinstance(kind, DecimalKind):
        out.append(f"decimal, thousands and scale apply to decimal fields; {leaf.path} is {_kind_name(leaf)}")
    if spec.decimal and spec.thousands and spec.decimal == spec.thousands:
        out.append("decimal and thousands separators must differ")
    if spec.date_format and not isinstance(kind, DateKind):
        out.append(f"date_format applies to date fields; {leaf.path} is {_kind_name(leaf)}")
    if (spec.timestamp_format or spec.timezone) and not isinstance(kind, TimestampKind):
        out.append(f"timestamp_format and timezone apply to timestamp fields; {leaf.path} is {_kind_name(leaf)}")
    return out


def op_problems(mapping: Mapping) -> list[tuple[Key, str]]:
    op = mapping.op
    if op is None:
        if mapping.mode == "auto":
            return [(("mode",), "mode = \"auto\" needs op = { column = \"op\" }: the column that makes a file a delta")]
        return []
    if mapping.mode == "full":
        return [(("op",), "op goes with mode = \"delta\" or \"auto\"; a full snapshot has no deletes")]
    if mapping.mode == "auto" and op.column is None:
        return [(("op",), "mode = \"auto\" decides by the op column: give op.column")]
    if op.date_format or op.timestamp_format or op.scale is not None or op.decimal or op.thousands is not None:
        return [(("op",), "op takes strip, case, map and default only")]
    if op.constant is not None and op.constant not in ("upsert", "delete"):
        return [(("op", "value"), "op value must be upsert or delete")]
    return []


def edifact_problems(mapping: Mapping) -> list[tuple[Key, str]]:
    """An EDIFACT mapping names its message types and groups, and reads fields by selector."""
    from exchanged.formats.edifact.selectors import SelectorError, parse_selector

    problems: list[tuple[Key, str]] = []
    if not mapping.match.message:
        problems.append((("match", "message"), "an EDIFACT mapping names its message type(s), e.g. message = \"PRICAT\""))
    spec = mapping.edifact
    if spec is None:
        return [*problems, (("edifact",), "give [edifact] levels and records")]
    for entity in mapping.entity:
        level = spec.records.get(entity)
        if level is None:
            problems.append((("edifact", "records"), f"say which group is one {entity} record ({entity} = \"LIN\")"))
        elif level not in spec.levels:
            problems.append((("edifact", "records", entity), f"{level!r} is not one of levels {spec.levels}"))
    for entity, fields in mapping.entity.items():
        for path, field in fields.items():
            if path == ATTRIBUTE_WILDCARD:
                problems.append((("entity", entity, path), "attributes.* reads CSV columns; name each attribute"))
                continue
            for selector in field.source_columns:
                try:
                    parse_selector(selector)
                except SelectorError as exc:
                    problems.append((("entity", entity, path), str(exc)))
    return problems


__all__ = ["ATTRIBUTE_WILDCARD", "edifact_problems", "entity_problems", "op_problems"]
