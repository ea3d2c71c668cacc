"""Retention: archived originals older than ``retention_days`` are compressed or deleted.

The ledger rows stay as they are (they are hash-chained); what retention did is recorded in the
ledger's ``retention`` table (:class:`~exchanged.audit.RetentionRecord`), so ``verify`` knows an
original is a ``.gz`` now, or gone on purpose, and ``read_original`` can still replay it.

Crash safety (DESIGN §5.1): every state a kill -9 can leave is one a re-run finishes and ``verify``
accepts. Compress: (1) the ``.gz`` is written as a dot temp file beside the original, fsynced and
renamed to ``<original>.gz``; (2) the ``compress`` record is committed; (3) the original is
removed. Delete: (1) the ``delete`` record is committed; (2) the original (and a ``.gz``) removed.
A re-run that finds a ``.gz`` beside the original checks the ``.gz`` against the recorded sha256
before it removes the original; a ``.gz`` that does not check is written again. Retention never
removes content that no longer matches its recorded sha256: that is evidence, left for ``verify``.
Quarantine reports (``.report.json``) are kept as they are: small, and what explains the file.

One retention run at a time (an advisory lock on ``<archive>/.retention.lock``); a second one
raises ``OutputUnavailable`` (transient: try again later) instead of waiting.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from exchanged.atomic import StagedFile, fsync_directory
from exchanged.audit import RETENTION_ACTIONS, Ledger, RetentionRecord, utc_timestamp
from exchanged.errors import OutputUnavailable, UsageError, output_context
from exchanged.report import FileReport, Status

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock, run retention from one place only
    fcntl = None  # type: ignore[assignment]

CHUNK = 1 << 20
GZ_SUFFIX = ".gz"
REPORT_SUFFIX = ".report.json"
QUARANTINE = "quarantine"
LOCK_NAME = ".retention.lock"
_GZ_LEVEL = 6  # gzip(1)'s default: most of level 9's gain at a fraction of its time
_DAY = re.compile(r"^\d{4}/\d{2}/\d{2}$")
# Temp files of a compression (StagedFile names them ".<name>.<random>.tmp").
_GZ_TEMP = re.compile(r"^\..+\.gz\.[^/]+\.tmp$")


class OriginalDeleted(UsageError):
    """The original was deleted by retention: its report stays, its bytes are gone on purpose."""


# --- the archive layout and streaming hashes (shared with verify) ----------------------------------

def archived_path(report: FileReport, archive_root: Path) -> Path | None:
    """Where ``report``'s original lives under ``archive_root``, or None if it names none.

    Reports show the path relative to the base folder (``archive/2026/11/27/<id>__a.csv``), or
    absolute when the archive is elsewhere; the layout below the root is fixed (``archive.py``):
    ``[quarantine/]YYYY/MM/DD/<id>__<name>``, quarantine for rejected files. So the path is rebuilt
    from the last four parts, whatever the base folder was; one not in that layout gives None.
    """
    if not report.archive:
        return None
    parts = [p for p in re.split(r"[/\\]", report.archive) if p]
    if len(parts) < 4 or not _DAY.match("/".join(parts[-4:-1])):
        return None
    name = parts[-1]
    if not name.startswith(f"{report.id}__") or name in (".", ".."):
        return None
    folder = archive_root / QUARANTINE if report.status is Status.REJECTED else archive_root
    return folder.joinpath(*parts[-4:])


def compressed_path(original: Path) -> Path:
    return original.with_name(original.name + GZ_SUFFIX)


def quarantine_report_path(original: Path) -> Path:
    return original.with_name(original.name + REPORT_SUFFIX)


def relative(path: Path, archive_root: Path) -> str:
    """``path`` relative to the archive root, with ``/``: how findings and records name files."""
    return path.relative_to(archive_root).as_posix()


def read_chunks(path: Path, *, compressed: bool = False) -> Iterator[bytes]:
    """The content of ``path`` (decompressed when ``compressed``) in chunks of at most 1 MiB.

    A damaged ``.gz`` raises :class:`BadArchive` (a truncated one too, not just a bad CRC).
    """
    try:
        with (gzip.open(path, "rb") if compressed else open(path, "rb")) as stream:
            while chunk := stream.read(CHUNK):
                yield chunk
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise BadArchive(f"{path.name}: not a readable gzip file ({exc})") from exc


def sha256_of(path: Path, *, compressed: bool = False) -> tuple[str, int]:
    """``(sha256 hex, bytes hashed)`` of the (decompressed) content, streamed."""
    digest, size = hashlib.sha256(), 0
    for chunk in read_chunks(path, compressed=compressed):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


class BadArchive(ValueError):
    """An archived file cannot be read as what it claims to be (a damaged ``.gz``)."""


def intact(path: Path, sha256: str, *, compressed: bool = False) -> bool:
    try:
        return sha256_of(path, compressed=compressed)[0] == sha256.lower()
    except BadArchive:
        return False


# --- applying retention ----------------------------------------------------------------------------

@dataclass
class RetentionResult:
    """What one run did; ids in ledger (seq) order."""

    compressed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (report id, why)
    bytes_freed: int = 0

    def to_json(self) -> dict[str, object]:
        return {"compressed": self.compressed, "deleted": self.deleted,
                "skipped": [{"id": i, "reason": r} for i, r in self.skipped],
                "bytes_freed": self.bytes_freed}


def apply_retention(ledger: Ledger, archive_root: Path, *, days: int, action: str,
                    now: datetime) -> RetentionResult:
    """Compress or delete the originals of reports received more than ``days`` before ``now``.

    Idempotent, and safe to kill at any instant: running it again finishes what was started.
    """
    if action not in RETENTION_ACTIONS:
        raise UsageError(f"unknown retention action {action!r}; expected compress or delete")
    if days < 0:
        raise UsageError(f"retention days must be 0 or more, not {days}")
    archive_root = Path(archive_root)
    result = RetentionResult()
    if not archive_root.is_dir():
        return result
    done_at = utc_timestamp(now)
    with _exclusive(archive_root):
        cleaned: set[Path] = set()
        for row in ledger.rows(received_before=now - timedelta(days=days)):
            try:
                report = row.report()
            except ValueError:
                result.skipped.append((row.id, "its ledger row is not a readable report"))
                continue
            original = archived_path(report, archive_root)
            if original is None:
                continue  # nothing archived for this report: nothing to retain
            if original.parent not in cleaned:
                _remove_stale_temps(original.parent)
                cleaned.add(original.parent)
            step = _delete if action == "delete" or _deleted(row.retention) else _compress
            step(ledger, archive_root, report, original, row.retention, done_at, result)
    return result


def _deleted(record: RetentionRecord | None) -> bool:
    return record is not None and record.action == "delete"


def _compress(ledger: Ledger, root: Path, report: FileReport, original: Path,
              record: RetentionRecord | None, done_at: str, result: RetentionResult) -> None:
    gz = compressed_path(original)
    if not original.exists():
        if record is None and gz.exists():
            # Only reachable by hand (the record is committed before the original goes); a .gz
            # that checks out is the original kept compressed, so say so.
            if intact(gz, report.sha256, compressed=True):
                ledger.record_retention(RetentionRecord(report.id, "compress", relative(gz, root), done_at))
                result.compressed.append(report.id)
            else:
                result.skipped.append((report.id, "the original is gone and its .gz does not match"))
        elif record is None:
            result.skipped.append((report.id, "the archived original is missing"))
        return  # record present, original gone: done before
    size = original.stat().st_size
    if not (gz.exists() and intact(gz, report.sha256, compressed=True)):
        if not _write_gz(original, gz, report.sha256):
            result.skipped.append((report.id, "the original no longer matches its recorded sha256"))
            return
    if record is None or record.action != "compress":
        ledger.record_retention(RetentionRecord(report.id, "compress", relative(gz, root), done_at))
    _remove(original)
    result.compressed.append(report.id)
    result.bytes_freed += size - gz.stat().st_size


def _delete(ledger: Ledger, root: Path, report: FileReport, original: Path,
            record: RetentionRecord | None, done_at: str, result: RetentionResult) -> None:
    gz = compressed_path(original)
    present = [(p, c) for p, c in ((original, False), (gz, True)) if p.exists()]
    if not _deleted(record):
        if not present:
            # Recording "deleted" now would hide a file that went missing: leave it to verify.
            result.skipped.append((report.id, "the archived original is missing"))
            return
        if not any(intact(p, report.sha256, compressed=c) for p, c in present):
            result.skipped.append((report.id, "the original no longer matches its recorded sha256"))
            return
        ledger.record_retention(RetentionRecord(report.id, "delete", None, done_at))
    elif not present:
        return  # deleted before
    for path, _ in present:
        size = path.stat().st_size
        _remove(path)
        result.bytes_freed += size
    result.deleted.append(report.id)


def _write_gz(original: Path, gz: Path, sha256: str) -> bool:
    """Write ``gz`` from ``original`` atomically, hashing on the way; False (and nothing written)
    if the original does not match ``sha256``. ``mtime=0`` and no name in the header: the same
    original always gives the same ``.gz`` (and a CJK name cannot fail gzip's Latin-1 header)."""
    staged = StagedFile(gz)
    try:
        digest = hashlib.sha256()
        with output_context(gz), staged.stream() as raw, gzip.GzipFile(
            filename="", mode="wb", fileobj=raw, compresslevel=_GZ_LEVEL, mtime=0
        ) as out:
            for chunk in read_chunks(original):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256.lower():
            staged.discard()
            return False
        staged.commit(gz)
    except BaseException:
        staged.discard()
        raise
    return True


def _remove(path: Path) -> None:
    """Remove ``path`` durably (the folder fsynced: the removal survives a power cut)."""
    with output_context(path):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        fsync_directory(path.parent)


def _remove_stale_temps(folder: Path) -> None:
    """Half-written ``.gz`` files of a run that was killed (only retention makes these names,
    and only one retention runs at a time)."""
    with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
        stale = [Path(e.path) for e in entries if _GZ_TEMP.match(e.name) and e.is_file()]
    for path in stale:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@contextlib.contextmanager
def _exclusive(root: Path) -> Iterator[None]:
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    with output_context(root / LOCK_NAME):
        fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputUnavailable(f"retention is already running on {root}") from None
        yield
    finally:
        os.close(fd)  # releases the lock


# --- reading a retained original -------------------------------------------------------------------

def read_original(ledger: Ledger, archive_root: Path, report_id: str) -> bytes:
    """The archived original of ``report_id`` (a unique prefix is enough), decompressed if
    retention compressed it, checked against the recorded sha256 (for ``exchanged replay``).

    Raises :class:`OriginalDeleted` when retention deleted it, ``UsageError`` when the report is
    unknown, its original missing, or no copy matches the recorded sha256.
    """
    report = ledger.get(report_id)
    if report is None:
        raise UsageError(f"no report {report_id!r} in the ledger")
    record = ledger.retention(report.id)
    if _deleted(record):
        assert record is not None
        raise OriginalDeleted(f"the original of {report.id} was deleted by retention"
                              f" on {record.done_at[:10]}; its report is still in the ledger")
    original = archived_path(report, Path(archive_root))
    if original is None:
        raise UsageError(f"report {report.id} names no archived original")
    found = False
    for path, compressed in ((original, False), (compressed_path(original), True)):
        try:
            data = b"".join(read_chunks(path, compressed=compressed))
        except FileNotFoundError:
            continue
        except BadArchive:
            found = True
            continue
        found = True
        if hashlib.sha256(data).hexdigest() == report.sha256.lower():
            return data
    if found:
        raise UsageError(f"the archived original of {report.id} changed since it was recorded:"
                         f" {original}")
    raise UsageError(f"the archived original of {report.id} is missing: {original}")


__all__ = ["BadArchive", "OriginalDeleted", "RetentionResult", "apply_retention", "archived_path",
           "compressed_path", "intact", "quarantine_report_path", "read_chunks", "read_original",
           "relative", "sha256_of"]
