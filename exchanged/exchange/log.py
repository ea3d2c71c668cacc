"""One structured log line per file (and a few for the daemon itself), as text or JSON lines.

Text is for people tailing a terminal or journald; ``--log-format json`` is for log shippers: one
object per line with stable keys (``event``, ``status``, ``file``, ``entity``, ``records``,
``rejected_records``, ``duration_ms``, ``id``).
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any, Literal, TextIO

from exchanged.pipeline import iso, utc_now
from exchanged.report import FileReport

LogFormat = Literal["text", "json"]


class EventLog:
    """Writes log lines to ``stream`` (stderr by default); safe to call from several threads."""

    def __init__(self, fmt: LogFormat = "text", stream: TextIO | None = None) -> None:
        self.fmt = fmt
        self.stream = stream
        self._lock = threading.Lock()

    def file(self, report: FileReport) -> None:
        """The outcome of one input."""
        self.files([report])

    def files(self, reports: list[FileReport]) -> None:
        """The outcomes of several inputs (a committed batch), one line each, in one write."""
        self._write("".join(self._line("file", {
            "status": report.status.value, "file": report.file, "entity": report.entity,
            "records": report.records, "rejected_records": report.rejected_records,
            "issues": len(report.issues) + report.issues_truncated, "duration_ms": report.duration_ms,
            "id": report.id,
        }) for report in reports))

    def event(self, event: str, **fields: Any) -> None:
        """A daemon event: started, stopped, retrying, error."""
        self._write(self._line(event, fields))

    def _line(self, event: str, fields: dict[str, Any]) -> str:
        if self.fmt == "json":
            line = json.dumps({"ts": iso(utc_now()), "event": event, **fields}, ensure_ascii=False)
        else:
            parts = [f"{k}={v}" for k, v in fields.items() if v is not None and k not in ("status", "file")]
            head = " ".join(str(fields[k]) for k in ("status", "file") if fields.get(k) is not None)
            line = " ".join(p for p in (iso(utc_now()), event, head, *parts) if p)
        return line + "\n"

    def _write(self, text: str) -> None:
        if not text:
            return
        stream = self.stream or sys.stderr
        with self._lock:
            try:
                stream.write(text)
                stream.flush()
            except (OSError, ValueError):  # a closed or broken log stream must not stop the daemon
                pass
