"""What the command line prints: file reports as text or JSON, and progress on a terminal."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

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


def print_status(status: dict[str, Any], *, as_json: bool, out: TextIO | None = None) -> None:
    """``exchanged status``: the daemon's last status, and whether it still runs."""
    out = out or sys.stdout
    if as_json:
        json.dump(status, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    if status.get("running"):
        out.write(f"running (pid {status.get('pid')}, since {status.get('started_at')})\n")
    else:
        out.write(f"not running (last state: {status.get('state')}, updated {status.get('updated_at', '-')})\n")
    out.write(f"waiting in the inbox: {status.get('waiting', 0)}   claimed: {status.get('claimed', 0)}\n")
    for title, key in (("in flight", "in_flight"), ("retrying", "retrying")):
        items = status.get(key) or []
        out.write(f"{title}: {len(items)}\n")
        for item in items:
            extra = f"  attempt {item['attempts']}, next {item['next_retry_at']}: {item['error']}" if key == "retrying" else ""
            out.write(f"  {item.get('file')}{extra}\n")
    counts = status.get("counts") or {}
    if counts:
        out.write("outcomes since start: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + "\n")
    for item in status.get("last") or []:
        out.write(f"  {item.get('finished_at')}  {item.get('status'):9} {item.get('file')}  ({item.get('id')})\n")
    errors = status.get("errors") or []
    if errors:
        out.write(f"recent errors: {len(errors)}\n")
        for item in errors[-5:]:
            out.write(f"  {item.get('at')}  {item.get('file')}: {item.get('error')}\n")
