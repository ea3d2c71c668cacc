"""One file from bytes to its final state: evaluate, publish, archive, record (DESIGN §1).

The order is the reliability order: outputs first (publish), then the original is archived or
quarantined, then the ledger row is written. A file's content already applied before (same sha256)
is a ``duplicate`` and publishes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from pathlib import Path

from exchanged.archive import Archive, StagedOriginal
from exchanged.audit import Ledger
from exchanged.config import Settings
from exchanged.formats.jsonl import preload as preload_renderer
from exchanged.mapping import Mapping, load_mappings
from exchanged.pipeline import (
    Evaluation,
    PhaseHook,
    Source,
    evaluate,
    iso,
    new_report_id,
    no_progress,
    utc_now,
)
from exchanged.publish import SourceRef, publish
from exchanged.report import FileReport, Issue, Status


@dataclass
class Workspace:
    """The folders and the ledger one process works with."""

    settings: Settings
    mappings: MappingType[str, Mapping]
    archive: Archive
    ledger: Ledger

    @classmethod
    def open(cls, settings: Settings) -> Workspace:
        mappings = load_mappings(settings.folder("mappings"))
        for name in ("outbox", "archive"):
            settings.folder(name).mkdir(parents=True, exist_ok=True)
        settings.shop_dir.mkdir(parents=True, exist_ok=True)
        settings.erp_dir.mkdir(parents=True, exist_ok=True)
        return cls(settings, mappings, Archive(settings.folder("archive")), Ledger(settings.ledger_path))

    def close(self) -> None:
        self.ledger.close()

    def relative(self, path: Path) -> str:
        """A path as reports show it: relative to the base folder when inside it."""
        try:
            return str(path.resolve().relative_to(self.settings.base_dir.resolve()))
        except ValueError:
            return str(path)


def _duplicate(source: Source, earlier: FileReport) -> FileReport:
    return FileReport(
        id=new_report_id(source.received_at), file=source.display_name, sha256=source.sha256,
        size=len(source.data), status=Status.DUPLICATE, format=earlier.format, mapping=earlier.mapping,
        entity=earlier.entity, received_at=iso(source.received_at),
        issues=[Issue(code="duplicate-content", severity="warning",
                      message=f"the same content was processed before as {earlier.id} ({earlier.file}); nothing published",
                      value=earlier.id)],
    )


def handle(source: Source, workspace: Workspace, progress: PhaseHook = no_progress) -> FileReport:
    """Take ``source`` to its final state and return its report (already in the ledger)."""
    started = time.perf_counter()
    preload_renderer()
    # Every input is archived, whatever its outcome: its copy is written while it is evaluated.
    original = workspace.archive.stage(source.data)
    try:
        return _handle(source, workspace, progress, original, started)
    finally:
        original.discard()  # nothing left once stored; a failure before that leaves no temp file


def _handle(source: Source, workspace: Workspace, progress: PhaseHook, original: StagedOriginal,
            started: float) -> FileReport:
    # Evaluating first lets a large file be hashed while it is parsed; only a duplicate wastes it.
    evaluation = evaluate(source, workspace.mappings, workspace.settings, progress)
    earlier = workspace.ledger.find_published(source.sha256)
    if earlier is not None:
        report = _duplicate(source, earlier)
    else:
        report = evaluation.report
        if report.status in (Status.ACCEPTED, Status.PARTIAL):
            progress("publishing")
            _publish(evaluation, source, workspace)
    progress("archiving")
    rejected = report.status is Status.REJECTED
    target = workspace.archive.path_for(report_id=report.id, name=source.file_name, received_at=source.received_at, quarantine=rejected)
    report.archive = workspace.relative(target)
    report.finished_at = iso(utc_now())
    report.duration_ms = round((time.perf_counter() - started) * 1000)
    if rejected:  # the report beside the quarantined file is the complete one
        workspace.archive.quarantine(original, report=report, name=source.file_name, received_at=source.received_at)
    else:
        workspace.archive.store(original, report_id=report.id, name=source.file_name, received_at=source.received_at)
    workspace.ledger.record(report)
    return report


def _publish(evaluation: Evaluation, source: Source, workspace: Workspace) -> None:
    report = evaluation.report
    results = publish(
        workspace.settings.shop_dir, evaluation.updates,
        SourceRef(id=report.id, file=source.display_name, sha256=source.sha256),
        display_root=workspace.settings.base_dir,
    )
    outputs: list[str] = []
    for result in results:
        outputs.extend(result.outputs)
    report.outputs = outputs
