"""The interchange control reference (UNB 0020, an..14): persistent, increasing, never reused.

ISO 9735 asks the sender to make 0020 unique for each interchange it sends to a recipient; the
recipient uses (sender, 0020) to find duplicates (DESIGN §1 "duplicate"), so a number used twice
can make a partner drop a real order. One counter is kept per (sender, recipient) pair, as a small
text file in a folder the caller passes in (the daemon's ``work/`` folder)::

    work/edifact-control-ref/4012345000009+4098765000008.ref   -> "17\\n"

``next_control_ref`` takes an exclusive ``flock`` on a lock file beside the counter (not the counter
itself: the counter is replaced by a rename, and a lock on a replaced file excludes nobody), reads
the last number, and writes the next one with ``write_atomic`` (temporary file, fsync, rename,
folder fsync) *before* returning it. So:

* two processes (or threads) never get the same number: the read-increment-write is under the lock;
* a crash (kill -9, power cut) at any instant never hands a number out twice: a number is durable
  before anyone can use it; the worst case is a number that was written but never used (a gap);
* it survives restarts, and a counter file never goes backwards: ``start`` (default 1) is the least
  number handed out, so raising it later jumps ahead, lowering it changes nothing.

A counter file that cannot be read as a number is never "repaired" by starting over (that would
reuse numbers): it raises ``ControlRefUnavailable``, a transient fault (the order stays claimed and
is retried) that names the file for the operator.

>>> import tempfile, pathlib
>>> work = pathlib.Path(tempfile.mkdtemp())
>>> next_control_ref(work, "4012345000009", "4098765000008"), next_control_ref(work, "4012345000009", "4098765000008")
('1', '2')
>>> next_control_ref(work, "4012345000009", "other", start=1000)
'1000'
"""

from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path
from urllib.parse import quote

from exchanged.atomic import write_atomic
from exchanged.errors import TransientError, output_context

__all__ = ["MAX_CONTROL_REF", "ControlRefUnavailable", "counter_path", "last_control_ref", "next_control_ref"]

MAX_CONTROL_REF = 10**14 - 1
"""UNB 0020 is an..14: the largest number that fits."""

FOLDER_NAME = "edifact-control-ref"


class ControlRefUnavailable(TransientError):
    """The counter cannot give a number that is certain to be new (unreadable or exhausted)."""


def counter_path(folder: Path, sender: str, recipient: str) -> Path:
    """The counter file of one (sender, recipient) pair inside ``folder``.

    Both ids are percent-encoded (``/`` and ``+`` too), so any id makes one file name inside the
    folder and different pairs never share a file.
    """
    for name, value in (("sender", sender), ("recipient", recipient)):
        if not value or not value.strip():
            raise ValueError(f"the interchange {name} id is empty")
    return Path(folder) / FOLDER_NAME / f"{quote(sender, safe='')}+{quote(recipient, safe='')}.ref"


def last_control_ref(folder: Path, sender: str, recipient: str) -> int | None:
    """The last number handed out for the pair, None when none was yet."""
    return _read(counter_path(folder, sender, recipient))


def next_control_ref(folder: Path, sender: str, recipient: str, *, start: int = 1) -> str:
    """A new interchange control reference for (sender, recipient), already stored durably."""
    if not 1 <= start <= MAX_CONTROL_REF:
        raise ValueError(f"the first control reference must be between 1 and {MAX_CONTROL_REF}, not {start}")
    path = counter_path(folder, sender, recipient)
    with output_context(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        with output_context(path):
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
        last = _read(path)
        number = start if last is None else max(last + 1, start)
        if number > MAX_CONTROL_REF:
            raise ControlRefUnavailable(f"{path}: the control references are used up (UNB 0020 holds 14 digits)")
        write_atomic(path, f"{number}\n".encode("ascii"))
        return str(number)
    finally:
        os.close(lock_fd)  # closing the descriptor releases the lock


def _read(path: Path) -> int | None:
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ControlRefUnavailable(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not re.fullmatch(rb"[0-9]{1,14}\n?", text):
        raise ControlRefUnavailable(
            f"{path}: not a control reference counter ({text[:40]!r}); it is never reset automatically, "
            "as that could send a number twice: write the last number used into it"
        )
    return int(text)
