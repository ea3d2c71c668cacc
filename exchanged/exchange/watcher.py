"""Watching the inbox: what appears, changes and leaves, told to two callbacks (the only watchdog
import of the project, DESIGN §4).

The watcher only observes; whether a file is complete is the gate's question (``gate.py``). It
reports:

* ``on_seen(path, complete)`` — a file was created, written, or found by a scan. ``complete`` is
  True when the event itself says the writer is done: the file was closed after writing
  (``FileClosedEvent``, inotify ``IN_CLOSE_WRITE``) or renamed into place (the destination of a
  move, from inside the inbox or from elsewhere on the filesystem).
* ``on_gone(path)`` — a file was deleted or moved out of the inbox.

Paths are absolute and below ``Watcher.inbox`` (``settings.folder("inbox")``, made absolute; an
inbox that is itself a symbolic link is watched through its target but reported under its own
name). Ignored names (``names.py``), including anything below an ignored folder, are never
reported. Symbolic links are reported as files (``lstat`` tells the gate what they are) and never
followed: a linked folder is not entered.

Two ways to learn about changes (``settings.watch``):

* ``events``: watchdog's native observer (inotify on Linux), recursive. Folders created in or moved
  into the inbox are scanned at once as well, so files that arrived before their folder's watch
  existed are not missed.
* ``polling``: for network shares, where events do not arrive. Every ``poll_interval`` seconds the
  inbox is walked and what is new or changed (size, mtime) is reported, and what vanished is gone.
  Events mode falls back to it (with a warning in the log) when the system refuses the watch, e.g.
  at the inotify watch limit.

In both modes the whole inbox is scanned at ``start`` (files that arrived while the daemon was
down) and every ``rescan_interval`` seconds (a safety net for lost events: the kernel drops events
when its queue overflows). A scan reports every file with ``complete=False``; files the gate
already tracks are not disturbed by that.

The callbacks run on the watcher's own threads (watchdog's dispatcher, the rescan thread, the
polling thread) and on the caller's thread for ``scan()``, possibly at the same time: they must be
thread-safe and quick. The daemon puts the observations on a queue and feeds the gate from one
thread. An exception in a callback is logged and does not stop the watcher.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from watchdog.events import (
    DirCreatedEvent,
    DirMovedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from exchanged.exchange.names import is_ignored, is_ignored_path

if TYPE_CHECKING:
    from exchanged.config import Settings

__all__ = ["OnGone", "OnSeen", "Watcher"]

log = logging.getLogger(__name__)

OnSeen = Callable[[Path, bool], None]
"""``on_seen(path, complete)``; called from watcher threads: must be thread-safe."""
OnGone = Callable[[Path], None]
"""``on_gone(path)``; called from watcher threads: must be thread-safe."""

# The events worth a kernel notification; opens and read-only closes (our own reads, a virus
# scanner's) are not asked for at all.
_EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent, FileModifiedEvent, FileAttribEvent, FileClosedEvent, FileMovedEvent,
    FileDeletedEvent, DirCreatedEvent, DirMovedEvent,
]

_Signature = tuple[int, int, int]  # (st_ino, st_size, st_mtime_ns), for polling mode's comparison


class Watcher:
    """Reports files appearing, changing and leaving the inbox (the module doc has the contract)."""

    def __init__(self, settings: Settings, on_seen: OnSeen, on_gone: OnGone) -> None:
        self.inbox = settings.folder("inbox").absolute()
        self._settings = settings
        self._on_seen = on_seen
        self._on_gone = on_gone
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._observer: BaseObserver | None = None
        self._watched_root: Path | None = None  # the inbox with symbolic links resolved
        self._known: dict[Path, _Signature] = {}  # polling mode: the inbox at the last look
        self._started = False
        self._lock = threading.Lock()

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Create the inbox if missing, start watching, and report what is already there (before
        returning).

        The watch begins before the startup scan, so a file arriving in between is reported by one
        or the other (or both: the gate does not mind).
        """
        with self._lock:
            if self._started:
                raise RuntimeError("a Watcher is started once; make a new one")
            self._started = True
        self.inbox.mkdir(parents=True, exist_ok=True)
        self._watched_root = self.inbox.resolve()
        if self._settings.watch == "events" and self._start_observer():
            self.scan()
        else:
            self._poll_once()
            self._start_thread("exchanged-inbox-poll", self._poll_loop)
        self._start_thread("exchanged-inbox-rescan", self._rescan_loop)

    def _start_observer(self) -> bool:
        """Start watchdog's observer on the inbox; False (and polling instead) when the system
        refuses, e.g. when the inotify watch limit (``fs.inotify.max_user_watches``) is reached: a
        daemon that polls is slower to notice files, one that does not start notices none."""
        _quiet_watchdog_bookkeeping()
        observer: BaseObserver | None = None
        try:
            observer = _native_observer()
            observer.schedule(_Dispatch(self), str(self._watched_root), recursive=True, event_filter=_EVENTS)
            observer.start()
        except OSError as exc:
            log.warning("cannot watch %s for events (%s); polling it every %s s instead",
                        self.inbox, exc, self._settings.poll_interval)
            if observer is not None:
                _stop_observer(observer)
            return False
        with self._lock:
            self._observer = observer
        return True

    def stop(self) -> None:
        """Stop all threads and wait for them; nothing is reported once this returns. Idempotent
        (and a no-op before ``start``)."""
        with self._lock:
            if not self._started:
                return
        self._stopping.set()
        with self._lock:
            observer, self._observer = self._observer, None
            threads, self._threads = self._threads, []
        if observer is not None:
            _stop_observer(observer)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join()

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- scanning ----------------------------------------------------------------------------------

    def scan(self, folder: Path | None = None) -> int:
        """Report every file (and symbolic link) below ``folder`` (default: the whole inbox) with
        ``on_seen(path, False)``; return how many. Linked folders are not entered.

        Files are reported oldest first (by mtime, then path): what waited in the inbox while no
        daemon ran is then processed in the order it arrived (DESIGN §5 promise 5), not in the
        order the filesystem happens to list it."""
        found = []
        for entry in self._walk(folder or self.inbox):
            try:
                found.append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.path))
            except OSError:
                continue  # vanished between the listing and the look
        count = 0
        for _, path in sorted(found):
            if self._stopping.is_set():
                break
            self._report_seen(Path(path), complete=False)
            count += 1
        return count

    def _walk(self, folder: Path) -> Iterator[os.DirEntry[str]]:
        """The files and links below ``folder`` whose names are not ignored, depth first."""
        if is_ignored_path(folder, self.inbox):
            return
        pending = [folder]
        while pending:
            current = pending.pop()
            try:
                with os.scandir(current) as entries:
                    listed = list(entries)
            except (FileNotFoundError, NotADirectoryError):
                continue  # moved or deleted while we walked: its events (or the next scan) tell
            except OSError as exc:
                log.warning("cannot list %s in the inbox: %s", current, exc)
                continue
            for entry in listed:
                if is_ignored(entry.name):
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(Path(entry.path))
                    elif entry.is_symlink() or entry.is_file(follow_symlinks=False):
                        yield entry
                except OSError:
                    continue  # vanished between the listing and the look

    def _rescan_loop(self) -> None:
        while not self._stopping.wait(self._settings.rescan_interval):
            self._guarded(self.scan)

    def _poll_loop(self) -> None:
        while not self._stopping.wait(self._settings.poll_interval):
            self._guarded(self._poll_once)

    def _poll_once(self) -> None:
        """Polling mode: report what is new or changed since the last look, and what vanished."""
        current: dict[Path, _Signature] = {}
        for entry in self._walk(self.inbox):
            if self._stopping.is_set():
                return
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            path = Path(entry.path)
            current[path] = (st.st_ino, st.st_size, st.st_mtime_ns)
            if self._known.get(path) != current[path]:
                self._report_seen(path, complete=False)
        for path in self._known.keys() - current.keys():
            self._report_gone(path)
        self._known = current

    # --- events ------------------------------------------------------------------------------------

    def _handle(self, event: FileSystemEvent) -> None:
        """One watchdog event, on watchdog's dispatcher thread."""
        if self._stopping.is_set():
            return
        source = self._in_inbox(event.src_path)
        destination = self._in_inbox(event.dest_path) if isinstance(event, (FileMovedEvent, DirMovedEvent)) else None
        if event.is_directory:
            # A folder that appears brings its files along; watchdog reports those too, but a file
            # written before the folder's watch existed could slip through, so look.
            folder = destination if isinstance(event, DirMovedEvent) else source
            if isinstance(event, (DirCreatedEvent, DirMovedEvent)) and folder is not None:
                self.scan(folder)
        elif isinstance(event, FileMovedEvent):
            if source is not None:
                self._report_gone(source)
            if destination is not None:
                self._report_seen(destination, complete=True)
        elif source is None:
            return
        elif isinstance(event, FileDeletedEvent):
            self._report_gone(source)
        elif isinstance(event, FileClosedEvent):
            self._report_seen(source, complete=True)
        elif isinstance(event, (FileCreatedEvent, FileModifiedEvent, FileAttribEvent)):
            self._report_seen(source, complete=False)

    def _in_inbox(self, raw: bytes | str) -> Path | None:
        """The event path as a path below ``self.inbox``; None when empty (the unknown side of a
        move) or outside the inbox."""
        if not raw or self._watched_root is None:
            return None
        try:
            below = Path(os.fsdecode(raw)).relative_to(self._watched_root)
        except ValueError:
            return None
        return self.inbox / below

    def _report_seen(self, path: Path, *, complete: bool) -> None:
        if not is_ignored_path(path, self.inbox):
            self._guarded(lambda: self._on_seen(path, complete))

    def _report_gone(self, path: Path) -> None:
        if not is_ignored_path(path, self.inbox):
            self._guarded(lambda: self._on_gone(path))

    # --- threads -----------------------------------------------------------------------------------

    def _start_thread(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    @staticmethod
    def _guarded(action: Callable[[], object]) -> None:
        """Run ``action``; a failure is logged, and the thread that ran it goes on watching."""
        try:
            action()
        except Exception:
            log.exception("inbox watcher: a callback or scan failed; watching goes on")


class _Dispatch(FileSystemEventHandler):
    """Hands every watchdog event to ``Watcher._handle`` (guarded: watchdog's thread must live)."""

    def __init__(self, watcher: Watcher) -> None:
        self._watcher = watcher

    def dispatch(self, event: FileSystemEvent) -> None:
        Watcher._guarded(lambda: self._watcher._handle(event))


def _stop_observer(observer: BaseObserver) -> None:
    observer.stop()  # also stops the threads it started before its own (inotify's reader)
    if observer.is_alive():
        observer.join()


def _quiet_watchdog_bookkeeping() -> None:
    """Silence watchdog's warnings about its own watch table (watchdog 7.1, ``inotify_c.py``).

    When nested folders appear at once (``mkdir -p a/b/c``), watchdog adds the watch of ``a/b``
    while walking ``a`` and again for ``b``'s own creation event, and warns "Callback with id ...
    already exists ... It will be Overwritten" (same callback: nothing is lost; the removal path
    has the twin "does not exist"). The warning is raised on watchdog's inotify thread; where
    warnings are errors (our test suite, ``python -W error``) it would kill that thread and with it
    every later event. Installed at ``start``, in front of any other filter, for these messages only.
    """
    warnings.filterwarnings("ignore", message=r"Callback with id '.*' (already exists|does not exist) for watch",
                            category=RuntimeWarning)


_MOVE_PAIRING_DELAY = 0.02  # seconds watchdog waits to pair the two halves of a rename


def _native_observer() -> BaseObserver:
    """watchdog's native observer; on Linux with unpaired moves reported as moves.

    By default inotify's observer reports a file renamed in from outside the inbox as "created",
    indistinguishable from a file just opened for writing, and one renamed out as "deleted". With
    ``generate_full_events`` both are moves with one side empty: a rename into place is the
    strongest "complete" signal there is, and it must not be lost.
    """
    if sys.platform.startswith("linux") and Observer.__name__ == "InotifyObserver":
        from watchdog.observers.inotify import InotifyObserver
        from watchdog.observers.inotify_move_event_grouper import InotifyMoveEventGrouper

        # watchdog holds every IN_MOVED_FROM for `delay` seconds (0.5) to pair it with its
        # IN_MOVED_TO, and its queue is first-in first-out: each claim (a move out of the inbox,
        # never paired) held every later event back half a second. A rename makes both events
        # at once, so the pair is in the queue within microseconds: 20 ms is ample, and latency
        # from a file renamed in to its outputs drops from ~0.5 s to a few tens of milliseconds.
        InotifyMoveEventGrouper.delay = _MOVE_PAIRING_DELAY
        return InotifyObserver(generate_full_events=True)
    return Observer()  # pragma: no cover - other platforms
