"""EDIFACT messages -> one all-string table per entity, for the mapping engine.

The mapping says which segment groups there are (``levels``, e.g. LIN then PRI in a PRICAT), which
group is one record of each entity (``records``: product = LIN, price = PRI) and, per field, a
selector (``selectors.py``). Each message is read when the syntax layer yields it and dropped after
its rows are taken, so memory grows with the records, not with the segments (DESIGN §6: streaming
by message).

A selector is resolved in the record's own group, then in the groups around it, then in the
message header (before the first group): a price's currency is the CUX of its PRI group or,
failing that, the header's CUX+2 (EANCOM PRICAT). Messages the syntax layer rejected give no rows;
so do messages the mapping does not read (``no-mapping`` naming the type), and messages found to be
rejected only at the end of the file (a stray segment after them) lose their rows then.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from exchanged.columns.memory import LARGE, release_memory
from exchanged.formats.edifact.acks import AckCollector
from exchanged.formats.edifact.bodies import BodyRun, CompactBody
from exchanged.formats.edifact.contrl import InterchangeAck
from exchanged.formats.edifact.envelope import (
    EdifactFile,
    InterchangeSummary,
    Message,
    MessageSummary,
    read_interchanges,
)
from exchanged.formats.edifact.extract import Components, Groups, selector_values
from exchanged.formats.edifact.selectors import Selector, parse_selector
from exchanged.formats.edifact.tokenizer import Syntax
from exchanged.mapping.spec import EdifactSpec
from exchanged.report import Issue, Location


@dataclass
class EntityRows:
    """One entity's records as the engine reads them (a ``TabularSource``): one column per selector."""

    table: pa.Table
    lines: pa.Array
    rows: pa.Array
    locate: Callable[[int], Location]
    decimal: str | None = None


@dataclass
class EdifactSource:
    """What the EDIFACT reader gives the pipeline: per entity its rows, and the file's issues."""

    entities: dict[str, EntityRows]
    issues: list[Issue]
    interchanges: list[InterchangeSummary]
    acks: list[InterchangeAck] = field(default_factory=list)  # the CONTRL verdict per interchange
    issues_truncated: int = 0

    @property
    def interchange_keys(self) -> list[str]:
        """``sender:qualifier+control ref`` of each interchange (UNB S002 0004/0007 + 0020)."""
        return [interchange_key(i.header.sender, i.header.sender_qualifier, i.header.control_ref)
                for i in self.interchanges if i.header.control_ref]


def interchange_key(sender: str, qualifier: str, control_ref: str) -> str:
    return f"{sender}:{qualifier}+{control_ref}"


@dataclass
class _Origin:
    """Where a message's rows came from, kept small: no segments, so messages can go."""

    file: EdifactFile
    plan: object
    interchange_ref: str | None
    message_ref: str | None
    summary: MessageSummary | None


class _Collector:
    """The rows of one entity, column by column (one Arrow chunk per message)."""

    def __init__(self, record: str, selectors: list[Selector]) -> None:
        self.record = record
        self.selectors = selectors
        self.columns: list[list[pa.Array]] = [[] for _ in selectors]
        # per message: (origin, offsets of the record groups' first segments, their indexes, tag)
        self.anchors: list[tuple[int, list[int], list[int], str]] = []

    @property
    def count(self) -> int:
        return sum(len(offsets) for _, offsets, _, _ in self.anchors)


def read_edifact(data: bytes, spec: EdifactSpec, selectors: dict[str, list[str]],
                 accepts: Callable[[Message], bool]) -> EdifactSource:
    """Read ``data``: for each entity of ``selectors`` (entity -> selector texts), one row per group
    of its record level, in every message ``accepts``."""
    file = read_interchanges(data)
    collectors = {entity: _Collector(spec.records[entity], [parse_selector(text) for text in dict.fromkeys(texts)])
                  for entity, texts in selectors.items()}
    origins: list[_Origin] = []
    issues: list[Issue] = []
    # A large message is hundreds of thousands of new objects kept alive together: Python's cyclic
    # collector would walk them again and again while they are made (none of them form cycles).
    collecting = gc.isenabled()
    gc.disable()
    acks = AckCollector()
    try:
        _read_messages(file, spec, collectors, accepts, origins, issues, acks)
    finally:
        if collecting:
            gc.enable()
    file.release_text()  # the rows' locations come from the bytes
    if len(data) >= LARGE * 128:  # 4 MB: the segment arrays are gone, let the next phases have their memory
        release_memory()
    issues.extend(file.issues)
    dropped = {n for n, origin in enumerate(origins) if origin.summary is not None and origin.summary.rejected}
    decimal = _decimal_mark(file.interchanges)
    entities = {entity: _rows(collector, origins, dropped, decimal) for entity, collector in collectors.items()}
    return EdifactSource(entities, issues, list(file.interchanges), acks.acks(file.interchanges, file.issues))


def _read_messages(file: EdifactFile, spec: EdifactSpec, collectors: dict[str, _Collector],
                   accepts: Callable[[Message], bool], origins: list[_Origin], issues: list[Issue],
                   acks: AckCollector) -> None:
    bodies: dict[int, CompactBody] = {}

    def keep_body(message: Message, run: BodyRun) -> None:
        body = bodies.get(id(message))
        if body is None:
            body = bodies[id(message)] = CompactBody()
        body.add(run)

    file.body_sink = keep_body
    for message in file.messages():
        body = bodies.pop(id(message), None)
        issues.extend(message.issues)
        acks.add(message, _summary_of(file, message))
        if not accepts(message):
            issues.append(Issue(code="no-mapping", location=message.location(message.segments[0]),
                                message=f"no mapping reads EDIFACT {_described(message)} messages; this one is skipped",
                                value=message.type))
            continue
        if message.rejected:
            continue
        origins.append(_Origin(file, message._plan, message.interchange.control_ref or None, message.ref or None,
                               _summary_of(file, message)))
        before = sum(c.count for c in collectors.values())
        _take_rows(message, body, spec, collectors, len(origins) - 1)
        if sum(c.count for c in collectors.values()) == before:  # never silently nothing
            issues.append(Issue(code="edifact-no-records", severity="warning", location=message.location(message.segments[0]),
                                message=f"message {message.ref} has no {' or '.join(dict.fromkeys(spec.records.values()))} "
                                        "group: it gives no record"))


def syntax_verdict(data: bytes) -> tuple[list[Issue], list[InterchangeAck]]:
    """Every issue the syntax layer finds in ``data``, and its CONTRL verdicts (for a file rejected
    before its records are read, e.g. ``no-mapping``: its report still says what else is wrong)."""
    file = read_interchanges(data)
    file.body_sink = lambda message, run: None  # only the verdicts are needed, not the bodies
    acks = AckCollector()
    issues = []
    for message in file.messages():
        issues.extend(message.issues)
        acks.add(message, _summary_of(file, message))
    return issues + file.issues, acks.acks(file.interchanges, file.issues)


def _described(message: Message) -> str:
    version = f"{message.version}:{message.release}" if message.version else "?"
    return f"{message.type or '?'} {version}" + (f" ({message.association})" if message.association else "")


def _summary_of(file: EdifactFile, message: Message) -> MessageSummary | None:
    if file.interchanges and file.interchanges[-1].messages:
        last = file.interchanges[-1].messages[-1]
        if last._message is not None and last._message() is message:
            return last
    return None


def _take_rows(message: Message, body: CompactBody | None, spec: EdifactSpec, collectors: dict[str, _Collector],
               origin: int) -> None:
    """Number the message's groups and add one row per record group to its entity's collector
    (the selectors run column-wise: ``extract.py``)."""
    separators = message.interchange.separators
    syntax = _syntax(message)
    texts, tags, offsets, indexes = (body or CompactBody()).arrays()
    ends = np.flatnonzero(np.isin(tags, [tag.encode() for tag in spec.end]))
    if len(ends):  # the summary section holds no groups
        texts, tags = texts.slice(0, ends[0]), tags[: ends[0]]
    groups = Groups(tags, spec.levels)
    components = Components(texts, tags, separators)
    by_tag: dict[str, list[tuple[_Collector, int, Selector]]] = {}
    for collector in collectors.values():
        for number, selector in enumerate(collector.selectors):
            by_tag.setdefault(selector.tag, []).append((collector, number, selector))
    found: dict[tuple[int, int], pa.Array] = {}
    for tag, readers in by_tag.items():  # tag by tag: its split segments are dropped after its last use
        for collector, number, selector in readers:
            level = spec.levels.index(collector.record)
            found[id(collector), number] = selector_values(selector, components, groups, level, syntax)
        components.forget(tag)
    for collector in collectors.values():
        anchors = groups.anchors[spec.levels.index(collector.record)]
        for number, column in enumerate(collector.columns):
            column.append(found[id(collector), number])
        collector.anchors.append((origin, offsets[anchors].tolist(), indexes[anchors].tolist(),
                                  tags[anchors[0]].decode() if len(anchors) else ""))


def _syntax(message: Message) -> Syntax:
    return Syntax(message.interchange.separators, getattr(message._plan, "fix", None))


def _rows(collector: _Collector, origins: list[_Origin], dropped: set[int], decimal: str | None) -> EntityRows:
    sizes = [len(offsets) for _, offsets, _, _ in collector.anchors]
    starts = np.cumsum([0, *sizes])
    kept = [n for n, chunk in enumerate(collector.anchors) if chunk[0] not in dropped]
    keep = None if len(kept) == len(sizes) else \
        np.concatenate([np.arange(starts[n], starts[n + 1]) for n in kept] or [np.zeros(0, np.int64)]).tolist()
    chunks = [collector.anchors[n] for n in kept]
    rows = sum(sizes[n] for n in kept)
    table = pa.table({selector.text: _column(column, keep)
                      for selector, column in zip(collector.selectors, collector.columns)})
    if not collector.selectors:
        table = pa.table({"_": pa.nulls(rows, pa.string())}).drop_columns(["_"])
    firsts = np.cumsum([0, *(len(offsets) for _, offsets, _, _ in chunks)])

    def locate(index: int) -> Location:
        chunk = int(np.searchsorted(firsts, index, side="right")) - 1
        number, offsets, indexes, tag = chunks[chunk]
        at = index - int(firsts[chunk])
        origin = origins[number]
        return origin.file.locate(offsets[at], origin.plan, segment_index=indexes[at], segment_tag=tag,  # type: ignore[arg-type]
                                  interchange_ref=origin.interchange_ref, message_ref=origin.message_ref)

    return EntityRows(table, pa.nulls(rows, pa.int64()), pa.array(range(1, rows + 1), pa.int64()), locate, decimal)


def _column(chunks: list[pa.Array], keep: list[int] | None) -> pa.Array:
    column = pa.concat_arrays(chunks) if chunks else pa.array([], pa.string())
    return column if keep is None else column.take(pa.array(keep, pa.int64()))


def _decimal_mark(interchanges: Iterable[InterchangeSummary]) -> str | None:
    """The decimal mark (UNA position 3) when every interchange declares the same one."""
    marks = {i.header.separators.decimal for i in interchanges}
    return marks.pop() if len(marks) == 1 else None


__all__ = ["EdifactSource", "EntityRows", "interchange_key", "read_edifact", "syntax_verdict"]
