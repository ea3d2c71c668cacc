"""What one ledger row holds and how it is hashed (``audit.py`` stores them, ``verify.py`` checks them).

A row is the report as canonical JSON (sorted keys, no blanks), its hash chained to the previous
row's, and searchable columns that are a pure function of that JSON (:func:`row_columns`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from exchanged.report import FileReport


def utc_timestamp(moment: datetime | date | str) -> str:
    """The ledger's timestamp form: UTC, microseconds, ``Z``; naive values are taken as UTC.

    >>> utc_timestamp("2026-11-27T16:41:00+01:00")
    '2026-11-27T15:41:00.000000Z'
    """
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.strip())
    elif not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(report: FileReport) -> str:
    """The report as the ledger stores and hashes it: sorted keys, no blanks, UTF-8 text."""
    # Issue.value is free-form; default=str keeps an odd value (a Decimal) from failing the record.
    return json.dumps(report.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def chain_hash(prev_hash: str, report_json: str) -> str:
    return hashlib.sha256((prev_hash + report_json).encode("utf-8")).hexdigest()


def row_columns(report: FileReport) -> dict[str, object]:
    """The searchable columns of ``report``'s row: what ``record`` writes and ``verify`` expects.

    One function for both, so the copies of hashed fields can be checked against the hashed JSON.
    """
    return {
        "id": report.id, "file": report.file, "sha256": report.sha256.lower(),
        "size": report.size, "status": report.status.value, "format": report.format,
        "mapping": report.mapping, "entity": report.entity, "records": report.records,
        "rejected_records": report.rejected_records,
        "issue_count": len(report.issues) + report.issues_truncated,
        "archive_path": report.archive, "received_at": utc_timestamp(report.received_at),
        "finished_at": utc_timestamp(report.finished_at) if report.finished_at else None,
        "duration_ms": report.duration_ms,
    }


COLUMNS = ("id", "file", "sha256", "size", "status", "format", "mapping", "entity", "records",
           "rejected_records", "issue_count", "archive_path", "received_at", "finished_at",
           "duration_ms")


@dataclass(frozen=True)
class RetentionRecord:
    """What retention did to one report's archived original (a ``retention`` table row)."""

    report_id: str
    action: str            # "compress" | "delete"
    path: str | None       # compress: the .gz relative to the archive root; delete: None
    done_at: str           # ledger timestamp form


@dataclass(frozen=True)
class LedgerRow:
    """One ``reports`` row as stored (nothing re-derived), with its retention record if any."""

    seq: int
    id: str
    columns: dict[str, object]
    report_json: str
    prev_hash: str
    row_hash: str
    retention: RetentionRecord | None = None

    def report(self) -> FileReport:
        return FileReport.model_validate_json(self.report_json)


def ledger_row(row: Sequence[object]) -> LedgerRow:
    seq, report_json, prev_hash, row_hash = row[:4]
    columns = dict(zip(COLUMNS, row[4:4 + len(COLUMNS)], strict=True))
    retention = row[4 + len(COLUMNS):]
    return LedgerRow(
        seq=seq, id=columns["id"], columns=columns, report_json=report_json,  # type: ignore[arg-type]
        prev_hash=prev_hash, row_hash=row_hash,  # type: ignore[arg-type]
        retention=RetentionRecord(*retention) if retention[0] is not None else None,  # type: ignore[arg-type]
    )
