"""One publish at a time per shop folder, across threads and processes.

A publish reads the manifest, merges and writes it back; two at once would lose one's entries or
reuse a change ``seq``. Threads of one process queue on a ``threading.Lock`` per folder; processes
(the daemon and an ``exchanged process`` run by hand) on ``flock`` of ``.publish.lock``, a dot
file that watchers and shop importers skip.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from exchanged.errors import output_context

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the threading lock alone
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_FILE", "shop_lock"]

LOCK_FILE = ".publish.lock"

_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}


@contextlib.contextmanager
def shop_lock(shop_dir: Path) -> Iterator[None]:
    """Hold the publish lock of ``shop_dir`` (created if missing) for the ``with`` block."""
    folder = Path(shop_dir)
    with output_context(folder):
        folder.mkdir(parents=True, exist_ok=True)
    key = os.path.realpath(folder)
    with _guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        if fcntl is None:  # pragma: no cover
            yield
            return
        path = folder / LOCK_FILE
        with output_context(path):
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock
