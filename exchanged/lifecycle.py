"""One file from bytes to its final state: evaluate, publish, archive, record (DESIGN §1).

The order is the reliability order: outputs first (publish), then the original is archived or
quarantined, then the ledger row is written. A file's content already applied before (same sha256)
is a ``duplicate`` and publishes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field
from pathlib import Path

from exchanged.acknowledge import acknowledge
from exchanged.archive import Archive, StagedOriginal
from exchanged.audit import Ledger
from exchanged.columns.memory import release_memory
from exchanged.config import Settings
from exchanged.formats.jsonl import preload as preload_renderer
from exchanged.mapping import Mapping, load_mappings
from exchanged.orders.send import dispatch_orders
from exchanged.pipeline import (
    Evaluation,
    PhaseHook,
    Source,
    evaluate,
    iso,
    no_progress,
    utc_now,
)
from exchanged.publish import SourceRef, publish_batch
from exchanged.publish.commit import display
from exchanged.report import FileReport, Issue, Status

_LARGE_INPUT = 4 << 20  # bytes: below this, reading leaves little memory to hand back

@dataclass
class Workspace:
    """The folders and the ledger one process works with."""

    settings: Settings
    mappings: MappingType[str, Mapping]
    archive: Archive
    ledger: Ledger
    _show: Callable[[Path], str] | None = field(default=None, repr=False)

    @classmethod
    def open(cls, settings: Settings) -> Workspace:
        mappings = load_mappings(settings.folder("mappings"))
        for name in ("outbox", "archive"):
            settings.folder(name).mkdir(parents=True, exist_ok=True)
        settings.shop_dir.mkdir(parents=True, exist_ok=True)
        settings.erp_dir.mkdir(parents=True, exist_ok=True)
        return cls(settings, mappings, Archive(settings.folder("archive")), Ledger(settings.ledger_path))

    def close(self) -> None:
        self.archive.close()
        self.ledger.close()

    def relative(self, path: Path) -> str:
        """A path as reports show it: relative to the base folder when inside it."""
        if self._show is None:
            self._show = display(self.settings.base_dir)
        return self._show(path)


def _interchange_seen(keys: list[str], seen: dict[str, str], workspace: Workspace) -> tuple[str, FileReport | str] | None:
    """The first EDIFACT interchange (UNB sender + 0020) of ``keys`` applied before, and by whom."""
    for key in keys:
        if key in seen:
            return key, seen[key]
    return workspace.ledger.find_interchange(keys)


def _duplicate(source: Source, earlier: FileReport | str, *, interchange: str | None = None) -> FileReport:
    """The report of ``source`` whose content (or, with ``interchange``, whose EDIFACT interchange)
    was processed before (``earlier``: that report, or the id of an input earlier in the batch)."""
    earlier_id = earlier if isinstance(earlier, str) else earlier.id
    where = "" if isinstance(earlier, str) else f" ({earlier.file})"
    if interchange is not None:
        sender, _, ref = interchange.rpartition("+")
        issue = Issue(code="duplicate-interchange", severity="warning", value=interchange,
                      message=f"interchange {ref} from {sender} (UNB 0020) was processed before as {earlier_id}{where}; "
                              "nothing published")
        return FileReport(id=source.id, file=source.display_name, sha256=source.sha256, size=len(source.data),
                          status=Status.DUPLICATE, format="edifact", received_at=iso(source.received_at), issues=[issue])
    return FileReport(
        id=source.id, file=source.display_name, sha256=source.sha256,
        size=len(source.data), status=Status.DUPLICATE,
        format=None if isinstance(earlier, str) else earlier.format,
        mapping=None if isinstance(earlier, str) else earlier.mapping,
        entity=None if isinstance(earlier, str) else earlier.entity, received_at=iso(source.received_at),
        issues=[Issue(code="duplicate-content", severity="warning",
                      message=f"the same content was processed before as {earlier_id}{where}; nothing published",
                      value=earlier_id)],
    )


@dataclass
class Pending:
    """An input evaluated and waiting for ``commit``: its original is being archived meanwhile."""

    source: Source
    evaluation: Evaluation
    original: StagedOriginal | Path  # a Path: too large to hold, copied from there when archived
    started: float = field(default_factory=time.perf_counter)
    replay: bool = False  # `exchanged replay`: the content was seen before, on purpose

    def discard(self) -> None:
        if isinstance(self.original, StagedOriginal):
            self.original.discard()


def prepare(source: Source, workspace: Workspace, progress: PhaseHook = no_progress, *, replay: bool = False,
            evaluator: Callable[[Source], Evaluation] | None = None) -> Pending:
    """Evaluate ``source`` (writes nothing but the archive's staged copy); ``commit`` finishes it.
    ``evaluator`` evaluates elsewhere (the daemon's worker processes during a burst)."""
    started = time.perf_counter()
    preload_renderer()
    # Every input is archived, whatever its outcome: its copy is written while it is evaluated.
    original = workspace.archive.stage(source.data)
    try:
        if evaluator is not None:
            evaluation = evaluator(source)
        else:
            evaluation = evaluate(source, workspace.mappings, workspace.settings, progress)
    except BaseException:
        original.discard()
        raise
    return Pending(source, evaluation, original, started, replay)


def prepare_all(sources: list[Source], workspace: Workspace,
                evaluate_all: Callable[[list[Source]], list[Evaluation | BaseException]]) -> list[Pending | BaseException]:
    """``prepare`` of several sources whose evaluations come in one call (``evaluate_all``: the
    daemon's worker processes, several files per trip); per source its Pending, or the exception
    its evaluation raised (its staged original discarded)."""
    started = time.perf_counter()
    preload_renderer()
    originals: list[StagedOriginal] = []
    try:
        for source in sources:
            originals.append(workspace.archive.stage(source.data))
        evaluations = evaluate_all(sources)
    except BaseException:
        for original in originals:
            original.discard()
        raise
    out: list[Pending | BaseException] = []
    for source, original, evaluation in zip(sources, originals, evaluations):
        if isinstance(evaluation, BaseException):
            original.discard()
            out.append(evaluation)
        else:
            out.append(Pending(source, evaluation, original, started))
    return out


def handle(source: Source, workspace: Workspace, progress: PhaseHook = no_progress, *, replay: bool = False) -> FileReport:
    """Take ``source`` to its final state and return its report (already in the ledger)."""
    pending = prepare(source, workspace, progress, replay=replay)
    try:
        return commit([pending], workspace, progress)[0]
    finally:
        pending.discard()  # nothing left once stored; a failure before that leaves no temp file


def commit(batch: list[Pending], workspace: Workspace, progress: PhaseHook = no_progress) -> list[FileReport]:
    """Publish, archive and record ``batch`` (in arrival order); one report per input.

    The inputs that publish do so in one ``publish_batch``: each keeps its own change file and
    audit row, but each entity's state is rewritten once. Raises TransientError (nothing recorded,
    the batch can be committed again: publishing is idempotent by the inputs' hashes).
    An input already in the ledger (a claim finished just before a crash) keeps its recorded report.
    """
    reports: list[FileReport | None] = []
    publishing: list[tuple[Pending, FileReport]] = []
    seen: dict[str, str] = {}
    # What the ledger knows of the batch, asked once for all of it (a query per input was a tenth
    # of the daemon's time in a burst of small files).
    recorded_before = workspace.ledger.get_all([item.source.id for item in batch if item.source.report_id is not None])
    published = workspace.ledger.find_published_all([item.source.sha256 for item in batch
                                                     if not item.replay and item.source.id not in recorded_before])
    for item in batch:
        source = item.source
        recorded = recorded_before.get(source.id) if source.report_id is not None else None
        if recorded is not None:
            reports.append(recorded)
            continue
        earlier = None if item.replay else (seen.get(source.sha256) or published.get(source.sha256.lower()))
        if earlier is not None:
            reports.append(_duplicate(source, earlier))
            continue
        report = item.evaluation.report
        if report.status in (Status.ACCEPTED, Status.PARTIAL) and item.evaluation.interchanges and not item.replay:
            sent = _interchange_seen(item.evaluation.interchanges, seen, workspace)
            if sent is not None:
                reports.append(_duplicate(source, sent[1], interchange=sent[0]))
                continue
        reports.append(report)
        if report.status in (Status.ACCEPTED, Status.PARTIAL):
            seen[source.sha256] = source.id
            seen.update((key, source.id) for key in item.evaluation.interchanges)
            if item.evaluation.updates:  # an order file publishes nothing for the shop
                publishing.append((item, report))
    if publishing:
        progress("publishing")
        if any(len(item.source.data) >= _LARGE_INPUT for item, _ in publishing):
            # Reading and validating a large file freed memory that publishing (other allocators)
            # cannot reuse: hand it back first, so the peak is the larger phase, not their sum.
            release_memory()
        _publish(publishing, workspace)
    progress("archiving")
    recorded_now = workspace.ledger.get_all([report.id for report in reports if report is not None])
    unrecorded = [(item, report) for item, report in zip(batch, reports)
                  if report is not None and report.id not in recorded_now]
    for item, report in unrecorded:
        # Orders are checked again against the state just published, then sent once each.
        dispatch_orders(item.evaluation.orders, report, workspace.settings, workspace.relative)
        acknowledge(item.evaluation.acks, report, workspace.settings, workspace.relative)
    stored = [path for item, report in unrecorded if (path := _archive(item, report, workspace)) is not None]
    workspace.archive.sync_folders(stored)  # once per dated folder, not once per file
    applied = {report.id: item.evaluation.interchanges for item, report in unrecorded
               if item.evaluation.interchanges and report.status in (Status.ACCEPTED, Status.PARTIAL, Status.STALE)}
    workspace.ledger.record_all([report for _, report in unrecorded], applied)  # the rows last, one transaction
    return [r for r in reports if r is not None]


def _archive(item: Pending, report: FileReport, workspace: Workspace) -> Path | None:
    """Archive (or quarantine) the original; the ledger row comes after. Returns the archived path
    whose folder still needs its fsync (a quarantined file's write syncs it already)."""
    source = item.source
    rejected = report.status is Status.REJECTED
    target = workspace.archive.path_for(report_id=report.id, name=source.file_name, received_at=source.received_at,
                                        quarantine=rejected)
    report.archive = workspace.relative(target)
    report.finished_at = iso(utc_now())
    report.duration_ms = round((time.perf_counter() - item.started) * 1000)
    if rejected:  # the report beside the quarantined file is the complete one
        workspace.archive.quarantine(item.original, report=report, name=source.file_name, received_at=source.received_at)
        return None
    return workspace.archive.store(item.original, report_id=report.id, name=source.file_name,
                                   received_at=source.received_at, sync_folder=False)


def _publish(items: list[tuple[Pending, FileReport]], workspace: Workspace) -> None:
    inputs = [(item.evaluation.updates, SourceRef(id=report.id, file=item.source.display_name, sha256=item.source.sha256,
                                                   document_date=item.evaluation.document_date))
              for item, report in items]
    # An input whose ledger row is written needs no record in the shop folder that it was applied:
    # a replay of it ends as `duplicate` before it reaches publishing.
    results = publish_batch(workspace.settings.shop_dir, inputs, display_root=workspace.settings.base_dir,
                            settled=workspace.ledger.recorded)
    for (_, report), entity_results in zip(items, results):
        report.outputs = [path for result in entity_results for path in result.outputs]
        if entity_results and all(getattr(result, "stale", False) for result in entity_results):
            report.status = Status.STALE
            report.issues.append(Issue(code="stale-snapshot", severity="warning",
                                       message="a full snapshot older than the data already published; nothing changed"))

