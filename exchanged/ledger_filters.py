"""The ``exchanged audit`` filters a ledger query applies: ``--file`` patterns and ``--status`` names."""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Sequence

from exchanged.errors import UsageError
from exchanged.report import Status

__all__ = ["file_matches", "statuses_of"]


@functools.lru_cache(maxsize=64)
def _file_pattern(pattern: str) -> tuple[str, re.Pattern[str]]:
    needle = pattern.casefold()
    return needle, re.compile(fnmatch.translate(needle))


def file_matches(file: str, pattern: str) -> bool:
    """``--file``: a case-insensitive glob on the whole path or on the file name, or a substring.

    >>> file_matches("inbox/erp/ARTIKEL_20261127.csv", "artikel_*.csv")
    True
    """
    needle, glob = _file_pattern(pattern)
    path = file.casefold()
    name = re.split(r"[/\\]", path)[-1]
    return needle in path or glob.match(path) is not None or glob.match(name) is not None


def statuses_of(values: Sequence[str]) -> list[str]:
    known = [s.value for s in Status]
    out = []
    for value in values:
        text = value.value if isinstance(value, Status) else str(value).strip().lower()
        if text not in known:
            raise UsageError(f"unknown status {value!r}; expected one of {', '.join(known)}")
        out.append(text)
    return out
