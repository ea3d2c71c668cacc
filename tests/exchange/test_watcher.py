"""The inbox watcher against the real thing: watchdog's observer on a real temporary inbox.

Every test waits for what it expects with a deadline (``Recorder.wait_for``), never by sleeping a
fixed time and hoping; "nothing reported" is checked after a later file has been reported, since
one observer delivers its events in order. Rescans are set far apart (unless a test is about them)
so that what a test sees comes from events, not from the safety net.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import pytest

from exchanged.config import Settings
from exchanged.exchange.watcher import Watcher

pytestmark = pytest.mark.timeout(30)

WAIT = 10.0
Report = tuple[str, Path, bool]  # ("seen", path, complete) or ("gone", path, False)


class Recorder:
    """The two callbacks, recording what they are told; safe to call from any thread."""

    def __init__(self) -> None:
        self.reports: list[Report] = []
        self._changed = threading.Condition()

    def on_seen(self, path: Path, complete: bool) -> None:
        with self._changed:
            self.reports.append(("seen", path, complete))
            self._changed.notify_all()

    def on_gone(self, path: Path) -> None:
        with self._changed:
            self.reports.append(("gone", path, False))
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[list[Report]], bool], what: str, timeout: float = WAIT) -> None:
        if not self.reported_within(predicate, timeout):
            pytest.fail(f"not reported within {timeout} s: {what}; reports: {self.reports}")

    def reported_within(self, predicate: Callable[[list[Report]], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.reports):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def wait_seen(self, path: Path, *, complete: bool | None = None) -> None:
        self.wait_for(lambda reports: any(kind == "seen" and p == path and complete in (None, c)
                                          for kind, p, c in reports),
                      f"seen {path} complete={complete}")

    def wait_gone(self, path: Path) -> None:
        self.wait_for(lambda reports: ("gone", path, False) in reports, f"gone {path}")

    def paths(self) -> set[Path]:
        with self._changed:
            return {path for _, path, _ in self.reports}


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    return tmp_path / "inbox"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder on the same filesystem as the inbox, not watched (where writers stage files)."""
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def start_watcher(inbox: Path, recorder: Recorder) -> Iterator[Callable[..., Watcher]]:
    started: list[Watcher] = []

    def start(watch: Literal["events", "polling"] = "events", **options: float) -> Watcher:
        settings = Settings(inbox=inbox, watch=watch, **{"rescan_interval": 3600.0, "poll_interval": 0.1, **options})
        watcher = Watcher(settings, recorder.on_seen, recorder.on_gone)
        started.append(watcher)
        watcher.start()
        return watcher

    yield start
    for watcher in started:
        watcher.stop()


def write(path: Path, data: bytes = b"id;name\n1;Schraube\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as stream:
        stream.write(data)
    return path


# --- events ------------------------------------------------------------------------------------


def test_a_file_written_then_closed_is_reported_complete(inbox: Path, recorder: Recorder,
                                                          start_watcher: Callable[..., Watcher]) -> None:
    start_watcher()
    path = inbox / "ARTIKEL.CSV"
    with path.open("wb") as stream:
        stream.write(b"id;name\n")
        stream.flush()
        recorder.wait_seen(path, complete=False)  # created / written, not yet complete
        assert ("seen", path, True) not in recorder.reports
        stream.write(b"1;Schraube\n")
    recorder.wait_seen(path, complete=True)


def test_a_file_renamed_into_the_inbox_is_reported_complete(inbox: Path, outside: Path, recorder: Recorder,
                                                             start_watcher: Callable[..., Watcher]) -> None:
    start_watcher()
    staged = write(outside / "PREISE.CSV")
    staged.rename(inbox / "PREISE.CSV")
    recorder.wait_seen(inbox / "PREISE.CSV", complete=True)


def test_a_temp_name_renamed_in_place_is_reported_complete_under_its_final_name(
        inbox: Path, recorder: Recorder, start_watcher: Callable[..., Watcher]) -> None:
    start_watcher()
    staged = write(inbox / ".PREISE.CSV.tmp")
    staged.rename(inbox / "PREISE.CSV")
    recorder.wait_seen(inbox / "PREISE.CSV", complete=True)
    assert inbox / ".PREISE.CSV.tmp" not in recorder.paths()


def test_a_file_in_a_new_sub_folder_is_found(inbox: Path, recorder: Recorder,
                                             start_watcher: Callable[..., Watcher]) -> None:
    start_watcher()
    # Written at once after the mkdir, perhaps before watchdog watches the new folders: found
    # (by watchdog's own look into new folders, or by ours), if need be without its close.
    path = write(inbox / "erp" / "2026" / "11" / "ARTIKEL.CSV")
    recorder.wait_seen(path)


def test_a_new_sub_folder_is_watched_for_the_files_written_later(inbox: Path, recorder: Recorder,
                                                                  start_watcher: Callable[..., Watcher]) -> None:
    start_watcher()
    folder = inbox / "erp" / "2026"
    folder.mkdir(parents=True)
    # watchdog adds the folder's watch on its own thread, a moment after the mkdir: files written
    # before that are found without their close. Write one file after another until a close is seen.
    deadline = time.monotonic() + WAIT
    written: list[Path] = []
    while not recorder.reported_within(
            lambda reports: any(complete and path in written for _, path, complete in reports), 0.2):
        if time.monotonic() > deadline:
            pytest.fail(f"no close reported in the new folder: {recorder.reports}")
        written.append(write(folder / f"probe{len(written)}.csv"))


def test_a_folder_moved_into_the_inbox_has_its_files_found(inbox: Path, outside: Path, recorder: Recorder,
                                                           start_watcher: Callable[..., Watcher]) -> None:
    start_watcher()
    batch = outside / "batch"
    write(batch / "ARTIKEL.CSV")
    write(batch / "deep" / "PREISE.CSV")
    write(batch / ".hidden.csv")
    batch.rename(inbox / "batch")

    recorder.wait_seen(inbox / "batch" / "ARTIKEL.CSV")
    recorder.wait_seen(inbox / "batch" / "deep" / "PREISE.CSV")
    assert inbox / "batch" / ".hidden.csv" not in recorder.paths()


def test_deleted_and_moved_away_files_are_gone(inbox: Path, outside: Path, recorder: Recorder,
                                               start_watcher: Callable[..., Watcher]) -> None:
    deleted = write(inbox / "a.csv")
    moved = write(inbox / "sub" / "b.csv")
    start_watcher()
    recorder.wait_seen(moved)

    deleted.unlink()
    moved.rename(outside / "b.csv")  # what a claim does: out of the watched tree
    recorder.wait_gone(deleted)
    recorder.wait_gone(moved)


def test_a_file_renamed_inside_the_inbox_is_gone_under_the_old_name(inbox: Path, recorder: Recorder,
                                                                   start_watcher: Callable[..., Watcher]) -> None:
    old = write(inbox / "a.csv")
    start_watcher()
    recorder.wait_seen(old)
    old.rename(inbox / "b.csv")
    recorder.wait_gone(old)
    recorder.wait_seen(inbox / "b.csv", complete=True)


def test_ignored_names_are_never_reported(inbox: Path, recorder: Recorder,
                                          start_watcher: Callable[..., Watcher]) -> None:
    ignored = [inbox / ".ARTIKEL.CSV", inbox / "~$ARTIKEL.xlsx", inbox / "ARTIKEL.CSV.tmp",
               inbox / "x.PART", inbox / "x.crdownload", inbox / ".staging" / "ARTIKEL.CSV",
               inbox / "erp" / "~work" / "deep" / "PREISE.CSV"]
    write(inbox / ".before" / "x.csv")  # present at start: the startup scan skips it too
    start_watcher()
    for path in ignored:
        write(path)
    os.truncate(ignored[0], 0)
    ignored[2].unlink()
    sentinel = write(inbox / "zz-last.csv")  # reported after everything above (events are in order)
    recorder.wait_seen(sentinel, complete=True)

    assert recorder.paths() == {sentinel}


def test_start_creates_a_missing_inbox(inbox: Path, start_watcher: Callable[..., Watcher]) -> None:
    assert not inbox.exists()
    start_watcher()
    assert inbox.is_dir()


# --- scans -------------------------------------------------------------------------------------


def test_the_startup_scan_reports_files_present_before_start(tmp_path: Path, inbox: Path, recorder: Recorder,
                                                             start_watcher: Callable[..., Watcher]) -> None:
    present = [write(inbox / "ARTIKEL.CSV"), write(inbox / "erp" / "deep" / "PREISE.CSV"),
               write(inbox / "empty.csv", b"")]
    (tmp_path / "elsewhere").mkdir()
    write(tmp_path / "elsewhere" / "secret.csv")
    (inbox / "linked-folder").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (inbox / "linked.csv").symlink_to(tmp_path / "elsewhere" / "secret.csv")

    start_watcher()

    expected = {*present, inbox / "linked-folder", inbox / "linked.csv"}  # links reported, not entered
    recorder.wait_for(lambda reports: {p for _, p, _ in reports} >= expected, "the files present at start")
    assert all(report == ("seen", report[1], False) for report in recorder.reports)
    assert recorder.paths() == expected


def test_the_rescan_finds_files_whose_events_were_lost(inbox: Path, recorder: Recorder,
                                                       start_watcher: Callable[..., Watcher],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Watcher, "_handle", lambda self, event: None)  # every event lost
    start_watcher(rescan_interval=0.2)
    path = write(inbox / "sub" / "ARTIKEL.CSV")
    recorder.wait_seen(path, complete=False)


def test_scan_of_a_folder_reports_only_below_it(inbox: Path, recorder: Recorder,
                                                start_watcher: Callable[..., Watcher]) -> None:
    (inbox / "a").mkdir(parents=True)
    (inbox / "b").mkdir()
    watcher = start_watcher()
    sentinel = write(inbox / "a" / "sentinel.csv")
    recorder.wait_seen(sentinel, complete=True)
    write(inbox / "b" / "other.csv")
    recorder.wait_seen(inbox / "b" / "other.csv", complete=True)
    with recorder._changed:
        recorder.reports.clear()

    assert watcher.scan(inbox / "a") == 1
    assert recorder.reports == [("seen", sentinel, False)]


# --- polling -----------------------------------------------------------------------------------


def test_polling_mode_reports_new_changed_and_vanished_files(inbox: Path, recorder: Recorder,
                                                             start_watcher: Callable[..., Watcher]) -> None:
    present = write(inbox / "before.csv")
    start_watcher("polling", poll_interval=0.05)
    recorder.wait_seen(present)

    new = write(inbox / "erp" / "ARTIKEL.CSV")
    recorder.wait_seen(new, complete=False)
    with recorder._changed:
        seen_before = recorder.reports.count(("seen", new, False))
    with new.open("ab") as stream:
        stream.write(b"2;Mutter\n")
    recorder.wait_for(lambda reports: reports.count(("seen", new, False)) > seen_before, "the change")
    new.unlink()
    recorder.wait_gone(new)
    write(inbox / ".hidden.csv")
    sentinel = write(inbox / "zz-last.csv")
    recorder.wait_seen(sentinel)

    assert inbox / ".hidden.csv" not in recorder.paths()
    assert all(not complete for _, _, complete in recorder.reports)  # polling never knows a close


def test_polling_mode_does_not_repeat_unchanged_files(inbox: Path, recorder: Recorder,
                                                      start_watcher: Callable[..., Watcher]) -> None:
    present = write(inbox / "before.csv")
    start_watcher("polling", poll_interval=0.05)
    recorder.wait_seen(present)
    # several polls later (each new file proves another poll ran), still one report for it
    for index in range(3):
        recorder.wait_seen(write(inbox / f"later{index}.csv"))
    assert recorder.reports.count(("seen", present, False)) == 1


# --- robustness and lifecycle -------------------------------------------------------------------


def test_a_failing_callback_does_not_stop_the_watcher(inbox: Path, recorder: Recorder,
                                                      start_watcher: Callable[..., Watcher],
                                                      caplog: pytest.LogCaptureFixture) -> None:
    failing = inbox / "boom.csv"
    original = recorder.on_seen

    def on_seen(path: Path, complete: bool) -> None:
        if path == failing:
            raise RuntimeError("the daemon's queue is broken")
        original(path, complete)

    recorder.on_seen = on_seen  # type: ignore[method-assign]
    start_watcher()
    write(failing)
    after = write(inbox / "after.csv")
    recorder.wait_seen(after, complete=True)
    assert "the daemon's queue is broken" in caplog.text


def test_events_refused_by_the_system_fall_back_to_polling(inbox: Path, recorder: Recorder,
                                                           start_watcher: Callable[..., Watcher],
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    from watchdog.observers.api import BaseObserver

    def refuse(self: BaseObserver) -> None:
        raise OSError(28, "inotify watch limit reached")

    monkeypatch.setattr(BaseObserver, "start", refuse)
    before = set(threading.enumerate())
    watcher = start_watcher("events", poll_interval=0.05)
    path = write(inbox / "ARTIKEL.CSV")
    recorder.wait_seen(path, complete=False)
    assert "polling it every 0.05 s instead" in caplog.text
    watcher.stop()
    assert set(threading.enumerate()) == before  # the refused observer left no thread behind


@pytest.mark.parametrize("watch", ["events", "polling"])
def test_stop_is_idempotent_and_leaves_no_thread(inbox: Path, recorder: Recorder,
                                                 watch: Literal["events", "polling"]) -> None:
    before = set(threading.enumerate())
    settings = Settings(inbox=inbox, watch=watch, rescan_interval=0.05, poll_interval=0.05)
    watcher = Watcher(settings, recorder.on_seen, recorder.on_gone)
    watcher.stop()  # before start: nothing to do
    watcher.start()
    assert set(threading.enumerate()) > before
    path = write(inbox / "ARTIKEL.CSV")
    recorder.wait_seen(path)

    watcher.stop()
    watcher.stop()

    assert set(threading.enumerate()) == before
    write(inbox / "after-stop.csv")
    assert watcher.scan() == 0  # a stopped watcher reports nothing (and has no thread left to)
    assert inbox / "after-stop.csv" not in recorder.paths()


def test_a_watcher_starts_once(inbox: Path, recorder: Recorder, start_watcher: Callable[..., Watcher]) -> None:
    watcher = start_watcher()
    with pytest.raises(RuntimeError):
        watcher.start()
