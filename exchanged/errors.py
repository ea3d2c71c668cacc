"""Exceptions that stop a whole file or a whole command.

Validation problems inside a file are *issues* (see ``report.py``), never exceptions; an exception
means the file as a whole cannot go on. Every exception is either Terminal (the content is at fault:
quarantine the file, retrying cannot help) or Transient (the environment is at fault: keep the file
claimed and retry), so the daemon decides by type, not by message::

    ExchangedError
    ├── UsageError                 bad command line or config; the CLI prints one line, exits 2
    │   ├── ConfigError            exchanged.toml / environment invalid
    │   └── MappingError           a mapping file is invalid (names file, line, key)
    ├── TerminalError              the input itself is at fault -> rejected / quarantined
    │   └── InputRejected          carries the Issue that rejects the file (code + location)
    └── TransientError             the environment is at fault -> retry with backoff, never quarantine
        └── OutputUnavailable      disk full, permission denied, locked file on the way out
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from pathlib import Path

from exchanged.report import Issue


class ExchangedError(Exception):
    """Root of every exception this package raises on purpose."""


class UsageError(ExchangedError):
    """The user asked for something that cannot be done as asked (exit code 2)."""


class ConfigError(UsageError):
    """The configuration (file, environment, arguments) is invalid."""


class MappingError(UsageError):
    """A mapping file is invalid; the message names the file, and the line and key where known."""


class TerminalError(ExchangedError):
    """The input's content is at fault: retrying will not help."""


class InputRejected(TerminalError):
    """The whole input is rejected for one reason, carried as an Issue with a code and location."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(f"{issue.code}: {issue.message}")
        self.issue = issue


class TransientError(ExchangedError):
    """The environment is at fault (disk, permissions, locks): the file stays claimed and is retried."""


class OutputUnavailable(TransientError):
    """Writing an output or the archive failed for a reason outside the input."""


# errno values that say "the machine, not the file": retry later (DESIGN §1 "Transient faults").
_TRANSIENT_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.EBUSY, errno.EAGAIN,
     errno.ETXTBSY, errno.EIO}
)


@contextlib.contextmanager
def output_context(path: Path | str) -> Iterator[None]:
    """Turn an OSError while writing ``path`` into OutputUnavailable, naming the path once."""
    try:
        yield
    except OSError as exc:
        if exc.errno in _TRANSIENT_ERRNOS or exc.errno is None:
            raise OutputUnavailable(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise OutputUnavailable(f"cannot write {path}: {exc}") from exc
