"""What the command line prints: file reports as text or JSON, and progress on a terminal."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from exchanged.report import FileReport

SHOWN_ISSUES = 10


def _summary(report: FileReport) -> str:
    counts = ", ".join(f"{entity} {n}" for entity, n in report.entities.items()) or f"{report.records} records"
    parts = [f"{report.status.value:<9} {report.file}"]
    if report.mapping:
        parts.append(f"[{report.mapping}]")
    parts.append(counts)
    if report.rejected_records:
        parts.append(f"{report.rejected_records} rows rejected")
    if report.duration_ms is not None:
        parts.append(f"{report.duration_ms} ms")
    return "  ".join(parts)


def _issue_line(report: FileReport, index: int) -> str:
    issue = report.issues[index]
    where = " ".join(f"{k}={v}" for k, v in issue.location.model_dump(exclude_none=True).items())
    value = f" value={issue.value!r}" if issue.value is not None else ""
    return f"    {issue.severity} {issue.code}: {issue.message} ({where}){value}" if where else f"    {issue.severity} {issue.code}: {issue.message}{value}"


def print_reports(reports: Sequence[FileReport], *, as_json: bool, issues: bool = True, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    if as_json:
        json.dump([r.to_json() for r in reports], out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    for report in reports:
        out.write(_summary(report) + "\n")
        if not issues:
            continue
        for index in range(min(SHOWN_ISSUES, len(report.issues))):
            out.write(_issue_line(report, index) + "\n")
        more = len(report.issues) - SHOWN_ISSUES + report.issues_truncated
        if more > 0:
            out.write(f"    … and {more} more issues (see --json or the audit)\n")


class Progress:
    """One updating line on stderr while files are processed; silent when not a terminal."""

    def __init__(self, total: int, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.total = total
        self.count = 0
        self.name = ""
        self.started = time.monotonic()

    def start(self, name: str) -> None:
        self.name = name
        self.phase("starting")

    def phase(self, phase: str) -> None:
        """Called by the pipeline as each phase of the current file begins."""
        if self.enabled:
            elapsed = time.monotonic() - self.started
            self.stream.write(f"\r\x1b[K[{self.count + 1}/{self.total}] {self.name}: {phase} … ({elapsed:.1f} s)")
            self.stream.flush()

    def done(self, report: FileReport) -> None:
        self.count += 1

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
