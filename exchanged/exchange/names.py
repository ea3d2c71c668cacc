"""Which names in the inbox are never read, and which are markers (DESIGN §1 "Folders").

Writers announce "not finished yet" through the name: office programs and editors write ``~$x`` or
``.x.swp``, browsers and transfer tools download to ``x.crdownload``, ``x.part`` or
``x.filepart``, and well-behaved ERPs write ``x.tmp`` and rename it when done. Reading any of those
would read half a file (DESIGN §5.2), so they are skipped, and so is everything below a folder
whose name is skipped (``inbox/.staging/x.csv`` is staged, not delivered).

A writer that cannot rename can say "done" with a marker: an empty ``NAME.done`` or ``NAME.ok``
written after ``NAME``. A marker is never an input itself. Its suffix is recognised in any case
(``X.CSV.DONE`` from a Windows ERP is still a marker, never data to be rejected).

>>> is_ignored("~$Preise.xlsx"), is_ignored("ARTIKEL.CSV.PART"), is_ignored("ARTIKEL.CSV")
(True, True, False)
>>> is_ignored(".staging/ARTIKEL.CSV")
True
>>> marker_target("ARTIKEL.CSV.done"), marker_target("ARTIKEL.CSV")
('ARTIKEL.CSV', None)
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePath

__all__ = [
    "IGNORED_PREFIXES",
    "IGNORED_SUFFIXES",
    "MARKER_SUFFIXES",
    "is_ignored",
    "is_ignored_path",
    "is_marker",
    "marker_target",
    "markers_for",
]

IGNORED_PREFIXES = (".", "~")
"""Hidden files, editor swap files and Office lock files (``~$x.xlsx``): case does not apply."""

IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".filepart", ".crdownload")
"""Temporary names of files still being written; compared case-insensitively (``X.TMP``)."""

MARKER_SUFFIXES = (".done", ".ok")
"""``NAME.done`` / ``NAME.ok`` say ``NAME`` is complete; the first is the canonical spelling."""

# "/" always, and the platform's own separators ("\\" on Windows; on POSIX a backslash is an
# ordinary character of a name).
_COMPONENTS = re.compile("[" + re.escape("/" + os.sep + (os.altsep or "")) + "]")


def is_ignored(name: str) -> bool:
    """True when ``name`` (a file name, or a path relative to the inbox) must never be read.

    A relative path is ignored when any of its components is: a file below ``.staging/`` is as
    unfinished as ``.staging`` itself.
    """
    return any(_is_ignored_component(part) for part in _COMPONENTS.split(name) if part)


def is_ignored_path(path: PurePath, inbox: PurePath) -> bool:
    """True when ``path`` must never be read: a component below ``inbox`` is an ignored name.

    Only the components below the inbox count (an inbox at ``/home/.erp/inbox`` is not hidden from
    itself); a path outside the inbox is judged by its own name.
    """
    try:
        parts = path.relative_to(inbox).parts
    except ValueError:
        parts = (path.name,)
    return any(_is_ignored_component(part) for part in parts)


def is_marker(name: str) -> bool:
    """True when ``name`` is a marker (``NAME.done``, ``NAME.ok``, any case) naming a file."""
    return marker_target(name) is not None


def marker_target(name: str) -> str | None:
    """The name of the data file the marker ``name`` declares complete, or None for a non-marker.

    ``"x.csv.done"`` names ``"x.csv"``; ``".done"`` alone names nothing (and is a hidden name).
    """
    lowered = name.lower()
    for suffix in MARKER_SUFFIXES:
        if lowered.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def markers_for(path: Path) -> list[Path]:
    """The marker files that would declare ``path`` complete, canonical spelling first."""
    return [path.with_name(path.name + suffix) for suffix in MARKER_SUFFIXES]


def _is_ignored_component(name: str) -> bool:
    return name.startswith(IGNORED_PREFIXES) or name.lower().endswith(IGNORED_SUFFIXES)
