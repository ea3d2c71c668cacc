"""One input file through read -> route -> map -> validate, without touching any folder.

``evaluate`` is what ``exchanged check`` runs and the first half of ``exchanged process``: it returns
the draft report and, for each entity, the typed records to publish. It writes nothing; publishing,
archiving and the ledger are ``lifecycle.handle``'s business.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable
from collections.abc import Mapping as MappingType
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exchanged.columns import arrow_schema, validate
from exchanged.columns.validate import ValidRecords
from exchanged.config import Settings
from exchanged.errors import InputRejected
from exchanged.formats import detect_format, read_for_mapping
from exchanged.mapping import Mapping, apply_mapping, route_file
from exchanged.publish import EntityUpdate
from exchanged.records import ENTITIES
from exchanged.report import FileReport, Issue, IssueCollector, Location, Status


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def new_report_id(moment: dt.datetime) -> str:
    """Sortable by time, unique without coordination: 20261127T154100123-3f9a1c2e."""
    return moment.strftime("%Y%m%dT%H%M%S") + f"{moment.microsecond // 1000:03d}-{secrets.token_hex(4)}"


# sha256 runs at ~0.4 GB/s here (no SHA instructions); hashlib releases the GIL, so a large file
# is hashed on this thread while it is parsed and validated on the caller's.
_HASHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
_HASH_IN_BACKGROUND = 1 << 20


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Source:
    """One input: its bytes and how to name it in reports."""

    data: bytes
    display_name: str            # as shown in reports, e.g. "inbox/ARTIKEL_20261127.csv"
    file_name: str               # the base name, used for routing by glob
    received_at: dt.datetime
    digest: Future[str] | str = field(repr=False)
    report_id: str | None = None  # chosen when the daemon claimed the file (a replay after a crash keeps it)

    @property
    def sha256(self) -> str:
        return self.digest if isinstance(self.digest, str) else self.digest.result()

    @classmethod
    def from_bytes(cls, data: bytes, display_name: str, received_at: dt.datetime | None = None,
                   report_id: str | None = None) -> Source:
        digest = _HASHER.submit(_sha256, data) if len(data) >= _HASH_IN_BACKGROUND else _sha256(data)
        return cls(data, display_name, Path(display_name).name, received_at or utc_now(), digest, report_id)

    @property
    def id(self) -> str:
        """The report id: the claim's, else a new one (once per source)."""
        if self.report_id is None:
            object.__setattr__(self, "report_id", new_report_id(self.received_at))
        assert self.report_id is not None
        return self.report_id


@dataclass
class Evaluation:
    """The outcome of ``evaluate``: a draft report and what to publish if it is not rejected."""

    report: FileReport
    updates: list[EntityUpdate] = field(default_factory=list)
    mapping: Mapping | None = None
    document_date: str | None = None  # the input's own date (ISO), when its format or mapping gives one
    interchanges: list[str] = field(default_factory=list)  # EDIFACT: sender:qualifier+control ref per UNB
    acks: list[Any] = field(default_factory=list)  # EDIFACT: the CONTRL verdict per interchange
    orders: list[Any] = field(default_factory=list)  # shop orders to send to the ERP: (records.order.Order, Location)


def _draft(source: Source) -> FileReport:
    return FileReport(
        id=source.id, file=source.display_name, sha256="",  # set at the end
        size=len(source.data), status=Status.REJECTED, received_at=iso(source.received_at),
    )


def _reject(report: FileReport, issue: Issue, collector: IssueCollector) -> Evaluation:
    collector.add(issue)
    report.issues = collector.issues
    report.issues_truncated = collector.truncated
    report.status = Status.REJECTED
    return Evaluation(report)


PhaseHook = Callable[[str], None]


def no_progress(phase: str) -> None:
    pass


def evaluate(
    source: Source, mappings: MappingType[str, Mapping], settings: Settings, progress: PhaseHook = no_progress
) -> Evaluation:
    """Read, route, map and validate ``source``; never raises for a fault in the file's content.

    ``progress`` is told each phase as it starts (the CLI shows it on a terminal).
    """
    evaluation = _evaluate(source, mappings, settings, progress)
    evaluation.report.sha256 = source.sha256  # hashed meanwhile (Source.from_bytes)
    return evaluation


def _evaluate(source: Source, mappings: MappingType[str, Mapping], settings: Settings, progress: PhaseHook) -> Evaluation:
    report = _draft(source)
    collector = IssueCollector(settings.issue_limit)
    try:
        if not source.data:
            raise InputRejected(Issue(code="empty-file", message="the file is empty"))
        if len(source.data) > settings.max_file_bytes:
            raise InputRejected(Issue(code="file-too-large", message=f"{len(source.data)} bytes is more than max_file_bytes = {settings.max_file_bytes}"))
        report.format = detect_format(source.data, source.file_name)
        if report.format == "json":
            return _evaluate_order_json(source, report, collector, settings)
        mapping = route_file(source.file_name, source.data, report.format, mappings.values())
        report.mapping = mapping.name
        progress("reading")
        table = read_for_mapping(source.data, mapping, settings.max_file_bytes)
        collector.extend(table.issues)
        progress("mapping")
        batches = apply_mapping(mapping, table, issue_limit=settings.issue_limit)
    except InputRejected as rejected:
        evaluation = _reject(report, rejected.issue, collector)
        if report.format == "edifact" and report.mapping is None:  # say what else is wrong with it
            from exchanged.formats.edifact.records import syntax_verdict

            issues, evaluation.acks = syntax_verdict(source.data)
            collector.extend(issues)
            report.issues, report.issues_truncated = collector.issues, collector.truncated
        return evaluation
    results: list[tuple[ValidRecords, str]] = []
    progress("validating")
    if "order" in mapping.entity:
        return _evaluate_order_rows(report, collector, mapping, batches, settings)
    for batch in batches:
        collector.extend(batch.issues)
        collector.count_more(getattr(batch, "issues_truncated", 0))
        entity = ENTITIES[batch.entity]
        results.append((validate(entity, batch, collector, on_row_error=mapping.on_row_error), batch.mode))
    evaluation = _conclude(report, collector, mapping, results, settings)
    evaluation.interchanges = list(getattr(table, "interchange_keys", []))
    evaluation.acks = list(getattr(table, "acks", []))
    return evaluation


def _evaluate_order_json(source: Source, report: FileReport, collector: IssueCollector, settings: Settings) -> Evaluation:
    """Canonical order JSON: its orders read, checked and (all valid) ready to be sent."""
    from exchanged.orders.canonical import read_orders
    from exchanged.orders.evaluate import judge_orders

    report.mapping = "canonical-order"
    orders, issues = read_orders(source.data)
    collector.extend(issues)
    numbered = [(order, Location(row=number)) for number, order in enumerate(orders, start=1)] if not issues else []
    return Evaluation(report, orders=judge_orders(report, collector, numbered, settings))


def _evaluate_order_rows(report: FileReport, collector: IssueCollector, mapping: Mapping, batches: list[Any],
                         settings: Settings) -> Evaluation:
    """Order rows read by a mapping: validated (any bad row rejects the file: an order is accepted
    whole), grouped into orders, checked and ready to be sent."""
    from exchanged.orders.assemble import assemble, number_lines
    from exchanged.orders.evaluate import judge_orders
    from exchanged.records import MAPPABLE

    orders: list[tuple[Any, Location]] = []
    for batch in batches:
        collector.extend(batch.issues)
        batch.fields = number_lines(batch.fields)
        valid = validate(MAPPABLE[batch.entity], batch, collector, on_row_error="reject_file")
        if collector.errors:
            break
        lines, rows = batch.lines.to_pylist(), batch.rows.to_pylist()
        where = [Location(line=line, row=row) for line, row in zip(lines, rows)]
        built, issues = assemble(valid.records, where)
        collector.extend(issues)
        orders.extend(built)
    accepted = judge_orders(report, collector, [] if collector.errors else orders, settings)
    return Evaluation(report, mapping=mapping, orders=accepted)


def _conclude(
    report: FileReport,
    collector: IssueCollector,
    mapping: Mapping,
    results: list[tuple[ValidRecords, str]],
    settings: Settings,
) -> Evaluation:
    report.entity = results[0][0].entity.name if results else None
    report.entities = {valid.entity.name: valid.records.num_rows + valid.deletes.num_rows for valid, _ in results}
    report.records = sum(report.entities.values())
    report.rejected_records = max((valid.rejected_rows for valid, _ in results), default=0)
    report.issues = collector.issues
    report.issues_truncated = collector.truncated
    total_rows = max((valid.total_rows for valid, _ in results), default=0)
    errors = collector.errors > 0
    if errors and (mapping.on_row_error == "reject_file" or report.records == 0):
        report.status = Status.REJECTED
        report.records = 0
        report.entities = {}
        return Evaluation(report, mapping=mapping)
    if total_rows == 0 and any(mode == "full" for _, mode in results) and not settings.allow_empty_snapshot:
        issue = Issue(code="empty-snapshot", message="a full snapshot without records would delete everything published; set allow_empty_snapshot = true to allow it")
        return _reject(report, issue, collector)
    report.status = Status.PARTIAL if errors or report.rejected_records else Status.ACCEPTED
    updates = [
        EntityUpdate(
            entity=valid.entity.name, key=valid.entity.key, schema=arrow_schema(valid.entity.model),
            records=valid.records, deletes=valid.deletes if mode == "delta" else None, mode=mode,
            retain=valid.retained if mode == "full" else None,
        )
        for valid, mode in results
    ]
    return Evaluation(report, updates, mapping, document_date(mapping, report))


def document_date(mapping: Mapping, report: FileReport) -> str | None:
    """The input's own date (ISO) as its mapping finds it in the file name; None when the mapping
    does not say where it is, or (with a warning) when this name does not carry one."""
    spec = mapping.document_date
    if spec is None:
        return None
    name = Path(report.file).name
    found = re.search(spec.filename, name)
    try:
        if found is None:
            raise ValueError(f"{spec.filename!r} does not match")
        moment = dt.datetime.strptime(found.group(1), spec.format)
    except ValueError as exc:
        report.issues.append(Issue(code="document-date-unreadable", severity="warning", location=Location(field="file name"),
                                   message=f"no document date in the file name {name!r} ({exc}); it cannot be judged stale",
                                   value=name))
        return None
    timed = any(code in spec.format for code in ("%H", "%I", "%M", "%S"))
    return moment.replace(tzinfo=dt.timezone.utc).isoformat().replace("+00:00", "Z") if timed else moment.date().isoformat()


__all__ = ["Evaluation", "PhaseHook", "no_progress", "Source", "evaluate", "iso", "new_report_id", "utc_now"]
