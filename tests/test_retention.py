"""Retention compresses or deletes old originals, never touches the chain, and survives a kill."""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from exchanged import retention
from exchanged.atomic import StagedFile
from exchanged.audit import Ledger, RetentionRecord
from exchanged.errors import OutputUnavailable, UsageError
from exchanged.retention import OriginalDeleted, RetentionResult, apply_retention, read_original
from exchanged.verify import verify
from tests.test_verify import Store

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
OLD = NOW - timedelta(days=90)
NEW = NOW - timedelta(days=5)
DATA = {"old1": b"sku;gtin\nA;1\n" * 1000, "oldq": b"<broken", "old2": os.urandom(3 << 20),
        "new1": b"sku;gtin\nN;9\n"}


class Crash(BaseException):
    """kill -9 stand-in: not an Exception, so nothing on the way catches it."""


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path)
    yield s
    s.close()


@pytest.fixture
def paths(store: Store) -> dict[str, Path]:
    return {
        "old1": store.add("old1", DATA["old1"], received_at=OLD),
        "oldq": store.add("oldq", DATA["oldq"], status="rejected", name="PREISE.xml",
                          received_at=OLD + timedelta(hours=1)),
        "old2": store.add("old2", DATA["old2"], status="duplicate", name="big.bin",
                          received_at=OLD + timedelta(days=1)),
        "new1": store.add("new1", DATA["new1"], received_at=NEW),
    }


def run(store: Store, action: str = "compress", days: int = 30) -> RetentionResult:
    return apply_retention(store.ledger, store.root, days=days, action=action, now=NOW)


def gz(path: Path) -> Path:
    return path.with_name(path.name + ".gz")


def files(store: Store) -> list[str]:
    """The archive's files: no ledger, no dot files (the retention lock, temp files)."""
    return sorted(p.relative_to(store.root).as_posix() for p in store.root.rglob("*")
                  if p.is_file() and not p.name.startswith(("ledger.sqlite3", ".")))


def reports_table(store: Store) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(store.ledger.path)) as db:
        return db.execute("SELECT * FROM reports ORDER BY seq").fetchall()


# --- compress and delete --------------------------------------------------------------------------

def test_compress_keeps_each_old_original_as_gz_and_the_chain_as_it_was(
        store: Store, paths: dict[str, Path]) -> None:
    before = reports_table(store)
    result = run(store)
    assert (result.compressed, result.deleted, result.skipped) == (["old1", "oldq", "old2"], [], [])
    assert files(store) == sorted([
        "2026/12/01/old1__ARTIKEL.csv.gz",
        "quarantine/2026/12/01/oldq__PREISE.xml.gz",
        "quarantine/2026/12/01/oldq__PREISE.xml.report.json",  # reports stay as they are
        "2026/12/02/old2__big.bin.gz",
        "2027/02/24/new1__ARTIKEL.csv",  # younger than 30 days: untouched
    ])
    for name in ("old1", "oldq", "old2"):
        assert gzip.decompress(gz(paths[name]).read_bytes()) == DATA[name]
        assert read_original(store.ledger, store.root, name) == DATA[name]
    assert result.bytes_freed > 0
    assert reports_table(store) == before
    assert store.ledger.retention("old1") == RetentionRecord(
        "old1", "compress", "2026/12/01/old1__ARTIKEL.csv.gz", "2027-03-01T12:00:00.000000Z")
    assert store.ledger.retention("new1") is None
    assert verify(store.ledger, store.root).ok
    assert store.ledger.verify_chain() is None


def test_delete_removes_old_originals_keeps_their_reports_and_says_so(
        store: Store, paths: dict[str, Path]) -> None:
    before = reports_table(store)
    result = run(store, "delete")
    assert (result.compressed, result.deleted, result.skipped) == ([], ["old1", "oldq", "old2"], [])
    assert result.bytes_freed == sum(len(DATA[n]) for n in ("old1", "oldq", "old2"))
    assert files(store) == ["2027/02/24/new1__ARTIKEL.csv",
                            "quarantine/2026/12/01/oldq__PREISE.xml.report.json"]
    assert store.ledger.retention("oldq") == RetentionRecord(
        "oldq", "delete", None, "2027-03-01T12:00:00.000000Z")
    assert reports_table(store) == before
    assert verify(store.ledger, store.root).ok
    with pytest.raises(OriginalDeleted, match="the original of old1 was deleted by retention on 2027-03-01"):
        read_original(store.ledger, store.root, "old1")
    assert read_original(store.ledger, store.root, "new1") == DATA["new1"]


def test_delete_after_compress_removes_the_gz(store: Store, paths: dict[str, Path]) -> None:
    run(store)
    result = run(store, "delete")
    assert result.deleted == ["old1", "oldq", "old2"]
    assert not gz(paths["old1"]).exists() and store.ledger.retention("old1").action == "delete"
    assert verify(store.ledger, store.root).ok
    assert run(store).compressed == []  # compress after delete: nothing to bring back


def test_running_again_does_nothing_more(store: Store, paths: dict[str, Path]) -> None:
    for action in ("compress", "delete"):
        run(store, action)
        snapshot = {p: (store.root / p).read_bytes() for p in files(store)}
        records = [store.ledger.retention(n) for n in DATA]
        later = apply_retention(store.ledger, store.root, days=30, action=action,
                                now=NOW + timedelta(hours=1))
        assert later == RetentionResult()
        assert {p: (store.root / p).read_bytes() for p in files(store)} == snapshot
        assert [store.ledger.retention(n) for n in DATA] == records  # not even re-dated


def test_only_what_is_older_than_the_days_is_retained(store: Store) -> None:
    store.add("edge", b"x", received_at=NOW - timedelta(days=30))
    store.add("past", b"y", received_at=NOW - timedelta(days=30, microseconds=1))
    assert run(store).compressed == ["past"]
    assert run(store, days=0).compressed == ["edge"]


def test_bad_arguments_are_usage_errors(store: Store) -> None:
    with pytest.raises(UsageError, match="unknown retention action 'shred'"):
        run(store, "shred")
    with pytest.raises(UsageError, match="0 or more"):
        run(store, days=-1)


def test_a_missing_archive_is_nothing_to_do(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert apply_retention(ledger, tmp_path / "archive", days=1, action="delete",
                               now=NOW) == RetentionResult()


# --- evidence is kept -----------------------------------------------------------------------------

@pytest.mark.parametrize("action", ["compress", "delete"])
def test_an_altered_original_is_left_for_verify(store: Store, paths: dict[str, Path],
                                                action: str) -> None:
    paths["old1"].write_bytes(b"tampered")
    result = run(store, action)
    assert result.skipped == [("old1", "the original no longer matches its recorded sha256")]
    assert paths["old1"].read_bytes() == b"tampered" and not gz(paths["old1"]).exists()
    assert store.ledger.retention("old1") is None
    assert [(f.code, f.id) for f in verify(store.ledger, store.root).findings] == [
        ("archive-altered", "old1")]


@pytest.mark.parametrize("action", ["compress", "delete"])
def test_a_missing_original_is_not_recorded_as_retained(store: Store, paths: dict[str, Path],
                                                        action: str) -> None:
    paths["old2"].unlink()
    assert run(store, action).skipped == [("old2", "the archived original is missing")]
    assert store.ledger.retention("old2") is None
    assert [(f.code, f.id) for f in verify(store.ledger, store.root).findings] == [
        ("archive-missing", "old2")]


# --- crashes at every step ------------------------------------------------------------------------

def test_crash_while_writing_the_gz(store: Store, paths: dict[str, Path], monkeypatch) -> None:
    real = retention.read_chunks

    def dies_midway(path, *, compressed=False):
        chunks = real(path, compressed=compressed)
        yield next(chunks)
        raise Crash

    monkeypatch.setattr(retention, "read_chunks", dies_midway)
    monkeypatch.setattr(StagedFile, "discard", lambda self: None)  # kill -9: no cleanup runs
    with pytest.raises(Crash):
        run(store)
    folder = paths["old1"].parent
    temps = [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert len(temps) == 1 and temps[0].startswith(".old1__ARTIKEL.csv.gz.")
    assert paths["old1"].exists() and not gz(paths["old1"]).exists()
    monkeypatch.undo()
    assert verify(store.ledger, store.root).ok  # a dot temp file is not part of the archive
    assert run(store).compressed == ["old1", "oldq", "old2"]
    assert [p.name for p in folder.iterdir()] == ["old1__ARTIKEL.csv.gz"]  # temp cleaned up
    assert verify(store.ledger, store.root).ok


def test_crash_after_the_gz_before_the_record(store: Store, paths: dict[str, Path],
                                              monkeypatch) -> None:
    def crash(self, record):
        raise Crash

    monkeypatch.setattr(Ledger, "record_retention", crash)
    with pytest.raises(Crash):
        run(store)
    assert paths["old1"].exists() and gz(paths["old1"]).exists()
    assert store.ledger.retention("old1") is None
    assert verify(store.ledger, store.root).ok  # both copies check out
    monkeypatch.undo()
    gz_bytes = gz(paths["old1"]).read_bytes()
    assert run(store).compressed == ["old1", "oldq", "old2"]
    assert not paths["old1"].exists() and gz(paths["old1"]).read_bytes() == gz_bytes  # reused
    assert verify(store.ledger, store.root).ok


def test_crash_after_the_record_before_the_original_is_removed(
        store: Store, paths: dict[str, Path], monkeypatch) -> None:
    def crash(path):
        raise Crash

    monkeypatch.setattr(retention, "_remove", crash)
    with pytest.raises(Crash):
        run(store)
    assert paths["old1"].exists() and gz(paths["old1"]).exists()
    assert store.ledger.retention("old1").action == "compress"
    assert verify(store.ledger, store.root).ok
    monkeypatch.undo()
    gz(paths["old1"]).write_bytes(b"damaged since")  # the .gz is checked before the original goes
    assert run(store).compressed == ["old1", "oldq", "old2"]
    assert not paths["old1"].exists()
    assert gzip.decompress(gz(paths["old1"]).read_bytes()) == DATA["old1"]
    assert verify(store.ledger, store.root).ok


def test_a_damaged_gz_without_a_record_is_written_again(store: Store, paths: dict[str, Path]) -> None:
    gz(paths["oldq"]).write_bytes(b"\x1f\x8b half")
    assert run(store).compressed == ["old1", "oldq", "old2"]
    assert read_original(store.ledger, store.root, "oldq") == DATA["oldq"]
    assert verify(store.ledger, store.root).ok


def test_crash_after_recording_a_deletion(store: Store, paths: dict[str, Path], monkeypatch) -> None:
    def crash(path):
        raise Crash

    monkeypatch.setattr(retention, "_remove", crash)
    with pytest.raises(Crash):
        run(store, "delete")
    assert paths["old1"].exists() and store.ledger.retention("old1").action == "delete"
    assert verify(store.ledger, store.root).ok
    monkeypatch.undo()
    assert run(store, "compress").deleted == ["old1"]  # a recorded deletion is finished either way
    assert run(store, "delete").deleted == ["oldq", "old2"]
    assert files(store) == ["2027/02/24/new1__ARTIKEL.csv",
                            "quarantine/2026/12/01/oldq__PREISE.xml.report.json"]
    assert verify(store.ledger, store.root).ok


def test_one_run_at_a_time(store: Store, paths: dict[str, Path]) -> None:
    fd = os.open(store.root / retention.LOCK_NAME, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(OutputUnavailable, match="already running"):
            run(store)
    finally:
        os.close(fd)
    assert run(store).compressed == ["old1", "oldq", "old2"]
    assert verify(store.ledger, store.root).ok  # the lock file is a dot file


# --- read_original --------------------------------------------------------------------------------

def test_read_original_checks_what_it_returns(store: Store, paths: dict[str, Path]) -> None:
    assert read_original(store.ledger, store.root, "ne") == DATA["new1"]  # a unique prefix will do
    with pytest.raises(UsageError, match="no report 'zz'"):
        read_original(store.ledger, store.root, "zz")
    paths["new1"].write_bytes(b"changed")
    with pytest.raises(UsageError, match="changed since it was recorded"):
        read_original(store.ledger, store.root, "new1")
    run(store)
    gz(paths["old1"]).write_bytes(b"not gzip")
    with pytest.raises(UsageError, match="changed since it was recorded"):
        read_original(store.ledger, store.root, "old1")
    gz(paths["old1"]).unlink()
    with pytest.raises(UsageError, match="missing"):
        read_original(store.ledger, store.root, "old1")
    assert not issubclass(UsageError, OriginalDeleted) and issubclass(OriginalDeleted, UsageError)
