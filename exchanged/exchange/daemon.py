"""The daemon (``exchanged run``): watch, claim, evaluate on a few workers, commit in arrival order.

Three kinds of threads, one job each::

    watcher (watchdog)  --events-->  coordinator  --claims-->  workers (evaluate, in parallel)
                                         |                          |
                                         +-- jobs, arrival order ---+--> committer (publish, archive, ledger)

* The coordinator (the caller's thread) feeds watcher events to the readiness gate, claims what is
  ready (at most ``_IN_FLIGHT`` claims at a time, so a burst cannot fill the memory) and hands each
  claim to the worker pool (two threads per ``settings.workers``: reading, mapping and validating
  are Arrow work that runs beside the GIL; in a burst, small files go to as many worker processes,
  ``evaluators.py``, up to ``_SEVERAL`` claims per task and per trip: ``intake.py``). Each claim
  keeps its own job and future, so the committer sees one input at a time as before. A running
  daemon starts the worker processes at once (``warm_workers``), not in the first burst.
* The committer takes the evaluated jobs at the head of the queue, in claim order, and commits them
  together (``lifecycle.commit``): inputs apply in arrival order, and a burst of small inputs for
  one entity rewrites its state once (each still gets its own change file and audit row).
* A transient fault (disk full, permission denied, a locked output) keeps the claims and retries
  with capped exponential backoff (``retry_initial`` doubling up to ``retry_max``), visible in
  ``exchanged status``; a fault in a file's content quarantines that file; an unexpected error in
  one file is reported as ``internal-error`` and quarantined, never stopping the daemon.

Stopping (SIGTERM/SIGINT, or ``once`` when nothing is left): no new claims; the files in hand
finish (evaluated, committed); files waiting for a retry stay claimed for the next start.
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from exchanged.config import Settings
from exchanged.errors import TransientError
from exchanged.exchange.claim import Claim, Claims
from exchanged.exchange.evaluators import Evaluators
from exchanged.exchange.gate import ReadinessGate
from exchanged.exchange.intake import ONCE_ATTEMPTS, Intake, backoff
from exchanged.exchange.log import EventLog
from exchanged.exchange.names import markers_for
from exchanged.exchange.status import StatusBoard
from exchanged.formats.jsonl import preload as preload_renderer
from exchanged.lifecycle import Pending, Workspace, commit
from exchanged.pipeline import utc_now
from exchanged.report import FileReport

_IN_FLIGHT = 192         # claims held at once (evaluating or waiting to commit): workers evaluate ahead
                         # while the committer waits for a batch's fsyncs
_THREADS_PER_WORKER = 2
_SEVERAL = 8             # claims per worker task in a burst: one process round trip for up to this many
_BATCH = 256             # inputs committed together at most
_IDLE = 1.0              # longest sleep of the coordinator without a deadline
_SWITCH_INTERVAL = 0.0005     # seconds a thread holds the GIL before another may take it
_RETENTION_EVERY = 6 * 3600  # seconds between two retention passes


class EventSource(Protocol):
    """What the daemon needs from a watcher (``exchange.watcher.Watcher``, or a test's fake)."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def scan(self) -> None: ...


WatcherFactory = Callable[[Settings, Callable[[Path, bool], None], Callable[[Path], None]], EventSource]


@dataclass
class _Job:
    claim: Claim
    future: Future[Pending] | None = None
    attempts: int = 0
    next_try: float = 0.0


@dataclass
class Daemon:
    """One daemon over one workspace; ``run`` returns the reports of the files it finished."""

    settings: Settings
    log: EventLog = field(default_factory=EventLog)
    watcher_factory: WatcherFactory | None = None
    reports: list[FileReport] = field(default_factory=list)
    left_claimed: list[Claim] = field(default_factory=list)  # transient faults run --once gave up on
    once: bool = False
    warm_workers: bool = True  # run (not --once) starts the worker processes at once, not in the first burst

    def __post_init__(self) -> None:
        self.workspace = Workspace.open(self.settings)
        try:
            self.claims = Claims(self.settings.claimed_dir, self.settings.folder("inbox"), self.settings.base_dir)
        except BaseException:
            self.workspace.close()
            raise
        self.status = StatusBoard(self.settings.status_path, self.claims.owner)
        self.gate = ReadinessGate.from_settings(self.settings)
        self.stopping = threading.Event()
        self._events: queue.SimpleQueue[tuple[Path, bool | None]] = queue.SimpleQueue()
        self._backlog: deque[Path] = deque()
        self._jobs: list[_Job] = []
        self._cond = threading.Condition()
        self._closing = False
        # Two threads per worker: in a burst a thread waits for its worker process while the other
        # reads and stages the next file, so the process always has one queued (burst: -20 %).
        self._threads = _THREADS_PER_WORKER * self.settings.workers
        self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="worker")
        self._evaluators = Evaluators(self.settings, self.settings.workers)
        self._intake = Intake(self.workspace, self._evaluators, self.status, self.log, self.stopping, lambda: self.once)
        self._retention_at = 0.0

    # -- the coordinator ---------------------------------------------------------------------------

    def run(self, *, once: bool = False) -> list[FileReport]:
        """Work until ``stop()`` (or, with ``once``, until everything ready now is done)."""
        self.once = once
        # The committer mostly waits for fsyncs, and each time it wants the GIL back it waits for
        # a worker's switch interval (5 ms by default): with hundreds of small writes per batch
        # that convoy doubled a burst's time. Half a millisecond keeps the committer moving.
        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, _SWITCH_INTERVAL))
        try:
            return self._run(once)
        finally:
            sys.setswitchinterval(switch)

    def _run(self, once: bool) -> list[FileReport]:
        committer = threading.Thread(target=self._commit_loop, name="committer", daemon=True)
        committer.start()
        watcher = self._watcher()
        try:
            self._submit(self.claims.adopt_orphans())  # files claimed by a daemon that died
            self.log.event("started", pid=os.getpid(), inbox=str(self.settings.folder("inbox")),
                           watch="once" if once else self.settings.watch, workers=self.settings.workers)
            if once:
                watcher.scan()
            else:
                if self.warm_workers:
                    self._evaluators.start()
                    preload_renderer()
                watcher.start()
            self._coordinate(once)
        finally:
            watcher.stop()
            with self._cond:
                self._closing = True
                if self.stopping.is_set():  # files not started yet stay claimed for the next start
                    for job in self._jobs:
                        if job.future is not None:
                            job.future.cancel()
                self._cond.notify_all()
            committer.join()
            # The processes first: a thread waiting on one that never stops would keep the
            # thread pool's shutdown waiting for ever.
            self._evaluators.close()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self.status.stopped()
            self.claims.close()
            self.workspace.close()
            self.log.event("stopped", finished=len(self.reports))
        return self.reports

    def stop(self) -> None:
        """Finish the files in hand and return from ``run`` (safe from a signal handler)."""
        self.stopping.set()
        self._events.put((Path(), None))  # wake the coordinator

    def _watcher(self) -> EventSource:
        if self.watcher_factory is not None:
            return self.watcher_factory(self.settings, self._on_seen, self._on_gone)
        from exchanged.exchange.watcher import Watcher

        return Watcher(self.settings, self._on_seen, self._on_gone)

    def _on_seen(self, path: Path, complete: bool) -> None:
        self._events.put((path, complete))

    def _on_gone(self, path: Path) -> None:
        self._events.put((path, None))

    def _coordinate(self, once: bool) -> None:
        timeout = 0.0
        settled_by = time.monotonic() + self.settings.settle_seconds + 2 * self.settings.poll_interval + 1
        while not self.stopping.is_set():
            self._take_events(timeout)
            verdicts = self.gate.poll(time.monotonic())
            self._backlog.extend(verdicts.ready)
            self._backlog.extend(verdicts.empty)   # claimed and rejected as empty-file
            self._backlog.extend(verdicts.links)   # claimed (the link itself) and reported
            self._claim_backlog()
            self.status.waiting(len(self._backlog))
            self._retention_if_due()
            deadline = verdicts.next_deadline
            if once and not self._backlog and (deadline is None or time.monotonic() > settled_by):
                break
            timeout = _IDLE if deadline is None else max(0.0, min(_IDLE, deadline - time.monotonic()))
            if self._backlog:
                timeout = min(timeout, 0.05)  # waiting for room among the claims
        with self._cond:  # run --once: wait until every claim is committed (or left for a retry)
            while once and self._jobs and not self.stopping.is_set():
                self._cond.wait(0.1)

    def _retention_if_due(self) -> None:
        """Compress or delete old originals (``retention_days``) at start and every few hours, on a
        worker; the ledger rows stay."""
        if self.settings.retention_days is None or time.monotonic() < self._retention_at:
            return
        self._retention_at = time.monotonic() + _RETENTION_EVERY
        self._pool.submit(self._retention)

    def _retention(self) -> None:
        from exchanged.retention import apply_retention

        try:
            assert self.settings.retention_days is not None
            result = apply_retention(self.workspace.ledger, self.workspace.archive.root, days=self.settings.retention_days,
                                     action=self.settings.retention_action, now=utc_now())
            self.log.event("retention", compressed=len(result.compressed), deleted=len(result.deleted),
                           bytes_freed=result.bytes_freed)
        except Exception as exc:  # noqa: BLE001 - retention failing must not stop the daemon; it runs again later
            self.status.error("archive", f"retention: {exc}")
            self.log.event("error", error=f"retention: {exc}")

    def _take_events(self, timeout: float) -> None:
        try:
            event = self._events.get(timeout=timeout) if timeout > 0 else self._events.get_nowait()
        except queue.Empty:
            return
        while True:
            path, complete = event
            if complete is None:
                if path != Path():
                    self.gate.gone(path)
            else:
                self.gate.seen(path, time.monotonic(), complete=complete or self._settled_long_ago(path))
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return

    def _settled_long_ago(self, path: Path) -> bool:
        """A non-empty file last changed longer ago than the settle window (found by a scan) is as
        settled as the gate could make it: no need to watch it that long again."""
        try:
            st = path.lstat()
        except OSError:
            return False
        return st.st_size > 0 and time.time() - st.st_mtime >= self.settings.settle_seconds

    def _claim_backlog(self) -> None:
        room = _IN_FLIGHT - len(self._jobs)
        if not self._backlog or room <= 0 or self.stopping.is_set():
            return
        paths = [self._backlog.popleft() for _ in range(min(room, len(self._backlog)))]
        try:
            claims = self.claims.claim_all(paths)
        except (OSError, TransientError) as exc:
            self.status.error(str(paths[0]), f"cannot claim: {exc}")
            self.log.event("error", file=str(paths[0]), files=len(paths), error=f"cannot claim: {exc}")
            return  # still in the inbox: the next scan sees them again
        self._submit(claims)  # those another daemon took first are not among them
        for claim in claims:
            for marker in markers_for(claim.origin) if claim.origin else ():  # it has done its work
                with contextlib.suppress(OSError):
                    marker.unlink(missing_ok=True)

    def _submit(self, claims: list[Claim]) -> None:
        """Hand new claims to the worker threads: one per task, or in a burst (more claims than
        worker processes) up to ``_SEVERAL`` per task, spread over the threads."""
        jobs = [_Job(claim, Future()) for claim in claims]
        with self._cond:
            self._jobs.extend(jobs)
            burst = len(self._jobs) > self.settings.workers
        for job in jobs:
            self.status.started(job.claim.report_id, job.claim.display_name)
            assert job.future is not None
            job.future.add_done_callback(lambda _: self._notify())
        size = max(1, min(_SEVERAL, -(-len(jobs) // self._threads))) if burst else 1
        for start in range(0, len(jobs), size):
            chunk = jobs[start:start + size]
            if burst and len(chunk) > 1:
                self._pool.submit(self._evaluate_several, chunk)
            else:
                self._pool.submit(self._run_one, chunk[0], burst)

    def _run_one(self, job: _Job, burst: bool) -> None:
        assert job.future is not None
        if job.future.set_running_or_notify_cancel():
            self._evaluate(job, burst)

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    # -- the workers -------------------------------------------------------------------------------

    def _evaluate(self, job: _Job, burst: bool) -> None:
        self._settle(job, functools.partial(self._intake.one, job.claim, job, burst=burst))

    def _evaluate_several(self, jobs: list[_Job]) -> None:
        """A burst's task: several claims, their small files in one trip to a worker process."""
        running = [job for job in jobs if job.future is not None and job.future.set_running_or_notify_cancel()]
        try:
            self._intake.several([job.claim for job in running], running,
                                 lambda index, outcome: self._settle(running[index], outcome))
        finally:  # a bug above must not leave a claim waiting for ever: the committer waits for each
            for job in running:
                if job.future is not None and not job.future.done():
                    self._settle(job, functools.partial(self._intake.one, job.claim, job, burst=True))

    @staticmethod
    def _settle(job: _Job, outcome: Callable[[], Pending]) -> None:
        assert job.future is not None
        try:
            pending = outcome()
        except BaseException as exc:  # noqa: BLE001 - given to the committer (a retry given up: stays claimed)
            job.future.set_exception(exc)
        else:
            job.future.set_result(pending)

    # -- the committer -----------------------------------------------------------------------------

    def _commit_loop(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._commit(batch)

    def _next_batch(self) -> list[_Job] | None:
        """The evaluated jobs at the head of the queue whose retry time has come; None to stop."""
        with self._cond:
            while True:
                now = time.monotonic()
                head = self._jobs[0] if self._jobs else None
                if head is not None and head.future is not None and head.future.done():
                    if head.next_try <= now:
                        batch = []
                        for job in self._jobs[:_BATCH]:
                            if job.future is None or not job.future.done():
                                break
                            batch.append(job)
                        return batch
                    if self._closing and self.stopping.is_set():
                        return None  # a retry pending at shutdown: the claim waits for the next start
                    self._cond.wait(head.next_try - now)
                    continue
                if self._closing and head is None:
                    return None
                self._cond.wait(_IDLE)

    def _commit(self, batch: list[_Job]) -> None:
        pendings: list[Pending] = []
        for job in batch:
            assert job.future is not None
            try:
                pendings.append(job.future.result())
            except BaseException:  # noqa: BLE001 - cancelled or abandoned at shutdown: stays claimed
                if not self.stopping.is_set():
                    self.left_claimed.append(job.claim)
                with self._cond:
                    self._jobs.remove(job)
                    self._cond.notify_all()
                return
        try:
            reports = commit(pendings, self.workspace)
        except TransientError as exc:
            head = batch[0]
            head.attempts += 1
            delay = backoff(head.attempts, self.settings)
            if self.once and head.attempts >= ONCE_ATTEMPTS:  # run --once does not wait for long
                self.log.event("left-claimed", files=len(batch), error=str(exc))
                for job, pending in zip(batch, pendings):
                    pending.discard()
                    self.status.error(job.claim.display_name, f"left claimed for the next run: {exc}")
                    self.left_claimed.append(job.claim)
                with self._cond:
                    del self._jobs[: len(batch)]
                    self._cond.notify_all()
                return
            for job in batch:
                job.next_try = time.monotonic() + delay
                self.status.retrying(job.claim.report_id, job.claim.display_name, head.attempts, delay, str(exc))
            self.log.event("retrying", files=len(batch), attempt=head.attempts, delay_s=delay, error=str(exc))
            return
        for job, pending, report in zip(batch, pendings, reports):
            pending.discard()
            try:
                job.claim.release()
            except TransientError as exc:  # recorded already: a restart finds it in the ledger
                self.status.error(job.claim.display_name, f"claim not released: {exc}")
            self.status.finished(report)
            self.reports.append(report)
        self.log.files(reports)  # one write for the batch
        with self._cond:
            del self._jobs[: len(batch)]
            self._cond.notify_all()

