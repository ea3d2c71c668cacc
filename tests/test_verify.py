"""``verify`` names every altered or removed row and archived file, and nothing else."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from exchanged import retention
from exchanged.archive import Archive, report_path
from exchanged.audit import Ledger, RetentionRecord
from exchanged.report import FileReport, Issue, Status
from exchanged.verify import Finding, verify

RECEIVED = datetime(2026, 11, 27, 15, 41, tzinfo=UTC)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Store:
    """A real archive and ledger, filled the way ``lifecycle`` fills them."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "archive"
        self.archive = Archive(self.root)
        self.ledger = Ledger(self.archive.ledger_path)

    def add(self, report_id: str, data: bytes, *, status: str = "accepted",
            name: str = "ARTIKEL.csv", received_at: datetime = RECEIVED,
            archive_as: str | None = None) -> Path:
        rejected = status == "rejected"
        target = self.archive.path_for(report_id=report_id, name=name, received_at=received_at,
                                       quarantine=rejected)
        report = FileReport(
            id=report_id, file=f"inbox/{name}", sha256=sha(data), size=len(data),
            status=Status(status), format="csv", received_at=received_at.isoformat(),
            finished_at=received_at.isoformat(), duration_ms=3,
            archive=archive_as or target.relative_to(self.base).as_posix(),
            issues=[Issue(code="no-mapping", message="no mapping")] if rejected else [],
        )
        if rejected:
            self.archive.quarantine(data, report=report, name=name, received_at=received_at)
        else:
            self.archive.store(data, report_id=report_id, name=name, received_at=received_at)
        self.ledger.record(report)
        return target

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def sql(self, *statements: str) -> None:
        with contextlib.closing(sqlite3.connect(self.ledger.path)) as db:
            for statement in statements:
                db.execute(statement)
            db.commit()

    def close(self) -> None:
        self.ledger.close()


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path)
    yield s
    s.close()


@pytest.fixture
def filled(store: Store) -> dict[str, Path]:
    """Four inputs: accepted, rejected (quarantined with its report), partial, duplicate."""
    return {
        "a1": store.add("a1", b"sku;gtin\nA;1\n"),
        "q1": store.add("q1", b"garbage\x00\xff", status="rejected", name="odd.xml"),
        "p1": store.add("p1", b"sku;gtin\nB;2\n" * 100, status="partial",
                        received_at=datetime(2026, 11, 28, 1, tzinfo=UTC)),
        "d1": store.add("d1", b"sku;gtin\nA;1\n", status="duplicate"),
    }


def codes(findings: list[Finding]) -> list[tuple[str, str | None, str | None]]:
    return [(f.code, f.id, f.path) for f in findings]


# --- clean ----------------------------------------------------------------------------------------

def test_an_untouched_archive_verifies_clean(store: Store, filled: dict[str, Path]) -> None:
    (store.root / ".0123abcd.tmp").write_bytes(b"half")  # a temp file of a write in progress
    (store.root / "2026" / ".DS_Store").write_bytes(b"")
    result = verify(store.ledger, store.root)
    assert result.ok and result.findings == []
    assert (result.rows_checked, result.files_checked) == (4, 5)  # 4 originals + 1 quarantine report
    assert result.bytes_hashed == sum(p.stat().st_size for p in filled.values())
    assert result.to_json()["ok"] is True


def test_an_empty_ledger_and_a_missing_archive_verify_clean(tmp_path: Path) -> None:
    with Ledger(tmp_path / "elsewhere" / "ledger.sqlite3") as ledger:
        assert verify(ledger, tmp_path / "archive").ok


def test_a_report_without_an_archived_original_has_nothing_to_check(store: Store) -> None:
    store.ledger.record(FileReport(id="n1", file="x", sha256=sha(b""), size=0, status=Status.ACCEPTED,
                                   received_at="2026-11-27T00:00:00Z"))
    assert verify(store.ledger, store.root).ok


def test_an_archive_outside_the_base_folder_is_found_by_its_layout(store: Store) -> None:
    absolute = store.archive.path_for(report_id="x1", name="a.csv", received_at=RECEIVED)
    store.add("x1", b"data", name="a.csv", archive_as=str(absolute))
    store.add("x2", b"data2", name="b.csv", archive_as="D:\\erp\\arch\\2026\\11\\27\\x2__b.csv")
    assert verify(store.ledger, store.root).ok


# --- the ledger -----------------------------------------------------------------------------------

def test_an_edited_report_json_is_row_altered(store: Store, filled: dict[str, Path]) -> None:
    # Pretend it was rejected: its file then "belongs" in the quarantine, but one finding is enough.
    store.sql("UPDATE reports SET report_json = replace(report_json, 'partial', 'rejected')"
              " WHERE id = 'p1'")
    result = verify(store.ledger, store.root)
    assert codes(result.findings) == [("row-altered", "p1", None)]
    assert result.findings[0].seq == 3
    assert "hash does not match its content" in result.findings[0].message


def test_an_edited_column_is_row_altered(store: Store, filled: dict[str, Path]) -> None:
    # The columns are not hashed themselves; find_published reads sha256 and status from them.
    store.sql(f"UPDATE reports SET sha256 = '{sha(b'other')}', status = 'rejected' WHERE id = 'a1'")
    [finding] = verify(store.ledger, store.root).findings
    assert (finding.code, finding.id, finding.seq) == ("row-altered", "a1", 1)
    assert "sha256 is" in finding.message and "status is 'rejected'" in finding.message


def test_a_deleted_row_breaks_the_chain_and_leaves_its_file_unrecorded(
        store: Store, filled: dict[str, Path]) -> None:
    store.sql("DELETE FROM reports WHERE id = 'q1'")
    result = verify(store.ledger, store.root)
    assert codes(result.findings) == [
        ("chain-broken", "p1", None),
        ("archive-unrecorded", None, store.rel(filled["q1"])),
        ("archive-unrecorded", None, store.rel(report_path(filled["q1"]))),
    ]
    assert result.findings[0].seq == 3
    assert "seq 2 is missing" in result.findings[0].message


def test_a_deleted_first_row_is_named(store: Store, filled: dict[str, Path]) -> None:
    store.sql("DELETE FROM reports WHERE seq = 1")
    result = verify(store.ledger, store.root)
    assert codes(result.findings) == [("chain-broken", "q1", None),
                                      ("archive-unrecorded", None, store.rel(filled["a1"]))]
    assert "seq 1 is missing" in result.findings[0].message


def test_swapped_rows_are_named_as_reordered(store: Store, filled: dict[str, Path]) -> None:
    store.sql("UPDATE reports SET seq = -1 WHERE id = 'q1'",
              "UPDATE reports SET seq = 2 WHERE id = 'p1'",
              "UPDATE reports SET seq = 3 WHERE id = 'q1'")
    findings = verify(store.ledger, store.root).findings
    assert [(f.code, f.seq, f.id) for f in findings] == [
        ("chain-broken", 2, "p1"), ("chain-broken", 3, "q1"), ("chain-broken", 4, "d1")]
    assert "follows seq 3 (q1) in the chain, not seq 1 (a1): rows reordered" in findings[0].message
    assert "follows seq 1 (a1)" in findings[1].message


def test_renumbered_seq_is_named_even_when_the_hashes_link(store: Store, filled: dict[str, Path]) -> None:
    store.sql("UPDATE reports SET seq = 9 WHERE id = 'd1'")
    [finding] = verify(store.ledger, store.root).findings
    assert (finding.code, finding.id, finding.seq) == ("chain-broken", "d1", 9)
    assert "seq 4..8 are missing: seq was renumbered" in finding.message


def test_a_retention_record_without_its_row_names_the_removed_row(store: Store,
                                                                   filled: dict[str, Path]) -> None:
    # The newest row and its original, both gone: only the retention record remembers it.
    store.ledger.record_retention(RetentionRecord("d1", "delete", None, "2027-01-01T00:00:00Z"))
    filled["d1"].unlink()
    store.sql("DELETE FROM reports WHERE id = 'd1'")
    assert codes(verify(store.ledger, store.root).findings) == [("chain-broken", "d1", None)]


# --- the archive ----------------------------------------------------------------------------------

def test_one_changed_byte_is_archive_altered(store: Store, filled: dict[str, Path]) -> None:
    data = bytearray(filled["p1"].read_bytes())
    recorded = sha(bytes(data))
    data[700] ^= 1
    filled["p1"].write_bytes(bytes(data))
    [finding] = verify(store.ledger, store.root).findings
    assert (finding.code, finding.id, finding.seq, finding.path) == (
        "archive-altered", "p1", 3, "2026/11/28/p1__ARTIKEL.csv")
    assert finding.message == (f"p1: the archived content has sha256 {sha(bytes(data))},"
                               f" recorded {recorded}")


def test_a_deleted_archived_file_is_archive_missing(store: Store, filled: dict[str, Path]) -> None:
    filled["q1"].unlink()
    result = verify(store.ledger, store.root)
    assert codes(result.findings) == [
        ("archive-missing", "q1", "quarantine/2026/11/27/q1__odd.xml")]


def test_stray_files_are_archive_unrecorded(store: Store, filled: dict[str, Path]) -> None:
    day = filled["a1"].parent
    (day / "zz_stray.csv").write_bytes(b"?")
    (day / "a1__other.csv").write_bytes(b"?")             # an existing id, but not its file
    (day / "a1__ARTIKEL.csv.report.json").write_bytes(b"{}")  # reports only beside quarantined files
    (store.root / "notes.txt").write_bytes(b"?")
    (store.root / ".staging" / "0123").mkdir(parents=True)  # Archive.stage's area: a dot folder
    (store.root / ".staging" / "0123" / "original.x.tmp").write_bytes(b"?")
    found = codes(verify(store.ledger, store.root).findings)
    assert found == [
        ("archive-unrecorded", None, "notes.txt"),
        ("archive-unrecorded", None, "2026/11/27/a1__ARTIKEL.csv.report.json"),
        ("archive-unrecorded", None, "2026/11/27/a1__other.csv"),
        ("archive-unrecorded", None, "2026/11/27/zz_stray.csv"),
    ]


def test_a_deleted_quarantine_report_is_report_missing(store: Store, filled: dict[str, Path]) -> None:
    report_path(filled["q1"]).unlink()
    assert codes(verify(store.ledger, store.root).findings) == [
        ("report-missing", "q1", "quarantine/2026/11/27/q1__odd.xml.report.json")]


def test_an_edited_quarantine_report_is_report_altered(store: Store, filled: dict[str, Path]) -> None:
    beside = report_path(filled["q1"])
    beside.write_text(beside.read_text().replace("no mapping", "all fine"))
    assert codes(verify(store.ledger, store.root).findings) == [
        ("report-altered", "q1", "quarantine/2026/11/27/q1__odd.xml.report.json")]
    beside.write_text("not json")
    assert codes(verify(store.ledger, store.root).findings) == [
        ("report-altered", "q1", "quarantine/2026/11/27/q1__odd.xml.report.json")]


def test_a_compressed_original_is_checked_through_decompression(store: Store,
                                                               filled: dict[str, Path]) -> None:
    original = filled["a1"]
    gz = original.with_name(original.name + ".gz")
    gz.write_bytes(gzip.compress(original.read_bytes()))
    original.unlink()
    assert verify(store.ledger, store.root).ok  # a .gz beside (or instead of) its original is named
    gz.write_bytes(gzip.compress(b"other content"))
    assert codes(verify(store.ledger, store.root).findings) == [("archive-altered", "a1", store.rel(gz))]
    gz.write_bytes(gzip.compress(original.name.encode())[:-6])  # truncated: no CRC, no length
    [finding] = verify(store.ledger, store.root).findings
    assert (finding.code, finding.path) == ("archive-altered", store.rel(gz))
    assert "not a readable gzip file" in finding.message


def test_a_recorded_compression_whose_gz_is_gone_is_archive_missing(store: Store,
                                                                    filled: dict[str, Path]) -> None:
    store.ledger.record_retention(RetentionRecord("a1", "compress", "2026/11/27/a1__ARTIKEL.csv.gz",
                                                  "2027-01-01T00:00:00Z"))
    assert codes(verify(store.ledger, store.root).findings) == [
        ("archive-missing", "a1", "2026/11/27/a1__ARTIKEL.csv.gz")]


def test_a_recorded_deletion_is_not_missing(store: Store, filled: dict[str, Path]) -> None:
    store.ledger.record_retention(RetentionRecord("q1", "delete", None, "2027-01-01T00:00:00Z"))
    assert verify(store.ledger, store.root).ok  # deleted on record but still there: a crash before unlink
    filled["q1"].unlink()
    assert verify(store.ledger, store.root).ok


def test_findings_come_in_a_fixed_order(store: Store, filled: dict[str, Path]) -> None:
    (filled["a1"].parent / "stray").write_bytes(b"?")
    filled["d1"].write_bytes(b"changed")
    report_path(filled["q1"]).unlink()
    filled["a1"].unlink()
    store.sql("UPDATE reports SET file = 'x' WHERE id = 'p1'")
    first = verify(store.ledger, store.root).findings
    assert [(f.code, f.id) for f in first] == [
        ("archive-missing", "a1"), ("report-missing", "q1"), ("row-altered", "p1"),
        ("archive-altered", "d1"), ("archive-unrecorded", None)]
    assert verify(store.ledger, store.root).findings == first
    assert all(set(f.to_json()) >= {"code", "message"} for f in first)


# --- streaming ------------------------------------------------------------------------------------

def test_files_are_hashed_in_one_mib_chunks(store: Store, tmp_path: Path) -> None:
    big = os.urandom(3 * retention.CHUNK + 5)
    path = store.add("big", big, name="big.bin")
    assert [len(c) for c in retention.read_chunks(path)] == [retention.CHUNK] * 3 + [5]
    gz = tmp_path / "big.gz"
    gz.write_bytes(gzip.compress(big, compresslevel=1))
    assert max(len(c) for c in retention.read_chunks(gz, compressed=True)) <= retention.CHUNK
    result = verify(store.ledger, store.root)
    assert result.ok and result.bytes_hashed == len(big)


# --- beside a running daemon and retention --------------------------------------------------------

def test_a_deletion_recorded_while_verify_runs_is_not_missing(store: Store, filled: dict[str, Path],
                                                              monkeypatch) -> None:
    real_rows = Ledger.rows

    def retention_runs_meanwhile(self, **kwargs):
        for row in real_rows(self, **kwargs):
            if row.id == "a1":  # read without a retention record; retention deletes it right after
                self.record_retention(RetentionRecord("a1", "delete", None, "2027-01-01T00:00:00Z"))
                filled["a1"].unlink()
            yield row

    monkeypatch.setattr(Ledger, "rows", retention_runs_meanwhile)
    assert verify(store.ledger, store.root).ok


def test_an_archive_path_outside_the_layout_is_archive_missing(store: Store) -> None:
    store.ledger.record(FileReport(id="w1", file="x", sha256=sha(b""), size=0, status=Status.ACCEPTED,
                                   received_at="2026-11-27T00:00:00Z", archive="somewhere/else.csv"))
    [finding] = verify(store.ledger, store.root).findings
    assert (finding.code, finding.id, finding.path) == ("archive-missing", "w1", None)
    assert "'somewhere/else.csv' is not in the archive's layout" in finding.message
