"""Worker processes that evaluate small files during a burst (read, map, validate: DESIGN §6).

A small file costs a few milliseconds of Python around a few dozen Arrow calls, and Python runs one
thread at a time: with threads alone a burst of small files used one core. During a burst the
daemon's workers hand small files to these processes instead, several per trip (``evaluate_all``):
one round trip, and one pickle of the results, per few files rather than per file (the process
pool's own threads cost about a millisecond a task in the daemon). The evaluations (reports and
Arrow tables) come back pickled, and the committer publishes them as before. A lone file is
evaluated on a daemon thread at once, without a process hop; large files always stay in the daemon
(pickling a million rows costs more than it saves).

The processes start from a clean interpreter (``spawn``: the daemon has threads, which a plain
fork would copy mid-lock) and load the mappings once; a running daemon starts them ahead
(``start``: a second of CPU each, which the first burst would otherwise wait for). They are the
daemon's own children and end with it, even after kill -9 (``_exit_with``). A process that dies
(killed, out of memory) loses nothing: the pool is replaced and its files are evaluated again, each
on its own, so a file that kills its process every time is the only one reported (``WorkerDied``).
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
from concurrent.futures.process import BrokenProcessPool

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


Item = tuple[bytes, str, dt.datetime, str]  # what a worker needs of a Source: data, name, received, report id


class WorkerDied(Exception):
    """The worker process evaluating this file died every time it tried (the file is reported)."""


def _ready() -> None:
    """A task that does nothing: the pool starts a process to run it (``Evaluators.start``)."""


def _evaluate_all(items: list[Item]) -> list[Evaluation | BaseException]:
    """Each file's evaluation, or the exception it raised (one file's bug is not its neighbours')."""
    assert _settings is not None
    out: list[Evaluation | BaseException] = []
    for data, display_name, received_at, report_id in items:
        try:
            evaluation = evaluate(Source.from_bytes(data, display_name, received_at, report_id), _mappings, _settings)
            evaluation.mapping = None  # not needed to commit; keeps the pickle small
            out.append(evaluation)
        except Exception as exc:  # noqa: BLE001 - reported as that file's internal error by the daemon
            out.append(_picklable(exc))
    return out


def _picklable(exc: Exception) -> Exception:
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - any exception at all must come back as one that pickles
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


class Evaluators:
    """The worker processes, started on first use."""

    def __init__(self, settings: Settings, processes: int) -> None:
        self.settings, self.processes = settings, processes
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        """Start the processes now, in the background (they are ready when a burst comes)."""
        pool = self._current()
        for _ in range(self.processes):
            pool.submit(_ready)

    def evaluate(self, source: Source) -> Evaluation:
        """``pipeline.evaluate(source)`` in a worker process (blocks the calling thread)."""
        result = self.evaluate_all([source])[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def evaluate_all(self, sources: list[Source]) -> list[Evaluation | BaseException]:
        """Each source's ``pipeline.evaluate``, or the exception it raised, in one trip to a worker
        process (blocks the calling thread). A process dying meanwhile loses nothing (see above)."""
        items = [(s.data, s.display_name, s.received_at, s.id) for s in sources]
        try:
            return self._run(items)
        except BrokenProcessPool:
            pass
        results: list[Evaluation | BaseException] = []
        for item in items:  # one at a time: only a file that kills its process is reported
            try:
                results.extend(self._run([item]))
            except BrokenProcessPool:
                try:
                    results.extend(self._run([item]))  # a neighbour's death, or its own again?
                except BrokenProcessPool:
                    results.append(WorkerDied(f"the worker process evaluating {item[1]} died (twice)"))
        return results

    def _run(self, items: list[Item]) -> list[Evaluation | BaseException]:
        pool = self._current()
        try:
            return pool.submit(_evaluate_all, items).result()
        except BrokenProcessPool:
            self._replace(pool)
            raise

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:  # a thread still waiting at shutdown gets no new processes
                raise RuntimeError("the worker processes are stopped")
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=self.processes, initializer=_start,
                                                 initargs=(self.settings, os.getpid()),
                                                 mp_context=multiprocessing.get_context("spawn"))
            return self._pool

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """Drop a broken pool (a process died); the next task starts a new one."""
        with self._lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self, grace: float = 30.0) -> None:
        """Stop the processes: those busy finish their file (up to ``grace`` seconds), the rest
        are killed. ``shutdown(wait=True)`` alone can wait forever: CPython's pool joins a process
        that never received its stop sentinel (seen with spawned processes still starting up when
        the pool shuts down), and the daemon, or its test, then never exits."""
        with self._lock:
            pool, self._pool, self._closed = self._pool, None, True
        if pool is None:
            return
        found = getattr(pool, "_processes", None)  # the pool's own map pid -> process (not public API)
        processes = list(found.values()) if isinstance(found, dict) else []
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + grace
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in processes:
            if process.is_alive():  # its claim stays: the next start evaluates the file again
                process.kill()
                process.join(5.0)
