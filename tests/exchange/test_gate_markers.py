"""The readiness gate: marker files (``NAME.done`` / ``NAME.ok``) and empty files, on a scripted disk."""

from __future__ import annotations


import pytest
from gate_helpers import EMPTY_WAIT, INBOX, SETTLE, FakeDisk, make_gate, nothing


@pytest.fixture
def disk() -> FakeDisk:
    return FakeDisk()


# --- markers -----------------------------------------------------------------------------------


def test_require_marker_waits_for_the_marker_whatever_else_happens(disk: FakeDisk) -> None:
    gate = make_gate(disk, require_marker=True)
    path = disk.write(INBOX / "ARTIKEL.CSV")
    gate.seen(path, 0.0, complete=True)

    waiting = gate.poll(0.0)
    assert nothing(waiting)
    assert waiting.next_deadline is None  # nothing to look at until the marker's event
    gate.seen(path, 500.0)  # a rescan, much later
    assert nothing(gate.poll(500.0))

    marker = disk.write(INBOX / "ARTIKEL.CSV.done", 0)
    gate.seen(marker, 501.0, complete=True)
    verdicts = gate.poll(501.0)
    assert verdicts.ready == [path]
    assert marker not in verdicts.ready + verdicts.empty


def test_a_marker_makes_a_file_ready_at_once_without_require_marker(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    path = disk.write(INBOX / "ARTIKEL.CSV")
    gate.seen(path, 0.0)
    assert nothing(gate.poll(0.0))

    gate.seen(disk.write(INBOX / "ARTIKEL.CSV.ok", 0), 0.3)
    assert gate.poll(0.3).ready == [path]


def test_a_marker_present_when_the_file_is_first_seen_counts(disk: FakeDisk) -> None:
    gate = make_gate(disk, require_marker=True)
    path = disk.write(INBOX / "ARTIKEL.CSV")
    disk.write(INBOX / "ARTIKEL.CSV.done", 0)
    gate.seen(path, 0.0)
    assert gate.poll(0.0).ready == [path]


def test_a_marker_spelled_in_capitals_counts_once_seen(disk: FakeDisk) -> None:
    gate = make_gate(disk, require_marker=True)
    path = disk.write(INBOX / "ARTIKEL.CSV")
    gate.seen(path, 0.0)
    assert nothing(gate.poll(0.0))
    gate.seen(disk.write(INBOX / "ARTIKEL.CSV.DONE", 0), 1.0)
    assert gate.poll(1.0).ready == [path]


def test_a_marker_is_never_a_candidate_itself(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    marker = disk.write(INBOX / "ARTIKEL.CSV.done", 10)  # even with content
    gate.seen(marker, 0.0, complete=True)

    verdicts = gate.poll(100.0)
    assert nothing(verdicts)
    assert gate.pending == []  # its data file does not exist: dropped


def test_a_marker_for_an_ignored_name_names_nothing(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    disk.write(INBOX / "ARTIKEL.CSV.tmp")
    gate.seen(disk.write(INBOX / "ARTIKEL.CSV.tmp.done", 0), 0.0)
    assert gate.pending == []
    assert nothing(gate.poll(100.0))


# --- empty files -------------------------------------------------------------------------------


def test_an_empty_file_is_rejected_after_empty_file_wait_and_not_before(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    path = disk.write(INBOX / "ARTIKEL.CSV", 0)
    gate.seen(path, 0.0, complete=True)  # closed empty: still never ready

    first = gate.poll(0.0)
    assert nothing(first)
    assert first.next_deadline == EMPTY_WAIT
    assert nothing(gate.poll(EMPTY_WAIT - 0.001))
    verdicts = gate.poll(EMPTY_WAIT)
    assert verdicts.empty == [path]
    assert verdicts.ready == []
    assert gate.pending == []


def test_an_empty_file_that_gets_content_in_time_is_an_ordinary_candidate(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    path = disk.write(INBOX / "ARTIKEL.CSV", 0)
    gate.seen(path, 0.0)
    assert nothing(gate.poll(0.0))

    disk.write(path, 100)
    gate.seen(path, 5.0)
    filled = gate.poll(5.0)
    assert nothing(filled)
    assert filled.next_deadline == 5.0 + SETTLE
    assert gate.poll(5.0 + SETTLE).ready == [path]
    assert nothing(gate.poll(EMPTY_WAIT + 1))


def test_an_empty_file_is_not_ready_even_with_a_marker(disk: FakeDisk) -> None:
    gate = make_gate(disk)
    path = disk.write(INBOX / "ARTIKEL.CSV", 0)
    disk.write(INBOX / "ARTIKEL.CSV.done", 0)
    gate.seen(path, 0.0)
    assert nothing(gate.poll(0.0))
    assert gate.poll(EMPTY_WAIT).empty == [path]


def test_with_require_marker_an_empty_file_without_marker_is_left_waiting(disk: FakeDisk) -> None:
    gate = make_gate(disk, require_marker=True)
    path = disk.write(INBOX / "ARTIKEL.CSV", 0)
    gate.seen(path, 0.0)
    assert nothing(gate.poll(0.0))
    gate.seen(path, 1000.0)
    assert nothing(gate.poll(1000.0))
    assert gate.pending == [path]
