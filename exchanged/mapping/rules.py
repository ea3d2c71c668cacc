"""The rules of a mapping that need the record models: entities, field paths, kinds, the op.

They run after pydantic has checked the file's structure (``spec.Mapping``) and return
``(key, message)`` pairs, so the loader can point at each problem's line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from exchanged.records import MAPPABLE
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


def entity_problems(entity: str, fields: dict[str, FieldSpec], mode: str, *, patterns: bool = True) -> list[tuple[Key, str]]:
    """``patterns``: a ``*`` in a column name is a CSV column pattern (an XPath's ``*`` is its own)."""
    if entity not in MAPPABLE:
        return [(("entity", entity), f"unknown entity {entity!r} (known: {', '.join(MAPPABLE)})")]
    leaves = flat_fields(MAPPABLE[entity].model)
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
            elif patterns and spec.column and "*" in spec.column:
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
        if patterns and spec.column and "*" in spec.column:
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


def order_problems(mapping: Mapping) -> list[tuple[Key, str]]:
    """Order rows become orders sent to the ERP, each accepted whole: nothing else in the mapping,
    no delta, no dropped rows."""
    if "order" not in mapping.entity:
        return []
    problems: list[tuple[Key, str]] = []
    if len(mapping.entity) > 1:
        problems.append((("entity",), "a mapping of order rows maps nothing else (orders go to the ERP, not to the shop)"))
    if mapping.mode != "full" or mapping.op is not None:
        problems.append((("mode",), "orders are sent whole, never as a delta: leave mode and op out"))
    if "on_row_error" in mapping.model_fields_set and mapping.on_row_error != "reject_file":
        problems.append((("on_row_error",), "an order is accepted whole or not at all: on_row_error is reject_file"))
    return problems


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




def xml_problems(mapping: Mapping) -> list[tuple[Key, str]]:
    """An XML mapping names its root element and record elements, with declared prefixes, and
    reads fields by XPath (each compiled here, so a typo fails at load, not on the first file)."""
    from exchanged.formats.xml.paths import PathError, parse_step, record_steps, xpath_problem

    problems: list[tuple[Key, str]] = []
    spec = mapping.xml
    variants = spec.variants if spec is not None else {}
    for prefix, uris in variants.items():
        if not uris or any(not uri.strip() for uri in uris):
            problems.append((("xml", "namespaces", prefix), "give the namespace URI (or a list of its variants)"))

    def step_of(key: Key, text: str) -> tuple[str | None, str] | None:
        try:
            step = parse_step(text)
        except PathError as exc:
            problems.append((key, str(exc)))
            return None
        if step[0] is not None and step[0] not in variants:
            problems.append((key, f"prefix {step[0]!r} is not declared in [xml] namespaces"))
        return step

    if mapping.match.message or mapping.edifact:
        problems.append((("format",), 'match.message and [edifact] need format = "edifact"'))
    root = step_of(("match", "root"), mapping.match.root) if mapping.match.root else None
    if mapping.match.root is None:
        problems.append((("match", "root"), "an XML mapping names its root element, e.g. root = \"bme:BMECAT\""))
    for child in mapping.match.children:
        step_of(("match", "child"), child)
    if spec is None:
        return [*problems, (("xml",), "give [xml] records (and namespaces)")]
    for entity in spec.records:
        if entity not in mapping.entity:
            problems.append((("xml", "records", entity), f"no [entity.{entity}] reads these records"))
    for entity in mapping.entity:
        path = spec.records.get(entity)
        if path is None:
            problems.append((("xml", "records"), f"say which element is one {entity} record ({entity} = \"/root/…/element\")"))
            continue
        try:
            steps = record_steps(path)
        except PathError as exc:
            problems.append((("xml", "records", entity), str(exc)))
            continue
        for prefix, _ in steps:
            if prefix is not None and prefix not in variants:
                problems.append((("xml", "records", entity), f"prefix {prefix!r} is not declared in [xml] namespaces"))
        if root is not None and steps[0] != root:
            problems.append((("xml", "records", entity), f"{path!r} does not start at the root element {mapping.match.root!r}"))
    if problems:  # the XPaths need the prefixes to be right
        return problems
    specs = [(("entity", entity, path), field) for entity, fields in mapping.entity.items() for path, field in fields.items()]
    if mapping.op is not None:
        specs.append((("op",), mapping.op))
    for key, field in specs:
        if key[-1] == ATTRIBUTE_WILDCARD:
            problems.append((key, "attributes.* reads CSV columns; name each attribute (attributes.colour = \"XPath\")"))
            continue
        for expression in field.source_columns:
            problem = xpath_problem(expression, variants)
            if problem:
                problems.append((key, problem))
    return problems


__all__ = ["ATTRIBUTE_WILDCARD", "edifact_problems", "entity_problems", "op_problems", "order_problems", "xml_problems"]
