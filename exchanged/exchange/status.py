"""The daemon's status (``work/status.json``), rewritten as it works; ``exchanged status`` reads it.

The file is replaced atomically at most every ``_EVERY`` seconds, when something changed, and when
the daemon stops, so a reader always gets one whole snapshot. It is not fsynced: it describes the
running process, and after a crash the next start writes a new one. Whether the daemon still runs is not taken from the file (a
kill -9 cannot update it) but from the daemon's lock (``Claims``): the status names its owner.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from exchanged.atomic import write_atomic
from exchanged.errors import TransientError
from exchanged.pipeline import iso, utc_now
from exchanged.report import FileReport

_EVERY = 0.5      # seconds between two rewrites while busy
_RECENT = 20      # outcomes and errors kept


class StatusBoard:
    """What the daemon is doing, kept in memory by its threads and written to ``path``."""

    def __init__(self, path: Path, owner: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._data: dict[str, Any] = {
            "state": "running", "pid": os.getpid(), "owner": owner, "started_at": iso(utc_now()),
            "waiting": 0, "in_flight": {}, "retrying": {}, "counts": {},
        }
        self._last: collections.deque[dict[str, Any]] = collections.deque(maxlen=_RECENT)
        self._errors: collections.deque[dict[str, Any]] = collections.deque(maxlen=_RECENT)
        self._written = 0.0
        self._dirty = True

    def waiting(self, count: int) -> None:
        """Called on every turn of the coordinator: also writes what changed since the last write
        (an idle daemon writes nothing)."""
        with self._lock:
            if self._data["waiting"] != count:
                self._data["waiting"] = count
                self._dirty = True
        self.flush()

    def started(self, report_id: str, file: str) -> None:
        with self._lock:
            self._data["in_flight"][report_id] = {"file": file, "since": iso(utc_now())}
            self._dirty = True
        self.flush()

    def retrying(self, report_id: str, file: str, attempts: int, delay: float, error: str) -> None:
        with self._lock:
            self._data["retrying"][report_id] = {
                "file": file, "attempts": attempts, "error": error,
                "next_retry_at": iso(dt.datetime.fromtimestamp(time.time() + delay, dt.timezone.utc)),
            }
            self._errors.append({"at": iso(utc_now()), "file": file, "error": error})
        self.flush(force=True)

    def finished(self, report: FileReport) -> None:
        with self._lock:
            self._data["in_flight"].pop(report.id, None)
            self._data["retrying"].pop(report.id, None)
            counts = self._data["counts"]
            counts[report.status.value] = counts.get(report.status.value, 0) + 1
            self._dirty = True
            self._last.append({"id": report.id, "file": report.file, "status": report.status.value,
                               "entity": report.entity, "records": report.records,
                               "rejected_records": report.rejected_records, "finished_at": report.finished_at})
        self.flush()

    def error(self, file: str, error: str) -> None:
        with self._lock:
            self._errors.append({"at": iso(utc_now()), "file": file, "error": error})
        self.flush(force=True)

    def stopped(self) -> None:
        with self._lock:
            self._data["state"] = "stopped"
        self.flush(force=True)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            data = json.loads(json.dumps(self._data))
            data["in_flight"] = [{"id": k, **v} for k, v in data["in_flight"].items()]
            data["retrying"] = [{"id": k, **v} for k, v in data["retrying"].items()]
            data["last"] = list(self._last)
            data["errors"] = list(self._errors)
        data["updated_at"] = iso(utc_now())
        return data

    def flush(self, *, force: bool = False) -> None:
        """Rewrite the file when something changed and the last write is older than ``_EVERY``
        (or ``force``)."""
        now = time.monotonic()
        if not force and (not self._dirty or now - self._written < _EVERY):
            return
        self._written, self._dirty = now, False
        try:
            # Without indent json uses its C encoder: ~10x faster, and a burst rewrites this often.
            write_atomic(self.path, json.dumps(self.snapshot()).encode() + b"\n", durable=False)
        except (OSError, TransientError):  # a status that cannot be written must not stop the work it describes
            pass


def read_status(path: Path) -> dict[str, Any] | None:
    """The last status a daemon wrote, or None when none ever ran here."""
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"state": "unreadable"}
