"""Durable, all-or-nothing file writes (DESIGN §5 promise 3: no torn outputs).

``write_atomic`` writes a temporary file beside the target, flushes and fsyncs it, renames it over
the target with ``os.replace`` (atomic on POSIX within one filesystem), then fsyncs the folder so
the rename itself survives a power cut. A reader opening the target sees either the old content or
the new one, never a mix; a reader that already holds the old file open keeps reading the old file.

The temporary name starts with ``.`` so the inbox watcher and shop importers skip it
(DESIGN §1 "Folders"), and it is removed when anything fails. Any ``OSError`` reaches the caller as
``OutputUnavailable`` (a transient fault: the input stays claimed and is retried).

A large output can be written while it is still being computed: ``StagedFile(path)`` is that
temporary file, filled piece by piece (from one thread at a time), and ``write_atomic(path,
staged)`` later puts it in place with the same fsync, rename and folder fsync. Until then the
target is untouched; ``discard`` removes the temporary file, as a failed ``write_atomic`` does.

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "state.json"
>>> write_atomic(target, b"{}\\n")
>>> target.read_bytes()
b'{}\\n'
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from exchanged.errors import output_context

__all__ = ["StagedFile", "write_atomic", "fsync_directory"]


class StagedFile:
    """The temporary file of a future ``write_atomic(path, self)``: a dot file beside ``path``.

    ``size`` counts the bytes appended with ``write`` and ``write_all``.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.size = 0
        self._synced = False  # fsynced since the last write: commit need not do it again
        self._fd: int | None = None
        with output_context(self.path):
            # Not tempfile.mkstemp: that creates the file 0600 (a chmod before the rename, since
            # outputs are read by other users) and costs a getpid and a Python name generator; a
            # burst creates thousands of these. The umask applies to 0o666, as for any new file.
            for _ in range(100):
                temp = os.path.join(self.path.parent, f".{self.path.name}.{secrets.token_hex(4)}.tmp")
                try:
                    self._fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
                    break
                except FileExistsError:  # pragma: no cover - 32 random bits taken: try another
                    continue
            else:  # pragma: no cover
                raise FileExistsError(errno.EEXIST, f"no free temporary name beside {self.path}")
            self._temp = temp

    def write(self, data: bytes | bytearray | memoryview | Any) -> None:
        """Append ``data`` (any contiguous buffer, e.g. a ``pyarrow.Buffer``)."""
        view = memoryview(data).cast("B")
        self._synced = False
        with output_context(self.path):
            while view:
                written = os.write(self._open_fd(), view)
                self.size += written
                view = view[written:]

    def write_all(self, buffers: list[Any]) -> None:
        """Append ``buffers`` in order, with as few system calls as the kernel allows (``writev``)."""
        if not hasattr(os, "writev"):  # pragma: no cover - Windows
            for data in buffers:
                self.write(data)
            return
        views = [view for view in (memoryview(b).cast("B") for b in buffers) if view.nbytes]
        self._synced = False
        with output_context(self.path):
            while views:
                written = os.writev(self._open_fd(), views[:_IOV_MAX])
                self.size += written
                while views and written >= views[0].nbytes:
                    written -= views.pop(0).nbytes
                if written:
                    views[0] = views[0][written:]

    def stream(self) -> BinaryIO:
        """A binary file object appending to the file (flush it before the next ``write``)."""
        self._synced = False
        with output_context(self.path):
            return os.fdopen(self._open_fd(), "wb", closefd=False)

    def sync(self) -> None:
        """fsync the data written so far (``write_atomic`` does it again; doing it early, from the
        thread that wrote, only takes the wait off the commit)."""
        with output_context(self.path):
            os.fsync(self._open_fd())
        self._synced = True

    def commit(self, path: Path, *, sync_folder: bool = True) -> None:
        """fsync, rename over ``path`` (the target it was made for), fsync the folder; on any failure
        the temporary file is removed. Used by ``write_atomic``. ``sync_folder=False`` leaves the
        folder's fsync to the caller, who syncs it once for many files (``fsync_directory``)."""
        if Path(path) != self.path:
            raise ValueError(f"a file staged for {self.path} cannot replace {path}")
        with output_context(self.path):
            try:
                fd = self._open_fd()
                if not self._synced:
                    os.fsync(fd)
                self._fd = None
                os.close(fd)
                os.replace(self._temp, self.path)
                self._temp = ""  # renamed: nothing left to discard
            except BaseException:
                self.discard()
                raise
            if sync_folder:
                fsync_directory(self.path.parent)

    def commit_to(self, path: Path, *, sync_folder: bool = True) -> None:
        """``commit`` to ``path`` in another folder of the same filesystem: for a file staged before
        its final name was known (an original written to the archive while it is processed)."""
        self.path = Path(path)
        self.commit(self.path, sync_folder=sync_folder)

    def discard(self) -> None:
        """Close and remove the temporary file (nothing happens to the target); idempotent."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._temp:
            with contextlib.suppress(OSError):
                os.unlink(self._temp)
            self._temp = ""

    def _open_fd(self) -> int:
        if self._fd is None:
            raise ValueError(f"the staged file of {self.path} is already committed or discarded")
        return self._fd


Payload = bytes | bytearray | memoryview | list[Any] | Callable[[BinaryIO], None] | StagedFile


def write_atomic(path: Path, data: Payload, *, sync_folder: bool = True, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` (bytes-like, a list of bytes-like parts written in one
    ``writev``, a function writing to a binary file, or a ``StagedFile`` made for ``path``) atomically.

    ``sync_folder=False``: the caller fsyncs the folder once for many files (``fsync_directory``).
    ``durable=False``: no fsync at all, for files a crash may lose (a status display): readers
    still never see half a file, the rename is atomic.
    Raises ``OutputUnavailable`` when the folder is missing, read-only or full.
    """
    path = Path(path)
    if isinstance(data, StagedFile):
        data.commit(path, sync_folder=sync_folder)
        return
    staged = StagedFile(path)
    try:
        if callable(data):
            with staged.stream() as stream:
                data(stream)
        elif isinstance(data, list):
            staged.write_all(data)
        else:
            staged.write(data)
    except BaseException:
        staged.discard()
        raise
    if not durable:
        staged._synced = True  # the only caller that may: nothing of this file has to survive a crash
    staged.commit(path, sync_folder=sync_folder and durable)


def fsync_directory(folder: Path) -> None:
    """Make a rename or a new entry in ``folder`` durable (no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except (PermissionError, IsADirectoryError):  # pragma: no cover - Windows
        return
    try:
        os.fsync(fd)
    except OSError as exc:  # pragma: no cover - some filesystems refuse fsync on folders
        if exc.errno not in (errno.EINVAL, errno.EOPNOTSUPP):
            raise
    finally:
        os.close(fd)


try:
    _IOV_MAX = max(16, os.sysconf("SC_IOV_MAX"))
except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
    _IOV_MAX = 16
