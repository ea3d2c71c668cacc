"""XML files -> one all-string table per entity, for the mapping engine (``[xml]`` mappings).

The file is parsed once, streaming (``iterparse``). The reader streams by the shortest record
paths: BMEcat's ``…/PRODUCT`` carries both the product and, below it, its PRODUCT_PRICE records, so
each PRODUCT is handed over complete, its records are read with the mapping's XPaths, and it is
cleared and dropped. What lies outside the streamed elements (the header) stays in the tree, so
a field may read it with an absolute path (``/bme:BMECAT/bme:HEADER/bme:CATALOG/bme:CURRENCY``).

Each record's fields are read by one XPath call (``paths.compile_values``) and collected column
by column into Arrow chunks, so memory grows with the records' text, not with the file's markup
(DESIGN §6: peak RSS grows < 1.5x when the file doubles).

Every row keeps its line (the record element's start tag) and an exact XPath to it
(``(/bme:BMECAT/bme:T_NEW_CATALOG/bme:PRODUCT[17]/bme:PRODUCT_PRICE_DETAILS/bme:PRODUCT_PRICE)[2]``)
for issue locations.
"""

from __future__ import annotations

import gc
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from lxml import etree

from exchanged.errors import InputRejected
from exchanged.formats.xml.paths import (
    SEPARATOR,
    Step,
    bind,
    clark,
    compile_each,
    compile_nodes,
    compile_values,
    record_steps,
    relative,
)
from exchanged.formats.xml.peek import peek_root
from exchanged.formats.xml.safe import parser_options, syntax_issue
from exchanged.mapping.spec import XmlSpec
from exchanged.report import Issue, Location

_CHUNK = 8192  # rows per Arrow chunk: Python strings are held for one chunk only


@dataclass
class XmlRows:
    """One entity's records as the engine reads them (a ``TabularSource``): one column per XPath."""

    table: pa.Table
    lines: pa.Array
    rows: pa.Array
    locate: Callable[[int], Location]
    decimal: str | None = None  # XML numbers are written with "." (XML Schema xs:decimal)


@dataclass
class XmlSource:
    """What the XML reader gives the pipeline: per entity its rows, and the file's issues."""

    entities: dict[str, XmlRows]
    issues: list[Issue] = field(default_factory=list)


class _Entity:
    """One entity's plan (how its records are found and read) and the rows read so far."""

    def __init__(self, name: str, stream: int, inner: str | None, columns: list[str], bound: dict[str, str]) -> None:
        self.name = name
        self.stream = stream
        self.inner_text = inner
        self.inner = compile_nodes(inner, bound) if inner else None
        self.columns = columns
        self.values = compile_values(columns, bound) if columns else None
        self.each = compile_each(columns, bound)
        self.pending: list[list[str]] = []
        self.chunks: list[list[pa.Array]] = [[] for _ in columns]
        self.lines: list[int] = []
        self.places: list[tuple[int, int]] = []  # (ordinal of the streamed element in its parent, index below it)

    def read(self, record: Any) -> None:
        if self.values is None:
            self.pending.append([])
        elif len(self.columns) == 1:
            self.pending.append([self.values(record)])
        else:
            parts = self.values(record).split(SEPARATOR)
            self.pending.append(parts if len(parts) == len(self.columns) else [one(record) for one in self.each])
        self.lines.append(record.sourceline or 0)
        if len(self.pending) >= _CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.pending and self.columns:
            for number, values in enumerate(zip(*self.pending)):
                self.chunks[number].append(pa.array(values, pa.string()))
        self.pending = [] if self.columns else self.pending

    @property
    def count(self) -> int:
        return len(self.lines)


def read_xml(data: bytes, spec: XmlSpec, columns: dict[str, list[str]]) -> XmlSource:
    """Read ``data``: for each entity of ``columns`` (entity -> field XPaths), one row per element
    at its record path. Raises ``InputRejected`` for an unsafe or malformed file."""
    root = peek_root(data)
    declared = set(root.declared) | ({root.namespace} if root.namespace else set())
    bound = bind(spec.variants, declared)
    paths = {entity: record_steps(spec.records[entity]) for entity in columns}
    streams = sorted({tuple(_stream_of(steps, paths.values())) for steps in paths.values()}, key=len)
    entities = {}
    for entity, steps in paths.items():
        stream = streams.index(tuple(_stream_of(steps, paths.values())))
        inner = relative(steps[len(streams[stream]):]) or None
        entities[entity] = _Entity(entity, stream, inner, list(dict.fromkeys(columns[entity])), bound)
    tags = {tuple(clark(step, bound) for step in stream): number for number, stream in enumerate(streams)}
    collecting = gc.isenabled()
    gc.disable()  # many small objects, no cycles: the cyclic collector would only walk them again and again
    try:
        _stream(data, tags, list(entities.values()), huge_tree=spec.huge_tree)
    finally:
        if collecting:
            gc.enable()
    issues = [Issue(code="xml-no-records", severity="warning", location=Location(xpath=spec.records[e.name]),
                    message=f"no element {spec.records[e.name]} in the file: it gives no {e.name} record")
              for e in entities.values() if e.count == 0]
    return XmlSource({entity: _rows(plan, streams[plan.stream]) for entity, plan in entities.items()}, issues)


def _stream_of(steps: list[Step], all_paths: Any) -> list[Step]:
    """The shortest record path that ``steps`` starts with (itself when no other is shorter)."""
    prefixes = [p for p in all_paths if len(p) <= len(steps) and steps[: len(p)] == p]
    return min(prefixes, key=len)


def _stream(data: bytes, tags: dict[tuple[str, ...], int], entities: list[_Entity], *, huge_tree: bool) -> None:
    by_stream: dict[int, list[_Entity]] = {}
    for entity in entities:
        by_stream.setdefault(entity.stream, []).append(entity)
    last_tags = {path[-1] for path in tags}
    ordinals: dict[tuple[int, int], int] = {}
    events = etree.iterparse(io.BytesIO(data), events=("end",), tag=list(last_tags), **parser_options(huge_tree=huge_tree))
    try:
        for _, element in events:
            path = _path_of(element)
            number = tags.get(path)
            if number is None:
                continue
            parent = element.getparent()
            key = (number, id(parent))
            ordinal = ordinals[key] = ordinals.get(key, 0) + 1
            for entity in by_stream[number]:
                records = [element] if entity.inner is None else entity.inner(element)
                for index, record in enumerate(records, start=1):
                    if isinstance(record, etree._Element):
                        entity.read(record)
                        entity.places.append((ordinal, index))
            element.clear(keep_tail=False)
            previous = element.getprevious()
            while previous is not None and previous.tag in last_tags:  # records already read
                parent.remove(previous)
                previous = element.getprevious()
    except etree.XMLSyntaxError as exc:
        raise InputRejected(syntax_issue(exc)) from None
    for entity in entities:
        entity.flush()


def _path_of(element: Any) -> tuple[str, ...]:
    tags = []
    while element is not None:
        tags.append(element.tag)
        element = element.getparent()
    return tuple(reversed(tags))


def _rows(entity: _Entity, stream: tuple[Step, ...]) -> XmlRows:
    count = entity.count
    if entity.columns:
        table = pa.table({column: pa.chunked_array(chunks, pa.string()).combine_chunks()
                          for column, chunks in zip(entity.columns, entity.chunks)})
    else:
        table = pa.table({"_": pa.nulls(count, pa.string())}).drop_columns(["_"])
    lines, places, inner = entity.lines, entity.places, entity.inner_text
    base = "/" + relative(list(stream))

    def locate(index: int) -> Location:
        ordinal, below = places[index]
        where = f"{base}[{ordinal}]"
        xpath = f"({where}/{inner})[{below}]" if inner else where
        return Location(line=lines[index] or None, row=index + 1, xpath=xpath)

    return XmlRows(table, pa.array(lines, pa.int64()), pa.array(range(1, count + 1), pa.int64()), locate)


__all__ = ["XmlRows", "XmlSource", "read_xml"]
