"""Durable, all-or-nothing file writes (DESIGN §5 promise 3: no torn outputs).

``write_atomic`` writes a temporary file beside the target, flushes and fsyncs it, renames it over
the target with ``os.replace`` (atomic on POSIX within one filesystem), then fsyncs the folder so
the rename itself survives a power cut. A reader opening the target sees either the old content or
the new one, never a mix; a reader that already holds the old file open keeps reading the old file.

The temporary name starts with ``.`` so the inbox watcher and shop importers skip it
(DESIGN §1 "Folders"), and it is removed when anything fails. Any ``OSError`` reaches the caller as
``OutputUnavailable`` (a transient fault: the input stays claimed and is retried).

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
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from exchanged.errors import output_context

__all__ = ["write_atomic", "fsync_directory"]

Payload = bytes | bytearray | memoryview | Callable[[BinaryIO], None]


def write_atomic(path: Path, data: Payload) -> None:
    """Replace ``path`` with ``data`` (bytes-like, or a function writing to a binary file) atomically.

    Raises ``OutputUnavailable`` when the folder is missing, read-only or full.
    """
    path = Path(path)
    with output_context(path):
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as stream:
                if callable(data):
                    data(stream)
                else:
                    stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            # mkstemp creates 0600; outputs are read by other users (the shop's importer).
            os.chmod(temp_name, 0o666 & ~_UMASK)
            os.replace(temp_name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise
        fsync_directory(path.parent)


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


# os.umask can only be read by setting it: read once at import, before any worker thread runs.
_UMASK = os.umask(0o022)
os.umask(_UMASK)
