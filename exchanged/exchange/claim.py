"""Claiming a ready file: an atomic rename out of the inbox, and the claims a crash left behind.

A claim is two files in ``work/claimed/`` (same filesystem as the inbox, so the move is a rename):

    <report_id>.claim.json      who claimed what: the inbox path, when, and the owning daemon
    <report_id>__<safe name>    the input itself, renamed there from the inbox

The ticket is written first, then the input is renamed, and the claimed folder is fsynced once
for a whole batch of claims (an fsync costs 1-5 ms here: one per file would cap a burst at a few
hundred files a second). Two daemons racing for one file both write a ticket, one rename wins, the
loser finds the file gone and removes its ticket: a file is never processed twice (DESIGN §5
promise 4). The report id is chosen at claim time, so a
claim processed again after a crash archives to the same path and is recognised in the ledger.

Ownership survives crashes through locks, not pids: each daemon holds an exclusive ``flock`` on
``work/owners/<owner>.lock`` while it runs; the kernel drops it when the process dies, even on
kill -9. ``adopt_orphans`` (holding ``work/claims.lock`` exclusively, so two daemons starting
together do not both adopt a claim, and no claim is half made: claiming holds it shared) takes
over every claim whose owner's lock is free, drops tickets whose input never arrived (a crash
between the two steps: the file is still in the inbox) and half-written tickets.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from exchanged.archive import safe_name
from exchanged.atomic import fsync_directory, write_atomic
from exchanged.errors import ConfigError, output_context
from exchanged.pipeline import iso, new_report_id, utc_now

_TICKET = ".claim.json"
_SEPARATOR = "__"


@dataclass(frozen=True)
class Claim:
    """A claimed input: where it is now, and what its report will say about it."""

    report_id: str
    path: Path                 # the input, in work/claimed/
    display_name: str          # as reports show it: "inbox/sub/ARTIKEL.csv"
    received_at: dt.datetime
    link: bool = False         # a symbolic link was claimed (the link itself, never its target)
    origin: Path | None = None  # where it was in the inbox (None for a claim adopted after a crash)

    @property
    def ticket(self) -> Path:
        return self.path.parent / f"{self.report_id}{_TICKET}"

    def release(self) -> None:
        """The input reached its final state (archived, recorded): drop the claim. Not synced: a
        claim that comes back after a power cut is found in the ledger and only released again."""
        with output_context(self.path):
            self.path.unlink(missing_ok=True)
            self.ticket.unlink(missing_ok=True)


class Claims:
    """The claimed folder of one daemon (``owner``), holding that daemon's liveness lock."""

    def __init__(self, folder: Path, inbox: Path, display_root: Path) -> None:
        self.folder = folder
        self.inbox = inbox
        self.display_root = display_root
        self.owner = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._owners = folder.parent / "owners"
        self._claims_lock = folder.parent / "claims.lock"
        with output_context(folder):
            folder.mkdir(parents=True, exist_ok=True)
            self._owners.mkdir(parents=True, exist_ok=True)
        self._check_same_filesystem()
        self._lock_fd = _lock(self._owners / f"{self.owner}.lock", blocking=True)

    def close(self) -> None:
        """Stop owning claims (a claim still here is adopted by the next daemon to start)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
            with contextlib.suppress(OSError):
                (self._owners / f"{self.owner}.lock").unlink()

    def claim(self, path: Path, *, received_at: dt.datetime | None = None) -> Claim | None:
        """Move ``path`` out of the inbox into a claim; None when another process took it first."""
        claims = self.claim_all([path], received_at=received_at)
        return claims[0] if claims else None

    def claim_all(self, paths: list[Path], *, received_at: dt.datetime | None = None) -> list[Claim]:
        """Claim ``paths`` in order (those another process took first are left out), made durable
        together: one fsync of the claimed folder for the batch, not one per file.

        A ticket is written without an fsync of its own: kill -9 loses nothing of it (the page
        cache survives the process), and after a power cut a ticket that came out empty or torn is
        recovered from its input's name by ``adopt_orphans``.
        """
        claims: list[Claim] = []
        with _locked(self._claims_lock, shared=True):  # adopt_orphans waits: no half-made claim is swept
            for path in paths:
                claim = self._claim(path, received_at or utc_now())
                if claim is not None:
                    claims.append(claim)
        if claims:
            fsync_directory(self.folder)
        return claims

    def _claim(self, path: Path, received_at: dt.datetime) -> Claim | None:
        report_id = new_report_id(received_at)
        link = path.is_symlink()
        target = self.folder / f"{report_id}{_SEPARATOR}{safe_name(path.name)}"
        claim = Claim(report_id, target, self._display(path), received_at, link, path)
        ticket = {"owner": self.owner, "file": claim.display_name, "received_at": iso(received_at), "link": link}
        with output_context(claim.ticket):
            _write_ticket(claim.ticket, json.dumps(ticket).encode() + b"\n")
        try:
            os.rename(path, target)  # atomic; fails for the loser of a race
        except FileNotFoundError:
            claim.ticket.unlink(missing_ok=True)
            return None
        except OSError:
            claim.ticket.unlink(missing_ok=True)
            raise
        return claim

    def adopt_orphans(self) -> list[Claim]:
        """Take over the claims of daemons that are gone, oldest first (arrival order)."""
        adopted: list[Claim] = []
        with _locked(self._claims_lock):  # no claim is being made meanwhile (claim_all holds it shared)
            for temp in self.folder.glob(".*.tmp"):  # a ticket rewrite a crash left half-done
                temp.unlink(missing_ok=True)
            inputs = {name.split(_SEPARATOR, 1)[0]: self.folder / name for name in os.listdir(self.folder)
                      if _SEPARATOR in name and not name.endswith(_TICKET) and not name.startswith(".")}
            for report_id in sorted(set(inputs) | {t.name[: -len(_TICKET)] for t in self.folder.glob(f"*{_TICKET}")}):
                ticket = self.folder / f"{report_id}{_TICKET}"
                data = _read_ticket(ticket)
                owner = str(data.get("owner", "")) if data else ""
                if owner == self.owner or (owner and self._alive(owner)):
                    continue
                if report_id not in inputs:  # crashed between ticket and rename: the file is still in the inbox
                    ticket.unlink(missing_ok=True)
                    continue
                path = inputs[report_id]
                if data is None:  # lost or torn by a power cut: what the input's name still tells
                    data = {"file": f"{self.inbox.name}/{path.name.split(_SEPARATOR, 1)[1]}",
                            "received_at": iso(_received_at(report_id)), "link": path.is_symlink()}
                data["owner"] = self.owner
                write_atomic(ticket, json.dumps(data).encode() + b"\n")
                adopted.append(Claim(report_id, path, str(data["file"]),
                                     dt.datetime.fromisoformat(str(data["received_at"]).replace("Z", "+00:00")),
                                     bool(data.get("link", False))))
                with contextlib.suppress(OSError):
                    (self._owners / f"{owner}.lock").unlink()
        return sorted(adopted, key=lambda c: (c.received_at, c.report_id))

    def _alive(self, owner: str) -> bool:
        return owner_alive(self.folder.parent, owner)

    def _display(self, path: Path) -> str:
        try:
            return path.absolute().relative_to(self.display_root.absolute()).as_posix()
        except ValueError:
            return path.as_posix()

    def _check_same_filesystem(self) -> None:
        with output_context(self.inbox):
            self.inbox.mkdir(parents=True, exist_ok=True)
        if os.stat(self.inbox).st_dev != os.stat(self.folder).st_dev:
            raise ConfigError(f"work folder {self.folder.parent} is not on the inbox's filesystem ({self.inbox}): "
                              "claims are renames; set `work` to a folder beside the inbox")


def _write_ticket(path: Path, data: bytes) -> None:
    """``path.write_bytes(data)`` without a file object (its fstat, ioctl and lseek: a burst
    writes a ticket per file, on the coordinator's thread)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _read_ticket(ticket: Path) -> dict[str, object] | None:
    try:
        data = json.loads(ticket.read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "file" in data and "received_at" in data else None


def _received_at(report_id: str) -> dt.datetime:
    """The moment a report id was made (``pipeline.new_report_id``: to the millisecond), or now."""
    try:
        return dt.datetime.strptime(report_id[:18], "%Y%m%dT%H%M%S%f").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return utc_now()


def owner_alive(work: Path, owner: str) -> bool:
    """True while the daemon ``owner`` (of the work folder ``work``) holds its lock, i.e. runs."""
    path = work / "owners" / f"{owner}.lock"
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock we just took
    return False


def _lock(path: Path, *, blocking: bool, shared: bool = False) -> int:
    with output_context(path):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if blocking else fcntl.LOCK_NB))
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def _locked(path: Path, *, shared: bool = False) -> Iterator[None]:
    fd = _lock(path, blocking=True, shared=shared)
    try:
        yield
    finally:
        os.close(fd)
