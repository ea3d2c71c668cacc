"""``exchanged audit --verify``: re-hash the ledger's chain and the archive, name what changed.

The ledger proves the history (each row hashes the one before and its own report JSON, which holds
the input's sha256 and archive path); the archive holds the evidence. ``verify`` checks both, and
that they agree, and reports each problem as a :class:`Finding` with a stable code:

=====================  =============================================================================
``row-altered``        a row's hash does not match its content, or a searchable column disagrees
                       with the hashed report JSON (the columns are copies: ``audit.row_columns``)
``chain-broken``       a row's ``prev_hash`` is not the previous row's hash, or ``seq`` skips: rows
                       removed or reordered (the message names the missing seqs or the row it
                       follows); also a retention record whose report row is gone
``archive-missing``    a row's archived original is gone (and retention did not delete it)
``archive-altered``    a row's archived original (or its ``.gz``) no longer has the recorded sha256
``archive-unrecorded`` a file in the archive tree that no row names
``report-missing``     a quarantined row's ``.report.json`` is gone
``report-altered``     a quarantined row's ``.report.json`` says something else than its row
=====================  =============================================================================

Not reported: the ledger files, dot files (temp files ``.*.tmp``, the retention lock). What the
chain alone cannot see is the newest rows cut off together with their archived files; a cut-off row
whose file is still there shows as ``archive-unrecorded``.

Findings come in a fixed order: rows by ``seq`` (each row's findings in the order above), then
retention records without a row (by id), then unrecorded files (top-down, each folder's names
sorted). Files are hashed in 1 MiB chunks, so memory does not grow with the archive. Rows are read in batches: ``verify`` may run
beside the daemon (a file archived but not yet recorded at that instant shows as unrecorded).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from exchanged.audit import GENESIS_HASH, Ledger, LedgerRow, chain_hash, row_columns
from exchanged.report import FileReport, Status
from exchanged.retention import (
    BadArchive, archived_path, compressed_path, quarantine_report_path, relative, sha256_of,
)

# A reordered or rewritten ledger could break every link; naming the row a link points at is a
# full scan each, so only the first ones get that detail.
_MAX_LINK_LOOKUPS = 100
_LEDGER_SUFFIXES = ("", "-wal", "-shm", "-journal")


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    seq: int | None = None
    id: str | None = None
    path: str | None = None  # relative to the archive root, "/"-separated

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class VerifyResult:
    findings: list[Finding] = field(default_factory=list)
    rows_checked: int = 0
    files_checked: int = 0
    bytes_hashed: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "rows_checked": self.rows_checked,
                "files_checked": self.files_checked, "bytes_hashed": self.bytes_hashed,
                "findings": [f.to_json() for f in self.findings]}


def verify(ledger: Ledger, archive_root: Path) -> VerifyResult:
    """Check the chain, every row's archived files, and that every archived file has a row."""
    check = _Check(ledger, Path(archive_root))
    previous: LedgerRow | None = None
    for row in ledger.rows():
        check.result.rows_checked += 1
        report = check.row(row)
        check.link(row, previous)
        if report is not None:
            check.files(row, report)
        previous = row
    for record in ledger.orphan_retentions():
        done = "compressed" if record.action == "compress" else "deleted"
        check.add("chain-broken", f"retention {done} the original of report {record.report_id},"
                  " which has no row: its row was removed", id=record.report_id)
    for path in _archive_files(check.root, ledger.path):
        check.unrecorded(path)
    return check.result


class _Check:
    def __init__(self, ledger: Ledger, root: Path) -> None:
        self.ledger, self.root = ledger, root
        self.result = VerifyResult()
        self.lookups = 0

    def add(self, code: str, message: str, *, row: LedgerRow | None = None, id: str | None = None,
            path: Path | None = None) -> None:
        self.result.findings.append(Finding(
            code=code, message=message, seq=row.seq if row else None,
            id=row.id if row else id, path=relative(path, self.root) if path else None))

    # -- the chain -------------------------------------------------------------------------------

    def row(self, row: LedgerRow) -> FileReport | None:
        """The row's hashed report, or None (after a finding) when the row cannot be trusted."""
        if chain_hash(row.prev_hash, row.report_json) != row.row_hash:
            self.add("row-altered", f"row seq {row.seq} ({row.id}): its hash does not match its"
                     " content", row=row)
            return None
        try:
            report = row.report()
        except ValidationError:
            self.add("row-altered", f"row seq {row.seq} ({row.id}): its hashed content is not a"
                     " report", row=row)
            return None
        expected = row_columns(report)
        changed = [name for name, value in expected.items() if row.columns[name] != value]
        if changed:
            shown = ", ".join(f"{n} is {row.columns[n]!r}, the hashed report says {expected[n]!r}"
                              for n in changed)
            self.add("row-altered", f"row seq {row.seq} ({report.id}): {shown}", row=row)
            return None
        return report

    def link(self, row: LedgerRow, previous: LedgerRow | None) -> None:
        want_hash = previous.row_hash if previous else GENESIS_HASH
        want_seq = previous.seq + 1 if previous else 1
        if row.prev_hash == want_hash and row.seq == want_seq:
            return
        after = f"seq {previous.seq} ({previous.id})" if previous else "the start of the ledger"
        missing = ""
        if row.seq > want_seq:
            missing = (f"seq {want_seq} is missing" if row.seq == want_seq + 1
                       else f"seq {want_seq}..{row.seq - 1} are missing")
        if row.prev_hash == want_hash:
            why = f"it links to {after} but {missing}: seq was renumbered"
        elif row.prev_hash == GENESIS_HASH:
            why = f"it claims to be the first row, but follows {after}"
        else:
            target = self._row_with_hash(row.prev_hash)
            if target is not None:
                why = f"it follows seq {target[0]} ({target[1]}) in the chain, not {after}: rows reordered"
            elif missing:
                why = f"the row it follows was removed: {missing}"
            else:
                why = f"it does not follow {after}, nor any row left: a row before it was removed"
        self.add("chain-broken", f"row seq {row.seq} ({row.id}): {why}", row=row)

    def _row_with_hash(self, row_hash: str) -> tuple[int, str] | None:
        if self.lookups >= _MAX_LINK_LOOKUPS:
            return None
        self.lookups += 1
        return self.ledger.row_with_hash(row_hash)

    # -- the archive -----------------------------------------------------------------------------

    def files(self, row: LedgerRow, report: FileReport) -> None:
        original = archived_path(report, self.root)
        if original is None:
            if report.archive:
                self.add("archive-missing", f"{report.id}: its archive path {report.archive!r} is"
                         " not in the archive's layout", row=row)
            return
        gz = compressed_path(original)
        seen = [self._hash(row, report, path, compressed)
                for path, compressed in ((original, False), (gz, True))]
        # Retention that finishes while this runs: ask again before calling a file missing.
        record = row.retention if any(seen) else self.ledger.retention(report.id)
        if record is not None and record.action == "compress" and not seen[1]:
            self.add("archive-missing", f"{report.id}: the compressed original is gone", row=row,
                     path=gz)
        elif not any(seen) and (record is None or record.action != "delete"):
            self.add("archive-missing", f"{report.id}: the archived original is gone", row=row,
                     path=original)
        if report.status is Status.REJECTED:
            self._quarantine_report(row, report, quarantine_report_path(original))

    def _hash(self, row: LedgerRow, report: FileReport, path: Path, compressed: bool) -> bool:
        """Hash ``path`` if it exists (a finding if it does not match); whether it exists."""
        try:
            digest, size = sha256_of(path, compressed=compressed)
        except FileNotFoundError:
            return False
        except BadArchive as exc:
            self.result.files_checked += 1
            self.add("archive-altered", f"{report.id}: {exc}", row=row, path=path)
            return True
        self.result.files_checked += 1
        self.result.bytes_hashed += size
        if digest != report.sha256.lower():
            what = "decompressed content" if compressed else "content"
            self.add("archive-altered", f"{report.id}: the archived {what} has sha256 {digest},"
                     f" recorded {report.sha256.lower()}", row=row, path=path)
        return True

    def _quarantine_report(self, row: LedgerRow, report: FileReport, path: Path) -> None:
        try:
            text = path.read_bytes()
        except FileNotFoundError:
            self.add("report-missing", f"{report.id}: the report beside the quarantined file is"
                     " gone", row=row, path=path)
            return
        self.result.files_checked += 1
        try:
            same = FileReport.model_validate_json(text) == report
        except ValidationError:
            same = False
        if not same:
            self.add("report-altered", f"{report.id}: the report beside the quarantined file"
                     " differs from its ledger row", row=row, path=path)

    def unrecorded(self, path: Path) -> None:
        """A finding unless a row (looked up by the ``<id>__`` of the name) names ``path``."""
        report_id, sep, _ = path.name.partition("__")
        row = self.ledger.row(report_id) if sep else None
        if row is not None:
            if chain_hash(row.prev_hash, row.report_json) != row.row_hash:
                return  # the row is reported as altered; where it put its files is not known
            if path in _named_by(row, self.root):
                return
        self.add("archive-unrecorded", "no ledger row names this file", path=path)


def _named_by(row: LedgerRow, root: Path) -> set[Path]:
    try:
        report = row.report()
    except ValidationError:
        return set()
    original = archived_path(report, root)
    if original is None:
        return set()
    named = {original, compressed_path(original)}
    if report.status is Status.REJECTED:
        named.add(quarantine_report_path(original))
    return named


def _archive_files(root: Path, ledger_path: Path) -> Iterator[Path]:
    """Every non-dot file below ``root`` except the ledger's; dot folders skipped.

    Walked top-down with each folder's files and sub-folders sorted by name: a fixed order without
    holding the whole tree's listing in memory.
    """
    ledger_files = {Path(str(ledger_path) + s).absolute() for s in _LEDGER_SUFFIXES}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            if not name.startswith(".") and path.absolute() not in ledger_files:
                yield path


__all__ = ["Finding", "VerifyResult", "verify"]
