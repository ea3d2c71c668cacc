"""Readiness: deciding when a file seen in the inbox is complete and may be claimed (DESIGN §5.2).

Nothing tells us for certain that a writer is done with a file, so the gate combines the evidence
it gets, strongest first:

1. **A marker** ``NAME.done`` / ``NAME.ok`` (see ``names.py``): the writer says so. The file is
   ready at once. With ``require_marker`` nothing else counts.
2. **A "complete" event**: the file was renamed into place (the robust way to write: a temp name,
   then one rename), or the writer closed it after writing (inotify ``IN_CLOSE_WRITE``). It is ready
   at once, but only if its size and mtime are still those taken when the event was fed in: a
   writer that closes and reopens the file (or whose close we learnt of late) changed them, and
   the file falls back to rule 3.
3. **Stability**: size and mtime (``st_size``, ``st_mtime_ns``) unchanged for ``settle_seconds``,
   measured from the last change a stat of ``poll`` saw, on the monotonic clock passed in.

Rule 3 cannot tell a finished file from a writer that keeps the file open and pauses: a pause
longer than ``settle_seconds`` gets its half file read. So ``settle_seconds`` must exceed the
longest pause of any writer that neither renames into place nor writes markers; writers that can
should do one of those (on a network share, where no events arrive, they are the only safe ways).

An empty file is never ready (an ERP opens its export long before the first line): if it stays
empty for ``empty_file_wait`` seconds it is reported in ``empty`` so the daemon rejects it with
``empty-file``; content arriving in time makes it an ordinary candidate. A symbolic link is never
followed (DESIGN §5.7): the gate only ``lstat``\\ s it and reports it once in ``links`` (the daemon
records it; the target is untouched). Other non-regular files (folders, FIFOs, sockets) and files
that vanished or cannot be looked at are dropped silently; the watcher's rescan offers them again.

The gate is pure logic: no threads, no watching, and the clock is an argument, so the tests drive
it exactly. It is not thread-safe; the daemon feeds it from one thread:

    gate.seen(path, monotonic(), complete=...)  /  gate.gone(path)   for each watcher event
    verdicts = gate.poll(monotonic())                                 after a batch of events,
                                                                      and again at next_deadline

A file reported ready is forgotten (it is the daemon's to claim: the claim should happen before
the next event is fed, or a rescan may offer the still-unclaimed file again, and the second claim
finds it gone). If the same name shows up again later it is a new candidate. Only pending files
and the symbolic links already reported are remembered, so memory stays bounded by what is
actually waiting in the inbox.
"""

from __future__ import annotations

import os
import stat as stat_module
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from exchanged.exchange.names import is_ignored, is_ignored_path, marker_target, markers_for

if TYPE_CHECKING:
    from exchanged.config import Settings

__all__ = ["FileStat", "ReadinessGate", "StatFunction", "Verdicts"]


class FileStat(Protocol):
    """The fields of ``os.stat_result`` the gate reads (tests can pass a small stand-in)."""

    @property
    def st_mode(self) -> int: ...
    @property
    def st_size(self) -> int: ...
    @property
    def st_mtime_ns(self) -> int: ...


StatFunction = Callable[[Path], FileStat]
"""``os.lstat`` (the default: links are never followed) or a test's scripted stand-in."""

_Signature = tuple[int, int]  # (st_size, st_mtime_ns): any write changes one of them

_Outcome = Literal["ready", "empty", "links", "drop"]
"""Which list of ``Verdicts`` a file goes to; "drop": forgotten without a verdict (vanished, not a
regular file, a link already reported)."""


@dataclass(frozen=True, slots=True)
class Verdicts:
    """What one ``poll`` decided; each list in the order the files were first seen."""

    ready: list[Path] = field(default_factory=list)
    """Complete files: claim them now (the gate has forgotten them)."""
    empty: list[Path] = field(default_factory=list)
    """Files still empty after ``empty_file_wait``: reject them with ``empty-file``."""
    links: list[Path] = field(default_factory=list)
    """Symbolic links found in the inbox, each reported once; never read, never followed."""
    next_deadline: float | None = None
    """When ``poll`` must run again even if no event arrives (None: only after the next event)."""


@dataclass(slots=True)
class _Candidate:
    """What the gate knows about one pending file."""

    due: float | None
    """When the next ``poll`` must stat it: an event's time, a deadline, or None (wait for events)."""
    signature: _Signature | None = None
    """Size and mtime at the last stat of ``poll``."""
    unchanged_since: float = 0.0
    """When ``poll`` first saw ``signature``: the start of the settle window."""
    empty_since: float | None = None
    """When ``poll`` first saw the file empty (None while it has content)."""
    closed_signature: _Signature | None = None
    """Size and mtime when a "complete" event was fed in; trusted while the file still has them."""
    seen_markers: set[Path] = field(default_factory=set)
    """Markers in a spelling other than ``markers_for`` gives (``X.CSV.DONE``)."""


class ReadinessGate:
    """Decides when each candidate file in the inbox is ready (the rules are in the module doc)."""

    def __init__(
        self,
        *,
        settle_seconds: float,
        empty_file_wait: float,
        require_marker: bool = False,
        inbox: Path | None = None,
        stat: StatFunction = os.lstat,
    ) -> None:
        """``inbox`` lets paths be judged by every component below it (``inbox/.staging/x``);
        without it only a file's own name is. ``stat`` is how the gate looks at files (``lstat``
        in production, a scripted function in tests); ``poll`` may override it per call."""
        self.settle_seconds = settle_seconds
        self.empty_file_wait = empty_file_wait
        self.require_marker = require_marker
        self.inbox = inbox
        self._stat = stat
        self._pending: dict[Path, _Candidate] = {}
        self._links: set[Path] = set()

    @classmethod
    def from_settings(cls, settings: Settings, *, stat: StatFunction = os.lstat) -> ReadinessGate:
        """The gate for the daemon's inbox (the same absolute inbox path the ``Watcher`` reports)."""
        return cls(
            settle_seconds=settings.settle_seconds,
            empty_file_wait=settings.empty_file_wait,
            require_marker=settings.require_marker,
            inbox=settings.folder("inbox").absolute(),
            stat=stat,
        )

    @property
    def pending(self) -> list[Path]:
        """The files waiting for a verdict, in the order they were first seen."""
        return list(self._pending)

    def seen(self, path: Path, now: float, *, complete: bool = False) -> None:
        """``path`` was created or modified (or found by a scan); ``complete`` when the event says
        the writer is done (closed after writing, or renamed into place).

        A marker makes its data file a candidate to look at now; the marker itself never is one.
        """
        path = Path(path)
        if self._ignored(path):
            return
        target_name = marker_target(path.name)
        if target_name is not None:
            self._marker_seen(path, path.with_name(target_name), now)
            return
        candidate = self._look_again(path, now)
        if complete:
            candidate.closed_signature = self._signature_now(path)

    def gone(self, path: Path) -> None:
        """``path`` was deleted or moved out of the inbox: stop waiting for it."""
        path = Path(path)
        self._pending.pop(path, None)
        self._links.discard(path)

    def poll(self, now: float, stat: StatFunction | None = None) -> Verdicts:
        """Look at the files that had an event or reached a deadline; return what became of them.

        ``stat`` defaults to the gate's own (``os.lstat``). Files not due are not looked at: their
        verdict cannot change before their deadline unless an event says so.
        """
        stat = stat or self._stat
        decided: dict[_Outcome, list[Path]] = {"ready": [], "empty": [], "links": [], "drop": []}
        for path, candidate in list(self._pending.items()):
            if candidate.due is None or candidate.due > now:
                continue
            outcome = self._judge(path, candidate, now, stat)
            if outcome is not None:
                del self._pending[path]
                decided[outcome].append(path)
        deadlines = [c.due for c in self._pending.values() if c.due is not None]
        return Verdicts(ready=decided["ready"], empty=decided["empty"], links=decided["links"],
                        next_deadline=min(deadlines) if deadlines else None)

    # --- the rules ---------------------------------------------------------------------------------

    def _judge(self, path: Path, candidate: _Candidate, now: float, stat: StatFunction) -> _Outcome | None:
        """Where ``path`` goes, or None to keep waiting (``candidate.due``: when to look again)."""
        try:
            st = stat(path)
        except OSError:  # vanished (FileNotFoundError), or a folder on the way went away
            return "drop"
        if stat_module.S_ISLNK(st.st_mode):
            if path in self._links:
                return "drop"
            self._links.add(path)
            return "links"
        self._links.discard(path)  # a link replaced by a file (renamed over it) is a file now
        if not stat_module.S_ISREG(st.st_mode):
            return "drop"
        signature = (st.st_size, st.st_mtime_ns)
        if signature != candidate.signature:
            candidate.signature, candidate.unchanged_since = signature, now
        candidate.due = None
        if st.st_size == 0:
            return self._judge_empty(path, candidate, now, stat)
        candidate.empty_since = None
        if self._has_marker(path, candidate, stat):
            return "ready"
        if self.require_marker:
            return None  # waits for its marker's event
        if candidate.closed_signature is not None:
            if candidate.closed_signature == signature:
                return "ready"
            candidate.closed_signature = None  # written again after the close: settle instead
        settled_at = candidate.unchanged_since + self.settle_seconds
        if now >= settled_at:
            return "ready"
        candidate.due = settled_at
        return None

    def _judge_empty(self, path: Path, candidate: _Candidate, now: float,
                     stat: StatFunction) -> _Outcome | None:
        if candidate.empty_since is None:
            candidate.empty_since = now
        if self.require_marker and not self._has_marker(path, candidate, stat):
            return None  # the writer has not said it is done: an empty file may still fill up
        expires_at = candidate.empty_since + self.empty_file_wait
        if now >= expires_at:
            return "empty"
        candidate.due = expires_at
        return None

    def _has_marker(self, path: Path, candidate: _Candidate, stat: StatFunction) -> bool:
        for marker in (*markers_for(path), *candidate.seen_markers):
            try:
                stat(marker)
            except OSError:
                continue
            return True
        return False

    def _marker_seen(self, marker: Path, target: Path, now: float) -> None:
        if self._ignored(target) or marker_target(target.name) is not None:
            return  # "x.tmp.done" or "x.done.ok": names nothing that could be read
        candidate = self._look_again(target, now)
        if marker not in markers_for(target):
            candidate.seen_markers.add(marker)

    def _look_again(self, path: Path, now: float) -> _Candidate:
        """The candidate for ``path`` (new, or pending), due for a stat at the next ``poll``."""
        candidate = self._pending.get(path)
        if candidate is None:
            candidate = self._pending[path] = _Candidate(due=now)
        elif candidate.due is None or candidate.due > now:
            candidate.due = now
        return candidate

    def _signature_now(self, path: Path) -> _Signature | None:
        try:
            st = self._stat(path)
        except OSError:
            return None
        if not stat_module.S_ISREG(st.st_mode):
            return None
        return (st.st_size, st.st_mtime_ns)

    def _ignored(self, path: Path) -> bool:
        if self.inbox is None:
            return is_ignored(path.name)
        return is_ignored_path(path, self.inbox)

