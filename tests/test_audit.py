"""The ledger answers "what happened to file X?": one row per input, never lost, never replaced."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from exchanged import audit
from exchanged.audit import (
    GENESIS_HASH, MIGRATIONS, SCHEMA_VERSION, DuplicateReportId, Ledger, RetentionRecord,
    canonical_json, chain_hash, file_matches, row_columns, utc_timestamp,
)
from exchanged.errors import OutputUnavailable, UsageError
from exchanged.report import FileReport, Issue, Location, Status

REPO = Path(__file__).resolve().parents[1]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make(report_id: str, status: str = "accepted", *, content: str | None = None,
         file: str = "inbox/ARTIKEL_20261127.csv", received_at: str = "2026-11-27T15:41:00Z",
         **extra) -> FileReport:
    return FileReport(id=report_id, file=file, sha256=sha(content or report_id), size=10,
                      status=Status(status), received_at=received_at, **extra)


@pytest.fixture
def ledger(tmp_path: Path):
    with Ledger(tmp_path / "archive" / "ledger.sqlite3") as opened:
        yield opened


def raw(path: Path) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(path))


def ids(reports: list[FileReport]) -> list[str]:
    return [r.id for r in reports]


# --- record and get -------------------------------------------------------------------------------

def test_a_recorded_report_reads_back_unchanged(ledger: Ledger) -> None:
    report = make(
        "01JD3QX", "partial", format="csv", mapping="generic-product", entity="product",
        entities={"product": 998, "price": 998}, records=998, rejected_records=2,
        issues=[Issue(code="invalid-gtin", message="check digit should be 1",
                      location=Location(row=17, field="gtin"), value="4006381333932")],
        issues_truncated=5, outputs=["outbox/shop/product.parquet"],
        archive="archive/2026/11/27/01JD3QX__ARTIKEL_20261127.csv",
        received_at="2026-11-27T15:41:00.123456Z", finished_at="2026-11-27T15:41:00.164Z",
        duration_ms=41,
    )
    ledger.record(report)
    assert ledger.get("01JD3QX") == report


def test_columns_hold_the_searchable_fields(ledger: Ledger) -> None:
    ledger.record(make("r1", "rejected", format="xml", mapping="bmecat", entity="product",
                       records=0, rejected_records=0, archive="archive/quarantine/x",
                       issues=[Issue(code="no-mapping", message="m")], issues_truncated=2,
                       received_at="2026-11-27T16:41:00+01:00", finished_at="2026-11-27T15:41:01Z",
                       duration_ms=1000))
    with raw(ledger.path) as db:
        db.row_factory = sqlite3.Row
        row = dict(db.execute("SELECT * FROM reports").fetchone())
        indexes = {r[1] for r in db.execute("PRAGMA index_list(reports)")}
    assert {k: v for k, v in row.items() if k not in ("report_json", "prev_hash", "row_hash")} == {
        "id": "r1", "seq": 1, "file": "inbox/ARTIKEL_20261127.csv", "sha256": sha("r1"),
        "size": 10, "status": "rejected", "format": "xml", "mapping": "bmecat",
        "entity": "product", "records": 0, "rejected_records": 0, "issue_count": 3,
        "archive_path": "archive/quarantine/x", "received_at": "2026-11-27T15:41:00.000000Z",
        "finished_at": "2026-11-27T15:41:01.000000Z", "duration_ms": 1000,
    }
    assert {"reports_sha256", "reports_received_at", "reports_status"} <= indexes


def test_ids_are_unique_and_rows_are_never_replaced(ledger: Ledger) -> None:
    ledger.record(make("r1", "accepted"))
    with pytest.raises(DuplicateReportId, match="r1"):
        ledger.record(make("r1", "rejected"))
    assert ledger.get("r1").status is Status.ACCEPTED
    assert ids(ledger.query()) == ["r1"]
    ledger.record(make("r2"))  # the failed insert left no transaction open
    assert ids(ledger.query()) == ["r1", "r2"]


def test_a_batch_is_recorded_in_order_in_one_chain_or_not_at_all(ledger: Ledger) -> None:
    ledger.record(make("r1"))
    ledger.record_all([make("r2"), make("r3"), make("r4")])
    assert ids(ledger.query()) == ["r1", "r2", "r3", "r4"]
    assert ledger.verify_chain() is None
    with pytest.raises(DuplicateReportId, match="r3"):
        ledger.record_all([make("r5"), make("r3")])  # one bad row: the batch is rolled back whole
    assert ids(ledger.query()) == ["r1", "r2", "r3", "r4"]
    ledger.record_all([make("r5")])
    assert ledger.verify_chain() is None


def test_get_accepts_a_unique_prefix(ledger: Ledger) -> None:
    for report_id in ("a1b2c3", "a1b2ff", "abc", "abcd", "b000"):
        ledger.record(make(report_id))
    assert ledger.get("a1b2c").id == "a1b2c3"
    assert ledger.get("b").id == "b000"
    assert ledger.get("abc").id == "abc"  # an exact id wins over being a prefix of "abcd"
    assert ledger.get("abcd").id == "abcd"
    assert ledger.get("zz") is None
    assert ledger.get("a1b2c3x") is None
    with pytest.raises(UsageError, match=r"'a1b2' is ambiguous: a1b2c3, a1b2ff"):
        ledger.get("a1b2")
    with pytest.raises(UsageError, match="ambiguous"):
        ledger.get("a")
    with pytest.raises(UsageError, match="empty"):
        ledger.get("")


def test_recorded_names_the_ids_that_have_a_row_exactly(ledger: Ledger) -> None:
    for report_id in ("a1b2c3", "b000"):
        ledger.record(make(report_id, "rejected" if report_id == "b000" else "accepted"))
    assert ledger.recorded(["a1b2c3", "a1b2", "b000", "zz", "b000"]) == {"a1b2c3", "b000"}  # no prefixes
    assert ledger.recorded([]) == set()


# --- find_published -------------------------------------------------------------------------------

def test_find_published_returns_the_earliest_applied_content(ledger: Ledger) -> None:
    ledger.record(make("rej", "rejected", content="X", received_at="2026-11-27T08:00:00Z"))
    ledger.record(make("late", "accepted", content="X", received_at="2026-11-27T12:00:00Z"))
    ledger.record(make("early", "partial", content="X", received_at="2026-11-27T10:00:00Z"))
    ledger.record(make("dup", "duplicate", content="X", received_at="2026-11-27T09:00:00Z"))
    ledger.record(make("other", "accepted", content="Y", received_at="2026-11-27T07:00:00Z"))
    assert ledger.find_published(sha("X")).id == "early"
    assert ledger.find_published(sha("X").upper()).id == "early"
    assert ledger.find_published(sha("nothing")) is None


@pytest.mark.parametrize(("status", "counts"), [("accepted", True), ("partial", True),
                                                ("stale", True), ("rejected", False),
                                                ("duplicate", False)])
def test_which_statuses_count_as_published(ledger: Ledger, status: str, counts: bool) -> None:
    ledger.record(make("only", status, content="Z"))
    assert (ledger.find_published(sha("Z")) is not None) is counts


# --- query ----------------------------------------------------------------------------------------

@pytest.fixture
def history(ledger: Ledger) -> Ledger:
    for report in [
        # recorded out of order on purpose: results follow received_at, not recording order
        make("c", "rejected", file="inbox/erp/PREISE_2026.xml", received_at="2026-11-27T10:00:00Z"),
        make("a", "accepted", file="inbox/ARTIKEL_20261125.csv",
             received_at="2026-11-25T09:00:00Z"),
        make("b", "partial", file="inbox/ARTIKEL_20261126.csv", received_at="2026-11-26T09:00:00Z"),
        # 10:00:00.5Z sorts after 10:00:00Z although "." < "Z" in the raw strings
        make("d", "accepted", file="inbox/shop/orders/order-4711.json",
             received_at="2026-11-27T10:00:00.5Z"),
        make("e", "duplicate", file="inbox/ARTIKEL_20261126.csv",
             received_at="2026-11-27T12:30:00+02:00"),  # 10:30Z
        make("f", "stale", file="C:\\erp\\out\\BESTAND.CSV", received_at="2026-11-28T00:00:00Z"),
    ]:
        ledger.record(report)
    return ledger


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["a", "b", "c", "d", "e", "f"]),
        ({"since": datetime(2026, 11, 27, tzinfo=UTC)}, ["c", "d", "e", "f"]),
        ({"since": datetime(2026, 11, 27, 10, 0, 0, 500000)}, ["d", "e", "f"]),  # naive = UTC
        ({"since": datetime(2026, 11, 27, 12, 15, tzinfo=timezone(timedelta(hours=2)))},
         ["e", "f"]),
        ({"since": "2026-11-27T10:30:00Z"}, ["e", "f"]),
        ({"status": ["rejected"]}, ["c"]),
        ({"status": "accepted"}, ["a", "d"]),
        ({"status": ["accepted", Status.STALE]}, ["a", "d", "f"]),
        ({"file": "ARTIKEL_*.csv"}, ["a", "b", "e"]),  # glob on the file name
        ({"file": "artikel_2026112?.csv"}, ["a", "b", "e"]),  # case-insensitive
        ({"file": "inbox/erp/*"}, ["c"]),  # glob on the whole path
        ({"file": "orders"}, ["d"]),  # substring
        ({"file": "bestand.csv"}, ["f"]),  # file name after a Windows path
        ({"file": "*.json"}, ["d"]),
        ({"file": "nothing*"}, []),
        ({"status": ["accepted", "duplicate"], "file": "ARTIKEL", "since": "2026-11-26"}, ["e"]),
        ({"limit": 2}, ["e", "f"]),  # the newest two, still newest last
        ({"limit": 0}, []),
        ({"limit": 10}, ["a", "b", "c", "d", "e", "f"]),
        ({"status": ["accepted", "partial"], "limit": 2}, ["b", "d"]),
    ],
)
def test_query_golden(history: Ledger, filters: dict, expected: list[str]) -> None:
    assert ids(history.query(**filters)) == expected


def test_query_refuses_bad_filters(history: Ledger) -> None:
    with pytest.raises(UsageError, match="unknown status 'acepted'; expected one of accepted"):
        history.query(status=["acepted"])
    with pytest.raises(UsageError, match="limit"):
        history.query(limit=-1)
    with pytest.raises(UsageError, match="not an ISO 8601 date or time: 'yesterday'"):
        history.query(since="yesterday")


def test_file_matches() -> None:
    assert file_matches("inbox/ARTIKEL_1.csv", "artikel_?.CSV")
    assert file_matches("inbox/a[1].csv", "a[1]")  # substring: brackets need no escaping
    assert not file_matches("inbox/ARTIKEL_1.csv", "PREISE*")


def test_utc_timestamp_orders_as_text() -> None:
    stamps = ["2026-11-27T10:00:00Z", "2026-11-27T10:00:00.5Z", "2026-11-27T11:00:00.000001+01:00"]
    assert [utc_timestamp(s) for s in stamps] == [
        "2026-11-27T10:00:00.000000Z", "2026-11-27T10:00:00.500000Z", "2026-11-27T10:00:00.000001Z"]
    assert utc_timestamp(datetime(2026, 1, 2)) == "2026-01-02T00:00:00.000000Z"


# --- durability, schema and the hash chain --------------------------------------------------------

def test_reopen_persists_and_sets_the_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "archive" / "ledger.sqlite3"
    with Ledger(path) as ledger:
        ledger.record(make("r1"))
    with Ledger(path) as again:
        assert again.get("r1") == make("r1")
        assert again.schema_version == SCHEMA_VERSION == 3
    with raw(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_ledger_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    with raw(path) as db:
        db.execute("PRAGMA user_version = 99")
        db.commit()
    with pytest.raises(UsageError, match="schema version 99"):
        Ledger(path)


def test_a_closed_ledger_says_so(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    ledger.close()
    ledger.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        ledger.get("x")


def test_each_row_commits_to_the_previous_one(ledger: Ledger) -> None:
    reports = [make("r1"), make("r2", "rejected"), make("r3")]
    for report in reports:
        ledger.record(report)
    with raw(ledger.path) as db:
        rows = db.execute("SELECT id, prev_hash, row_hash, report_json FROM reports ORDER BY seq")
        rows = rows.fetchall()
    prev = GENESIS_HASH
    for (report_id, prev_hash, row_hash, report_json), report in zip(rows, reports, strict=True):
        assert (report_id, prev_hash, report_json) == (report.id, prev, canonical_json(report))
        assert row_hash == hashlib.sha256((prev + report_json).encode()).hexdigest()
        prev = row_hash
    assert ledger.verify_chain() is None


def test_verify_chain_finds_an_edited_row(ledger: Ledger) -> None:
    for report_id in ("r1", "r2", "r3"):
        ledger.record(make(report_id))
    with raw(ledger.path) as db:
        db.execute("UPDATE reports SET report_json = replace(report_json, 'accepted', 'rejected')"
                   " WHERE id = 'r2'")
        db.commit()
    assert ledger.verify_chain() == "r2"
    assert chain_hash(GENESIS_HASH, "{}") == hashlib.sha256(b"0" * 64 + b"{}").hexdigest()


def test_the_row_hash_commits_to_the_inputs_sha256_and_archive_path(ledger: Ledger) -> None:
    report = make("r1", archive="archive/2026/11/27/r1__a.csv")
    text = canonical_json(report)
    assert f'"sha256":"{sha("r1")}"' in text and '"archive":"archive/2026/11/27/r1__a.csv"' in text
    other_content = report.model_copy(update={"sha256": sha("other")})
    other_place = report.model_copy(update={"archive": "archive/2026/11/27/r1__b.csv"})
    hashes = {chain_hash(GENESIS_HASH, canonical_json(r)) for r in (report, other_content, other_place)}
    assert len(hashes) == 3


def test_columns_are_a_function_of_the_hashed_json(ledger: Ledger) -> None:
    report = make("r1", "partial", issues=[Issue(code="x", message="m")], issues_truncated=2,
                  received_at="2026-11-27T16:41:00+01:00", archive="archive/x")
    ledger.record(report)
    row = ledger.row("r1")
    assert row.columns == row_columns(row.report()) == row_columns(report)
    assert row.columns["issue_count"] == 3 and row.columns["received_at"].endswith("15:41:00.000000Z")


def test_a_version_1_ledger_is_migrated_and_still_verifies(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with raw(path) as db:  # a ledger as the first release wrote it
        for statement in MIGRATIONS[0]:
            db.execute(statement)
        prev = GENESIS_HASH
        for seq, report in enumerate([make("old1"), make("old2", "rejected")], start=1):
            text = canonical_json(report)
            row = {**row_columns(report), "seq": seq, "report_json": text, "prev_hash": prev,
                   "row_hash": chain_hash(prev, text)}
            db.execute(f"INSERT INTO reports ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                       list(row.values()))
            prev = row["row_hash"]
        db.execute("PRAGMA user_version = 1")
        db.commit()
    with Ledger(path) as ledger:
        assert ledger.schema_version == SCHEMA_VERSION
        assert ledger.verify_chain() is None
        ledger.record(make("new1"))
        assert ids(ledger.query()) == ["old1", "old2", "new1"] and ledger.verify_chain() is None
        ledger.record_retention(RetentionRecord("old1", "delete", None, "2027-01-01T00:00:00Z"))
        assert ledger.row("old1").retention == RetentionRecord(
            "old1", "delete", None, "2027-01-01T00:00:00.000000Z")


# --- rows and retention records ---------------------------------------------------------------------

def test_rows_come_in_chain_order_in_batches(ledger: Ledger, monkeypatch) -> None:
    monkeypatch.setattr(audit, "_ROW_BATCH", 2)
    for n in range(5):
        ledger.record(make(f"r{n}", received_at=f"2026-11-2{n}T00:00:00Z"))
    rows = list(ledger.rows())
    assert [(r.seq, r.id) for r in rows] == [(n + 1, f"r{n}") for n in range(5)]
    assert [r.prev_hash for r in rows[1:]] == [r.row_hash for r in rows[:-1]]
    assert [r.id for r in ledger.rows(received_before="2026-11-23")] == ["r0", "r1", "r2"]
    rows_seen = []
    for row in ledger.rows():  # a row recorded while iterating is reached too (rows only append)
        rows_seen.append(row.id)
        if row.id == "r0":
            ledger.record(make("late"))
    assert rows_seen == ["r0", "r1", "r2", "r3", "r4", "late"]


def test_row_is_exact_and_row_with_hash_finds_a_link(ledger: Ledger) -> None:
    ledger.record(make("abc"))
    ledger.record(make("abd"))
    assert ledger.row("ab") is None  # no prefix matching: verify looks up ids taken from names
    second = ledger.row("abd")
    assert ledger.row_with_hash(second.prev_hash) == (1, "abc")
    assert ledger.row_with_hash("f" * 64) is None


def test_retention_records_are_kept_beside_the_chain(ledger: Ledger) -> None:
    ledger.record(make("r1"))
    before = ledger.row("r1")
    assert before.retention is None and ledger.retention("r1") is None
    ledger.record_retention(RetentionRecord("r1", "compress", "2026/11/27/r1__a.csv.gz",
                                            "2027-01-01T00:00:00+01:00"))
    ledger.record_retention(RetentionRecord("r1", "delete", None, "2028-01-01T00:00:00Z"))
    assert ledger.retention("r1") == RetentionRecord("r1", "delete", None,
                                                     "2028-01-01T00:00:00.000000Z")
    after = ledger.row("r1")
    assert (after.report_json, after.row_hash) == (before.report_json, before.row_hash)
    assert ledger.verify_chain() is None
    with pytest.raises(ValueError, match="unknown retention action"):
        ledger.record_retention(RetentionRecord("r1", "shred", None, "2028-01-01T00:00:00Z"))
    assert ledger.orphan_retentions() == []
    ledger.record_retention(RetentionRecord("gone", "delete", None, "2028-01-01T00:00:00Z"))
    assert [r.report_id for r in ledger.orphan_retentions()] == ["gone"]


# --- concurrency ----------------------------------------------------------------------------------

def test_two_connections_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "archive" / "ledger.sqlite3"
    per_writer = 150
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(prefix: str) -> None:
        try:
            with Ledger(path) as ledger:  # each thread its own connection, as two processes would
                start.wait(timeout=60)
                for n in range(per_writer):
                    ledger.record(make(f"{prefix}{n:04d}", content=f"{prefix}{n}"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in ("x", "y")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert errors == []
    with Ledger(path) as ledger:
        assert len(ledger.query()) == 2 * per_writer
        assert ledger.verify_chain() is None  # one linear chain despite interleaving
    with raw(path) as db:
        seqs = db.execute("SELECT min(seq), max(seq), count(DISTINCT seq) FROM reports")
        assert seqs.fetchone() == (1, 2 * per_writer, 2 * per_writer)


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    script = (
        "import sys\n"
        "from exchanged.audit import Ledger\n"
        "from exchanged.report import FileReport\n"
        "with Ledger(sys.argv[1]) as ledger:\n"
        "    for n in range(100):\n"
        "        ledger.record(FileReport(id=f'p{n:03d}', file='f', sha256='0' * 64, size=1,\n"
        "                                 status='accepted', received_at='2026-11-27T00:00:00Z'))\n"
    )
    pythonpath = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath)}
    child = subprocess.Popen([sys.executable, "-c", script, str(path)], env=env)
    try:
        with Ledger(path) as ledger:
            for n in range(100):
                ledger.record(make(f"m{n:03d}"))
    finally:
        assert child.wait(timeout=60) == 0
    with Ledger(path) as ledger:
        assert len(ledger.query()) == 200
        assert ledger.verify_chain() is None


def test_a_ledger_locked_past_the_timeout_is_a_transient_fault(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(audit, "BUSY_TIMEOUT_S", 0.05)
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path) as ledger, raw(path) as other:
        other.isolation_level = None
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with pytest.raises(OutputUnavailable, match="locked"):
            ledger.record(make("r1"))
        other.execute("ROLLBACK")
        ledger.record(make("r1"))  # and the ledger works again once it is released
        assert ids(ledger.query()) == ["r1"]
