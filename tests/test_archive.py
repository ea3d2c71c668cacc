"""The archive keeps every original byte for byte, atomically, under a name that cannot escape."""

from __future__ import annotations

import errno
import hashlib
import json
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchanged import archive as archive_module
from exchanged.archive import MAX_NAME_BYTES, Archive, report_path, safe_name
from exchanged.errors import OutputUnavailable, TransientError, UsageError
from exchanged.report import FileReport, Issue, Location, Status

RECEIVED = datetime(2026, 11, 27, 15, 41, 0, 123456, tzinfo=UTC)
DAY = Path("2026/11/27")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def all_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def rejected_report(report_id: str = "r1") -> FileReport:
    return FileReport(
        id=report_id, file="inbox/ARTIKEL_20261127.csv", sha256=sha(b"x"), size=1,
        status=Status.REJECTED, format="csv", mapping=None, entity=None,
        issues=[Issue(code="no-mapping", message="no mapping recognises this file",
                      location=Location(line=1), value="Artikelnr;EAN"),
                Issue(code="invalid-gtin", message="check digit should be 1", severity="warning",
                      location=Location(row=17, field="gtin"))],
        issues_truncated=3, received_at="2026-11-27T15:41:00.123456Z",
        finished_at="2026-11-27T15:41:00.200000Z", duration_ms=77,
    )


# --- safe_name ------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ARTIKEL_20261127.csv", "ARTIKEL_20261127.csv"),
        ("../../etc/passwd", "etc_passwd"),
        ("a/b\\c", "a_b_c"),
        ("\x00x", "x"),
        ("a\x00b\nc\x1b.csv", "a_b_c_.csv"),
        (".hidden", "hidden"),
        ("..", "unnamed"),
        ("", "unnamed"),
        ("...///", "unnamed"),
        ("-rf.csv", "rf.csv"),
        ("file..csv", "file.csv"),
        ("name. ", "name"),
        ("C:\\Users\\erp\\out.xml", "C__Users_erp_out.xml"),
        ('what?*<>|".txt', "what______.txt"),
        ("\u202egpj.exe", "gpj.exe"),  # right-to-left override: would display as "exe.jpg"
        ("CON.csv", "_CON.csv"),
        ("Preisliste Müller 日本 📦.xml", "Preisliste Müller 日本 📦.xml"),
        ("Mu\u0308ller.csv", "Müller.csv"),  # NFD (as macOS writes it) becomes NFC
    ],
)
def test_safe_name_golden(name: str, expected: str) -> None:
    assert safe_name(name) == expected


def test_safe_name_cuts_long_names_and_keeps_the_extension() -> None:
    assert safe_name("a" * 300 + ".csv") == "a" * (MAX_NAME_BYTES - 4) + ".csv"
    umlauts = safe_name("ä" * 300 + ".xml")  # two bytes each: cut on a character boundary
    assert umlauts == "ä" * ((MAX_NAME_BYTES - 4) // 2) + ".xml"
    no_ext = safe_name("b" * 400)
    assert no_ext == "b" * MAX_NAME_BYTES
    long_ext = safe_name("c" * 100 + "." + "d" * 100)  # not an extension worth keeping
    assert len(long_ext.encode()) == MAX_NAME_BYTES and long_ext.startswith("c" * 100 + ".")


@given(st.text(max_size=400))
def test_safe_name_is_always_a_plain_file_name(name: str) -> None:
    out = safe_name(name)
    assert out and not out.startswith((".", "-", " "))
    assert ".." not in out and "/" not in out and "\\" not in out
    assert all(ord(ch) >= 32 and ch not in "\x7f\u2028\u2029" for ch in out)
    assert len(out.encode("utf-8")) <= MAX_NAME_BYTES and len(out) <= 150
    assert safe_name(out) == out  # stable: sanitising twice changes nothing


# --- store ----------------------------------------------------------------------------------------

def test_store_keeps_bytes_identical_under_the_received_day(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive")
    assert not archive.root.exists()  # created lazily
    data = bytes(range(256)) * 10 + b"\r\n\x00\xff;Artikelnr"
    path = archive.store(data, report_id="01JD3", name="ARTIKEL_20261127.csv", received_at=RECEIVED)
    assert path == archive.root / DAY / "01JD3__ARTIKEL_20261127.csv"
    assert sha(path.read_bytes()) == sha(data)
    assert archive.read(path) == data
    assert all_files(archive.root) == [f"{DAY.as_posix()}/01JD3__ARTIKEL_20261127.csv"]


def test_store_copies_a_path_source_and_leaves_it_in_place(tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    data = os.urandom(3 * 1024 * 1024 + 17)  # several copy chunks
    source.write_bytes(data)
    archive = Archive(tmp_path / "archive")
    path = archive.store(source, report_id="r2", name=source.name, received_at=RECEIVED)
    assert source.read_bytes() == data
    assert sha(path.read_bytes()) == sha(data)


def test_store_dates_by_utc_day(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive")
    late_evening_in_brazil = datetime(2026, 11, 27, 23, 30, tzinfo=timezone(timedelta(hours=-3)))
    path = archive.store(b"x", report_id="r3", name="a.csv", received_at=late_evening_in_brazil)
    assert path.parent == archive.root / "2026/11/28"
    naive = archive.store(b"x", report_id="r4", name="a.csv", received_at=datetime(2026, 1, 2, 23))
    assert naive.parent == archive.root / "2026/01/02"
    from_text = archive.store(b"x", report_id="r5", name="a.csv",
                              received_at="2026-03-04T05:06:07Z")
    assert from_text.parent == archive.root / "2026/03/04"


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "a/b\\c", "\x00x", ".hidden", "/abs", "x" * 999]
)
def test_hostile_names_stay_in_the_day_folder(tmp_path: Path, name: str) -> None:
    archive = Archive(tmp_path / "archive")
    path = archive.store(b"payload", report_id="r6", name=name, received_at=RECEIVED)
    assert path.parent == archive.root / DAY
    assert path.name == "r6__" + safe_name(name)
    assert all_files(tmp_path) == [f"archive/{DAY.as_posix()}/{path.name}"]


@pytest.mark.parametrize("report_id", ["../x", "a/b", "", ".x", "a..b", "x\x00"])
def test_report_ids_that_are_not_file_names_are_refused(tmp_path: Path, report_id: str) -> None:
    with pytest.raises(ValueError, match="report id"):
        Archive(tmp_path).store(b"x", report_id=report_id, name="a.csv", received_at=RECEIVED)


def test_storing_again_is_idempotent(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive")
    first = archive.store(b"same", report_id="r7", name="a.csv", received_at=RECEIVED)
    second = archive.store(b"same", report_id="r7", name="a.csv", received_at=RECEIVED)
    assert first == second and first.read_bytes() == b"same"
    assert len(all_files(archive.root)) == 1


def test_failed_store_leaves_no_temp_file_and_is_transient(tmp_path: Path, monkeypatch) -> None:
    archive = Archive(tmp_path / "archive")
    kept = archive.store(b"old", report_id="r8", name="a.csv", received_at=RECEIVED)

    def disk_full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(archive_module.os, "replace", disk_full)
    with pytest.raises(OutputUnavailable) as caught:
        archive.store(b"new", report_id="r8", name="a.csv", received_at=RECEIVED)
    assert isinstance(caught.value, TransientError)  # retried, never quarantined
    with pytest.raises(OutputUnavailable):
        archive.store(b"new", report_id="r9", name="b.csv", received_at=RECEIVED)
    assert all_files(archive.root) == [f"{DAY.as_posix()}/r8__a.csv"]  # no .tmp left behind
    assert kept.read_bytes() == b"old"  # the earlier version is untouched


def test_a_missing_source_is_not_an_output_fault(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Archive(tmp_path / "archive").store(
            tmp_path / "gone.csv", report_id="r10", name="gone.csv", received_at=RECEIVED
        )


def test_archived_files_get_ordinary_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = Archive(tmp_path / "a").store(b"x", report_id="r11", name="a", received_at=RECEIVED)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600: operators read the archive


# --- quarantine -----------------------------------------------------------------------------------

def test_quarantine_writes_the_report_beside_the_file(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive")
    report = rejected_report("q1")
    path = archive.quarantine(b"Artikelnr;EAN\n", report=report, name="../ARTIKEL.csv",
                              received_at=RECEIVED)
    assert path == archive.root / "quarantine" / DAY / "q1__ARTIKEL.csv"
    assert path.read_bytes() == b"Artikelnr;EAN\n"
    beside = report_path(path)
    assert beside.name == "q1__ARTIKEL.csv.report.json"
    text = beside.read_text(encoding="utf-8")
    assert text.startswith("{\n  ")  # indented for people
    assert FileReport.model_validate(json.loads(text)) == report
    assert all_files(archive.root) == [
        f"quarantine/{DAY.as_posix()}/q1__ARTIKEL.csv",
        f"quarantine/{DAY.as_posix()}/q1__ARTIKEL.csv.report.json",
    ]


def test_quarantine_keeps_unicode_in_the_report(tmp_path: Path) -> None:
    report = rejected_report("q2").model_copy(update={"file": "inbox/Preisliste Müller.csv"})
    path = Archive(tmp_path).quarantine(b"x", report=report, name="Preisliste Müller.csv",
                                        received_at=RECEIVED)
    assert '"inbox/Preisliste Müller.csv"' in report_path(path).read_text(encoding="utf-8")


def test_quarantine_writes_the_data_before_the_report(tmp_path: Path, monkeypatch) -> None:
    archive = Archive(tmp_path / "archive")
    real_replace, calls = os.replace, []

    def fail_second(src, dst):
        calls.append(Path(dst).name)
        if len(calls) == 2:
            raise OSError(errno.EIO, "I/O error")
        real_replace(src, dst)

    monkeypatch.setattr(archive_module.os, "replace", fail_second)
    with pytest.raises(OutputUnavailable):
        archive.quarantine(b"x", report=rejected_report("q3"), name="a.csv", received_at=RECEIVED)
    assert calls == ["q3__a.csv", "q3__a.csv.report.json"]
    assert all_files(archive.root) == [f"quarantine/{DAY.as_posix()}/q3__a.csv"]


# --- read and display -----------------------------------------------------------------------------

def test_read_accepts_relative_paths_and_checks_the_hash(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive")
    path = archive.store(b"data", report_id="r12", name="a.csv", received_at=RECEIVED)
    relative = path.relative_to(archive.root)
    assert archive.read(relative) == b"data"
    assert archive.read(str(path), sha256=sha(b"data").upper()) == b"data"
    with pytest.raises(UsageError, match="changed since"):
        archive.read(path, sha256=sha(b"other"))


def test_read_refuses_paths_outside_the_archive(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive")
    archive.store(b"data", report_id="r13", name="a.csv", received_at=RECEIVED)
    (tmp_path / "secret").write_bytes(b"secret")
    for outside in (tmp_path / "secret", Path("../secret"), Path("2026/../../secret")):
        with pytest.raises(UsageError, match="not inside the archive"):
            archive.read(outside)
    with pytest.raises(UsageError, match="missing"):
        archive.read("2026/11/27/nothing.csv")


def test_path_for_display_is_relative_to_the_base_folder(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive")
    path = archive.store(b"x", report_id="r14", name="a.csv", received_at=RECEIVED)
    assert archive.path_for_display(path) == "archive/2026/11/27/r14__a.csv"
    assert archive.path_for(report_id="r14", name="a.csv", received_at=RECEIVED) == path
    assert archive.ledger_path == archive.root / "ledger.sqlite3"


def test_staging_areas_of_dead_processes_are_swept_and_live_ones_kept(tmp_path: Path) -> None:
    """A process killed while it archived leaves its staging area; the next one to stage removes it
    (its lock is free) but never touches the area of a process that still runs (its lock is held)."""
    import fcntl

    staging = tmp_path / ".staging"
    staging.mkdir()
    for token in ("dead", "alive"):
        (staging / token).mkdir()
        (staging / token / "original.x.tmp").write_bytes(b"half an original")
        (staging / f"{token}.lock").touch()
    held = os.open(staging / "alive.lock", os.O_RDWR)
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        archive = Archive(tmp_path)
        staged = archive.stage(b"new original")
        staged.discard()
        assert not (staging / "dead").exists() and not (staging / "dead.lock").exists()
        assert (staging / "alive" / "original.x.tmp").read_bytes() == b"half an original"
        archive.close()
        assert sorted(p.name for p in staging.iterdir()) == ["alive", "alive.lock"]  # its own area gone too
    finally:
        os.close(held)
