"""Worker processes that evaluate small files during a burst (read, map, validate: DESIGN §6).

A small file costs a few milliseconds of Python around a few dozen Arrow calls, and Python runs one
thread at a time: with threads alone a burst of small files used one core. During a burst the
daemon's workers hand small files to these processes instead; their evaluations (reports and
Arrow tables) come back pickled, and the committer publishes them as before. A quiet inbox never
starts them (a lone file is evaluated on a thread at once, without a process hop), and large
files always stay in the daemon (pickling a million rows costs more than it saves).

The processes start from a clean interpreter (``spawn``: the daemon has threads, which a plain
fork would copy mid-lock) and load the mappings once. They are the daemon's own children and end
with it, even after kill -9 (``_exit_with``).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import datetime as dt
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Mapping as MappingType
from concurrent.futures import ProcessPoolExecutor

from exchanged.config import Settings
from exchanged.mapping import Mapping, load_mappings
from exchanged.pipeline import Evaluation, Source, evaluate

SMALL = 1 << 20  # bytes: larger files are evaluated in the daemon itself
_PR_SET_PDEATHSIG = 1  # linux/prctl.h

_settings: Settings | None = None
_mappings: MappingType[str, Mapping] = {}


def _start(settings: Settings, daemon: int) -> None:
    global _settings, _mappings
    _exit_with(daemon)
    _settings = settings
    _mappings = load_mappings(settings.folder("mappings"))


def _exit_with(daemon: int) -> None:
    """End this process when the daemon ends, however it ends (kill -9 included): the kernel sends
    SIGKILL when the parent dies (Linux ``PR_SET_PDEATHSIG``), and a thread checks the parent
    every second as well (other systems, or a parent that died before the call)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    def watch() -> None:
        while os.getppid() == daemon:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-daemon", daemon=True).start()


def _evaluate(data: bytes, display_name: str, received_at: dt.datetime, report_id: str) -> Evaluation:
    assert _settings is not None
    evaluation = evaluate(Source.from_bytes(data, display_name, received_at, report_id), _mappings, _settings)
    evaluation.mapping = None  # not needed to commit; keeps the pickle small
    return evaluation


class Evaluators:
    """The worker processes, started on first use."""

    def __init__(self, settings: Settings, processes: int) -> None:
        self.settings, self.processes = settings, processes
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def evaluate(self, source: Source) -> Evaluation:
        """``pipeline.evaluate(source)`` in a worker process (blocks the calling thread)."""
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=self.processes, initializer=_start,
                                                 initargs=(self.settings, os.getpid()),
                                                 mp_context=multiprocessing.get_context("spawn"))
            pool = self._pool
        evaluation = pool.submit(_evaluate, source.data, source.display_name, source.received_at, source.id).result()
        return evaluation

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
