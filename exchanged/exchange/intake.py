"""From a claim to an evaluated input (``lifecycle.Pending``), on the daemon's worker threads.

``Intake.one`` reads one claim and evaluates it; a transient fault (a read that fails) is retried
with backoff, anything else becomes a rejected report (``internal-error``), so one file can never
stop the daemon. ``Intake.several`` is a burst's path: it reads several claims and sends the small
ones to a worker process in one trip (``Evaluators.evaluate_all``), each still its own ``Pending``;
what cannot go that way (a large file, a read to retry) takes ``one``'s path. A claim turned away
before the pipeline sees it (a symbolic link, a file over ``max_file_bytes``) keeps its original
as it is.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from exchanged.config import Settings
from exchanged.errors import TransientError
from exchanged.exchange.claim import Claim
from exchanged.exchange.evaluators import SMALL, Evaluators
from exchanged.exchange.log import EventLog
from exchanged.exchange.status import StatusBoard
from exchanged.lifecycle import Pending, Workspace, prepare, prepare_all
from exchanged.pipeline import Evaluation, Source, iso
from exchanged.report import FileReport, Issue, Status

ONCE_ATTEMPTS = 3       # run --once: tries before a transient fault leaves the file claimed


def backoff(attempt: int, settings: Settings) -> float:
    """Seconds to wait before retry ``attempt`` (1-based): doubling from retry_initial, capped."""
    return float(min(settings.retry_max, settings.retry_initial * 2 ** (attempt - 1)))


class Attempts(Protocol):
    """A claim's count of transient faults so far (the daemon's job)."""

    attempts: int


Settle = Callable[[int, Callable[[], Pending]], None]


class Intake:
    """Reads and evaluates claims for one daemon."""

    def __init__(self, workspace: Workspace, evaluators: Evaluators, status: StatusBoard, log: EventLog,
                 stopping: threading.Event, once: Callable[[], bool]) -> None:
        self.workspace, self.settings = workspace, workspace.settings
        self.evaluators, self.status, self.log = evaluators, status, log
        self.stopping, self.once = stopping, once

    def one(self, claim: Claim, job: Attempts, *, burst: bool) -> Pending:
        """Read and evaluate ``claim`` (in a worker process when ``burst`` and small); transient
        faults are retried here (``job.attempts`` counts them), anything else is reported."""
        while True:
            try:
                read = self._read(claim)
                if isinstance(read, Pending):
                    return read
                remote = burst and len(read.data) <= SMALL
                return prepare(read, self.workspace, evaluator=self.evaluators.evaluate if remote else None)
            except TransientError as exc:
                job.attempts += 1
                delay = backoff(job.attempts, self.settings)
                self.status.retrying(claim.report_id, claim.display_name, job.attempts, delay, str(exc))
                self.log.event("retrying", file=claim.display_name, attempt=job.attempts, delay_s=delay, error=str(exc))
                if self.stopping.wait(delay) or (self.once() and job.attempts >= ONCE_ATTEMPTS):
                    raise
            except Exception as exc:  # noqa: BLE001 - a bug in one file must not stop the others
                return self.internal_error(claim, exc)

    def several(self, claims: list[Claim], jobs: list[Attempts], settle: Settle) -> None:
        """Evaluate ``claims`` (a burst's), small files in one trip to a worker process; each
        outcome goes to ``settle(index, outcome)`` as soon as it is known (a call that returns the
        ``Pending`` or raises), in no particular order."""
        sent: list[tuple[int, Source]] = []
        alone: list[int] = []
        for index, claim in enumerate(claims):
            try:
                read = self._read(claim)
            except Exception:  # noqa: BLE001 - a read to retry (or a bug): the one-file path deals with it
                alone.append(index)
                continue
            if isinstance(read, Pending):
                settle(index, functools.partial(_given, read))
            elif len(read.data) <= SMALL:
                sent.append((index, read))
            else:
                alone.append(index)
        if sent:
            try:
                outcomes: list[Pending | BaseException] = prepare_all([s for _, s in sent], self.workspace,
                                                                       self.evaluators.evaluate_all)
            except Exception as exc:  # noqa: BLE001 - e.g. staging the originals failed: one by one, with retries
                alone = sorted(alone + [i for i, _ in sent])
                outcomes = []
                self.log.event("error", files=len(sent), error=f"evaluating together: {exc}")
            for (index, _), outcome in zip(sent, outcomes):
                if isinstance(outcome, TransientError):
                    alone.append(index)
                elif isinstance(outcome, BaseException):
                    settle(index, functools.partial(self.internal_error, claims[index], outcome))
                else:
                    settle(index, functools.partial(_given, outcome))
        for index in alone:
            settle(index, functools.partial(self.one, claims[index], jobs[index], burst=True))

    def internal_error(self, claim: Claim, exc: BaseException) -> Pending:
        return self.rejected(claim, b"", Issue(
            code="internal-error", message=f"exchanged failed on this file: {type(exc).__name__}: {exc}"))

    def _read(self, claim: Claim) -> Source | Pending:
        """The claim's content as a Source, or its rejection when the pipeline must not see it."""
        if claim.link:
            target = os.readlink(claim.path)
            return self.rejected(claim, os.fsencode(target), Issue(
                code="symlink", message=f"a symbolic link (to {target}) is not followed; the link is quarantined, "
                                        "its target untouched", value=target))
        try:
            size = os.stat(claim.path).st_size
            if size > self.settings.max_file_bytes:
                return self.rejected(claim, claim.path, Issue(
                    code="file-too-large", message=f"{size} bytes is more than max_file_bytes = {self.settings.max_file_bytes}"),
                    size=size)
            data = claim.path.read_bytes()
        except OSError as exc:
            raise TransientError(f"cannot read the claimed file {claim.path}: {exc.strerror or exc}") from exc
        return Source.from_bytes(data, claim.display_name, claim.received_at, claim.report_id)

    def rejected(self, claim: Claim, original: bytes | Path, issue: Issue, *, size: int | None = None) -> Pending:
        """A claim rejected before the pipeline could look at it: the original is kept as it is."""
        data = original if isinstance(original, bytes) else b""
        source = Source.from_bytes(data, claim.display_name, claim.received_at, claim.report_id)
        digest = source.sha256 if isinstance(original, bytes) else _file_sha256(original)
        report = FileReport(id=claim.report_id, file=claim.display_name, sha256=digest,
                            size=len(data) if size is None else size, status=Status.REJECTED,
                            received_at=iso(claim.received_at), issues=[issue])
        staged: Any = original if isinstance(original, Path) else self.workspace.archive.stage(data)
        return Pending(source, Evaluation(report), staged)


def _given(pending: Pending) -> Pending:
    return pending


def _file_sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
