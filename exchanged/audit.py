"""The audit ledger: one SQLite row per input file, so "what happened to file X?" has an answer.

The ledger lives at ``<base>/archive/ledger.sqlite3`` (``Archive.ledger_path``).
Each row holds the searchable columns of a :class:`~exchanged.report.FileReport` plus the whole
report as canonical JSON, so a report reads back exactly as it was recorded.

Rows are never updated. Each row commits to the one before it: ``row_hash = sha256(prev_hash +
report_json)``, with ``prev_hash`` of the first row 64 zeros. ``report_json`` carries the input's
sha256 and the archived original's path, so the chain pins both the history and the archive
(:meth:`Ledger.verify_chain`; :func:`exchanged.verify.verify` re-hashes the archive too). ``seq``
numbers rows in recording order, which is the chain's order. The other columns are copies of fields
of ``report_json`` kept for searching; they are not hashed themselves but are a pure function of it
(:func:`row_columns`), so a verifier recomputes them and catches an edited column without a second
hash (and old ledgers stay verifiable with no re-hashing migration).

What retention did to an old original (compressed it, deleted it) goes to the ``retention`` table,
one row per report id, outside the chain: retention must not rewrite history, and a chained row for
it would make the chain depend on when retention happened to run. Its rows may be replaced
(compress first, delete years later).

Two processes (the daemon and a ``process`` or ``replay`` from cron) may write the same file: WAL
mode, a busy timeout, and ``BEGIN IMMEDIATE`` around "read the last hash, insert the next row" keep
the chain linear. Schema changes go through ``PRAGMA user_version`` (:data:`MIGRATIONS`).

Timestamps are stored as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC, fixed width), so comparing the
strings compares the instants: ``...00Z`` and ``...00.5Z`` as written in reports would not.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path

from exchanged.errors import ExchangedError, OutputUnavailable, UsageError
from exchanged.ledger_filters import file_matches, statuses_of
from exchanged.ledger_rows import (
    COLUMNS,
    LedgerRow,
    RetentionRecord,
    canonical_json,
    chain_hash,
    ledger_row,
    row_columns,
    utc_timestamp,
)
from exchanged.report import FileReport, Status

GENESIS_HASH = "0" * 64
PUBLISHED_STATUSES = (Status.ACCEPTED.value, Status.PARTIAL.value, Status.STALE.value)
BUSY_TIMEOUT_S = 30.0

# MIGRATIONS[n] takes a ledger from user_version n to n + 1; SCHEMA_VERSION is their count.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE reports (
            id               TEXT PRIMARY KEY,
            seq              INTEGER NOT NULL UNIQUE,  -- recording order, the hash chain's order
            file             TEXT NOT NULL,
            sha256           TEXT NOT NULL,
            size             INTEGER NOT NULL,
            status           TEXT NOT NULL,
            format           TEXT,
            mapping          TEXT,
            entity           TEXT,
            records          INTEGER NOT NULL,
            rejected_records INTEGER NOT NULL,
            issue_count      INTEGER NOT NULL,  -- listed issues + issues_truncated
            archive_path     TEXT,
            received_at      TEXT NOT NULL,     -- normalised, see module docstring
            finished_at      TEXT,
            duration_ms      INTEGER,
            report_json      TEXT NOT NULL,     -- canonical JSON of the FileReport
            prev_hash        TEXT NOT NULL,
            row_hash         TEXT NOT NULL
        )""",
        "CREATE INDEX reports_sha256 ON reports (sha256)",
        "CREATE INDEX reports_received_at ON reports (received_at)",
        "CREATE INDEX reports_status ON reports (status)",
    ),
    (
        # Not a foreign key: the chained rows are never touched, and verify reports a retention row
        # whose report is gone (a removed row) instead of SQLite refusing or cascading.
        """CREATE TABLE retention (
            report_id TEXT PRIMARY KEY,              -- reports.id
            action    TEXT NOT NULL CHECK (action IN ('compress', 'delete')),
            path      TEXT,                          -- compress: the .gz, relative to the archive root
            done_at   TEXT NOT NULL                  -- ledger timestamp form
        )""",
    ),
    (
        # EDIFACT interchanges applied (DESIGN §1: the same interchange is a duplicate even in
        # another layout). Outside the chain, like retention: the report's JSON is the record.
        """CREATE TABLE interchanges (
            key       TEXT PRIMARY KEY,              -- UNB S002 0004:0007 + 0020
            report_id TEXT NOT NULL                  -- reports.id of the input that applied it
        )""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
RETENTION_ACTIONS = ("compress", "delete")
_ROW_BATCH = 500

# SQLite primary result codes that mean "the machine, not the data": retry later.
# https://www.sqlite.org/rescode.html — PERM, BUSY, LOCKED, NOMEM, READONLY, IOERR, FULL, CANTOPEN,
# PROTOCOL.
_TRANSIENT_SQLITE_CODES = frozenset({3, 5, 6, 7, 8, 10, 13, 14, 15})


class DuplicateReportId(ExchangedError):
    """A report with this id is already in the ledger: ids are unique, rows are never replaced."""


class Ledger:
    """SQLite ledger at ``<base>/archive/ledger.sqlite3``: one row per input file.

    Safe to share between threads (one lock around the connection) and between processes (SQLite
    locking). Use as a context manager or call :meth:`close`.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        with self._errors():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        try:
            with self._errors():
                self._conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
                self._conn.create_function("file_matches", 2, file_matches, deterministic=True)
            self._prepare()
        except BaseException:
            self._conn.close()
            self._conn = None
            raise

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self._lock, self._errors():
            return self._db.execute("PRAGMA user_version").fetchone()[0]

    # -- writing ---------------------------------------------------------------------------------

    def record(self, report: FileReport) -> None:
        """Append ``report``; raises :class:`DuplicateReportId` if its id is already recorded."""
        self.record_all([report])

    def record_all(self, reports: list[FileReport], interchanges: dict[str, list[str]] | None = None) -> None:
        """Append ``reports`` in order, in one transaction (one sync to disk for a whole batch: the
        daemon commits bursts of small files together); all or none are recorded. ``interchanges``:
        report id -> the EDIFACT interchange keys that input applied."""
        with self._transaction() as db:
            for report_id, keys in (interchanges or {}).items():
                db.executemany("INSERT OR IGNORE INTO interchanges (key, report_id) VALUES (?, ?)",
                               [(key, report_id) for key in keys])
            last = db.execute(
                "SELECT seq, row_hash FROM reports ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            seq, prev_hash = (last[0], last[1]) if last else (0, GENESIS_HASH)
            for report in reports:
                report_json = canonical_json(report)
                seq += 1
                row = {
                    **row_columns(report), "seq": seq, "report_json": report_json, "prev_hash": prev_hash,
                    "row_hash": chain_hash(prev_hash, report_json),
                }
                prev_hash = row["row_hash"]
                try:
                    db.execute(f"INSERT INTO reports ({', '.join(row)})"
                               f" VALUES ({', '.join(':' + name for name in row)})", row)
                except sqlite3.IntegrityError:
                    if db.execute("SELECT 1 FROM reports WHERE id = ?", (report.id,)).fetchone():
                        raise DuplicateReportId(f"report {report.id} is already recorded") from None
                    raise

    def record_retention(self, record: RetentionRecord) -> None:
        """Say what retention did to a report's original; replaces an earlier record for it."""
        if record.action not in RETENTION_ACTIONS:
            raise ValueError(f"unknown retention action {record.action!r}")
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO retention (report_id, action, path, done_at)"
                       " VALUES (?, ?, ?, ?)",
                       (record.report_id, record.action, record.path, utc_timestamp(record.done_at)))

    # -- reading ---------------------------------------------------------------------------------

    def retention(self, report_id: str) -> RetentionRecord | None:
        """What retention did to this report's original (exact id), or None."""
        with self._lock, self._errors():
            row = self._db.execute("SELECT report_id, action, path, done_at FROM retention"
                                   " WHERE report_id = ?", (report_id,)).fetchone()
        return RetentionRecord(*row) if row else None

    def orphan_retentions(self) -> list[RetentionRecord]:
        """Retention records whose report row is gone (by id): a removed row leaves this trace."""
        with self._lock, self._errors():
            rows = self._db.execute(
                "SELECT report_id, action, path, done_at FROM retention"
                " WHERE report_id NOT IN (SELECT id FROM reports) ORDER BY report_id"
            ).fetchall()
        return [RetentionRecord(*row) for row in rows]

    def rows(self, *, received_before: datetime | date | str | None = None) -> Iterator[LedgerRow]:
        """Every row as stored, in ``seq`` (chain) order, with its retention record.

        Read in batches, the lock released between them: a long verify or retention run does not
        hold up ``record`` on the same connection, and rows recorded meanwhile are still reached
        (they only ever append). ``received_before``: only rows received strictly before it.
        """
        where, params = "r.seq > ?", []
        if received_before is not None:
            where += " AND r.received_at < ?"
            params.append(utc_timestamp(received_before))
        sql = (f"SELECT r.seq, r.report_json, r.prev_hash, r.row_hash, {', '.join('r.' + c for c in COLUMNS)},"
               " t.report_id, t.action, t.path, t.done_at"
               f" FROM reports r LEFT JOIN retention t ON t.report_id = r.id WHERE {where}"
               f" ORDER BY r.seq LIMIT {_ROW_BATCH}")
        after: int | None = None
        while True:
            with self._lock, self._errors():
                # The first batch starts below any seq (seq may have been edited to 0 or less).
                start = after if after is not None else -(1 << 63)
                batch = self._db.execute(sql, [start, *params]).fetchall()
            for row in batch:
                yield ledger_row(row)
            if len(batch) < _ROW_BATCH:
                return
            after = batch[-1][0]

    def row(self, report_id: str) -> LedgerRow | None:
        """The stored row with exactly this id (no prefix matching), or None."""
        with self._lock, self._errors():
            row = self._db.execute(
                f"SELECT r.seq, r.report_json, r.prev_hash, r.row_hash, {', '.join('r.' + c for c in COLUMNS)},"
                " t.report_id, t.action, t.path, t.done_at"
                " FROM reports r LEFT JOIN retention t ON t.report_id = r.id WHERE r.id = ?",
                (report_id,),
            ).fetchone()
        return ledger_row(row) if row else None

    def row_with_hash(self, row_hash: str) -> tuple[int, str] | None:
        """``(seq, id)`` of the row whose ``row_hash`` this is: what a broken link points at.

        A full scan (no index on row_hash: only a verifier asks, and only for broken links).
        """
        with self._lock, self._errors():
            row = self._db.execute("SELECT seq, id FROM reports WHERE row_hash = ? LIMIT 1",
                                   (row_hash,)).fetchone()
        return (row[0], row[1]) if row else None

    def get(self, report_id: str) -> FileReport | None:
        """The report with this id, or with this unique id prefix (like git); None if none."""
        if not report_id:
            raise UsageError("empty report id")
        with self._lock, self._errors():
            row = self._db.execute(
                "SELECT report_json FROM reports WHERE id = ?", (report_id,)
            ).fetchone()
            if row is None:
                # A range scan on the primary key: every id starting with the prefix sorts between
                # the prefix and the prefix followed by the highest code point.
                rows = self._db.execute(
                    "SELECT id, report_json FROM reports WHERE id >= ? AND id < ?"
                    " ORDER BY id LIMIT 6",
                    (report_id, report_id + "\U0010ffff"),
                ).fetchall()
                rows = [r for r in rows if r[0].startswith(report_id)]
                if len(rows) > 1:
                    shown = ", ".join(r[0] for r in rows[:5]) + (", …" if len(rows) > 5 else "")
                    raise UsageError(f"report id prefix {report_id!r} is ambiguous: {shown}")
                row = (rows[0][1],) if rows else None
        return FileReport.model_validate_json(row[0]) if row else None

    def find_published(self, sha256: str) -> FileReport | None:
        """The earliest report whose content (this sha256) was applied: accepted, partial or stale.

        Rejected files do not count (once the mapping is fixed, the same file may come in again),
        nor do duplicates (they point at an earlier one, which this returns).
        """
        marks = ", ".join("?" * len(PUBLISHED_STATUSES))
        with self._lock, self._errors():
            row = self._db.execute(
                f"SELECT report_json FROM reports WHERE sha256 = ? AND status IN ({marks})"
                " ORDER BY received_at, seq LIMIT 1",
                (sha256.lower(), *PUBLISHED_STATUSES),
            ).fetchone()
        return FileReport.model_validate_json(row[0]) if row else None

    def get_all(self, report_ids: Sequence[str]) -> dict[str, FileReport]:
        """The reports recorded under exactly these ids (no prefixes), by id: a batch asks once."""
        rows = self._rows_in("SELECT id, report_json FROM reports WHERE id IN ({})", list(dict.fromkeys(report_ids)))
        return {row[0]: FileReport.model_validate_json(row[1]) for row in rows}

    def recorded(self, report_ids: Sequence[str]) -> set[str]:
        """Which of ``report_ids`` have their row (no report parsed: a publish asks before each batch)."""
        return {row[0] for row in self._rows_in("SELECT id, id FROM reports WHERE id IN ({})",
                                                list(dict.fromkeys(report_ids)))}

    def find_published_all(self, sha256s: Sequence[str]) -> dict[str, FileReport]:
        """``find_published`` of each of ``sha256s`` applied before, by (lower-case) sha256."""
        marks = ", ".join("?" * len(PUBLISHED_STATUSES))
        rows = self._rows_in(f"SELECT sha256, report_json FROM reports WHERE sha256 IN ({{}}) AND status IN ({marks})"
                             " ORDER BY received_at, seq", list(dict.fromkeys(s.lower() for s in sha256s)), PUBLISHED_STATUSES)
        # Reversed: the earliest row of each hash (chunks hold distinct hashes) is the one kept.
        return {sha: FileReport.model_validate_json(report_json) for sha, report_json in reversed(rows)}

    def _rows_in(self, sql: str, values: list[str], extra: Sequence[str] = ()) -> list[tuple[str, str]]:
        """``sql`` with ``{}`` as the placeholders of ``values``, run per ``_ROW_BATCH`` of them."""
        rows: list[tuple[str, str]] = []
        with self._lock, self._errors():
            for start in range(0, len(values), _ROW_BATCH):
                chunk = values[start:start + _ROW_BATCH]
                rows += self._db.execute(sql.format(", ".join("?" * len(chunk))), (*chunk, *extra)).fetchall()
        return rows

    def find_interchange(self, keys: list[str]) -> tuple[str, FileReport] | None:
        """The first of ``keys`` (EDIFACT interchanges) an earlier input applied, with its report."""
        with self._lock, self._errors():
            for key in keys:
                row = self._db.execute(
                    "SELECT r.report_json FROM interchanges i JOIN reports r ON r.id = i.report_id WHERE i.key = ?",
                    (key,)).fetchone()
                if row:
                    return key, FileReport.model_validate_json(row[0])
        return None

    def query(
        self,
        *,
        since: datetime | date | str | None = None,
        status: Sequence[str] | str | None = None,
        file: str | None = None,
        limit: int | None = None,
    ) -> list[FileReport]:
        """Reports matching every filter given, oldest received first, newest last.

        ``since``: received at or after (naive = UTC). ``status``: any of these statuses.
        ``file``: see :func:`file_matches`. ``limit``: only the newest ``limit`` of the matches.
        """
        where, params = [], []
        if since is not None:
            try:
                params.append(utc_timestamp(since))
            except ValueError:
                raise UsageError(f"not an ISO 8601 date or time: {since!r}") from None
            where.append("received_at >= ?")
        if status is not None:
            statuses = statuses_of([status] if isinstance(status, str) else status)
            where.append(f"status IN ({', '.join('?' * len(statuses))})")
            params.extend(statuses)
        if file is not None:
            where.append("file_matches(file, ?)")
            params.append(file)
        sql = "SELECT report_json, received_at, seq FROM reports"
        if where:
            sql += " WHERE " + " AND ".join(where)
        if limit is not None:
            if limit < 0:
                raise UsageError(f"limit must be 0 or more, not {limit}")
            sql = (f"SELECT * FROM ({sql} ORDER BY received_at DESC, seq DESC LIMIT {int(limit)})")
        sql += " ORDER BY received_at, seq"
        with self._lock, self._errors():
            rows = self._db.execute(sql, params).fetchall()
        return [FileReport.model_validate_json(row[0]) for row in rows]

    def verify_chain(self) -> str | None:
        """The id of the first row whose hash does not follow from the one before, or None."""
        prev_hash = GENESIS_HASH
        with self._lock, self._errors():
            rows = self._db.execute(
                "SELECT id, report_json, prev_hash, row_hash FROM reports ORDER BY seq"
            )
            for report_id, report_json, stored_prev, row_hash in rows:
                if stored_prev != prev_hash or row_hash != chain_hash(prev_hash, report_json):
                    return report_id
                prev_hash = row_hash
        return None

    # -- internals -------------------------------------------------------------------------------

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError(f"ledger {self.path} is closed")
        return self._conn

    def _prepare(self) -> None:
        """WAL mode and the schema. Switching to WAL takes an exclusive lock without SQLite's busy
        handler, so two processes opening a new ledger at the same instant can see "database is
        locked" at once: retry for up to BUSY_TIMEOUT_S before calling it a transient fault."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        pause = 0.01
        while True:
            try:
                with self._errors():
                    # WAL: readers never block the writer; FULL: a committed row survives power loss.
                    self._db.execute("PRAGMA journal_mode = WAL")
                    self._db.execute("PRAGMA synchronous = FULL")
                    self._migrate()
                return
            except OutputUnavailable:
                if time.monotonic() + pause > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 0.5)

    def _migrate(self) -> None:
        with self._transaction() as db:  # IMMEDIATE: two processes opening a new ledger at once
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise UsageError(f"ledger {self.path} has schema version {version}; this exchanged"
                                 f" knows up to {SCHEMA_VERSION}: upgrade exchanged")
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    db.execute(statement)
            if version != SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding SQLite's write lock from its start (BEGIN IMMEDIATE)."""
        with self._lock, self._errors():
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # SQLite may already have rolled back (disk full, I/O error)
                    db.execute("ROLLBACK")
                raise

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """Environment faults (locked past the timeout, disk full, unwritable) become transient."""
        try:
            yield
        except sqlite3.Error as exc:
            code = getattr(exc, "sqlite_errorcode", None)
            if code is not None and code & 0xFF in _TRANSIENT_SQLITE_CODES:
                raise OutputUnavailable(f"ledger {self.path}: {exc}") from exc
            raise
        except OSError as exc:
            raise OutputUnavailable(f"ledger {self.path}: {exc}") from exc


__all__ = [
    "COLUMNS", "GENESIS_HASH", "MIGRATIONS", "RETENTION_ACTIONS", "SCHEMA_VERSION",
    "DuplicateReportId", "Ledger", "LedgerRow", "RetentionRecord", "canonical_json", "chain_hash",
    "file_matches", "row_columns", "utc_timestamp",
]
