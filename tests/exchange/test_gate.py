"""The readiness gate (DESIGN §5.2: no partial reads), driven by a fake clock and a scripted disk.

Time is whatever the test says it is: ``poll(2.0)`` is two seconds after ``seen(p, 0.0)``. The
disk is a dict of (mode, size, mtime) that the test writes to, so a writer that appends, pauses,
closes and reopens is spelled out step by step. A few tests use real files and ``os.lstat``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from gate_helpers import EMPTY_WAIT, INBOX, SETTLE, FakeDisk, make_gate, nothing

from exchanged.config import Settings
from exchanged.exchange.gate import ReadinessGate, Verdicts

@pytest.fixture
def disk() -> FakeDisk:
    return FakeDisk()


# --- complete events ---------------------------------------------------------------------------


def test_a_file_closed_after_writing_is_ready_at_once(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    path = disk.write(INBOX / "ARTIKEL.CSV")
    gate.seen(path, 0.0)
    gate.seen(path, 0.0, complete=True)

    verdicts = gate.poll(0.0)

    assert verdicts.ready == [path]
    assert verdicts.next_deadline is None
    assert gate.pending == []


def test_a_file_written_again_after_its_close_waits_to_settle(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    path = disk.write(INBOX / "ARTIKEL.CSV")
    gate.seen(path, 0.0, complete=True)
    disk.write(path)  # the writer reopened it and appended before we looked

    first = gate.poll(0.5)
    assert nothing(first)
    assert first.next_deadline == 0.5 + SETTLE
    assert nothing(gate.poll(2.4))
    assert gate.poll(2.5).ready == [path]


def test_a_rewrite_in_place_after_the_close_is_caught_by_the_mtime(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    path = disk.write(INBOX / "ARTIKEL.CSV")
    gate.seen(path, 0.0, complete=True)
    disk.touch(path)  # same size, later mtime
    gate.seen(path, 0.1)

    assert nothing(gate.poll(0.1))
    assert gate.poll(0.1 + SETTLE).ready == [path]


def test_a_scan_after_the_close_does_not_cancel_it(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    path = disk.write(INBOX / "ARTIKEL.CSV")
    gate.seen(path, 0.0, complete=True)
    gate.seen(path, 0.0)  # the rescan found it too: no write happened

    assert gate.poll(0.0).ready == [path]


def test_a_close_after_more_writes_is_trusted_again(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    path = disk.write(INBOX / "ARTIKEL.CSV")
    gate.seen(path, 0.0, complete=True)
    disk.write(path)
    assert nothing(gate.poll(0.0))
    gate.seen(path, 0.3, complete=True)  # the second close, after the last write

    assert gate.poll(0.3).ready == [path]


# --- settling ----------------------------------------------------------------------------------


def test_a_plain_file_is_ready_only_after_settle_seconds_unchanged(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    path = disk.write(INBOX / "ARTIKEL.CSV")
    gate.seen(path, 10.0)

    first = gate.poll(10.0)
    assert nothing(first)
    assert first.next_deadline == 10.0 + SETTLE
    assert nothing(gate.poll(11.999))
    assert gate.poll(12.0).ready == [path]


def test_settle_zero_makes_a_non_empty_file_ready_at_the_first_look(disk: FakeDisk) -> None:
    gate = make_gate(disk, settle_seconds=0.0)
    path = disk.write(INBOX / "ARTIKEL.CSV")
    gate.seen(path, 0.0)
    assert gate.poll(0.0).ready == [path]


def test_a_growing_file_is_never_ready_while_it_grows(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    path = INBOX / "PREISE.CSV"
    now = 0.0
    # an event per write, a poll after each batch: 0.5 s between writes
    for _ in range(20):
        disk.write(path, 4096)
        gate.seen(path, now)
        assert nothing(gate.poll(now))
        now += 0.5
    # the writer pauses with the file open, shorter than the settle window, then goes on
    assert nothing(gate.poll(now + 1.4))
    now += 1.5
    for _ in range(4):
        disk.write(path, 4096)
        gate.seen(path, now)
        assert nothing(gate.poll(now))
        now += 0.5
    last_write = now - 0.5
    assert nothing(gate.poll(last_write + SETTLE - 0.001))
    assert gate.poll(last_write + SETTLE).ready == [path]


def test_a_write_nobody_told_us_about_restarts_the_settle_window(disk: FakeDisk) -> None:
    # Lost events (or polling mode): only the stat at the deadline sees the change.
    gate = make_gate(disk)
    path = disk.write(INBOX / "PREISE.CSV")
    gate.seen(path, 0.0)
    assert gate.poll(0.0).next_deadline == SETTLE

    disk.write(path)  # at 1.5 s, silently
    at_deadline = gate.poll(SETTLE)
    assert nothing(at_deadline)
    assert at_deadline.next_deadline == 2 * SETTLE
    assert gate.poll(2 * SETTLE).ready == [path]


def test_files_not_due_are_not_looked_at(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    path = disk.write(INBOX / "PREISE.CSV")
    gate.seen(path, 0.0)
    gate.poll(0.0)
    looked = len(disk.stats)

    for now in (0.5, 1.0, 1.5):
        assert nothing(gate.poll(now))
    assert len(disk.stats) == looked


# --- what is never ready -----------------------------------------------------------------------


@pytest.mark.parametrize("relative", [
    ".ARTIKEL.CSV", "~$ARTIKEL.CSV", "ARTIKEL.CSV.tmp", "ARTIKEL.CSV.PART", "x.partial",
    "x.filepart", "x.crdownload", ".staging/ARTIKEL.CSV", "erp/~work/ARTIKEL.CSV",
])
def test_ignored_names_are_never_ready(disk: FakeDisk, relative: str) -> None:
    gate = make_gate(disk)
    path = disk.write(INBOX / relative)
    disk.write(path.with_name(path.name + ".done"), 0)
    gate.seen(path, 0.0, complete=True)

    assert nothing(gate.poll(1000.0))
    assert gate.pending == []


def test_a_symbolic_link_is_reported_once_and_never_ready(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    secret = tmp_path / "secret.csv"
    secret.write_text("id\n1\n")
    link = inbox / "ARTIKEL.CSV"
    link.symlink_to(secret)
    gate = ReadinessGate(settle_seconds=SETTLE, empty_file_wait=EMPTY_WAIT, inbox=inbox)

    gate.seen(link, 0.0, complete=True)
    first = gate.poll(0.0)
    assert first.links == [link]
    assert first.ready == [] and first.empty == []
    for now in (60.0, 120.0):  # rescans find it again
        gate.seen(link, now)
        assert nothing(gate.poll(now))
    assert gate.pending == []
    assert secret.read_text() == "id\n1\n"

    gate.gone(link)  # removed, and later a new link of the same name: reported again
    gate.seen(link, 200.0)
    assert gate.poll(200.0).links == [link]


def test_a_link_to_a_folder_is_reported_not_entered(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (tmp_path / "etc").mkdir()
    link = inbox / "etc"
    link.symlink_to(tmp_path / "etc", target_is_directory=True)
    gate = ReadinessGate(settle_seconds=SETTLE, empty_file_wait=EMPTY_WAIT, inbox=inbox)
    gate.seen(link, 0.0)
    assert gate.poll(0.0).links == [link]


def test_a_link_replaced_by_a_file_is_a_file_again(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = inbox / "ARTIKEL.CSV"
    path.symlink_to(tmp_path / "elsewhere.csv")
    gate = ReadinessGate(settle_seconds=SETTLE, empty_file_wait=EMPTY_WAIT, inbox=inbox)
    gate.seen(path, 0.0)
    assert gate.poll(0.0).links == [path]

    staged = inbox / ".ARTIKEL.CSV.tmp"
    staged.write_text("id\n1\n")
    staged.replace(path)  # renamed over the link: no "gone" event for the link
    gate.seen(path, 1.0, complete=True)
    assert gate.poll(1.0).ready == [path]


@pytest.mark.parametrize("mode", [stat.S_IFDIR | 0o755, stat.S_IFIFO | 0o644, stat.S_IFSOCK | 0o644])
def test_other_non_regular_files_are_dropped(disk: FakeDisk, mode: int) -> None:
    gate = make_gate(disk)
    path = disk.make(INBOX / "ARTIKEL.CSV", mode)
    gate.seen(path, 0.0, complete=True)
    assert nothing(gate.poll(0.0))
    assert gate.pending == []


def test_a_vanished_file_is_dropped_silently(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    path = disk.write(INBOX / "ARTIKEL.CSV")
    gate.seen(path, 0.0)
    assert nothing(gate.poll(0.0))

    disk.remove(path)
    verdicts = gate.poll(SETTLE)
    assert nothing(verdicts)
    assert verdicts.next_deadline is None
    assert gate.pending == []


def test_gone_forgets_a_file_before_any_look(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    path = disk.write(INBOX / "ARTIKEL.CSV")
    gate.seen(path, 0.0, complete=True)
    gate.gone(path)
    assert gate.pending == []
    assert gate.poll(0.0) == Verdicts()


def test_a_file_vanished_before_its_close_event_is_dropped(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    gate.seen(INBOX / "ARTIKEL.CSV", 0.0, complete=True)  # already gone when the event arrives
    assert gate.poll(0.0) == Verdicts()
    assert gate.pending == []


# --- after the verdict ----------------------------------------------------------------------------


def test_a_ready_file_is_forgotten_and_new_content_is_a_new_candidate(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    path = disk.write(INBOX / "ARTIKEL.CSV")
    gate.seen(path, 0.0, complete=True)
    assert gate.poll(0.0).ready == [path]
    assert gate.pending == []
    assert nothing(gate.poll(100.0))

    disk.remove(path)  # the daemon claimed it; the ERP delivers the next export under the same name
    disk.write(path)
    gate.seen(path, 200.0)
    assert nothing(gate.poll(200.0))
    assert gate.poll(200.0 + SETTLE).ready == [path]


def test_next_deadline_is_the_earliest_of_all_pending_files(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    assert gate.poll(0.0).next_deadline is None

    settling = disk.write(INBOX / "a.csv")
    empty = disk.write(INBOX / "b.csv", 0)
    gate.seen(empty, 0.0)
    gate.seen(settling, 1.0)
    assert gate.poll(0.0).next_deadline == 1.0  # a file seen at 1.0 is looked at then

    after_first_look = gate.poll(1.0)
    assert after_first_look.next_deadline == 1.0 + SETTLE
    assert gate.poll(1.0 + SETTLE) == Verdicts(ready=[settling], next_deadline=EMPTY_WAIT)
    assert gate.poll(EMPTY_WAIT) == Verdicts(empty=[empty], next_deadline=None)


def test_verdicts_list_files_in_the_order_they_were_first_seen(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    names = ["c.csv", "a.csv", "b.csv"]
    for index, name in enumerate(names):
        gate.seen(disk.write(INBOX / name), float(index) / 10)
    gate.poll(0.2)
    assert gate.poll(10.0).ready == [INBOX / name for name in names]


def test_memory_holds_only_pending_files(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    for index in range(1000):
        path = disk.write(INBOX / f"f{index}.csv")
        gate.seen(path, 0.0, complete=True)
    assert len(gate.pending) == 1000
    assert len(gate.poll(0.0).ready) == 1000
    assert gate.pending == []


# --- real files --------------------------------------------------------------------------------


def test_with_real_files_a_reopened_file_waits_and_a_closed_one_does_not(tmp_path: Path) -> None:
    settings = Settings(inbox=tmp_path, settle_seconds=SETTLE, empty_file_wait=EMPTY_WAIT)
    gate = ReadinessGate.from_settings(settings)
    done, reopened = tmp_path / "done.csv", tmp_path / "reopened.csv"
    done.write_bytes(b"id\n1\n")
    reopened.write_bytes(b"id\n1\n")
    gate.seen(done, 0.0, complete=True)
    gate.seen(reopened, 0.0, complete=True)
    with reopened.open("ab") as stream:  # the writer comes back for more
        stream.write(b"2\n")

    assert gate.poll(0.0).ready == [done]
    assert gate.pending == [reopened]
    assert gate.poll(SETTLE).ready == [reopened]


def test_the_stat_can_be_given_to_poll(disk: FakeDisk) -> None:
    gate = ReadinessGate(settle_seconds=SETTLE, empty_file_wait=EMPTY_WAIT, inbox=INBOX)
    path = disk.write(INBOX / "ARTIKEL.CSV")
    gate.seen(path, 0.0)  # no such file on the real disk: the scripted one is used to judge
    assert gate.poll(0.0, stat=disk.stat).next_deadline == SETTLE
    assert gate.poll(SETTLE, stat=disk.stat).ready == [path]
    assert os.path.lexists(path) is False
