"""The archive and the quarantine: where every processed original is kept byte for byte.

Layout under ``root`` (``<base>/archive`` by default, DESIGN §1 "Folders")::

    2026/11/27/<report_id>__<safe name>                      accepted, partial, duplicate, stale
    quarantine/2026/11/27/<report_id>__<safe name>           rejected
    quarantine/2026/11/27/<report_id>__<safe name>.report.json   the FileReport beside it

The date is the UTC day the file was received. Every write is atomic (a temp file in the same
folder, fsync, ``os.replace``, fsync of the folder), so a kill -9 leaves either nothing or the whole
file, never half of it (DESIGN §5.1, §5.3). A large original is written while it is processed
(``stage``: a temp file in ``.staging/<token>/``, filled and fsynced on a thread) and only renamed
into its dated folder by ``store`` or ``quarantine`` once its report id and outcome are known. Temp
files are named ``.<random>.tmp``: a dot name, so a crash leftover is visibly not an archived file.
Failures to write raise ``OutputUnavailable`` (transient: the caller keeps the input claimed and
retries, it never quarantines for them).

Names come from outside (the ERP, a shop, a person) and are sanitised by :func:`safe_name`:

>>> safe_name("../../etc/passwd")
'etc_passwd'
>>> safe_name("ARTIKEL 2026\\x00.csv")
'ARTIKEL 2026_.csv'
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import re
import secrets
import shutil
import threading
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

from exchanged.atomic import StagedFile
from exchanged.errors import UsageError, output_context
from exchanged.report import FileReport

MAX_NAME_BYTES = 150
"""Longest sanitised name, in UTF-8 bytes (so also at most 150 characters).

Counted in bytes because the file system limit is 255 bytes per name, and ``<report_id>__`` and
``.report.json`` come on top: 150 bytes of name leave room for a report id of up to ~90 bytes.
"""

_MAX_EXTENSION = 16  # a longer "extension" is just a dot in the name, not kept when cutting
_COPY_CHUNK = 1 << 20
_SEPARATOR = "__"
_REPORT_SUFFIX = ".report.json"
_QUARANTINE = "quarantine"
_STAGE_ON_THREAD = 1 << 20  # originals at least this large are written on a thread of their own
_STAGING = ".staging"  # originals being written while they are processed (a dot name: not archived files)

# Characters that are a path separator or reserved on some file system the archive may live on
# (a Windows share): replaced, so a name means the same thing everywhere.
_RESERVED = set('/\\:*?"<>|')
# Unicode categories that must never reach a file name: controls (Cc: NUL, newline, ESC), format
# characters (Cf: bidi overrides that make "gpj.exe" display as "exe.jpg"), lone surrogates (Cs: a
# non-UTF-8 name decoded with surrogateescape) and line/paragraph separators (Zl, Zp).
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
# Windows device names: "CON.csv" cannot be created on a share.
_DEVICE_NAMES = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?$", re.IGNORECASE)
_REPORT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,89}$")


@functools.lru_cache(maxsize=1024)  # pure; a burst asks for each name twice (report path, then the write)
def safe_name(name: str) -> str:
    """Turn an untrusted file name into one that cannot escape or confuse a folder.

    Separators, reserved characters, controls and format characters become ``_``; runs of dots
    collapse to one (no ``..``); leading dots, blanks, dashes and underscores and trailing dots
    and blanks go; the result is NFC-normalised and cut to :data:`MAX_NAME_BYTES` keeping the
    extension. Other Unicode (umlauts, CJK, emoji) is kept. Never returns an empty name.

    >>> safe_name("a/b\\\\c.csv"), safe_name(".hidden"), safe_name("Preisliste Ä.xml")
    ('a_b_c.csv', 'hidden', 'Preisliste Ä.xml')
    """
    name = unicodedata.normalize("NFC", name)
    chars = [
        "_" if ch in _RESERVED or unicodedata.category(ch) in _FORBIDDEN_CATEGORIES else ch
        for ch in name
    ]
    cleaned = re.sub(r"\.{2,}", ".", "".join(chars))
    cleaned = cleaned.lstrip(" ._-\t").rstrip(" .\t")
    if not cleaned:
        return "unnamed"
    if _DEVICE_NAMES.match(cleaned):
        cleaned = "_" + cleaned
    return _truncate(cleaned, MAX_NAME_BYTES)


def _truncate(name: str, limit: int) -> str:
    """Cut ``name`` to ``limit`` UTF-8 bytes on a character boundary, keeping a short extension."""
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    suffix = dot + ext
    if not dot or not stem or len(suffix.encode("utf-8")) > _MAX_EXTENSION:
        stem, suffix = name, ""
    room = limit - len(suffix.encode("utf-8"))
    cut = stem.encode("utf-8")[:room].decode("utf-8", errors="ignore").rstrip(" .")
    return (cut or "unnamed") + suffix


def _utc(moment: datetime | date | str) -> datetime:
    """A timezone-aware UTC datetime; naive values are taken as UTC (the project's time zone)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    elif not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _check_report_id(report_id: str) -> str:
    # Report ids are made by exchanged, but one reaches here from `replay ID` and hand-edited
    # reports too: it becomes part of a file name, so it must not carry a path.
    if not _REPORT_ID.match(report_id) or ".." in report_id:
        raise ValueError(f"report id not usable in a file name: {report_id!r}")
    return report_id


class Archive:
    """The archive folder: ``store`` for processed originals, ``quarantine`` for rejected ones.

    Nothing is created until the first write. Both writes are idempotent for a crash-replay: the
    same report id and name land on the same path and ``os.replace`` swaps in identical bytes.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._folders: dict[tuple[bool, int, int, int], Path] = {}
        self._staging: _StagingArea | None = None
        self._staging_lock = threading.Lock()

    def close(self) -> None:
        """Give up this process's staging area (originals not stored by now are not needed)."""
        with self._staging_lock:
            if self._staging is not None:
                self._staging.close()
                self._staging = None

    @property
    def ledger_path(self) -> Path:
        """Where the audit ledger lives (DESIGN §1: the archive holds the ledger too)."""
        return self.root / "ledger.sqlite3"

    def path_for(
        self, *, report_id: str, name: str, received_at: datetime | str, quarantine: bool = False
    ) -> Path:
        """The path ``store`` (or ``quarantine``) will write; pure, touches nothing.

        Lets the caller put the final path into the report before it is written and recorded.
        """
        day = _utc(received_at)
        dated = (quarantine, day.year, day.month, day.day)
        folder = self._folders.get(dated)
        if folder is None:  # made once per day (pathlib joins cost more than the rest of a small file's archiving)
            base = self.root / _QUARANTINE if quarantine else self.root
            folder = self._folders[dated] = base / f"{day.year:04d}/{day.month:02d}/{day.day:02d}"
        return folder / f"{_check_report_id(report_id)}{_SEPARATOR}{safe_name(name)}"

    def stage(self, data: bytes) -> StagedOriginal:
        """Start writing ``data`` into the archive now, on a thread, for a later ``store`` or
        ``quarantine`` (which then only rename it); ``discard`` it when neither comes."""
        with self._staging_lock:
            if self._staging is None:
                self._staging = _StagingArea(self.root)
            folder = self._staging.folder
        return StagedOriginal(folder, data)

    def store(
        self, data: bytes | Path | StagedOriginal, *, report_id: str, name: str, received_at: datetime | str,
        sync_folder: bool = True,
    ) -> Path:
        """Keep ``data`` (bytes, a file that is copied, never moved, or a staged original) as the
        archived original. ``sync_folder=False`` (a staged original only) leaves the fsync of its
        dated folder to the caller: a batch syncs each folder once (``sync_folders``)."""
        target = self.path_for(report_id=report_id, name=name, received_at=received_at)
        if isinstance(data, StagedOriginal):
            data.commit_to(target, sync_folder=sync_folder)
        else:
            _write_atomic(target, data)
        return target

    @staticmethod
    def sync_folders(paths: list[Path]) -> None:
        """Make the archived files ``paths`` durable in their folders: one fsync per folder."""
        for folder in sorted({path.parent for path in paths}):
            with output_context(folder):
                _fsync_dir(folder)

    def quarantine(
        self, data: bytes | Path | StagedOriginal, *, report: FileReport, name: str, received_at: datetime | str
    ) -> Path:
        """Keep a rejected original in the quarantine, with its report beside it.

        The data is written first, then ``<path>.report.json``: a report never exists without the
        file it explains. Returns the data file's path.
        """
        target = self.path_for(
            report_id=report.id, name=name, received_at=received_at, quarantine=True
        )
        _write_atomic(target, data)
        text = json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"
        _write_atomic(report_path(target), text.encode("utf-8"))
        return target

    def read(self, path: Path | str, *, sha256: str | None = None) -> bytes:
        """The bytes of an archived file; a relative ``path`` is taken relative to the archive root.

        Refuses paths outside the archive (``replay`` must not become "read any file"), and, when
        ``sha256`` is given, content that no longer matches it.
        """
        path = Path(path)
        if not path.is_absolute():
            path = self.root / path
        resolved, root = path.resolve(), self.root.resolve()
        if not resolved.is_relative_to(root):
            raise UsageError(f"not inside the archive {self.root}: {path}")
        try:
            data = resolved.read_bytes()
        except FileNotFoundError:
            raise UsageError(f"archived file is missing: {path}") from None
        if sha256 is not None:
            actual = hashlib.sha256(data).hexdigest()
            if actual != sha256.lower():
                raise UsageError(f"archived file changed since it was recorded: {path} "
                                 f"(sha256 {actual}, recorded {sha256})")
        return data

    def path_for_display(self, path: Path | str) -> str:
        """``path`` relative to the archive's parent (``archive/2026/…``), like report paths."""
        path = Path(path)
        base = self.root.resolve().parent
        try:
            return path.resolve().relative_to(base).as_posix()
        except ValueError:
            return str(path)


def report_path(quarantined: Path) -> Path:
    """Where the report of a quarantined file is written."""
    return quarantined.with_name(quarantined.name + _REPORT_SUFFIX)


class _StagingArea:
    """Where this process writes originals while it processes them: ``.staging/<token>/`` under
    the archive root (same filesystem, so storing is a rename), owned through an ``flock`` on
    ``.staging/<token>.lock`` that the kernel drops when the process dies, even on kill -9.

    Opening one removes the areas of processes that are gone (their lock is free): a crash never
    leaves a half-archived copy behind for long, and a live process's area is never touched.
    """

    def __init__(self, root: Path) -> None:
        self.parent = root / _STAGING
        with output_context(self.parent):
            _ensure_dir(self.parent)
            self.token = secrets.token_hex(8)
            self._fd: int | None = os.open(self.parent / f"{self.token}.lock", os.O_RDWR | os.O_CREAT, 0o666)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            self.folder = self.parent / self.token
            self.folder.mkdir()
        self._sweep()

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(self.folder)
                (self.parent / f"{self.token}.lock").unlink()
            os.close(self._fd)
            self._fd = None

    def _sweep(self) -> None:
        for lock in self.parent.glob("*.lock"):
            if lock.stem == self.token:
                continue
            try:
                fd = os.open(lock, os.O_RDWR)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its process is alive
            else:
                with contextlib.suppress(OSError):
                    shutil.rmtree(self.parent / lock.stem)
                    lock.unlink()
            finally:
                os.close(fd)


class StagedOriginal:
    """An original being written to a temp file in the archive's staging area and fsynced, on a
    thread of its own, while the pipeline reads it."""

    def __init__(self, root: Path, data: bytes) -> None:
        self._root, self._data = root, data
        self._staged: StagedFile | None = None
        self._error: BaseException | None = None
        self._discarded = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        if len(data) >= _STAGE_ON_THREAD:
            self._thread = threading.Thread(target=self._write, name="archive-stage", daemon=True)
            self._thread.start()
        else:  # a small file is written at once: starting a thread costs more than writing it
            self._write()

    def _write(self) -> None:
        try:
            staged = StagedFile(self._root / "original")
            with self._lock:
                if self._discarded:
                    staged.discard()
                    return
                self._staged = staged
            staged.write(self._data)
            staged.sync()
        except BaseException as exc:  # raised again by commit_to, where the write was asked for
            self._error = exc

    def commit_to(self, target: Path, *, sync_folder: bool = True) -> None:
        """Wait for the write, then rename it to ``target`` (fsync of the file, and of its folder
        unless ``sync_folder`` is False); raises what the write raised (``OutputUnavailable``)."""
        if self._thread is not None:  # a large original
            self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._staged is not None
        with output_context(target):
            _ensure_dir(target.parent)
        self._staged.commit_to(target, sync_folder=sync_folder)

    def discard(self) -> None:
        """Remove the temp file unless it was committed; idempotent."""
        with self._lock:
            self._discarded = True
            staged = self._staged
        if staged is not None:
            if self._thread is not None:
                self._thread.join()
            staged.discard()


def _write_atomic(target: Path, data: bytes | Path | StagedOriginal) -> None:
    """Write ``target`` whole or not at all: temp in the same folder, fsync, replace, fsync dir."""
    if isinstance(data, StagedOriginal):
        data.commit_to(target)
        return
    # Opened before output_context: a missing source is the caller's problem, not an output fault.
    source = open(data, "rb") if isinstance(data, Path) else None
    try:
        with output_context(target):
            _ensure_dir(target.parent)
            temp = target.parent / f".{secrets.token_hex(8)}.tmp"
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
            try:
                with os.fdopen(fd, "wb") as out:
                    if source is not None:
                        shutil.copyfileobj(source, out, _COPY_CHUNK)
                    else:
                        out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temp, target)
            except BaseException:
                with contextlib.suppress(OSError):  # keep the original error, not the cleanup's
                    temp.unlink()
                raise
            _fsync_dir(target.parent)
    finally:
        if source is not None:
            source.close()


def _ensure_dir(folder: Path) -> None:
    """Create ``folder`` and missing parents, fsyncing each parent so the new entries survive."""
    missing: list[Path] = []
    current = folder
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:  # another worker made it first
            if not path.is_dir():
                raise
        _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["MAX_NAME_BYTES", "Archive", "StagedOriginal", "report_path", "safe_name"]
